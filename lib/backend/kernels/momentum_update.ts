/**
 * One SGD-with-momentum update of one variable in a single pass, for the
 * WASM backend (Keras 2 semantics, see `optimizer.ts`):
 *
 *     v' = momentum · v − lr · g
 *     w' = w + v'
 *
 * Written as tfjs ops this is four full-size kernels and three temporaries
 * per variable per step; here it reads `w`, `v`, `g` once and writes `v'`
 * and `w'`. Each product and sum is rounded to float32 as the ops would
 * round it, so the result equals the op-by-op update bit for bit.
 *
 * @module
 */
import { heapF32, type KernelArgs, type TensorInfo } from "./util.ts";

/** Name of the kernel registered for the `wasm` backend. */
export const MOMENTUM_UPDATE = "DecayedMomentumUpdate";

/**
 * The kernel: inputs `{ w, v, g }` (same shape, float32), attributes
 * `{ momentum, learningRate }`; outputs `[v', w']`.
 *
 * @example
 * ```ts
 * tf.registerKernel({ kernelName: MOMENTUM_UPDATE, backendName: "wasm", kernelFunc: momentumUpdate });
 * ```
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
  const ws = heapF32(backend, w), vs = heapF32(backend, inputs.v as TensorInfo);
  const gs = heapF32(backend, inputs.g as TensorInfo);
  const vo = heapF32(backend, vOut), wo = heapF32(backend, wOut);
  const m = Math.fround(momentum), lr = Math.fround(-learningRate);
  const fr = Math.fround;
  for (let i = 0; i < ws.length; i++) {
    const next = fr(fr(m * vs[i]) + fr(lr * gs[i]));
    vo[i] = next;
    wo[i] = fr(ws[i] + next);
  }
  return [vOut, wOut];
}
