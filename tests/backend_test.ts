/**
 * Every op of MiniVGGNet's forward and backward pass on the WASM backend
 * (with this project's kernels) against the tfjs CPU backend, the
 * numerical reference. Inputs have both signs; shapes, strides 1 and 2, and
 * "same"/"valid" padding vary.
 *
 * Bound: max |wasm − cpu| ≤ 1e-4 × max |cpu| (+1e-6) per output. Float32
 * sums taken in a different order differ by ~1e-6 relative; a wrong kernel
 * differs by O(1).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { initWasmBackend, tf } from "../lib/mod.ts";
import { chooseThreads, defaultThreads } from "../lib/backend/mod.ts";
import {
  batchNormTraining,
  batchNormTrainingAvailable,
} from "../lib/backend/kernels/batch_norm_train.ts";
import {
  reluMomentsOf,
  setReluBatchNormFusion,
  setReluMomentsFusion,
} from "../lib/backend/kernels/relu.ts";
import { dropout } from "../lib/layers.ts";
import {
  advanceRng,
  dropoutMask,
  makeRng,
  MULBERRY32_STEP,
  mulberry32Output,
} from "../lib/random.ts";

const REL = 1e-4;

const backendInfo = await initWasmBackend();

Deno.test("initWasmBackend uses every core by default (up to 8), with SIMD", () => {
  const cores = navigator.hardwareConcurrency;
  assert.equal(defaultThreads(), Math.min(cores, 8));
  assert.equal(backendInfo.threads, defaultThreads());
  assert.equal(backendInfo.simd, true);
});

Deno.test("chooseThreads: at most one thread per core, and a warning saying so", () => {
  assert.deepEqual(chooseThreads(1, 2), { threads: 1 });
  assert.deepEqual(chooseThreads(2, 2), { threads: 2 });
  assert.deepEqual(chooseThreads(undefined, 2), {
    threads: Math.min(defaultThreads(), 2),
  });
  assert.deepEqual(chooseThreads(undefined, 1), { threads: 1 });
  assert.deepEqual(chooseThreads(99, 2), {
    threads: 2,
    warning:
      "warning: 99 threads asked for, but this machine has 2 cores; using 2 threads (threads beyond one per core only take turns on the cores and slow every step down).",
  });
  assert.deepEqual(chooseThreads(3, 1), {
    threads: 1,
    warning:
      "warning: 3 threads asked for, but this machine has 1 core; using 1 thread (threads beyond one per core only take turns on the cores and slow every step down).",
  });
  // By default, the cores are navigator.hardwareConcurrency.
  const cores = navigator.hardwareConcurrency;
  assert.equal(chooseThreads(cores + 1).threads, cores);
  for (const bad of [0, -1, 1.5, NaN]) {
    assert.throws(() => chooseThreads(bad, 2), /positive integer/);
  }
});

/** Runs tests/fixtures/`name` in a fresh `deno test` with only --allow-read. */
async function runFixture(name: string): Promise<void> {
  const fixture = fileURLToPath(
    new URL(`./fixtures/${name}`, import.meta.url),
  );
  const run = await new Deno.Command(Deno.execPath(), {
    args: ["test", "--allow-read", fixture],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).output();
  const out = new TextDecoder().decode(run.stdout) +
    new TextDecoder().decode(run.stderr);
  assert.equal(run.code, 0, out);
  assert.match(out, /1 passed \| 0 failed/);
}

Deno.test("the threaded backend starts inside Deno.test, needs only --allow-read, and lets the process exit", async () => {
  await runFixture("init_inside_test.ts");
});

Deno.test("the one-thread build (plain memory) runs our kernels, WebAssembly ones included, and matches cpu", async () => {
  await runFixture("one_thread_kernels.ts");
});

/** Deterministic values in [-1, 1) from a seed. */
function randomValues(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

type Inputs = Record<string, { shape: number[]; values: Float32Array }>;

function makeInputs(shapes: Record<string, number[]>, seed: number): Inputs {
  const inputs: Inputs = {};
  let k = seed;
  for (const [name, shape] of Object.entries(shapes)) {
    const n = shape.reduce((a, b) => a * b, 1);
    inputs[name] = { shape, values: randomValues(n, ++k * 7919) };
  }
  return inputs;
}

/**
 * Runs `f` and the gradients of sum(f · dy) with respect to every input on
 * `backend`, returning plain arrays.
 */
async function evaluate(
  backend: string,
  inputs: Inputs,
  f: (t: Record<string, tf.Tensor>) => tf.Tensor,
  withGrads = true,
): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const names = Object.keys(inputs);
  const tensors = names.map((n) =>
    tf.tensor(inputs[n].values, inputs[n].shape)
  );
  const results = tf.tidy(() => {
    const call = (...ts: tf.Tensor[]) =>
      f(Object.fromEntries(names.map((n, i) => [n, ts[i]])));
    const y = call(...tensors);
    if (!withGrads) return [y];
    const dy = tf.tensor(randomValues(y.size, 12345), y.shape);
    const grads = tf.grads((...ts: tf.Tensor[]) =>
      tf.sum(tf.mul(call(...ts), dy))
    )(tensors);
    return [y, ...grads];
  });
  const arrays = results.map((t) => t.dataSync() as Float32Array);
  tf.dispose([...tensors, ...results]);
  return arrays;
}

async function compare(
  label: string,
  shapes: Record<string, number[]>,
  f: (t: Record<string, tf.Tensor>) => tf.Tensor,
  seed = 1,
  withGrads = true,
): Promise<void> {
  const inputs = makeInputs(shapes, seed);
  const cpu = await evaluate("cpu", inputs, f, withGrads);
  const wasm = await evaluate("wasm", inputs, f, withGrads);
  await tf.setBackend("wasm");
  const outNames = ["output", ...Object.keys(shapes).map((n) => `d/d${n}`)];
  cpu.forEach((ref, i) => {
    const got = wasm[i];
    assert.equal(got.length, ref.length, `${label} ${outNames[i]}: size`);
    let maxRef = 0, maxDiff = 0;
    for (let j = 0; j < ref.length; j++) {
      maxRef = Math.max(maxRef, Math.abs(ref[j]));
      maxDiff = Math.max(maxDiff, Math.abs(ref[j] - got[j]));
    }
    assert.ok(
      maxDiff <= REL * maxRef + 1e-6,
      `${label} ${
        outNames[i]
      }: max |wasm-cpu| = ${maxDiff} vs max |cpu| = ${maxRef}`,
    );
  });
}

const convCases: Array<{
  x: number[];
  w: number[];
  stride: 1 | 2;
  pad: "same" | "valid";
}> = [
  { x: [2, 28, 28, 1], w: [3, 3, 1, 32], stride: 1, pad: "same" },
  { x: [2, 14, 14, 32], w: [3, 3, 32, 64], stride: 1, pad: "same" },
  { x: [3, 9, 7, 4], w: [3, 3, 4, 5], stride: 1, pad: "valid" },
  { x: [2, 9, 8, 3], w: [3, 3, 3, 4], stride: 2, pad: "same" },
  { x: [2, 9, 8, 3], w: [3, 2, 3, 4], stride: 2, pad: "valid" },
  { x: [1, 6, 6, 2], w: [5, 5, 2, 3], stride: 1, pad: "same" },
  // ≤ 16 taps: the filter gradient goes through im2col.
  { x: [2, 9, 8, 1], w: [3, 3, 1, 4], stride: 2, pad: "same" },
  { x: [2, 7, 6, 3], w: [2, 2, 3, 2], stride: 1, pad: "valid" },
  // Winograd: several blocks of 36 tiles, and odd sizes (edge tiles).
  { x: [2, 28, 28, 32], w: [3, 3, 32, 32], stride: 1, pad: "same" },
  { x: [2, 14, 14, 16], w: [3, 3, 16, 8], stride: 1, pad: "same" },
  { x: [3, 7, 5, 8], w: [3, 3, 8, 16], stride: 1, pad: "same" },
  { x: [1, 1, 1, 4], w: [3, 3, 4, 8], stride: 1, pad: "same" },
  // Winograd over a mosaic of images (winogradTiling): 3 to a row with the
  // last row part-filled (two blocks of tiles), 2 to a row across odd sizes,
  // and 17 images of 14 × 14 (several blocks, tiles straddling images).
  { x: [11, 10, 6, 4], w: [3, 3, 4, 8], stride: 1, pad: "same" },
  { x: [7, 9, 13, 8], w: [3, 3, 8, 8], stride: 1, pad: "same" },
  { x: [17, 14, 14, 4], w: [3, 3, 4, 8], stride: 1, pad: "same" },
  // The direct first-layer kernel: MiniVGGNet's, a row that is not a
  // multiple of its four pixels, a single pixel.
  { x: [3, 28, 28, 1], w: [3, 3, 1, 32], stride: 1, pad: "same" },
  { x: [2, 5, 7, 1], w: [3, 3, 1, 8], stride: 1, pad: "same" },
  { x: [1, 1, 1, 1], w: [3, 3, 1, 16], stride: 1, pad: "same" },
];

for (const c of convCases) {
  const label = `conv2d x${c.x} w${c.w} stride ${c.stride} ${c.pad}`;
  Deno.test(`wasm matches cpu: ${label}`, () =>
    compare(
      label,
      { x: c.x, w: c.w },
      (t) => tf.conv2d(t.x as tf.Tensor4D, t.w as tf.Tensor4D, c.stride, c.pad),
    ));
}

// Small operands run on the calling thread (small_ops.ts): same shapes,
// a scalar either side, broadcasting both ways, and one just too big.
// Same-shape products of 1,024 values or more are WebAssembly: one block
// (a dense layer's dropout), several blocks with a tail past the last four.
for (
  const [a, b] of [
    [[4, 10], [4, 10]],
    [[32], []],
    [[], [3, 5]],
    [[4, 1], [4, 10]],
    [[2, 1, 3], [4, 1]],
    [[16385], [16385]],
    [[32, 512], [32, 512]],
    [[3, 20001], [3, 20001]],
  ] as const
) {
  for (const op of ["sub", "mul", "div"] as const) {
    const label = `${op} ${JSON.stringify(a)} ${JSON.stringify(b)}`;
    Deno.test(`wasm matches cpu: ${label}`, () =>
      compare(
        label,
        { a: [...a], b: [...b] },
        (t) =>
          op === "div" ? tf.div(t.a, tf.add(tf.abs(t.b), 1)) : tf[op](t.a, t.b),
      ));
  }
}

Deno.test("wasm matches cpu: softmax over the last axis, small and large", async () => {
  for (const shape of [[4, 10], [3, 2, 7], [1700, 10]]) {
    await compare(`softmax ${shape}`, { x: shape }, (t) => tf.softmax(t.x));
  }
});

// 18,002 values: two 16,384-value blocks of the pooled kernels, and a tail
// of 2 past the last four.
Deno.test("wasm matches cpu: relu and its gradient, several blocks, odd size", () =>
  compare("relu", { x: [2, 9001] }, (t) => tf.relu(t.x)));

Deno.test("wasm relu: the same bits as tfjs's cpu Math.max(0, x), −0, NaN, infinities and subnormals included", async () => {
  const special = [-0, 0, NaN, Infinity, -Infinity, 1e-45, -1e-45, 3.5, -3.5];
  // 16 floats at a time, then 4, then one: 71 values reach all three
  // loops, with −0 and NaN in each.
  const values = [
    ...Array.from({ length: 64 }, (_, i) => special[i % special.length]),
    -0,
    NaN,
    -2,
    2,
    -0,
    NaN,
    -1e-45,
  ];
  const results: Float32Array[] = [];
  for (const backend of ["cpu", "wasm"]) {
    await tf.setBackend(backend);
    const y = tf.relu(tf.tensor1d(values));
    results.push(y.dataSync() as Float32Array);
    y.dispose();
  }
  await tf.setBackend("wasm");
  const [cpu, wasm] = results;
  const show = (v: number) => Object.is(v, -0) ? "-0" : String(v);
  for (let i = 0; i < values.length; i++) {
    assert.ok(
      Object.is(wasm[i], cpu[i]),
      `relu(${show(values[i])}): ${show(wasm[i])}, cpu ${show(cpu[i])}`,
    );
  }
});

Deno.test("wasm relu gradient: one kernel, the same values as tfjs's Step·dy, NaN and infinities included", async () => {
  // Eight values for the vector loop, three for the scalar tail.
  const xs = [NaN, -1, -0, 0, 1e-30, 2, -Infinity, Infinity, 3, -2, NaN];
  const dys = [1, 2, 3, 4, 5, Infinity, 7, 8, NaN, -Infinity, -1];
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const x = tf.tensor1d(xs), dy = tf.tensor1d(dys);
    let dx: tf.Tensor | undefined;
    const profile = await tf.profile(() => {
      dx = tf.grad((t: tf.Tensor) => tf.relu(t))(x, dy);
    });
    const values = Array.from(dx!.dataSync());
    const y = Array.from(tf.relu(x).dataSync());
    tf.dispose([x, dy, dx!]);
    return { values, y, kernels: profile.kernelNames };
  };
  const cpu = await run("cpu"), wasm = await run("wasm");
  assert.deepEqual(wasm.values, cpu.values);
  assert.deepEqual(
    wasm.y.map((v) => v === 0 ? 0 : v),
    cpu.y.map((v) => v === 0 ? 0 : v),
  );
  assert.ok(
    wasm.kernels.includes("ReluGrad") && !wasm.kernels.includes("Step"),
  );
  assert.ok(
    cpu.kernels.includes("Step"),
    "other backends keep tfjs's gradient",
  );
});

