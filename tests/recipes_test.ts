/**
 * Recipes as data, their schedules at known steps, augmentation (labels
 * kept, reproducible with a seed), held-out validation (disjoint, the test
 * set read only after training), batch-norm re-estimation, and a short
 * run of each recipe on a small subset.
 */
import assert from "node:assert/strict";
import {
  BEST_RECIPE,
  buildMiniVGGNet,
  describeRecipe,
  FAST_RECIPE,
  holdoutSplit,
  initWasmBackend,
  learningRateAt,
  recipeNamed,
  RECIPES,
  recipeSplits,
  runRecipe,
  SEED_RECIPE,
  type Split,
  tf,
  trainModel,
} from "../lib/mod.ts";
import { augmentedPixels, smoothedOneHot } from "../lib/augment.ts";
import { accuracyOf } from "../lib/run.ts";
import { recalibrateBatchNorm, WeightAverage } from "../lib/train.ts";
import { makeRng } from "../lib/random.ts";

await initWasmBackend();

/**
 * Class k is a bright bar, centred left to right (so a mirror image keeps
 * its class): its row band is k % 5, its width narrow or wide by k < 5.
 */
function synthetic(count: number, seed: number): Split {
  const rng = makeRng(seed);
  const images = new Uint8Array(count * 784);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const k = Math.floor(rng() * 10);
    labels[i] = k;
    const r0 = 2 + (k % 5) * 5, half = k < 5 ? 3 : 9;
    for (let r = r0; r < r0 + 4; r++) {
      for (let c = 14 - half; c < 14 + half; c++) {
        images[i * 784 + r * 28 + c] = 150 + Math.floor(rng() * 100);
      }
    }
  }
  return { images, labels, count };
}

Deno.test("recipes are plain data: printable, copyable, frozen", () => {
  assert.deepEqual(Object.keys(RECIPES), ["seed", "fast", "best"]);
  for (const r of Object.values(RECIPES)) {
    assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
    assert.ok(Object.isFrozen(r) && Object.isFrozen(r.schedule));
    assert.equal(recipeNamed(r.name), r);
  }
  assert.throws(
    () => recipeNamed("turbo"),
    /^Error: there is no recipe "turbo"; choose one of seed, fast, best\.$/,
  );
  assert.throws(() => recipeNamed("toString"), /no recipe "toString"/);
});

Deno.test("the seed recipe is the original's, the others hold out their validation", () => {
  assert.deepEqual(SEED_RECIPE.schedule, {
    kind: "time-decay",
    initial: 0.01,
    decay: 0.01 / 25,
  });
  assert.deepEqual(SEED_RECIPE.optimizer, {
    kind: "sgd",
    momentum: 0.9,
    weightDecay: 0,
  });
  assert.equal(SEED_RECIPE.batchSize, 32);
  assert.equal(SEED_RECIPE.epochs, 25);
  assert.equal(SEED_RECIPE.labelSmoothing, 0);
  assert.equal(SEED_RECIPE.augmentation, null);
  assert.equal(SEED_RECIPE.recalibrateBatchNorm, false);
  assert.deepEqual(SEED_RECIPE.validation, { kind: "test" });
  assert.ok(FAST_RECIPE.epochs <= 5);
  for (const r of [FAST_RECIPE, BEST_RECIPE]) {
    assert.equal(r.validation.kind, "holdout");
  }
  assert.equal(
    describeRecipe(SEED_RECIPE),
    "seed: 25 epochs, batch 32, SGD momentum 0.9, lr 0.01 decayed by 0.0004 per batch, validation on the test set",
  );
});

Deno.test("learning rates at known steps", () => {
  const seed = SEED_RECIPE.schedule;
  assert.equal(learningRateAt(seed, 0, 46875), 0.01);
  assert.ok(Math.abs(learningRateAt(seed, 2500, 46875) - 0.005) < 1e-15);
  assert.ok(
    Math.abs(learningRateAt(seed, 46875, 46875) - 0.01 / 19.75) < 1e-15,
  );
  const cycle = {
    kind: "one-cycle",
    peak: 0.1,
    warmupFraction: 0.2,
    startFactor: 0.1,
    endFactor: 0.01,
  } as const;
  const T = 1001;
  assert.ok(Math.abs(learningRateAt(cycle, 0, T) - 0.01) < 1e-15);
  assert.ok(Math.abs(learningRateAt(cycle, 100, T) - 0.055) < 1e-15);
  assert.equal(learningRateAt(cycle, 200, T), 0.1);
  // Half-way down the cosine: the mean of peak and end.
  assert.ok(Math.abs(learningRateAt(cycle, 600, T) - 0.0505) < 1e-12);
  assert.ok(Math.abs(learningRateAt(cycle, T - 1, T) - 0.001) < 1e-15);
  const lrs = Array.from({ length: T }, (_, t) => learningRateAt(cycle, t, T));
  for (let t = 1; t < T; t++) {
    if (t <= 200) assert.ok(lrs[t] > lrs[t - 1], `up at ${t}`);
    else assert.ok(lrs[t] < lrs[t - 1], `down at ${t}`);
  }
});

