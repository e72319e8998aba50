import assert from "node:assert/strict";
import {
  buildMiniVGGNet,
  initWasmBackend,
  SEED_RECIPE,
  tf,
  trainModel,
} from "../lib/mod.ts";
import { DecayedMomentumSGD } from "../lib/optimizer.ts";
import { describeStop, imagesToTensor, labelsToOneHot } from "../lib/train.ts";
import { makeRng } from "../lib/random.ts";
import { synthetic } from "./fixtures/synthetic.ts";
import { onInterrupt, simulateInterrupt } from "../lib/interrupt.ts";

await initWasmBackend();

/** A small synthetic split: class k is a bright square at a position that depends on k. */
Deno.test("the seed recipe is the original's: SGD 0.01, momentum 0.9, decay 0.01/25 per batch, batch 32, 25 epochs", () => {
  assert.deepEqual(SEED_RECIPE.schedule, {
    kind: "time-decay",
    initial: 0.01,
    decay: 4e-4,
  });
  assert.deepEqual(SEED_RECIPE.optimizer, {
    kind: "sgd",
    momentum: 0.9,
    weightDecay: 0,
  });
  assert.equal(SEED_RECIPE.batchSize, 32);
  assert.equal(SEED_RECIPE.epochs, 25);
  assert.deepEqual(SEED_RECIPE.validation, { kind: "test" });
  const opt = new DecayedMomentumSGD(0.01, 0.9, 4e-4);
  assert.equal(opt.learningRateAt(0), 0.01);
  assert.ok(Math.abs(opt.learningRateAt(2500) - 0.005) < 1e-15);
  // After 25 epochs of 1,875 batches: 0.01 / (1 + 4e-4 · 46,875) = 0.01 / 19.75.
  assert.ok(Math.abs(opt.learningRateAt(46875) - 0.01 / 19.75) < 1e-15);
});

Deno.test("DecayedMomentumSGD follows Keras: v = m·v − lr_t·g, w = w + v, lr_t = lr/(1 + decay·t)", () => {
  const w = tf.variable(tf.tensor1d([1, 2]), true, "sgd_test_w");
  const opt = new DecayedMomentumSGD(0.1, 0.9, 0.5);
  const g = tf.tensor1d([1, -2]);
  opt.applyGradients({ sgd_test_w: g }); // lr 0.1: v = [-0.1, 0.2]
  assert.deepEqual(Array.from(w.dataSync()).map((x) => +x.toFixed(6)), [
    0.9,
    2.2,
  ]);
  opt.applyGradients({ sgd_test_w: g }); // lr 0.1/1.5: v = 0.9·v − lr·g
  const lr2 = 0.1 / 1.5;
  const v2 = [0.9 * -0.1 - lr2 * 1, 0.9 * 0.2 - lr2 * -2];
  const got = Array.from(w.dataSync());
  assert.ok(
    Math.abs(got[0] - (0.9 + v2[0])) < 1e-6 &&
      Math.abs(got[1] - (2.2 + v2[1])) < 1e-6,
    `${got}`,
  );
  assert.equal(opt.iterations, 2);
  opt.dispose();
  tf.dispose([w, g]);
});

Deno.test("DecayedMomentumSGD on wasm (one-kernel update) equals the op-by-op update on cpu bit for bit", async () => {
  const rng = makeRng(7);
  // 1003: the SIMD loop and its scalar tail.
  const init = Float32Array.from({ length: 1003 }, () => rng() * 2 - 1);
  const grads = [0, 1, 2].map(() =>
    Float32Array.from({ length: 1003 }, () => rng() * 2 - 1)
  );
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const w = tf.variable(tf.tensor1d(init), true, `sgd_exact_${backend}`);
    const opt = new DecayedMomentumSGD(0.01, 0.9, 4e-4);
    for (const g of grads) {
      tf.tidy(() =>
        opt.applyGradients([{ name: w.name, tensor: tf.tensor1d(g) }])
      );
    }
    const out = w.dataSync().slice();
    opt.dispose();
    w.dispose();
    return out;
  };
  const cpu = await run("cpu");
  const wasm = await run("wasm");
  assert.ok(cpu.some((x, i) => x !== init[i]), "the weights moved");
  assert.deepEqual(Array.from(wasm), Array.from(cpu));
});

