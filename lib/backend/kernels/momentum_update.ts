/**
 * One SGD-with-momentum update of one variable in a single pass, for the
 * WASM backend (Keras 2 semantics, see `optimizer.ts`):
 *
 *     v' = momentum · v − lr · g
 *     w' = w + v'
 *
 * Written as tfjs ops this is four full-size kernels and three temporaries
 * per variable per step; here one WebAssembly SIMD loop, on every thread of
 * the kernel pool, reads `w`, `v`, `g` once and writes `v'` and `w'`. Each
 * product and sum is rounded to float32 as the ops would round it, so the
 * result equals the op-by-op update bit for bit.
 *
 * @module
 */
import { tf } from "../../tf.ts";
import { pointerOf, runElementwise } from "../simd/mod.ts";
import type { KernelArgs, TensorInfo } from "./util.ts";

/** Name of the kernel registered for the `wasm` backend. */
export const MOMENTUM_UPDATE = "DecayedMomentumUpdate";

/**
 * The kernel: inputs `{ w, v, g }` (same shape, float32), attributes
 * `{ momentum, learningRate }`; outputs `[v', w']`.
 */
export function momentumUpdate(args: KernelArgs): TensorInfo[] {
  const { inputs, backend } = args;
  const { momentum, learningRate } = args.attrs as unknown as {
    momentum: number;
    learningRate: number;
  };
  const w = inputs.w as TensorInfo;
  const vOut = backend.makeOutput(w.shape, "float32");
  const wOut = backend.makeOutput(w.shape, "float32");
  // WebAssembly SIMD, in blocks on every thread of the pool; f32
  // arithmetic rounds every product and sum.
  runElementwise(
    backend,
    "momentumUpdate",
    [
      pointerOf(backend, w),
      pointerOf(backend, inputs.v as TensorInfo),
      pointerOf(backend, inputs.g as TensorInfo),
      pointerOf(backend, vOut),
      pointerOf(backend, wOut),
      momentum,
      -learningRate,
    ],
    tf.util.sizeFromShape(w.shape),
  );
  return [vOut, wOut];
}