Deno.test("augmentation moves and mirrors the picture, keeps it in range, and is reproducible", () => {
  // One bright pixel at row 10, column 3.
  const images = new Uint8Array(784 * 2);
  images[10 * 28 + 3] = 255;
  images[784 + 5] = 51;
  const plain = augmentedPixels(images, [0, 1], null, makeRng(1));
  assert.equal(plain[10 * 28 + 3], 1);
  assert.equal(plain[784 + 5], Math.fround(51 / 255));
  assert.equal(plain.filter((v) => v > 0).length, 2);

  const aug = { maxShift: 2, flip: true };
  const seen = new Set<string>();
  for (let s = 0; s < 1000; s++) {
    const out = augmentedPixels(images, [0], aug, makeRng(s));
    const lit = [...out.keys()].filter((i) => out[i] > 0);
    assert.equal(lit.length, 1, `seed ${s}`);
    const [y, x] = [Math.floor(lit[0] / 28), lit[0] % 28];
    assert.ok(Math.abs(y - 10) <= 2, `row ${y}`);
    // Either near column 3, or mirrored (column 24) and shifted.
    assert.ok(Math.abs(x - 3) <= 2 || Math.abs(x - 24) <= 2, `column ${x}`);
    assert.equal(out[lit[0]], 1);
    seen.add(`${y},${x}`);
  }
  assert.equal(seen.size, 50, "5 rows × 5 columns × mirrored or not");
  const a = augmentedPixels(images, [0, 1, 0], aug, makeRng(7));
  const b = augmentedPixels(images, [0, 1, 0], aug, makeRng(7));
  assert.deepEqual(a, b);
  // A flip alone keeps a symmetric picture.
  const sym = new Uint8Array(784);
  sym[14 * 28 + 13] = sym[14 * 28 + 14] = 200;
  for (let s = 0; s < 20; s++) {
    assert.deepEqual(
      augmentedPixels(sym, [0], { maxShift: 0, flip: true }, makeRng(s)),
      augmentedPixels(sym, [0], null, makeRng(s)),
    );
  }
});

Deno.test("smoothed targets: the true class keeps the most, rows sum to 1, labels unchanged", () => {
  const labels = new Uint8Array([3, 0, 9]);
  const y = smoothedOneHot(labels, [2, 0], 0.1);
  assert.equal(y.length, 20);
  for (let r = 0; r < 2; r++) {
    const row = y.subarray(r * 10, r * 10 + 10);
    assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-6);
    assert.equal(row.indexOf(Math.max(...row)), [9, 3][r]);
    assert.ok(Math.abs(Math.max(...row) - 0.91) < 1e-6);
    assert.ok(Math.abs(Math.min(...row) - 0.01) < 1e-6);
  }
  assert.deepEqual([...smoothedOneHot(labels, [0], 0)], [
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
  ]);
});

Deno.test("the held-out split is disjoint from training, covers the set, and is seeded", () => {
  const data = synthetic(600, 1);
  const a = holdoutSplit(data, 50, 42);
  assert.equal(a.train.count, 550);
  assert.equal(a.validation.count, 50);
  const t = new Set(a.trainIndices), v = new Set(a.validationIndices);
  assert.equal(t.size, 550);
  assert.equal(v.size, 50);
  assert.ok(
    [...v].every((i) => !t.has(i)),
    "no validation image is trained on",
  );
  assert.equal(t.size + v.size, data.count);
  // The parts hold exactly those images and labels.
  for (const [k, i] of a.validationIndices.entries()) {
    assert.equal(a.validation.labels[k], data.labels[i]);
    assert.deepEqual(
      a.validation.images.subarray(k * 784, k * 784 + 784),
      data.images.subarray(i * 784, i * 784 + 784),
    );
  }
  assert.deepEqual(
    holdoutSplit(data, 50, 42).validationIndices,
    a.validationIndices,
  );
  assert.notDeepEqual(
    holdoutSplit(data, 50, 43).validationIndices,
    a.validationIndices,
  );
  assert.equal(a.info.how.includes("seed 42"), true);
  assert.throws(() => holdoutSplit(data, 600, 1), /does not fit in 600/);
  // The seed recipe validates on the test set, the others never do.
  const test = synthetic(100, 2);
  assert.equal(recipeSplits(SEED_RECIPE, data, test, 1).validation, test);
  const fast = recipeSplits(FAST_RECIPE, data, test, 1);
  assert.equal(fast.validation.count, 50, "a twelfth of 600");
  assert.notEqual(fast.validation, test);
});