Deno.test("imagesToTensor scales to [0, 1] and labelsToOneHot picks the class", () => {
  const images = new Uint8Array(2 * 784);
  images[0] = 255;
  images[784 + 5] = 51;
  const x = imagesToTensor(images);
  assert.deepEqual(x.shape, [2, 28, 28, 1]);
  const v = x.dataSync();
  assert.equal(v[0], 1);
  assert.ok(Math.abs(v[784 + 5] - 0.2) < 1e-7);
  const picked = imagesToTensor(images, [1]);
  assert.ok(Math.abs(picked.dataSync()[5] - 0.2) < 1e-7);
  const y = labelsToOneHot(new Uint8Array([3, 9]));
  assert.deepEqual(Array.from(y.dataSync()), [
    0,
    0,
    0,
    1,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    1,
  ]);
  tf.dispose([x, picked, y]);
});

Deno.test("training keeps the tensor count flat across epochs and frees everything it made", async () => {
  const model = buildMiniVGGNet({ seed: 3 });
  const before = tf.memory().numTensors;
  const counts: number[] = [];
  const { history } = await trainModel(
    model,
    synthetic(64, 1),
    synthetic(32, 2),
    {
      epochs: 3,
      batchSize: 16,
      onEpoch: () => counts.push(tf.memory().numTensors),
    },
  );
  assert.equal(history.length, 3);
  assert.equal(counts.length, 3);
  assert.equal(
    counts[2],
    counts[0],
    `tensors after epoch 1: ${counts[0]}, after epoch 3: ${counts[2]}`,
  );
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});

Deno.test("training learns a separable synthetic task and reports a complete history", async () => {
  const model = buildMiniVGGNet({ seed: 4 });
  const batches: number[] = [];
  const { history } = await trainModel(
    model,
    synthetic(256, 5),
    synthetic(64, 6),
    {
      epochs: 3,
      batchSize: 32,
      seed: 9,
      onBatch: (p) => batches.push(p.batch),
    },
  );
  assert.deepEqual(batches, [
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
  ]);
  const last = history[2];
  for (
    const key of [
      "loss",
      "accuracy",
      "val_loss",
      "val_accuracy",
      "lr",
      "seconds",
      "images_per_second",
    ] as const
  ) {
    assert.ok(Number.isFinite(last[key]), `${key} = ${last[key]}`);
  }
  assert.ok(
    history[2].loss < history[0].loss,
    `loss ${history[0].loss} → ${history[2].loss}`,
  );
  assert.ok(last.accuracy > 0.8, `train accuracy ${last.accuracy}`);
  // lr of the last batch (t = 23): 0.01 / (1 + 4e-4 · 23)
  assert.ok(Math.abs(last.lr - 0.01 / (1 + 4e-4 * 23)) < 1e-12);
  model.dispose();
});

Deno.test("training with the same seed is reproducible", async () => {
  const run = async () => {
    const model = buildMiniVGGNet({ seed: 11 });
    const { history } = await trainModel(model, synthetic(64, 7), null, {
      epochs: 1,
      batchSize: 16,
      seed: 5,
    });
    const w = Array.from(model.getWeights()[0].dataSync());
    model.dispose();
    return { loss: history[0].loss, w };
  };
  const a = await run(), b = await run();
  assert.equal(a.loss, b.loss);
  assert.deepEqual(a.w, b.w);
});

