/**
 * The Winograd convolution and the kernel pool that runs it on every
 * thread: which convolutions take it, that tf.conv2d really does, that the
 * pool's result does not depend on which thread ran a block, and that a
 * failing kernel is reported without breaking the pool.
 */
import assert from "node:assert/strict";
import { initWasmBackend, tf } from "../lib/mod.ts";
import {
  singleChannelApplies,
  winogradApplies,
  winogradPlan,
  winogradTiling,
} from "../lib/backend/kernels/conv2d.ts";
import { pointerOf, simdKernels, simdPool } from "../lib/backend/simd/mod.ts";
import { DEFAULT_SPIN_MICROS } from "../lib/backend/simd/pool.ts";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

const info = await initWasmBackend();

Deno.test("Winograd takes exactly the 3×3, stride-1, same-size convolutions with channels in 4s and 8s; the first-layer kernel one input channel", () => {
  const same = { strides: 1, pad: "same" } as const;
  assert.equal(winogradApplies([32, 28, 28, 32], [3, 3, 32, 32], same), true);
  assert.equal(winogradApplies([8, 14, 14, 32], [3, 3, 32, 64], same), true);
  assert.equal(
    winogradApplies([1, 5, 7, 4], [3, 3, 4, 8], {
      strides: 1,
      pad: [[0, 0], [1, 1], [1, 1], [0, 0]],
    }),
    true,
  );
  // MiniVGGNet's first layer (one input channel) has its own kernel.
  assert.equal(winogradApplies([32, 28, 28, 1], [3, 3, 1, 32], same), false);
  assert.equal(
    singleChannelApplies([32, 28, 28, 1], [3, 3, 1, 32], same),
    true,
  );
  assert.equal(singleChannelApplies([1, 5, 7, 1], [3, 3, 1, 8], same), true);
  assert.equal(singleChannelApplies([1, 8, 8, 1], [3, 3, 1, 12], same), false);
  assert.equal(singleChannelApplies([1, 8, 8, 2], [3, 3, 2, 8], same), false);
  assert.equal(
    singleChannelApplies([1, 8, 8, 1], [3, 3, 1, 8], {
      strides: 2,
      pad: "same",
    }),
    false,
  );
  assert.equal(
    singleChannelApplies([1, 8, 8, 1], [3, 3, 1, 8], {
      strides: 1,
      pad: "valid",
    }),
    false,
  );
  assert.equal(singleChannelApplies([1, 8, 8, 1], [5, 5, 1, 8], same), false);
  assert.equal(winogradApplies([1, 8, 8, 4], [3, 3, 4, 12], same), false);
  assert.equal(winogradApplies([1, 8, 8, 4], [5, 5, 4, 8], same), false);
  assert.equal(
    winogradApplies([1, 8, 8, 4], [3, 3, 4, 8], { strides: 2, pad: "same" }),
    false,
  );
  assert.equal(
    winogradApplies([1, 8, 8, 4], [3, 3, 4, 8], { strides: 1, pad: "valid" }),
    false,
  );
  assert.equal(
    winogradApplies([1, 8, 8, 4], [3, 3, 4, 8], {
      strides: 1,
      pad: "same",
      dilations: 2,
    }),
    false,
  );
  assert.equal(
    winogradApplies([1, 8, 8, 4], [3, 3, 4, 8], {
      strides: 1,
      pad: "same",
      dataFormat: "NCHW",
    }),
    false,
  );
});

