/**
 * `Identity` for the WASM backend without a copy. The stock kernel copies
 * the tensor; training makes about two hundred identities per step
 * (gradient bookkeeping), several of them of full activation size. Tensors
 * are immutable, so the output can share the input's memory, as it does on
 * tfjs's CPU backend and in the WASM backend's own `Reshape`.
 *
 * @module
 */
import { type KernelArgs, runStock, type TensorInfo } from "./util.ts";

/**
 * The kernel function: input `{ x }`.
 *
 * @example
 * ```ts
 * tf.registerKernel({ kernelName: "Identity", backendName: "wasm", kernelFunc: identity });
 * ```
 */
export function identity(args: KernelArgs): TensorInfo {
  const { inputs, backend } = args;
  const x = inputs.x as TensorInfo;
  if (x.dtype === "string") return runStock(backend, "Identity", inputs);
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}