Deno.test("wasm matches cpu: fused conv2d + bias + relu (the Conv2D layer's path)", () =>
  compare(
    "fused conv2d",
    { x: [2, 10, 10, 3], w: [3, 3, 3, 8], b: [8] },
    (t) =>
      tf.fused.conv2d({
        x: t.x as tf.Tensor4D,
        filter: t.w as tf.Tensor4D,
        strides: 1,
        pad: "same",
        bias: t.b,
        activation: "relu",
      }),
  ));

Deno.test("wasm matches cpu: fused conv2d on Winograd and on the first-layer kernel, linear without bias and relu with bias, explicit padding", async () => {
  for (
    const [activation, C] of [
      ["linear", 12],
      ["relu", 12],
      ["linear", 1],
      ["relu", 1],
    ] as const
  ) {
    const relu = activation === "relu";
    await compare(
      `fused conv2d ${activation}, ${C} input channels`,
      relu
        ? { x: [2, 9, 6, C], w: [3, 3, C, 24], b: [24] }
        : { x: [2, 9, 6, C], w: [3, 3, C, 24] },
      (t) =>
        tf.fused.conv2d({
          x: t.x as tf.Tensor4D,
          filter: t.w as tf.Tensor4D,
          strides: 1,
          pad: [[0, 0], [1, 1], [1, 1], [0, 0]],
          bias: relu ? t.b : undefined,
          activation,
        }),
    );
  }
});