Deno.test("runRecipe reads the test set only after training, and records a full history", async () => {
  const data = { train: synthetic(480, 3), test: synthetic(120, 4) };
  const events: string[] = [];
  let trainingOver = false;
  // A test set that notes every read of its pictures.
  const test = new Proxy(data.test, {
    get(target, key, receiver) {
      if (key === "images") {
        events.push(trainingOver ? "test read" : "test read DURING training");
      }
      return Reflect.get(target, key, receiver);
    },
  });
  const recipe = { ...FAST_RECIPE, epochs: 2, batchSize: 32 };
  const run = await runRecipe({ train: data.train, test }, recipe, {
    seed: 5,
    onStart: (s) => events.push(`start ${s.train}+${s.validation}`),
    onEpoch: (r) => {
      events.push(`epoch ${r.epoch}`);
      if (r.epoch === recipe.epochs) trainingOver = true;
    },
  });
  try {
    assert.deepEqual(events.slice(0, 3), [
      "start 440+40",
      "epoch 1",
      "epoch 2",
    ]);
    assert.ok(
      events.slice(3).every((e) => e === "test read"),
      events.join(", "),
    );
    assert.ok(events.length > 3, "the test set was classified");
    assert.deepEqual(run.recipe.validation, { kind: "holdout", size: 40 });
    assert.equal(run.holdout?.validation, 40);
    const [e1, e2] = run.history;
    assert.equal(e1.images_seen, 440);
    assert.equal(e2.images_seen, 880);
    assert.ok(e2.wall_seconds > e1.wall_seconds && e1.wall_seconds > 0);
    // The learning rate of each epoch's last batch is the schedule's.
    const steps = Math.ceil(440 / 32);
    assert.equal(e1.lr, learningRateAt(recipe.schedule, steps - 1, 2 * steps));
    assert.equal(
      e2.lr,
      learningRateAt(recipe.schedule, 2 * steps - 1, 2 * steps),
    );
    assert.equal(
      run.testAccuracy,
      accuracyOf(run.predictions, data.test.labels),
    );
    assert.ok(run.testAccuracy > 0.5, `test accuracy ${run.testAccuracy}`);
    assert.ok(Number.isFinite(run.testAccuracyWithFlips));
  } finally {
    run.model.dispose();
  }
});

Deno.test("a short run of each recipe on a small subset trains and frees its tensors", async () => {
  const data = { train: synthetic(300, 6), test: synthetic(60, 7) };
  for (const recipe of Object.values(RECIPES)) {
    const before = tf.memory().numTensors;
    const run = await runRecipe(data, { ...recipe, epochs: 1, batchSize: 50 }, {
      seed: 1,
    });
    assert.equal(run.history.length, 1, recipe.name);
    assert.ok(Number.isFinite(run.history[0].val_accuracy), recipe.name);
    assert.equal(
      run.validation.count,
      recipe.validation.kind === "test" ? 60 : 25,
      recipe.name,
    );
    run.model.dispose();
    assert.equal(tf.memory().numTensors, before, recipe.name);
  }
});

Deno.test("re-estimated batch-norm statistics are the data's, whatever the moving averages held", () => {
  const model = buildMiniVGGNet({ seed: 2 });
  const data = synthetic(64, 8);
  const bn = model.layers.find((l) =>
    l.getClassName() === "BatchNormalization"
  )!;
  const [, , mean0] = bn.getWeights();
  // The first batch-norm layer follows conv → ReLU: its input's per-channel
  // mean over the data, computed directly.
  const expected = tf.tidy(() => {
    const x = tf.tensor4d(
      augmentedPixels(data.images, [...Array(64).keys()], null, Math.random),
      [64, 28, 28, 1],
    );
    const h = model.layers[1].apply(model.layers[0].apply(x)) as tf.Tensor;
    return Array.from(h.mean([0, 1, 2]).dataSync());
  });
  assert.ok(
    Array.from(mean0.dataSync()).every((v) => v === 0),
    "moving mean starts at 0",
  );
  recalibrateBatchNorm(model, data, undefined, 16);
  const mean1 = Array.from(bn.getWeights()[2].dataSync());
  for (let c = 0; c < mean1.length; c++) {
    assert.ok(
      Math.abs(mean1[c] - expected[c]) < 1e-4,
      `channel ${c}: ${mean1[c]} vs ${expected[c]}`,
    );
  }
  // The layers' momentum is back as it was; weights untouched.
  assert.equal((bn as unknown as { momentum: number }).momentum, 0.99);
  model.dispose();
});

