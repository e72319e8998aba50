/**
 * `Identity`, and `Cast` to the same dtype, for the WASM backend without a
 * copy. The stock kernels copy the tensor; training makes about two hundred
 * identities per step (tfjs clones every tensor it saves for the backward
 * pass) and casts activations float32 → float32 in batch-norm statistics.
 * Tensors are immutable, so the output can share the input's memory, as it
 * does on tfjs's CPU backend and in the WASM backend's own `Reshape`.
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