const poolCases: Array<
  { x: number[]; size: number; stride: number; pad: "same" | "valid" }
> = [
  { x: [2, 28, 28, 32], size: 2, stride: 2, pad: "valid" },
  { x: [2, 7, 7, 3], size: 2, stride: 2, pad: "same" },
  { x: [2, 8, 8, 3], size: 3, stride: 1, pad: "same" },
  { x: [1, 9, 9, 2], size: 3, stride: 2, pad: "valid" },
  { x: [2, 7, 7, 3], size: 2, stride: 2, pad: "valid" }, // last row/column unused
];
for (const c of poolCases) {
  const label = `maxPool x${c.x} size ${c.size} stride ${c.stride} ${c.pad}`;
  Deno.test(`wasm matches cpu: ${label}`, () =>
    compare(
      label,
      { x: c.x },
      (t) => tf.maxPool(t.x as tf.Tensor4D, c.size, c.stride, c.pad),
    ));
}

// A per-channel bias: pooled (4,800 rows of 8: ten blocks), and stock.
for (const [x, b] of [[[4, 30, 40, 8], [8]], [[3, 5, 6], [6]]]) {
  Deno.test(`wasm matches cpu: add x${x} + b${b}`, () =>
    compare(`add x${x} + b${b}`, { x, b }, (t) => tf.add(t.x, t.b)));
}

