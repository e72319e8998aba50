/**
 * `Identity`, and `Cast` to the same dtype, for the WASM backend without a
 * copy. The stock kernels copy the tensor; training makes about two hundred
 * identities per step (tfjs clones every tensor it saves for the backward
 * pass) and casts activations float32 → float32 in batch-norm statistics.
 * Tensors are immutable, so the output can share the input's memory, as it
 * does on tfjs's CPU backend and in the WASM backend's own `Reshape`.
 *
 * `Slice` of a whole tensor shares its memory too (Keras's `predict` slices
 * its input into batches, all of it when it is one batch), and a slice of
 * whole rows (every axis but the first whole) is one copy of a contiguous
 * range; other slices run the stock kernel.
 *
 * @module
 */
import { type KernelArgs, runStock, type TensorInfo } from "./util.ts";

/** A new tensor handle on `x`'s memory (counted, so either may be freed first). */
function share(backend: KernelArgs["backend"], x: TensorInfo): TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

/** The kernel function: input `{ x }`. */
export function identity(args: KernelArgs): TensorInfo {
  const { inputs, backend } = args;
  const x = inputs.x as TensorInfo;
  if (x.dtype === "string") return runStock(backend, "Identity", inputs);
  return share(args.backend, x);
}

/**
 * The `Cast` kernel function: input `{ x }`, attribute `{ dtype }`. Shares
 * memory when the dtype does not change; casts to `bool` give 1 for every
 * non-zero value (the stock kernel copies the number); other conversions
 * run the stock kernel.
 */
export function cast(args: KernelArgs): TensorInfo {
  const { inputs, backend } = args;
  const x = inputs.x as TensorInfo;
  const { dtype } = args.attrs as unknown as { dtype: string };
  if (dtype === "bool" && (x.dtype === "float32" || x.dtype === "int32")) {
    // The stock kernel copies the numbers (2 stays 2); bool means ≠ 0.
    const out = backend.makeOutput(x.shape, "bool");
    const xs = backend.typedArrayFromHeap(x);
    const bs = backend.typedArrayFromHeap(out);
    for (let i = 0; i < xs.length; i++) bs[i] = xs[i] !== 0 ? 1 : 0;
    return out;
  }
  if (x.dtype !== dtype || x.dtype === "string") {
    return runStock(backend, "Cast", inputs, args.attrs);
  }
  return share(backend, x);
}

/**
 * The `Slice` kernel function: input `{ x }`, attributes `{ begin, size }`
 * (size −1: to the end).
 */
export function slice(args: KernelArgs): TensorInfo {
  const { inputs, backend } = args;
  const x = inputs.x as TensorInfo;
  const { begin, size } = args.attrs as unknown as {
    begin: number[];
    size: number[];
  };
  const rank = x.shape.length;
  if (
    !["float32", "int32", "bool"].includes(x.dtype) || begin.length !== rank ||
    size.length !== rank
  ) {
    return runStock(backend, "Slice", inputs, args.attrs);
  }
  const sizes = size.map((s, i) => (s === -1 ? x.shape[i] - begin[i] : s));
  const whole = (i: number) => begin[i] === 0 && sizes[i] === x.shape[i];
  if (x.shape.every((_, i) => whole(i))) return share(backend, x);
  if (rank === 0 || !x.shape.every((_, i) => i === 0 || whole(i))) {
    return runStock(backend, "Slice", inputs, args.attrs);
  }
  // Whole rows: one contiguous range.
  const row = x.shape.slice(1).reduce((a, b) => a * b, 1);
  const out = backend.makeOutput(sizes, x.dtype);
  const from = backend.typedArrayFromHeap(x);
  const to = backend.typedArrayFromHeap(out);
  to.set(from.subarray(begin[0] * row, (begin[0] + sizes[0]) * row));
  return out;
}
