import assert from "node:assert/strict";
import {
  buildMiniVGGNet,
  initWasmBackend,
  MINIVGGNET_PARAMS,
  tf,
} from "../lib/mod.ts";
import {
  forwardFlops,
  layerTable,
  MINIVGGNET_TRAINABLE_PARAMS,
} from "../lib/model.ts";
import {
  BatchNormalization,
  batchNormalization,
  Dropout,
  dropout,
  InputConv2D,
  inputConv2d,
} from "../lib/layers.ts";
import { updateMovingStatistics } from "../lib/backend/kernels/batch_norm_train.ts";
import { simdPool } from "../lib/backend/simd/mod.ts";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

await initWasmBackend();

function countOf(weights: tf.LayerVariable[]): number {
  return weights.reduce(
    (n, w) => n + (w.shape as number[]).reduce((a, b) => a * b, 1),
    0,
  );
}

Deno.test("MiniVGGNet has 1,679,082 parameters, 1,677,674 trainable", () => {
  const model = buildMiniVGGNet();
  assert.equal(MINIVGGNET_PARAMS, 1_679_082);
  assert.equal(MINIVGGNET_TRAINABLE_PARAMS, 1_677_674);
  assert.equal(model.countParams(), 1_679_082);
  assert.equal(countOf(model.trainableWeights), 1_677_674);
  assert.equal(countOf(model.nonTrainableWeights), 1_408);
  model.dispose();
});

Deno.test("MiniVGGNet layer order: activation before BatchNorm, as in the original", () => {
  const model = buildMiniVGGNet();
  const rows = layerTable(model);
  const summary = rows.map((r) => {
    const layer = model.getLayer(r.name);
    const cfg = layer.getConfig();
    if (r.type === "Activation") return `act:${cfg.activation}`;
    if (r.type === "Conv2D") {
      return `conv${cfg.filters}/${cfg.kernelSize}/${cfg.padding}`;
    }
    if (r.type === "Dense") return `dense${cfg.units}`;
    if (r.type === "Dropout") return `drop${cfg.rate}`;
    if (r.type === "MaxPooling2D") return `pool${cfg.poolSize}`;
    if (r.type === "BatchNormalization") return "bn";
    return r.type.toLowerCase();
  });
  assert.deepEqual(summary, [
    "conv32/3,3/same",
    "act:relu",
    "bn",
    "conv32/3,3/same",
    "act:relu",
    "bn",
    "pool2,2",
    "drop0.25",
    "conv64/3,3/same",
    "act:relu",
    "bn",
    "conv64/3,3/same",
    "act:relu",
    "bn",
    "pool2,2",
    "drop0.25",
    "flatten",
    "dense512",
    "act:relu",
    "bn",
    "drop0.5",
    "dense10",
    "act:softmax",
  ]);
  assert.deepEqual(rows[0].outputShape, [null, 28, 28, 32]);
  assert.deepEqual(rows[6].outputShape, [null, 14, 14, 32]);
  assert.deepEqual(rows[14].outputShape, [null, 7, 7, 64]);
  assert.deepEqual(rows[16].outputShape, [null, 3136]);
  assert.deepEqual(rows.at(-1)!.outputShape, [null, 10]);
  assert.equal(rows[0].params, 320);
  assert.equal(rows[17].params, 3136 * 512 + 512);
  model.dispose();
});

Deno.test("MiniVGGNet forward cost is 39.8 MFLOP per image", () => {
  const model = buildMiniVGGNet();
  // 2·(28²·32·9·1 + 28²·32·9·32 + 14²·64·9·32 + 14²·64·9·64 + 3136·512 + 512·10)
  assert.equal(forwardFlops(model), 39_799_808);
  model.dispose();
});

Deno.test("MiniVGGNet with the same seed starts from the same weights; other seeds differ", () => {
  const [a, b, c] = [7, 7, 8].map((seed) => buildMiniVGGNet({ seed }));
  const first = (m: tf.LayersModel) => Array.from(m.getWeights()[0].dataSync());
  assert.deepEqual(first(a), first(b));
  assert.notDeepEqual(first(a), first(c));
  [a, b, c].forEach((m) => m.dispose());
});