Deno.test("wasm matches cpu: maxPool gradient of all-negative windows is routed to the max", async () => {
  // Every value negative: the stock wasm kernel of tfjs 4.22 returns zeros here.
  await compare(
    "maxPool negative",
    { x: [2, 4, 4, 3] },
    (t) => tf.maxPool(tf.sub(tf.abs(t.x), 2) as tf.Tensor4D, 2, 2, "valid"),
  );
  const x = tf.tensor4d([-4, -3, -2, -1], [1, 2, 2, 1]);
  const g = tf.grad((v) => tf.sum(tf.maxPool(v as tf.Tensor4D, 2, 2, "valid")))(
    x,
  );
  assert.deepEqual(Array.from(g.dataSync()), [0, 0, 0, 1]);
  tf.dispose([x, g]);
});

Deno.test("wasm matches cpu: maxPool gradient with ties goes to the first maximum", async () => {
  const grads = async (backend: string, shape: number[]) => {
    await tf.setBackend(backend);
    // Five levels only: most windows hold ties.
    const values = randomValues(shape.reduce((a, b) => a * b), 99).map((v) =>
      Math.round(v * 2) / 2
    );
    const x = tf.tensor4d(values, shape as [number, number, number, number]);
    const g = tf.grad((v) =>
      tf.sum(tf.maxPool(v as tf.Tensor4D, 2, 2, "valid"))
    )(
      x,
    );
    const out = Array.from(g.dataSync());
    tf.dispose([x, g]);
    return out;
  };
  for (const shape of [[2, 6, 6, 4], [2, 6, 6, 3]]) { // WebAssembly; JS
    assert.deepEqual(await grads("wasm", shape), await grads("cpu", shape));
  }
  await tf.setBackend("wasm");
  // Rows [0 0 0 0] and [0 0 5 5] in each of 4 channels: windows of all
  // zeros, and two equal maxima.
  const rows = [0, 0, 0, 0, 0, 0, 5, 5];
  const x = tf.tensor4d(rows.flatMap((v) => [v, v, v, v]), [1, 2, 4, 4]);
  const g = tf.grad((v) => tf.sum(tf.maxPool(v as tf.Tensor4D, 2, 2, "valid")))(
    x,
  );
  assert.deepEqual(
    Array.from(g.dataSync()),
    [1, 0, 0, 0, 0, 0, 1, 0].flatMap((v) => [v, v, v, v]),
  );
  tf.dispose([x, g]);
});

Deno.test("wasm matches cpu: relu, batch norm with batch statistics", () =>
  compare("relu+batchnorm", { x: [4, 5, 5, 6], gamma: [6], beta: [6] }, (t) => {
    const r = tf.relu(t.x);
    const { mean, variance } = tf.moments(r, [0, 1, 2]);
    return tf.batchNorm(r, mean, variance, t.beta, t.gamma, 1e-3);
  }));

Deno.test("wasm matches cpu: dense + softmax + categorical cross-entropy", () =>
  compare("dense+softmax+xent", { x: [8, 40], w: [40, 10], b: [10] }, (t) => {
    const logits = tf.add(tf.matMul(t.x, t.w), t.b);
    const labels = tf.oneHot(
      tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 9], "int32"),
      10,
    );
    return tf.losses.softmaxCrossEntropy(labels, logits);
  }));

Deno.test("wasm matches cpu: flatten, dropout mask multiply, mean", () =>
  compare("flatten+dropout", { x: [3, 4, 4, 5] }, (t) => {
    const flat = tf.reshape(t.x, [3, 80]);
    return tf.mean(tf.dropout(flat, 0.5, undefined, 7), 0);
  }));

for (
  const [ta, tb] of [[false, false], [true, false], [false, true], [
    true,
    true,
  ]] as const
) {
  // Sizes off, on and across our products' tiles (4 × 8 direct A·B and
  // the flipped (Bᵀ·Aᵀ)ᵀ; 2 × 4 for A·Bᵀ), with several blocks of 64 × 128
  // and depths of several 256-deep slices.
  for (
    const [m, k, n] of [
      [4, 40, 300],
      [300, 40, 4],
      [8, 64, 8],
      [4, 12, 16],
      [16, 12, 4],
      [136, 20, 72],
      [72, 33, 136],
      [6, 20, 12],
      [8, 600, 16],
      [12, 516, 136],
    ]
  ) {
    const label =
      `matMul ${m}×${k}·${k}×${n} transposeA ${ta} transposeB ${tb}`;
    Deno.test(`wasm matches cpu: ${label}`, () =>
      compare(
        label,
        { a: ta ? [k, m] : [m, k], b: tb ? [n, k] : [k, n] },
        (t) => tf.matMul(t.a as tf.Tensor2D, t.b as tf.Tensor2D, ta, tb),
      ));
  }
}

Deno.test("wasm matches cpu: batch norm of a dense layer's output (2-D)", () =>
  compare("batchnorm 2d", { x: [16, 24], gamma: [24], beta: [24] }, (t) => {
    const { mean, variance } = tf.moments(t.x, [0]);
    return tf.batchNorm(t.x, mean, variance, t.beta, t.gamma, 1e-3);
  }));

