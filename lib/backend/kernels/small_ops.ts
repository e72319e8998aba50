/**
 * Small element-wise kernels on the calling thread: `Sub`, `Multiply`,
 * `RealDiv` (and `Add`, through `add.ts`) with broadcasting, and `Softmax`
 * over the last axis, for float32 tensors of at most {@link SMALL_SIZE}
 * values: the loss, its gradient and the batch-norm statistics' updates.
 *
 * The stock kernels hand even a 40-value product to XNNPACK's thread pool,
 * and waking its sleeping threads costs up to half a millisecond per call
 * (a `[32, 1] × [32, 10]` product: 6 µs on one thread, 20–550 µs on two);
 * a training step makes a few dozen such calls (about 2.5 % of a step at
 * batch 32 and 128, measured alternating in one process). A product of
 * two float32 tensors of one shape and 1,024 values or more (a dropout's,
 * both ways) runs as WebAssembly, on every thread of the kernel pool when
 * large. Larger tensors, other dtypes and other
 * axes go to the stock kernels.
 *
 * @module
 */
import { tf } from "../../tf.ts";
import { pointerOf, runElementwise } from "../simd/mod.ts";
import { heapF32, type KernelArgs, runStock, type TensorInfo } from "./util.ts";

/** Largest output, in values, computed on the calling thread. */
export const SMALL_SIZE = 16384;

type Op = (x: number, y: number) => number;

/**
 * out = op(a, b) with NumPy broadcasting, on the calling thread, or null
 * when the operands are not float32 or the output has more than
 * {@link SMALL_SIZE} values.
 */
export function smallBinary(
  backend: KernelArgs["backend"],
  a: TensorInfo,
  b: TensorInfo,
  op: Op,
): TensorInfo | null {
  if (a.dtype !== "float32" || b.dtype !== "float32") return null;
  const shape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
  const size = tf.util.sizeFromShape(shape);
  if (size > SMALL_SIZE) return null;
  const out = backend.makeOutput(shape, "float32");
  const xs = heapF32(backend, a), ys = heapF32(backend, b);
  const zs = heapF32(backend, out);
  if (xs.length === size && ys.length === size) {
    for (let i = 0; i < size; i++) zs[i] = op(xs[i], ys[i]);
  } else if (ys.length === 1) {
    const y = ys[0];
    for (let i = 0; i < size; i++) zs[i] = op(xs[i], y);
  } else if (xs.length === 1) {
    const x = xs[0];
    for (let i = 0; i < size; i++) zs[i] = op(x, ys[i]);
  } else {
    const sa = broadcastStrides(a.shape, shape);
    const sb = broadcastStrides(b.shape, shape);
    const rank = shape.length;
    const index = new Array<number>(rank).fill(0);
    let ia = 0, ib = 0;
    for (let i = 0; i < size; i++) {
      zs[i] = op(xs[ia], ys[ib]);
      // Odometer: step the last axis, carrying into earlier ones.
      for (let d = rank - 1; d >= 0; d--) {
        index[d]++;
        ia += sa[d];
        ib += sb[d];
        if (index[d] < shape[d]) break;
        ia -= sa[d] * shape[d];
        ib -= sb[d] * shape[d];
        index[d] = 0;
      }
    }
  }
  return out;
}

/** Strides of `shape` read as `outShape` (0 along broadcast axes). */
function broadcastStrides(shape: number[], outShape: number[]): number[] {
  const strides = new Array<number>(outShape.length).fill(0);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = outShape.length - shape.length + i;
    strides[d] = shape[i] === 1 ? 0 : stride;
    stride *= shape[i];
  }
  return strides;
}

/** A binary kernel: small float32 operands here, the rest to the stock `name`. */
function binaryKernel(name: string, op: Op) {
  return (args: KernelArgs): TensorInfo => {
    const { inputs, backend } = args;
    return smallBinary(
      backend,
      inputs.a as TensorInfo,
      inputs.b as TensorInfo,
      op,
    ) ?? runStock(backend, name, inputs, args.attrs ?? {});
  };
}

/** `Sub`: inputs `{ a, b }`. */
export const sub = binaryKernel("Sub", (x, y) => x - y);
/**
 * Values from which a same-shape product runs as WebAssembly: the
 * JavaScript loop takes 0.6 ms for a dense layer's dropout ([32, 512]).
 */
const MIN_WASM_SIZE = 1024;

const smallMultiply = binaryKernel("Multiply", (x, y) => x * y);

/**
 * `Multiply`: inputs `{ a, b }`. Two large float32 tensors of one shape (a
 * dropout's mask and its activations, both ways) on every thread of the
 * kernel pool; small ones here, the rest stock.
 */
export function multiply(args: KernelArgs): TensorInfo {
  const { inputs, backend } = args;
  const a = inputs.a as TensorInfo, b = inputs.b as TensorInfo;
  const n = tf.util.sizeFromShape(a.shape);
  if (
    n < MIN_WASM_SIZE || a.dtype !== "float32" || b.dtype !== "float32" ||
    !tf.util.arraysEqual(a.shape, b.shape)
  ) {
    return smallMultiply(args);
  }
  const out = backend.makeOutput(a.shape, "float32");
  runElementwise(
    backend,
    "multiply",
    [pointerOf(backend, a), pointerOf(backend, b), pointerOf(backend, out)],
    n,
  );
  return out;
}
/** `RealDiv`: inputs `{ a, b }`. */
export const realDiv = binaryKernel("RealDiv", (x, y) => x / y);

/**
 * `Softmax`: inputs `{ logits }`, attribute `{ dim }`. Over the last axis of
 * a small float32 tensor here (each row's maximum subtracted first, as the
 * stock kernel does); the rest goes to the stock kernel.
 */
export function softmax(args: KernelArgs): TensorInfo {
  const { inputs, backend } = args;
  const logits = inputs.logits as TensorInfo;
  const { dim } = args.attrs as unknown as { dim: number };
  const rank = logits.shape.length;
  const size = tf.util.sizeFromShape(logits.shape);
  if (
    logits.dtype !== "float32" || rank === 0 || size > SMALL_SIZE ||
    (dim !== -1 && dim !== rank - 1)
  ) {
    return runStock(backend, "Softmax", inputs, args.attrs);
  }
  const out = backend.makeOutput(logits.shape, "float32");
  const xs = heapF32(backend, logits), ys = heapF32(backend, out);
  const n = logits.shape[rank - 1];
  for (let r = 0; r < size; r += n) {
    let max = -Infinity;
    for (let i = r; i < r + n; i++) max = Math.max(max, xs[i]);
    let sum = 0;
    for (let i = r; i < r + n; i++) {
      const e = Math.exp(xs[i] - max);
      ys[i] = e;
      sum += e;
    }
    for (let i = r; i < r + n; i++) ys[i] /= sum;
  }
  return out;
}
