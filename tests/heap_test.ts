/**
 * The WASM heap past 2 GiB and at its limit: our kernels on tensors whose
 * addresses do not fit a signed 32-bit number (JavaScript's bitwise
 * operators would make them negative), saved tensors released early and
 * tensors spilled out of the heap and brought back (the same bits either
 * way), and the heap's limit (a clear error instead of a block running past
 * 4 GiB).
 *
 * First of all, the heap is pushed past 2 GiB by one block that is never
 * written (so the process's memory grows by little): every test here works
 * on tensors past 2 GiB.
 */
import assert from "node:assert/strict";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { buildMiniVGGNet, initWasmBackend, tf } from "../lib/mod.ts";
import {
  backendMemory,
  channelSumsAt,
  pointerOf,
} from "../lib/backend/simd/mod.ts";
import { setEarlySavedRelease } from "../lib/backend/saved.ts";
import {
  heapSpillStats,
  setHeapBudget,
  WASM_HEAP_LIMIT,
} from "../lib/backend/spill.ts";

await initWasmBackend();
const backend = tf.backend() as BackendWasm;
const wasm = backend.wasm as unknown as {
  _malloc(bytes: number): number;
  _free(at: number): void;
};
const TWO_GIB = 2 ** 31;

/**
 * Takes the heap past 2 GiB with one block nobody writes, then fills the
 * holes left below 2 GiB (few: the heap is fresh), so that what is
 * allocated next lands past 2 GiB. Kept for the whole file.
 */
function occupyBelowTwoGiB(): void {
  assert.notEqual(wasm._malloc(TWO_GIB + 2 ** 26), 0);
  for (let size = 2 ** 20; size >= 16; size /= 16) {
    while (wasm._malloc(size) < TWO_GIB) {
      // Filled a hole; try again.
    }
  }
}

occupyBelowTwoGiB();

/** One MiniVGGNet training step's loss and gradients on `backendName`. */
async function trainingStep(backendName: string): Promise<Float32Array[]> {
  await tf.setBackend(backendName);
  const model = buildMiniVGGNet({ seed: 7 });
  // Batch 2: 1,568 rows of 32 channels, enough for the pooled channel sums.
  const x = tf.tensor4d(
    Array.from({ length: 2 * 784 }, (_, i) => Math.sin(i * 0.37)),
    [2, 28, 28, 1],
  );
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d([3, 8], "int32"), 10));
  if (backendName === "wasm") {
    assert.ok(pointerOf(backend, x) >= TWO_GIB, "the input is below 2 GiB");
  }
  const { value, grads } = tf.variableGrads(() =>
    tf.losses.softmaxCrossEntropy(
      y,
      model.apply(x, { training: true }) as tf.Tensor,
    )
  );
  const outputs = [value, ...Object.values(grads)];
  if (backendName === "wasm") {
    for (const t of outputs) {
      assert.ok(pointerOf(backend, t) >= TWO_GIB, "an output is below 2 GiB");
    }
  }
  const out = outputs.map((t) => t.dataSync() as Float32Array);
  tf.dispose([x, y, value, ...Object.values(grads)]);
  model.dispose();
  await tf.setBackend("wasm");
  return out;
}

/** A training step's gradients and the most bytes of tensors it held. */
async function profiledStep(): Promise<{ grads: number[][]; peak: number }> {
  const tensors = tf.memory().numTensors;
  let grads: number[][] = [];
  const { peakBytes } = await tf.profile(async () => {
    grads = (await trainingStep("wasm")).map((a) => Array.from(a));
  });
  assert.equal(tf.memory().numTensors, tensors, "the step leaks no tensor");
  return { grads, peak: peakBytes };
}

/**
 * Max |got − want| ≤ 1e-3 · max |want| + 1e-6, for every array: a whole
 * training step (loss and every gradient) against the CPU backend's direct
 * sums. Each op is within 1e-4 (backend_test.ts); through the step the
 * Winograd F(4×4, 3×3) convolutions' rounding adds up to 2–3.5e-4 here
 * (F(2×2, 3×3): 2–4.5e-5). A wrong address past 2 GiB reads other data and
 * misses by far more.
 */