const reduceCases: Array<{ x: number[]; axis: number[]; keepDims: boolean }> = [
  { x: [4, 5, 5, 6], axis: [0, 1, 2], keepDims: false },
  { x: [4, 5, 5, 6], axis: [2, 0, 1], keepDims: true },
  { x: [3, 7, 5], axis: [-3, -2], keepDims: false }, // 21 rows: not a multiple of 4
  { x: [9, 24], axis: [0], keepDims: false },
  { x: [4, 5, 6], axis: [1], keepDims: false }, // not per-channel: stock kernel
  { x: [4, 5, 6], axis: [0, 1, 2], keepDims: false }, // everything: stock kernel
  // 3,000 rows of 12: the pooled WebAssembly sums, in blocks of 1,344 rows.
  { x: [3, 25, 40, 12], axis: [0, 1, 2], keepDims: false },
  { x: [3000, 12], axis: [0], keepDims: true },
];

for (const c of reduceCases) {
  for (const op of ["sum", "mean"] as const) {
    const label = `${op} x${c.x} axis ${c.axis} keepDims ${c.keepDims}`;
    Deno.test(`wasm matches cpu: ${label}`, () =>
      compare(label, { x: c.x }, (t) => tf[op](t.x, c.axis, c.keepDims)));
  }
}

Deno.test("wasm matches cpu: fused dense layer (matMul + bias + relu, and linear), the same weights twice", async () => {
  for (const activation of ["relu", "linear"] as const) {
    await compare(
      `fused matMul ${activation}`,
      { x: [8, 40], w: [40, 32], b: [32] },
      (t) => {
        const f = () =>
          tf.fused.matMul({
            a: t.x as tf.Tensor2D,
            b: t.w as tf.Tensor2D,
            bias: t.b,
            activation,
          });
        // A second product with the same weights computes the same.
        return tf.add(f(), f());
      },
    );
  }
});

// Row counts our product takes in 6-row tiles only (36), in 6s and one 4
// (28), in 6s and two 4s (32, 8: 4s only), with a depth cut into slices
// (300 > 256).
for (const [M, K] of [[36, 40], [28, 40], [32, 300], [8, 300]]) {
  Deno.test(`wasm matches cpu: fused dense layer, ${M} rows × depth ${K}`, () =>
    compare(
      `fused matMul ${M}×${K}`,
      { x: [M, K], w: [K, 24], b: [24] },
      (t) =>
        tf.fused.matMul({
          a: t.x as tf.Tensor2D,
          b: t.w as tf.Tensor2D,
          bias: t.b,
          activation: "relu",
        }),
    ));
}

// A·Bᵀ + bias, relu (our dot-product kernel), a few columns (our product
// on columns padded to 8: the 10-class layer, both ways), and sizes our
// products do not take (XNNPACK: rows not in 4s).
for (
  const [label, x, w, transposeB] of [
    [
      "on a transposed weight (A·Bᵀ + bias, relu): 8×40·(32×40)ᵀ",
      [8, 40],
      [32, 40],
      true,
    ],
    ["with a few columns: 8×40·40×30", [8, 40], [40, 30], false],
    ["with 10 columns: 32×512·512×10", [32, 512], [512, 10], false],
    ["with 10 columns, transposed: 8×40·(10×40)ᵀ", [8, 40], [10, 40], true],
    [
      "whose sizes our products do not take: 6×40·40×30",
      [6, 40],
      [40, 30],
      false,
    ],
  ] as const
) {
  Deno.test(`wasm matches cpu: fused dense layer ${label}`, () =>
    compare(
      `fused matMul ${label}`,
      { x: [...x], w: [...w], b: [transposeB ? w[0] : w[1]] },
      (t) =>
        tf.fused.matMul({
          a: t.x as tf.Tensor2D,
          b: t.w as tf.Tensor2D,
          transposeB,
          bias: t.b,
          activation: "relu",
        }),
    ));
}

Deno.test("wasm Identity shares memory safely: a clone outlives its source", async () => {
  await tf.setBackend("wasm");
  const before = tf.memory().numTensors;
  const x = tf.tensor1d([1, 2, 3]);
  const y = tf.clone(x);
  x.dispose();
  assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3]);
  y.dispose();
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("wasm matches cpu: batch norm with fixed statistics, with and without scale and offset", async () => {
  await compare(
    "batchnorm fixed stats, scale and offset",
    { x: [3, 4, 5, 6], mean: [6], variance: [6], offset: [6], scale: [6] },
    (t) =>
      tf.batchNorm(t.x, t.mean, tf.abs(t.variance), t.offset, t.scale, 1e-3),
  );
  await compare(
    "batchnorm fixed stats, 8 channels (WebAssembly)",
    { x: [3, 4, 5, 8], mean: [8], variance: [8], offset: [8], scale: [8] },
    (t) =>
      tf.batchNorm(t.x, t.mean, tf.abs(t.variance), t.offset, t.scale, 1e-3),
  );
  await compare(
    "batchnorm fixed stats, 8 channels, neither scale nor offset",
    { x: [5, 8], mean: [8], variance: [8] },
    (t) => tf.batchNorm(t.x, t.mean, tf.abs(t.variance)),
    1,
    false,
  );
  await compare(
    "batchnorm fixed stats, offset only",
    { x: [3, 4, 5, 6], mean: [6], variance: [6], offset: [6] },
    (t) => tf.batchNorm(t.x, t.mean, tf.abs(t.variance), t.offset),
    1,
    false, // tfjs has no gradient of batchNorm without scale, on any backend
  );
  await compare(
    "batchnorm fixed stats, neither",
    { x: [7, 6], mean: [6], variance: [6] },
    (t) => tf.batchNorm(t.x, t.mean, tf.abs(t.variance)),
    1,
    false,
  );
});