Deno.test("the kernel pool computes with as many threads as the backend", async () => {
  const pool = simdPool(tf.backend() as BackendWasm);
  assert.equal(pool.threads, info.threads);
  // Workers start in the background; all of them report in.
  for (let i = 0; i < 200 && pool.readyWorkers < pool.threads - 1; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(pool.readyWorkers, pool.threads - 1);
});

Deno.test("Winograd tiles 14 × 14 images as a mosaic (fewer tiles), 28 × 28 ones each on its own", () => {
  // MiniVGGNet's 14 × 14 layers at batch 128: 3 images to a row, 1,771
  // tiles where 16 per image make 2,048; at batch 32, 4 to a row.
  assert.deepEqual(winogradTiling(128, 14, 14), { K: 3, tiles: 1771 });
  assert.deepEqual(winogradTiling(32, 14, 14), { K: 4, tiles: 450 });
  // 28 × 28 divides into 4 × 4 tiles: no mosaic saves any.
  assert.deepEqual(winogradTiling(128, 28, 28), { K: 0, tiles: 6272 });
  // One image, or a tie: each image on its own.
  assert.deepEqual(winogradTiling(1, 14, 14), { K: 0, tiles: 16 });
  assert.deepEqual(winogradTiling(2, 14, 14), { K: 0, tiles: 32 });
  assert.deepEqual(winogradTiling(11, 10, 6), { K: 3, tiles: 55 });
  assert.equal(winogradPlan([128, 14, 14, 32], 64).blocks, 50);
  // A block's scratch also holds the filter transform's (72 + 36·Co
  // floats) and the filter gradient's sum's (36·256 + 72), even for the
  // fewest channels the kernels take.
  for (const [C, Co] of [[4, 8], [4, 64], [64, 8], [64, 64]]) {
    const { blockFloats } = winogradPlan([1, 3, 3, C], Co);
    assert.ok(blockFloats >= 72 + 36 * Co, `${C} → ${Co}`);
    assert.ok(blockFloats >= 36 * 256 + 72, `${C} → ${Co}`);
  }
});

/** x ⊛ w by one call of the kernel on this thread, over every block. */
function winogradOnOneThread(x: tf.Tensor4D, w: tf.Tensor4D): Float32Array {
  const backend = tf.backend() as BackendWasm;
  const k = simdKernels(backend);
  const [N, H, W, C] = x.shape;
  const Co = w.shape[3];
  const { T, K, blocks, filterFloats, blockFloats } = winogradPlan(
    x.shape,
    Co,
  );
  const U = tf.zeros([filterFloats]);
  const scratch = tf.zeros([blockFloats]);
  const out = tf.zeros([N, H, W, Co]);
  k.winogradFilter(
    pointerOf(backend, w),
    pointerOf(backend, U),
    C,
    Co,
    pointerOf(backend, scratch),
    0,
    C,
  );
  k.winogradConv3x3(
    pointerOf(backend, x),
    pointerOf(backend, U),
    0,
    pointerOf(backend, out),
    pointerOf(backend, scratch),
    N,
    H,
    W,
    C,
    Co,
    0,
    T,
    K,
    0,
    blocks,
  );
  const values = out.dataSync() as Float32Array;
  tf.dispose([U, scratch, out]);
  return values;
}

Deno.test("tf.conv2d runs the pooled Winograd kernel: bit for bit what one thread computes, with threads that poll or sleep, on all threads or one", async () => {
  const pool = simdPool(tf.backend() as BackendWasm);
  assert.equal(pool.spinMicros, DEFAULT_SPIN_MICROS);
  for (let i = 0; i < 200 && pool.readyWorkers < pool.threads - 1; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const before = tf.memory().numTensors;
  // Each image on its own, and a mosaic of 14 × 14 images (winogradTiling).
  for (const [N, H] of [[4, 28], [10, 14]]) {
    const x = tf.randomNormal([N, H, H, 32], 0, 1, "float32", 1) as tf.Tensor4D;
    const w = tf.randomNormal(
      [3, 3, 32, 32],
      0,
      1,
      "float32",
      2,
    ) as tf.Tensor4D;
    const want = winogradOnOneThread(x, w);
    for (let round = 0; round < 6; round++) {
      // Threads that sleep at once, or poll for longer than the gap.
      pool.spinMicros = [0, DEFAULT_SPIN_MICROS, 1e5][round % 3];
      // All threads, or the caller alone.
      pool.activeThreads = round < 3 ? pool.threads : 1;
      const y = tf.conv2d(x, w, 1, "same");
      assert.deepEqual(y.dataSync(), want, `${N}×${H}×${H}, round ${round}`);
      y.dispose();
    }
    tf.dispose([x, w]);
  }
  pool.spinMicros = DEFAULT_SPIN_MICROS;
  pool.activeThreads = 0;
  assert.equal(pool.activeThreads, 1);
  pool.activeThreads = 99;
  assert.equal(pool.activeThreads, pool.threads);
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("a kernel that fails in the pool throws once, and the pool keeps working", () => {
  const backend = tf.backend() as BackendWasm;
  const pool = simdPool(backend);
  const x = tf.ones([1, 4, 4, 4]) as tf.Tensor4D;
  const w = tf.ones([3, 3, 4, 8]) as tf.Tensor4D;
  const U = tf.zeros([36 * 4 * 8]);
  const out = tf.zeros([1, 4, 4, 8]);
  // A scratch pointer past the end of memory traps in every block.
  const beyond = 2 ** 32 - 1024;
  assert.throws(
    () =>
      pool.run(
        "winogradConv3x3",
        [
          pointerOf(backend, x),
          pointerOf(backend, U),
          0,
          pointerOf(backend, out),
          beyond,
          1,
          4,
          4,
          4,
          8,
          0,
          6,
          0,
        ],
        4,
        0,
        8,
      ),
    /out of bounds|failed on a worker/,
  );
  const y = tf.conv2d(x, w, 1, "same");
  // Corner pixel: 2×2 window × 4 channels of ones.
  assert.equal(y.dataSync()[0], 16);
  // Centre pixels see the full 3×3 window.
  assert.equal(y.dataSync()[(1 * 4 + 1) * 8], 36);
  tf.dispose([x, w, U, out, y]);
});

Deno.test("the Winograd filter gradient is the same bits on every run, whichever thread summed which tiles", () => {
  const x = tf.randomNormal([20, 14, 14, 32], 0, 1, "float32", 3);
  const dy = tf.randomNormal([20, 14, 14, 64], 0, 1, "float32", 4);
  const attrs = {
    strides: 1,
    pad: "same",
    dataFormat: "NHWC",
    filterShape: [3, 3, 32, 64],
  };
  const run = () =>
    tf.engine().runKernel(
      "Conv2DBackpropFilter",
      { x, dy },
      attrs as unknown as tf.NamedAttrMap,
    ) as tf.Tensor;
  const first = run();
  const want = first.dataSync();
  for (let round = 0; round < 5; round++) {
    const again = run();
    assert.deepEqual(again.dataSync(), want, `round ${round}`);
    again.dispose();
  }
  tf.dispose([x, dy, first]);
});

Deno.test("the pool refuses a kernel call with the wrong number of arguments", () => {
  const pool = simdPool(tf.backend() as BackendWasm);
  assert.throws(
    () => pool.run("gemm", [0, 1, 1, 0, 8, 0, 0, 4, 8, 1, 0, 0, 4, 8], 0, 0, 1),
    /gemm takes 15 arguments before its block range, got 14/,
  );
});
