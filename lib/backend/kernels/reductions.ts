/**
 * Per-channel `Sum` and `Mean` for the WASM backend: reductions over every
 * axis but the last, as batch normalisation's statistics (`Mean` over
 * `[0, 1, 2]`) and a convolution's bias gradient (`Sum` over `[0, 1, 2]`)
 * ask for them on channels-last tensors. The stock kernels first transpose
 * the reduced axes to the end (a full copy), then reduce; these kernels
 * read the tensor once, accumulating in double precision: large tensors
 * with channels in 4s on every thread of the kernel pool (blocks of rows,
 * their sums added in order), others row by row in JavaScript. A kernel
 * that made a tensor can leave its sums for `Sum` (the batch norm's
 * gradient does, for the bias gradient of the convolution before it).
 * Every other reduction goes to the stock kernel.
 *
 * @module
 */
import { tf } from "../../tf.ts";
import {
  channelSumsAt,
  channelSumsFloats,
  pointerOf,
  runChannelSums,
} from "../simd/mod.ts";
import { heapF32, type KernelArgs, runStock, type TensorInfo } from "./util.ts";

interface ReduceAttrs {
  axis: number | number[];
  keepDims: boolean;
}

/** True when `axis` names exactly the axes 0 … rank−2. */
function isLeadingAxes(axis: number | number[], rank: number): boolean {
  const axes = (Array.isArray(axis) ? axis : [axis])
    .map((a) => (a < 0 ? a + rank : a))
    .sort((a, b) => a - b);
  return rank >= 2 && axes.length === rank - 1 &&
    axes.every((a, i) => a === i);
}

/**
 * Sums of the columns of `xs` seen as rows of `C` values, in double
 * precision; four rows per pass, which V8 runs faster than one.
 */
function columnSums(xs: Float32Array, C: number): Float64Array {
  const acc = new Float64Array(C);
  const n = xs.length, C2 = 2 * C, C3 = 3 * C, C4 = 4 * C;
  const n4 = n - (n % C4);
  let i = 0;
  for (; i < n4; i += C4) {
    for (let c = 0; c < C; c++) {
      const j = i + c;
      acc[c] += (xs[j] + xs[j + C]) + (xs[j + C2] + xs[j + C3]);
    }
  }
  for (; i < n; i += C) {
    for (let c = 0; c < C; c++) acc[c] += xs[i + c];
  }
  return acc;
}

/** Below this many rows the JavaScript loop is as fast as the pool. */
const MIN_POOLED_ROWS = 1024;

/** A tensor's data → its per-channel sums, computed by the kernel that made it. */
const knownSums = new WeakMap<object, Float64Array>();

/**
 * Whether a kernel that makes a rows × C tensor can hand `Sum` its
 * per-channel sums ({@link rememberColumnSums}): when `Sum` would compute
 * them on the pool, in `momentsAcc`'s blocks and order, so that the kernel
 * can compute the same bits in its own pass.
 */
export function sumsArePooled(rows: number, C: number): boolean {
  return C % 4 === 0 && rows >= MIN_POOLED_ROWS;
}

/**
 * Remembers the per-channel sums (C doubles, in `momentsAcc`'s blocks and
 * order; see {@link sumsArePooled}) of a tensor a kernel has just made:
 * `Sum` over every axis but the last returns them instead of reading the
 * tensor again (a convolution's bias gradient, from the batch norm's
 * gradient after it).
 */
export function rememberColumnSums(info: TensorInfo, sums: Float64Array): void {
  knownSums.set(info.dataId, sums);
}

/**
 * Column sums on every thread of the pool: our `momentsAcc` kernel with a
 * zero shift, in blocks of rows whose f64 sums are added in order.
 */
function pooledColumnSums(
  backend: KernelArgs["backend"],
  x: TensorInfo,
  rows: number,
  C: number,
): Float64Array {
  // C zeros (the shift), then the sums.
  const work = backend.makeOutput(
    [C + channelSumsFloats(rows, C)],
    "float32",
  );
  try {
    const zeros = pointerOf(backend, work);
    heapF32(backend, work).fill(0, 0, C);
    const acc = new Float64Array(2 * C);
    runChannelSums(
      backend,
      "momentsAcc",
      [pointerOf(backend, x), rows, C, zeros],
      rows,
      C,
      channelSumsAt(zeros + 4 * C),
      acc,
    );
    return acc;
  } finally {
    backend.disposeData(work.dataId);
  }
}

function channelReduce(
  name: "Sum" | "Mean",
  args: KernelArgs,
): TensorInfo {
  const { inputs, backend } = args;
  const x = inputs.x as TensorInfo;
  const { axis, keepDims } = args.attrs as unknown as ReduceAttrs;
  if (x.dtype !== "float32" || !isLeadingAxes(axis, x.shape.length)) {
    return runStock(backend, name, inputs, args.attrs);
  }
  const C = x.shape[x.shape.length - 1];
  const outShape = keepDims
    ? x.shape.map((d, i) => i < x.shape.length - 1 ? 1 : d)
    : [C];
  const out = backend.makeOutput(outShape, "float32");
  const rows = tf.util.sizeFromShape(x.shape) / C;
  const known = knownSums.get(x.dataId);
  const acc = sumsArePooled(rows, C)
    ? known?.length === C ? known : pooledColumnSums(backend, x, rows, C)
    : columnSums(heapF32(backend, x), C);
  const scale = name === "Mean" ? 1 / rows : 1;
  const o = heapF32(backend, out);
  for (let c = 0; c < C; c++) o[c] = acc[c] * scale;
  return out;
}

/** The `Sum` kernel: per-channel sums fast, the rest stock. */
export function sum(args: KernelArgs): TensorInfo {
  return channelReduce("Sum", args);
}

/** The `Mean` kernel: per-channel means fast, the rest stock. */
export function mean(args: KernelArgs): TensorInfo {
  return channelReduce("Mean", args);
}