Deno.test("wasm Cast: same dtype shares memory, other dtypes convert, bool is ≠ 0", async () => {
  await tf.setBackend("wasm");
  const before = tf.memory().numTensors;
  const x = tf.tensor1d([1.5, -2.25, 3]);
  const same = tf.cast(x, "float32");
  const asInt = tf.cast(x, "int32");
  const asBool = tf.cast(tf.tensor1d([0, 2, -0.5], "float32"), "bool");
  x.dispose();
  assert.deepEqual(Array.from(same.dataSync()), [1.5, -2.25, 3]);
  assert.deepEqual(Array.from(asInt.dataSync()), [1, -2, 3]);
  assert.equal(asInt.dtype, "int32");
  assert.deepEqual(Array.from(asBool.dataSync()), [0, 1, 1]);
  tf.dispose([same, asInt, asBool]);
  assert.equal(tf.memory().numTensors, before + 1); // the input of asBool
});

/** Keras's op-by-op training-mode batch norm; the fused op on wasm. */
function batchNormInTraining(
  t: Record<string, tf.Tensor>,
  axes: number[],
): tf.Tensor {
  const gamma = t.gamma as tf.Tensor1D, beta = t.beta as tf.Tensor1D;
  if (tf.getBackend() === "wasm") {
    assert.ok(batchNormTrainingAvailable(t.x));
    return batchNormTraining(t.x, gamma, beta, 1e-3).y;
  }
  const { mean, variance } = tf.moments(t.x, axes);
  return tf.batchNorm(t.x, mean, variance, beta, gamma, 1e-3);
}

for (
  const [label, x, axes, shift] of [
    ["4-D", [4, 5, 5, 6], [0, 1, 2], 0],
    ["2-D", [16, 24], [0], 0],
    ["4-D, mean far from zero", [3, 4, 4, 5], [0, 1, 2], 50],
    ["4-D, 8 channels (WebAssembly), mean far from zero", [3, 5, 4, 8], [
      0,
      1,
      2,
    ], 50],
    // 4,800 rows: three blocks of per-block sums (2,048 rows each for 8
    // channels), the last one partial, on both threads.
    ["4-D, 8 channels, three blocks of sums", [4, 30, 40, 8], [0, 1, 2], 5],
    // 20 channels: sixteen at a time, then four; 2,400 rows in blocks of
    // 768, the last one partial.
    ["4-D, 20 channels, four blocks of sums", [2, 30, 40, 20], [0, 1, 2], 5],
  ] as const
) {
  Deno.test(`wasm matches cpu: fused training batch norm, ${label}, with gradients through the statistics`, () =>
    compare(
      `fused batch norm ${label}`,
      { x: [...x], gamma: [x[x.length - 1]], beta: [x[x.length - 1]] },
      (t) => batchNormInTraining({ ...t, x: tf.add(t.x, shift) }, [...axes]),
    ));
}

Deno.test("fused training batch norm returns the batch's mean and biased variance, and frees what it makes", async () => {
  await tf.setBackend("wasm");
  const before = tf.memory().numTensors;
  const x = tf.tensor2d([[1, 10], [3, 20], [5, 60]]);
  const gamma = tf.tensor1d([2, 1]), beta = tf.tensor1d([0.5, 0]);
  const { y, mean, variance } = batchNormTraining(x, gamma, beta, 0);
  assert.deepEqual(Array.from(mean.dataSync()), [3, 30]);
  const v = variance.dataSync();
  assert.ok(Math.abs(v[0] - 8 / 3) < 1e-6 && Math.abs(v[1] - 1400 / 3) < 1e-3);
  const ys = y.dataSync();
  assert.ok(Math.abs(ys[0] - (2 * -2 / Math.sqrt(8 / 3) + 0.5)) < 1e-5);
  tf.dispose([x, gamma, beta, y, mean, variance]);
  assert.equal(tf.memory().numTensors, before);
});

// A convolution, its ReLU and a batch norm: backwards, the batch norm's
// gradient includes the ReLU's step and hands the convolution's bias
// gradient its sums (1,568 rows: the pooled sums).
for (const co of [8, 20]) {
  Deno.test(`wasm matches cpu: conv2d + bias, relu, training batch norm, with every gradient, ${co} channels`, () =>
    compare(
      `conv relu batch norm, ${co} channels`,
      { x: [2, 28, 28, 4], w: [3, 3, 4, co], b: [co], gamma: [co], beta: [co] },
      (t) =>
        batchNormInTraining({
          ...t,
          x: tf.relu(
            tf.fused.conv2d({
              x: t.x as tf.Tensor4D,
              filter: t.w as tf.Tensor4D,
              bias: t.b,
              strides: 1,
              pad: "same",
            }),
          ),
        }, [0, 1, 2]),
    ));
}