Deno.test("MiniVGGNet outputs a probability distribution over 10 classes", () => {
  const model = buildMiniVGGNet({ seed: 1 });
  const y = tf.tidy(() =>
    model.predict(
      tf.randomUniform([3, 28, 28, 1], 0, 1, "float32", 5),
    ) as tf.Tensor
  );
  assert.deepEqual(y.shape, [3, 10]);
  const sums = tf.tidy(() => tf.sum(y, 1).dataSync());
  for (const s of sums) assert.ok(Math.abs(s - 1) < 1e-5, `row sums to ${s}`);
  tf.dispose([y]);
  model.dispose();
});

Deno.test("BatchNormalization: training on wasm (fused) matches Keras's layer on cpu, outputs and moving statistics", async () => {
  const xs = Array.from({ length: 2 * 3 * 3 * 4 }, (_, i) => Math.sin(i) * 3);
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const layer = batchNormalization({ axis: -1, momentum: 0.9 });
    const x = tf.tensor4d(xs, [2, 3, 3, 4]);
    layer.build(x.shape);
    const { value, grads } = tf.variableGrads(() =>
      tf.sum(tf.square(layer.apply(x, { training: true }) as tf.Tensor))
    );
    const out = [
      value,
      ...Object.values(grads),
      ...layer.getWeights(),
    ].map((t) => Array.from(t.dataSync()));
    const profile = await tf.profile(() => {
      tf.dispose(layer.apply(x, { training: true }) as tf.Tensor);
    });
    tf.dispose([x, value, ...Object.values(grads)]);
    layer.weights.forEach((w) => w.dispose());
    return { out, kernels: profile.kernelNames };
  };
  const cpu = await run("cpu");
  const wasm = await run("wasm");
  assert.ok(wasm.kernels.includes("BatchNormTraining"), "fused on wasm");
  assert.ok(
    wasm.kernels.includes("BatchNormMovingUpdate") &&
      !wasm.kernels.includes("Sub"),
    `moving statistics in one kernel on wasm: ${wasm.kernels}`,
  );
  assert.ok(!cpu.kernels.includes("BatchNormTraining"), "Keras's on cpu");
  assert.equal(wasm.out.length, 7); // loss, dγ, dβ, γ, β, moving mean, moving variance
  wasm.out.forEach((got, i) =>
    got.forEach((v, j) =>
      assert.ok(
        Math.abs(v - cpu.out[i][j]) <= 1e-4 * (1 + Math.abs(cpu.out[i][j])),
        `output ${i}[${j}]: wasm ${v} vs cpu ${cpu.out[i][j]}`,
      )
    )
  );
  // Moving mean moved 10% of the way from 0 to the batch mean.
  assert.ok(wasm.out[5].some((v) => Math.abs(v) > 1e-3));
});

Deno.test("updateMovingStatistics: Keras's three ops' values bit for bit, in one kernel call on wasm", async () => {
  await tf.setBackend("wasm");
  const values = (seed: number) =>
    tf.tidy(() =>
      tf.mul(
        tf.randomNormal([64], 0, 1, "float32", seed),
        tf.exp(tf.randomUniform([64], -8, 8, "float32", seed + 1)),
      ) as tf.Tensor1D
    );
  const [mm, mv, m, v] = [1, 3, 5, 7].map(values);
  for (const decay of [0.01, 1 - 0.99, 0.1, 1 / 3]) {
    const byOps = tf.tidy(() =>
      [[mm, m], [mv, v]].map(([moving, batch]) =>
        Array.from(
          tf.sub(moving, tf.mul(tf.sub(moving, batch), decay)).dataSync(),
        )
      )
    );
    const profile = await tf.profile(() => {
      const got = updateMovingStatistics(mm, mv, m, v, decay);
      assert.deepEqual(got.map((t) => Array.from(t.dataSync())), byOps);
      tf.dispose(got);
    });
    assert.deepEqual(profile.kernelNames, ["BatchNormMovingUpdate"]);
  }
  tf.dispose([mm, mv, m, v]);
});