Deno.test("trainModel re-estimates the batch-norm statistics when the recipe says so", async () => {
  const train = synthetic(256, 9), validation = synthetic(64, 10);
  const firstNormStats = async (recalibrateBatchNorm: boolean) => {
    const model = buildMiniVGGNet({ seed: 3 });
    // Four batches: the moving averages keep 96 % of their start.
    await trainModel(model, train, validation, {
      recipe: {
        ...SEED_RECIPE,
        recalibrateBatchNorm,
        epochs: 1,
        batchSize: 64,
      },
      seed: 4,
    });
    const bn = model.layers[2];
    assert.equal(bn.getClassName(), "BatchNormalization");
    const moving = Array.from(bn.getWeights()[2].dataSync());
    const actual = tf.tidy(() => {
      const x = tf.tensor4d(
        augmentedPixels(
          train.images,
          [...Array(256).keys()],
          null,
          Math.random,
        ),
        [256, 28, 28, 1],
      );
      const h = model.layers[1].apply(model.layers[0].apply(x)) as tf.Tensor;
      return Array.from(h.mean([0, 1, 2]).dataSync());
    });
    model.dispose();
    return moving.map((m, c) => Math.abs(m - actual[c]));
  };
  const off = await firstNormStats(false), on = await firstNormStats(true);
  assert.ok(
    on.every((d) => d < 1e-4),
    `re-estimated: off by up to ${Math.max(...on)}`,
  );
  assert.ok(
    Math.max(...off) > 0.01,
    `moving averages only: ${Math.max(...off)}`,
  );
});

Deno.test("WeightAverage: a warmed-up moving average of the weights, swapped in and out", () => {
  const model = buildMiniVGGNet({ seed: 5 });
  const w = model.trainableWeights[0];
  const start = Array.from(w.read().dataSync());
  const ema = new WeightAverage(model, 0.5);
  try {
    // Step 1: decay min(0.5, 2/11) = 2/11 towards weights + 1.
    tf.tidy(() => {
      w.write(tf.add(w.read(), 1));
    });
    ema.update();
    ema.swap();
    const averaged = Array.from(w.read().dataSync());
    for (let i = 0; i < 5; i++) {
      const want = start[i] * (2 / 11) + (start[i] + 1) * (9 / 11);
      assert.ok(
        Math.abs(averaged[i] - want) < 1e-5,
        `${averaged[i]} vs ${want}`,
      );
    }
    ema.swap();
    const back = Array.from(w.read().dataSync());
    for (let i = 0; i < 5; i++) {
      assert.ok(Math.abs(back[i] - (start[i] + 1)) < 1e-6);
    }
  } finally {
    ema.dispose();
    model.dispose();
  }
});

Deno.test("Adam recipes train too, with the schedule's learning rate and decoupled weight decay", async () => {
  const data = { train: synthetic(300, 11), test: synthetic(60, 12) };
  const recipe = {
    ...FAST_RECIPE,
    optimizer: {
      kind: "adam",
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-7,
      weightDecay: 1e-4,
    },
    schedule: { ...FAST_RECIPE.schedule, peak: 0.002 },
    weightAveraging: { kind: "ema", decay: 0.99 },
    epochs: 2,
    batchSize: 25,
  } as const;
  const before = tf.memory().numTensors;
  const run = await runRecipe(data, recipe, { seed: 2 });
  assert.equal(run.history.length, 2);
  assert.equal(
    run.history[1].lr,
    learningRateAt(recipe.schedule, 21, 22),
  );
  assert.ok(run.testAccuracy > 0.5, `test accuracy ${run.testAccuracy}`);
  assert.match(
    describeRecipe(recipe),
    /Adam \(β 0\.9, 0\.999\).*weights averaged \(EMA 0\.99\)/,
  );
  run.model.dispose();
  assert.equal(tf.memory().numTensors, before);
});