Deno.test("a ReLU and the batch norm after it: one pass backwards, the same bits as two, and two where the ReLU's output has other uses or its own gradient is asked for", async () => {
  await tf.setBackend("wasm");
  const z = tf.randomNormal([2, 28, 28, 8], 0, 1, "float32", 5);
  const w = tf.randomNormal([2, 28, 28, 8], 0, 1, "float32", 6);
  const gamma = tf.randomNormal([8], 1, 0.1, "float32", 7) as tf.Tensor1D;
  const beta = tf.randomNormal([8], 0, 0.1, "float32", 8) as tf.Tensor1D;
  const bn = (y: tf.Tensor) => batchNormTraining(y, gamma, beta, 1e-3).y;
  const cases: Record<string, () => tf.Tensor[]> = {
    // d/dz of a ReLU whose only consumer is the batch norm: fused.
    only:
      () => [tf.grad((t: tf.Tensor) => tf.sum(tf.mul(bn(tf.relu(t)), w)))(z)],
    // The ReLU's output also feeds a product: its gradient is a sum.
    shared: () => [
      tf.grad((t: tf.Tensor) => {
        const y = tf.relu(t);
        return tf.add(tf.sum(tf.mul(bn(y), w)), tf.sum(tf.mul(y, y)));
      })(z),
    ],
    // The gradient with respect to the ReLU's output itself: no step.
    output: () => {
      const y = tf.relu(z);
      return [tf.grad((t: tf.Tensor) => tf.sum(tf.mul(bn(t), w)))(y), y];
    },
  };
  const fusedKernels = { only: false, shared: true, output: false };
  for (const [name, run] of Object.entries(cases)) {
    const results: Float32Array[] = [];
    for (const fused of [true, false]) {
      setReluBatchNormFusion(fused);
      let out: tf.Tensor[] = [];
      const profile = await tf.profile(() => {
        out = run();
      });
      results.push(out[0].dataSync() as Float32Array);
      if (fused) {
        assert.equal(
          profile.kernels.some((k) => k.name === "ReluGrad"),
          fusedKernels[name as keyof typeof fusedKernels],
          `${name}: ReluGrad`,
        );
      }
      if (name === "output") {
        // Where the ReLU's output is 0 its gradient is not (the step would zero it).
        const y = out[1].dataSync();
        assert.ok(results.at(-1)!.some((g, i) => y[i] === 0 && g !== 0));
      }
      tf.dispose(out);
    }
    setReluBatchNormFusion(true);
    if (name === "shared") {
      // The step twice on the batch norm's part: the same numbers, though
      // a zero's sign may differ.
      assert.ok(results[0].every((g, i) => g === results[1][i]), name);
    } else {
      assert.deepEqual(results[0], results[1], `${name}: fused = two passes`);
    }
  }
  tf.dispose([z, w, gamma, beta]);
});

// Channels in 4s (a conv layer's, the dense layer's) and not (no sums).
const reluMomentsCases: Array<{ shape: number[]; seed: number }> = [
  { shape: [3, 28, 28, 8], seed: 11 },
  { shape: [130, 512], seed: 12 },
  { shape: [5, 7, 6], seed: 13 },
];

Deno.test("a ReLU recorded for a gradient sums its output for the batch norm after it: the same bits as the batch norm's own pass", async () => {
  await tf.setBackend("wasm");
  for (const { shape, seed } of reluMomentsCases) {
    const C = shape.at(-1)!;
    const r = tf.randomNormal(shape, 0.2, 1, "float32", seed);
    const values = r.dataSync().slice();
    r.dispose();
    // The first row (the statistics' shift) with −0, 0 and a negative.
    values.set([-0, 0, -1.5]);
    const z = tf.tensor(values, shape);
    const gamma = tf.randomNormal([C], 1, 0.1, "float32", seed + 2);
    const beta = tf.randomNormal([C], 0, 0.1, "float32", seed + 3);
    const results: Float32Array[][] = [];
    for (const fused of [true, false]) {
      setReluMomentsFusion(fused);
      let kept: tf.Tensor[] = [];
      const dz = tf.grad((t: tf.Tensor) => {
        const y = tf.relu(t);
        // Made while the gradient is recorded, for channels in 4s only.
        assert.equal(
          reluMomentsOf(y.dataId, C) !== undefined,
          fused && C % 4 === 0,
          `${shape}: sums made`,
        );
        const out = batchNormTraining(
          y,
          gamma as tf.Tensor1D,
          beta as tf.Tensor1D,
          1e-3,
        );
        kept = [
          tf.keep(out.y.clone()),
          tf.keep(out.mean.clone()),
          tf.keep(out.variance.clone()),
        ];
        return tf.sum(tf.mul(out.y, z));
      })(z);
      results.push([...kept, dz].map((t) => t.dataSync() as Float32Array));
      tf.dispose([...kept, dz]);
    }
    setReluMomentsFusion(true);
    for (let i = 0; i < 4; i++) {
      assert.deepEqual(results[0][i], results[1][i], `${shape}: output ${i}`);
    }
    // Not recording: a plain ReLU.
    const y = tf.relu(z);
    assert.equal(reluMomentsOf(y.dataId, C), undefined);
    tf.dispose([z, gamma, beta, y]);
  }
});