Deno.test("BatchNormalization serialises as Keras's and deserialises as this project's", () => {
  const model = buildMiniVGGNet({ seed: 1 });
  const bn = model.layers.filter((l) =>
    l.getClassName() === "BatchNormalization"
  );
  assert.equal(bn.length, 5);
  assert.ok(bn.every((l) => l instanceof BatchNormalization));
  const json = model.toJSON(null, false) as unknown as {
    config: { layers: Array<{ class_name: string }> };
  };
  assert.equal(
    json.config.layers.filter((l) => l.class_name === "BatchNormalization")
      .length,
    5,
  );
  const copy = tf.layers.batchNormalization({ axis: -1 });
  const back = tf.serialization.SerializationMap.getMap().classNameMap
    .BatchNormalization[0];
  assert.equal(back, BatchNormalization);
  assert.equal(copy.getClassName(), "BatchNormalization");
  model.dispose();
});

Deno.test("Dropout: a fresh mask at every training call, reproducible from the seed, identity in inference", () => {
  const x = tf.ones([100, 100]);
  const masks = (seed: number) => {
    const layer = dropout({ rate: 0.25, seed });
    return [1, 2].map(() => {
      const y = layer.apply(x, { training: true }) as tf.Tensor;
      const v = Array.from(y.dataSync());
      y.dispose();
      return v;
    });
  };
  const [a1, a2] = masks(7), [b1, b2] = masks(7), [c1] = masks(8);
  assert.deepEqual(a1, b1); // same seed, same masks
  assert.deepEqual(a2, b2);
  assert.notDeepEqual(a1, a2); // a new mask per call
  assert.notDeepEqual(a1, c1);
  for (const m of [a1, a2, c1]) {
    assert.ok(m.every((v) => v === 0 || Math.abs(v - 4 / 3) < 1e-6));
    const kept = m.filter((v) => v !== 0).length / m.length;
    assert.ok(Math.abs(kept - 0.75) < 0.02, `kept ${kept}`); // ±4.6σ
  }
  const layer = dropout({ rate: 0.5, seed: 1 });
  const y = layer.apply(x, { training: false }) as tf.Tensor;
  assert.deepEqual(Array.from(y.dataSync()), Array.from(x.dataSync()));
  tf.dispose([x, y]);
});

Deno.test("Dropout: the gradient is the same mask, and the class serialises as Keras's", () => {
  const layer = dropout({ rate: 0.5, seed: 3 });
  const x = tf.randomUniform([6, 7]);
  let y: tf.Tensor | undefined;
  const g = tf.grad((v) => {
    y = tf.keep(layer.apply(v, { training: true }) as tf.Tensor);
    return tf.sum(y);
  })(x);
  const ys = y!.dataSync(), xs = x.dataSync(), gs = g.dataSync();
  gs.forEach((gi, i) => {
    assert.ok(gi === 0 || gi === 2, `gradient ${gi}`);
    assert.ok(Math.abs(ys[i] - xs[i] * gi) < 1e-6);
  });
  assert.equal(layer.getClassName(), "Dropout");
  assert.deepEqual(
    layer.getConfig(),
    tf.layers.dropout({ rate: 0.5, seed: 3, name: layer.name }).getConfig(),
  );
  const registered = tf.serialization.SerializationMap.getMap().classNameMap
    .Dropout[0];
  assert.equal(registered, Dropout);
  tf.dispose([x, g, y!]);
});

