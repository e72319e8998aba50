import assert from "node:assert/strict";
import {
  BEST_RECIPE,
  buildMiniVGGNet,
  initWasmBackend,
  type Recipe,
  SEED_RECIPE,
  tf,
  trainModel,
} from "../lib/mod.ts";
import {
  CheckpointError,
  decodeCheckpoint,
  encodeCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
  type TrainCheckpoint,
} from "../lib/checkpoint.ts";
import { synthetic } from "./fixtures/synthetic.ts";

await initWasmBackend();

const train = synthetic(40, 3);
const validation = synthetic(12, 4);
/** The best recipe in small: Adam, one-cycle, shifts and flips, label
 * smoothing, batch-norm re-estimation and a weight average — every kind
 * of state a checkpoint must carry. */
const SMALL_BEST: Recipe = { ...BEST_RECIPE, epochs: 3, batchSize: 16 };
const SMALL_SEED: Recipe = { ...SEED_RECIPE, epochs: 3, batchSize: 16 };

/** The model's weights as bytes. */
function weightBytes(model: tf.LayersModel): Uint8Array[] {
  return model.weights.map((w) =>
    new Uint8Array(Float32Array.from(w.read().dataSync()).buffer)
  );
}

/** Trains a fresh model all the way, keeping every checkpoint (as bytes). */
async function uninterrupted(recipe: Recipe) {
  const model = buildMiniVGGNet({ seed: 5 });
  const checkpoints: Uint8Array[] = [];
  const { history } = await trainModel(model, train, validation, {
    recipe,
    seed: 9,
    onCheckpoint: (c) => {
      checkpoints.push(encodeCheckpoint(c));
    },
  });
  const weights = weightBytes(model);
  model.dispose();
  return { weights, history, checkpoints };
}

/** Resumes a fresh model from a checkpoint's bytes to the end. */
async function resumed(recipe: Recipe, bytes: Uint8Array) {
  const model = buildMiniVGGNet({ seed: 77 }); // its own init is overwritten
  const { history } = await trainModel(model, train, validation, {
    recipe,
    seed: 9,
    resume: decodeCheckpoint(bytes, "memory"),
  });
  const weights = weightBytes(model);
  model.dispose();
  return { weights, history };
}

for (const recipe of [SMALL_BEST, SMALL_SEED]) {
  Deno.test(`${recipe.name}: resuming from the checkpoint after epoch 1 or 2 ends with byte-identical weights`, async () => {
    const full = await uninterrupted(recipe);
    assert.equal(full.checkpoints.length, 3, "one checkpoint per epoch");
    for (const k of [1, 2]) {
      const again = await resumed(recipe, full.checkpoints[k - 1]);
      assert.equal(again.weights.length, full.weights.length);
      again.weights.forEach((w, i) =>
        assert.deepEqual(w, full.weights[i], `weight ${i} after resume at ${k}`)
      );
      assert.deepEqual(
        again.history.map((r) => [r.loss, r.val_accuracy, r.lr, r.images_seen]),
        full.history.map((r) => [r.loss, r.val_accuracy, r.lr, r.images_seen]),
      );
    }
  });
}

Deno.test("a run stopped mid-epoch checkpoints before averaging, and resumes to byte-identical weights", async () => {
  const full = await uninterrupted(SMALL_BEST);
  const model = buildMiniVGGNet({ seed: 5 });
  const stop = new AbortController();
  let last: TrainCheckpoint | null = null;
  const result = await trainModel(model, train, validation, {
    recipe: SMALL_BEST,
    seed: 9,
    signal: stop.signal,
    onBatch: (p) => {
      if (p.epoch === 2 && p.batch === 2) stop.abort();
    },
    onCheckpoint: (c) => {
      last = c;
    },
  });
  model.dispose();
  assert.equal(result.stopped?.epoch, 2);
  assert.equal(result.stopped?.batch, 2);
  const c = last as TrainCheckpoint | null;
  assert.ok(c !== null);
  assert.equal(c.epochsDone, 1);
  assert.equal(c.batchesDone, 2);
  assert.equal(c.step, 3 + 2);
  assert.ok(c.epochProgress !== null && c.epochProgress.seen === 32);
  const again = await resumed(SMALL_BEST, encodeCheckpoint(c));
  again.weights.forEach((w, i) => assert.deepEqual(w, full.weights[i]));
  assert.equal(again.history.length, 3);
  assert.deepEqual(
    again.history.map((r) => r.loss),
    full.history.map((r) => r.loss),
  );
});

Deno.test("a time budget stops after the batch that spends it", async () => {
  const model = buildMiniVGGNet({ seed: 5 });
  const result = await trainModel(model, train, null, {
    recipe: SMALL_SEED,
    timeBudgetSeconds: 0,
  });
  model.dispose();
  assert.equal(result.stopped?.reason, "time");
  assert.equal(result.stopped?.batch, 1);
});

Deno.test("resuming with other settings is refused in one sentence", async () => {
  const full = await uninterrupted({ ...SMALL_SEED, epochs: 1 });
  const c = decodeCheckpoint(full.checkpoints[0], "memory");
  const model = buildMiniVGGNet({ seed: 5 });
  await assert.rejects(
    () =>
      trainModel(model, train, null, {
        recipe: { ...SMALL_SEED, epochs: 1 },
        seed: 10,
        resume: c,
      }),
    /checkpoint was made with seed 9, this run has 10/,
  );
  await assert.rejects(
    () =>
      trainModel(model, synthetic(41, 3), null, {
        recipe: { ...SMALL_SEED, epochs: 1 },
        seed: 9,
        resume: c,
      }),
    /training images: 40, this run has 41/,
  );
  model.dispose();
});

Deno.test("checkpoint files: written atomically, damaged ones refused naming the file", async () => {
  const model = buildMiniVGGNet({ seed: 5 });
  let c: TrainCheckpoint | null = null;
  await trainModel(model, train, null, {
    recipe: { ...SMALL_SEED, epochs: 1 },
    onCheckpoint: (saved) => {
      c = saved;
    },
  });
  model.dispose();
  const saved = c as TrainCheckpoint | null;
  assert.ok(saved !== null);
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/checkpoint.bin`;
    await saveCheckpoint(path, saved);
    const back = await loadCheckpoint(path);
    assert.deepEqual(back.weights, saved.weights);
    assert.deepEqual(back.optimizer, saved.optimizer);
    assert.deepEqual(back.history, saved.history); // NaN validation losses too
    assert.ok(Number.isNaN(back.history[0].val_loss));
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [
      "checkpoint.bin",
    ]);
    const bytes = await Deno.readFile(path);
    for (
      const [what, damaged] of [
        ["cut short", bytes.subarray(0, bytes.length - 100)],
        ["not a checkpoint", new TextEncoder().encode("hello")],
        ["header cut", bytes.subarray(0, 40)],
      ] as const
    ) {
      await Deno.writeFile(path, damaged);
      await assert.rejects(
        () => loadCheckpoint(path),
        (e: Error) =>
          e instanceof CheckpointError && e.message.startsWith(path) &&
          !e.message.includes("\n"),
        what,
      );
    }
    await assert.rejects(
      () => loadCheckpoint(`${dir}/none.bin`),
      /none\.bin does not exist/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