function assertClose(got: Float32Array[], want: Float32Array[]): void {
  assert.equal(got.length, want.length);
  want.forEach((ref, i) => {
    assert.equal(got[i].length, ref.length);
    let maxRef = 0, maxDiff = 0;
    for (let j = 0; j < ref.length; j++) {
      maxRef = Math.max(maxRef, Math.abs(ref[j]));
      maxDiff = Math.max(maxDiff, Math.abs(ref[j] - got[i][j]));
    }
    assert.ok(
      maxDiff <= 1e-3 * maxRef + 1e-6,
      `output ${i}: max |wasm − cpu| = ${maxDiff} vs max |cpu| = ${maxRef}`,
    );
  });
}

Deno.test("a training step spilled out of a small heap budget gives the same bits as one that is not", async () => {
  const plain = await trainingStep("wasm");
  const before = heapSpillStats(backend);
  setHeapBudget(backend, 2 ** 20); // 1 MiB: every activation spills
  let spilled: Float32Array[];
  try {
    spilled = await trainingStep("wasm");
  } finally {
    setHeapBudget(backend);
  }
  const after = heapSpillStats(backend);
  assert.ok(after.spills > before.spills + 10, "tensors were spilled");
  assert.ok(after.restores > before.restores + 10, "and brought back");
  assert.equal(after.spilledBytes, 0, "nothing is left spilled");
  assert.deepEqual(spilled, plain);
});

Deno.test("MiniVGGNet's training step on tensors past 2 GiB matches the CPU backend", async () => {
  const cpu = await trainingStep("cpu");
  assertClose(await trainingStep("wasm"), cpu);
});

Deno.test("saved tensors released as the backward pass goes: the same gradients, a lower peak", async () => {
  setEarlySavedRelease(false);
  let late;
  try {
    late = await profiledStep();
  } finally {
    setEarlySavedRelease(true);
  }
  const early = await profiledStep();
  assert.deepEqual(early.grads, late.grads);
  assert.ok(
    early.peak < 0.9 * late.peak,
    `peak ${early.peak} bytes, ${late.peak} when released at the end`,
  );
});

Deno.test("second-order gradients are right with saved tensors released early", () => {
  const x = tf.tensor1d([-2, 0.5, 3]);
  const cube = (t: tf.Tensor) => tf.sum(tf.mul(tf.mul(t, t), t));
  const d2 = tf.grad((t: tf.Tensor) => tf.sum(tf.grad(cube)(t)))(x);
  assert.deepEqual(Array.from(d2.dataSync()), [-12, 3, 18]); // 6x
  tf.dispose([x, d2]);
});

Deno.test("the per-channel sums' work space is 8-byte aligned past 2 GiB too", () => {
  // `(at + 7) & ~7` made this −2147483640.
  assert.equal(channelSumsAt(TWO_GIB + 4), TWO_GIB + 8);
  assert.equal(channelSumsAt(2 ** 32 - 16), 2 ** 32 - 16);
});

Deno.test("the heap stops at its limit: an allocation past it throws a clear error and leaves the backend working", () => {
  const memory = backendMemory(backend);
  // Fills the heap to 256 MiB below its limit.
  const filler = wasm._malloc(
    WASM_HEAP_LIMIT - memory.buffer.byteLength - 2 ** 28,
  );
  assert.notEqual(filler, 0);
  try {
    const heap = memory.buffer.byteLength;
    // Would need the heap past its limit (and still inside 4 GiB).
    const bytes = WASM_HEAP_LIMIT - heap + 2 ** 26;
    assert.ok(heap + bytes < 2 ** 32);
    assert.throws(() => wasm._malloc(bytes), /out of memory.*batch size/);
    assert.ok(memory.buffer.byteLength <= WASM_HEAP_LIMIT);
    // One block that could take the allocator's break past 4 GiB.
    assert.throws(
      () => wasm._malloc(2 ** 32 - heap),
      /cannot allocate .* in one block/,
    );
    assert.throws(() => memory.grow(WASM_HEAP_LIMIT / 65536), RangeError);
  } finally {
    wasm._free(filler);
  }
  const sums = tf.tidy(() => tf.sum(tf.ones([1024, 8]), [0]).dataSync());
  assert.deepEqual(Array.from(sums), new Array(8).fill(1024));
});