Deno.test("InputConv2D trains like Keras's Conv2D, without the unneeded input gradient, and serialises as Conv2D", async () => {
  const pool = simdPool(tf.backend() as BackendWasm);
  // [N, H, W, Co]: one block of images, and several (2 and 3 images each).
  for (
    const [N, H, W, Co] of [[2, 6, 5, 8], [19, 9, 7, 16], [11, 28, 28, 32]]
  ) {
    const args = {
      filters: Co,
      kernelSize: 3,
      padding: "same" as const,
      inputShape: [H, W, 1],
      biasInitializer: "randomNormal" as const,
    };
    const ours = inputConv2d(args);
    const keras = tf.layers.conv2d(args);
    const x = tf.tensor4d(
      Array.from({ length: N * H * W }, (_, i) => Math.cos(i) * 2),
      [N, H, W, 1],
    );
    ours.build(x.shape);
    keras.build(x.shape);
    keras.setWeights(ours.getWeights());
    const dy = tf.tensor4d(
      Array.from({ length: N * H * W * Co }, (_, i) => Math.sin(i)),
      [N, H, W, Co],
    );
    const step = async (layer: tf.layers.Layer) => {
      const variables = layer.trainableWeights.map((w) =>
        (w as unknown as { val: tf.Variable }).val
      );
      let result: tf.Tensor[] = [];
      const profile = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(
          () =>
            tf.sum(
              tf.mul(layer.apply(x, { training: true }) as tf.Tensor, dy),
            ),
          variables,
        );
        result = [value, ...variables.map((v) => grads[v.name])];
      });
      const values = result.map((t) => Array.from(t.dataSync()));
      tf.dispose(result);
      return { values, kernels: profile.kernels.map((k) => k.name) };
    };
    const a = await step(ours), b = await step(keras);
    assert.ok(b.kernels.includes("Conv2DBackpropInput"), "Keras's computes dx");
    assert.ok(!a.kernels.includes("Conv2DBackpropInput"), "ours does not");
    // One op each way: the convolution with its bias, both gradients.
    assert.deepEqual(
      a.kernels.filter((k) => k.startsWith("InputConv2D")),
      ["InputConv2D", "InputConv2DGrad"],
    );
    assert.ok(!a.kernels.includes("Conv2DBackpropFilter"));
    assert.equal(a.values.length, 3); // loss, d kernel, d bias
    a.values.forEach((got, i) =>
      got.forEach((v, j) =>
        assert.ok(
          Math.abs(v - b.values[i][j]) <=
            1e-5 * (N * H * W) ** 0.5 * (1 + Math.abs(b.values[i][j])),
          `N ${N}, output ${i}[${j}]: ${v} vs Keras ${b.values[i][j]}`,
        )
      )
    );
    // Blocks of images are summed in order: the same bits on one thread.
    pool.activeThreads = 1;
    const single = await step(ours);
    pool.activeThreads = pool.threads;
    assert.deepEqual(single.values, a.values);
    // The input gradient, when asked for, is still there, and Keras's.
    const [dx, dxKeras] = [ours, keras].map((layer) =>
      tf.grad((t: tf.Tensor) =>
        tf.sum(tf.mul(layer.apply(t, { training: true }) as tf.Tensor, dy))
      )(x)
    );
    assert.ok(dx.abs().max().dataSync()[0] > 0);
    assert.ok(
      tf.max(tf.abs(tf.sub(dx, dxKeras))).dataSync()[0] <=
        1e-5 * (1 + tf.max(tf.abs(dxKeras)).dataSync()[0]),
    );
    assert.equal(ours.getClassName(), "Conv2D");
    tf.dispose([x, dy, dx, dxKeras]);
    ours.weights.forEach((w) => w.dispose());
    keras.weights.forEach((w) => w.dispose());
  }
  const model = buildMiniVGGNet({ seed: 1 });
  assert.ok(model.layers[0] instanceof InputConv2D);
  // Through fit's executor (which passes a one-element array), the first
  // layer has no input gradient: three for the other three convolutions.
  model.compile({ optimizer: "sgd", loss: "categoricalCrossentropy" });
  const [bx, by] = [tf.zeros([2, 28, 28, 1]), tf.oneHot([1, 2], 10)];
  const fit = await tf.profile(() => model.trainOnBatch(bx, by));
  assert.equal(
    fit.kernels.filter((k) => k.name === "Conv2DBackpropInput").length,
    3,
  );
  tf.dispose([bx, by]);
  const json = model.toJSON(null, false) as unknown as {
    config: { layers: Array<{ class_name: string }> };
  };
  assert.equal(json.config.layers[0].class_name, "Conv2D");
  model.dispose();
});