// Slices: all of it (shared memory), whole rows (one copy), and the
// stock kernel's other cases.
const sliceCases: Array<{ x: number[]; begin: number[]; size: number[] }> = [
  { x: [8, 28, 28, 1], begin: [0, 0, 0, 0], size: [8, 28, 28, 1] },
  { x: [8, 28, 28, 1], begin: [0, 0, 0, 0], size: [-1, -1, -1, -1] },
  { x: [8, 5, 3], begin: [2, 0, 0], size: [3, 5, 3] },
  { x: [8, 5, 3], begin: [5, 0, 0], size: [-1, 5, -1] },
  { x: [7, 6], begin: [1, 2], size: [4, 3] },
  { x: [9], begin: [3], size: [4] },
];
for (const c of sliceCases) {
  const label = `slice x${c.x} begin ${c.begin} size ${c.size}`;
  Deno.test(`wasm matches cpu: ${label}`, () =>
    compare(label, { x: c.x }, (t) => tf.slice(t.x, c.begin, c.size)));
}

Deno.test("wasm Slice: a whole tensor shares memory, whole rows copy; int32 and bool keep their bits", async () => {
  await tf.setBackend("wasm");
  const x = tf.tensor2d([[1, 2], [3, 4], [5, 6]], [3, 2], "int32");
  const all = tf.slice(x, [0, 0], [-1, -1]);
  const rows = tf.slice(x, [1, 0], [2, 2]);
  const flags = tf.tensor1d([true, false, true], "bool");
  const mask = tf.slice(flags, [1], [2]);
  assert.equal(all.dataId, x.dataId);
  assert.deepEqual(Array.from(rows.dataSync()), [3, 4, 5, 6]);
  assert.equal(rows.dtype, "int32");
  assert.deepEqual(Array.from(mask.dataSync()), [0, 1]);
  x.dispose(); // the shared slice outlives it
  assert.deepEqual(Array.from(all.dataSync()), [1, 2, 3, 4, 5, 6]);
  tf.dispose([all, rows, mask, flags]);
});

const transposeCases: Array<{ x: number[]; perm: number[] }> = [
  { x: [32, 28, 28, 3], perm: [3, 1, 2, 0] }, // the filter gradient's xᵀ
  { x: [3, 5, 4, 6], perm: [1, 2, 0, 3] }, // innermost stays: run copies
  { x: [37, 21], perm: [1, 0] }, // not multiples of the tile
  { x: [2, 1, 3, 1, 5], perm: [4, 3, 0, 2, 1] }, // axes of size 1
  { x: [2, 3, 4, 5], perm: [0, 2, 3, 1] }, // merged axes (2, 3)
  { x: [4, 3, 2], perm: [0, 1, 2] }, // identity
];
for (const c of transposeCases) {
  const label = `transpose x${c.x} perm ${c.perm}`;
  Deno.test(`wasm matches cpu: ${label}`, () =>
    compare(label, { x: c.x }, (t) => tf.transpose(t.x, c.perm)));
}

Deno.test("wasm Transpose moves int32 bits exactly and keeps bool working", async () => {
  await tf.setBackend("wasm");
  const big = 2 ** 31 - 1;
  const x = tf.tensor3d([1, -2, big, 4, 5, -big], [1, 2, 3], "int32");
  const t = tf.transpose(x, [2, 1, 0]);
  assert.equal(t.dtype, "int32");
  assert.deepEqual(Array.from(t.dataSync()), [1, 4, -2, 5, big, -big]);
  const b = tf.transpose(
    tf.tensor2d([true, false, false, true, true, false], [2, 3], "bool"),
  );
  assert.deepEqual(Array.from(b.dataSync()), [1, 1, 0, 1, 0, 0]);
  tf.dispose([x, t, b]);
});

Deno.test("dropout masks: any stretch of the mulberry32 stream on its own, and the WASM kernel's masks are the JavaScript ones", async () => {
  // The stream: the k-th number of makeRng(seed) from the seed and k.
  const rng = makeRng(123);
  for (let k = 1; k <= 5; k++) {
    assert.equal(mulberry32Output((123 + k * MULBERRY32_STEP) >>> 0), rng());
  }
  assert.equal(advanceRng(123, 5), (123 + 5 * MULBERRY32_STEP) >>> 0);
  const whole = dropoutMask(10, 0.25, 123);
  assert.deepEqual(
    [...dropoutMask(4, 0.25, 123), ...dropoutMask(6, 0.25, advanceRng(123, 4))],
    Array.from(whole),
  );
  // The layer on wasm: two calls (the state moves on), 40,000 values
  // (three blocks of the pooled kernel); the same masks as in JavaScript.
  await tf.setBackend("wasm");
  const x = tf.ones([8, 50, 100]);
  const layer = dropout({ rate: 0.25, seed: 0xfffffff0 });
  let state = 0xfffffff0;
  for (let call = 0; call < 2; call++) {
    let y: tf.Tensor | undefined;
    const profile = await tf.profile(() => {
      y = layer.apply(x, { training: true }) as tf.Tensor;
    });
    assert.ok(profile.kernelNames.includes("DropoutMask"));
    assert.deepEqual(y!.dataSync(), dropoutMask(40000, 0.25, state));
    state = advanceRng(state, 40000);
    y!.dispose();
  }
  // 231 values: 57 fours and a tail of 3; rate 0.5.
  const small = tf.ones([3, 7, 11]);
  const y = dropout({ rate: 0.5, seed: 99 }).apply(small, { training: true });
  assert.deepEqual((y as tf.Tensor).dataSync(), dropoutMask(231, 0.5, 99));
  tf.dispose([x, small, y as tf.Tensor]);
});