Deno.test("trainModel rejects bad settings with one sentence", async () => {
  const model = buildMiniVGGNet();
  await assert.rejects(
    () => trainModel(model, synthetic(8, 1), null, { epochs: 0 }),
    /epochs must be a positive integer/,
  );
  await assert.rejects(
    () => trainModel(model, synthetic(8, 1), null, { batchSize: 1.5 }),
    /batch size must be a positive integer/,
  );
  model.dispose();
});

Deno.test("an aborted signal stops training after the current batch; the model goes on from there", async () => {
  const model = buildMiniVGGNet({ seed: 12 });
  const before = tf.memory().numTensors;
  const controller = new AbortController();
  const seen: string[] = [];
  let stops = 0;
  const result = await trainModel(model, synthetic(64, 8), synthetic(16, 9), {
    epochs: 3,
    batchSize: 16,
    signal: controller.signal,
    // 4 batches per epoch: abort during the second batch of epoch 2.
    onBatch: (p) => {
      seen.push(`${p.epoch}.${p.batch}`);
      if (p.epoch === 2 && p.batch === 2) controller.abort();
    },
    onStop: () => stops++,
  });
  assert.deepEqual(seen, ["1.1", "1.2", "1.3", "1.4", "2.1", "2.2"]);
  assert.deepEqual(result.stopped, {
    epoch: 2,
    batch: 2,
    batches: 4,
    reason: "signal",
    completedEpochs: 1,
  });
  assert.equal(stops, 1);
  assert.equal(result.history.length, 1, "the stopped epoch is not recorded");
  assert.equal(
    describeStop(result.stopped!),
    "Stopped on request in epoch 2 after batch 2 of 4: the model keeps the weights of that batch; the history has 1 complete epoch.",
  );
  assert.equal(tf.memory().numTensors, before, "nothing left behind");
  // The model predicts, and trains further.
  const y = tf.tidy(() => model.predict(tf.zeros([2, 28, 28, 1])) as tf.Tensor);
  assert.deepEqual(y.shape, [2, 10]);
  y.dispose();
  const again = await trainModel(model, synthetic(32, 10), null, {
    epochs: 1,
    batchSize: 16,
  });
  assert.equal(again.stopped, null);
  assert.equal(again.history.length, 1);
  model.dispose();
});

Deno.test("an interrupt stops training when asked to listen, and only while it trains", async () => {
  const model = buildMiniVGGNet({ seed: 13 });
  let other = 0;
  const off = onInterrupt(() => other++);
  try {
    const result = await trainModel(model, synthetic(48, 11), null, {
      epochs: 2,
      batchSize: 16,
      stopOnInterrupt: true,
      onBatch: (p) => {
        if (p.batch === 1) simulateInterrupt();
      },
    });
    assert.equal(result.stopped?.reason, "interrupt");
    assert.equal(result.stopped?.batch, 1);
    assert.equal(result.stopped?.epoch, 1);
    assert.equal(result.history.length, 0);
    // Training no longer listens; other listeners still hear interrupts.
    simulateInterrupt();
    assert.equal(other, 2);
    // Not asked to listen: an interrupt does not stop it.
    const full = await trainModel(model, synthetic(32, 12), null, {
      epochs: 1,
      batchSize: 16,
      onBatch: () => simulateInterrupt(),
    });
    assert.equal(full.stopped, null);
    assert.equal(full.history.length, 1);
  } finally {
    off();
    model.dispose();
  }
});

Deno.test("a signal aborted before training trains nothing", async () => {
  const model = buildMiniVGGNet({ seed: 14 });
  const w = Array.from(model.getWeights()[0].dataSync());
  const result = await trainModel(model, synthetic(16, 13), null, {
    epochs: 1,
    batchSize: 8,
    signal: AbortSignal.abort(),
  });
  assert.deepEqual(result.stopped, {
    epoch: 1,
    batch: 0,
    batches: 2,
    reason: "signal",
    completedEpochs: 0,
  });
  assert.deepEqual(Array.from(model.getWeights()[0].dataSync()), w);
  model.dispose();
});
