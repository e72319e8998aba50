/**
 * One Adam step of one variable in a single pass, for the WASM backend,
 * with the same values as tfjs's `AdamOptimizer` (Keras semantics):
 *
 *     m' = β₁·m + (1 − β₁)·g
 *     v' = β₂·v + (1 − β₂)·g²
 *     w' = w − lr · (m' / (1 − β₁ᵗ)) / (sqrt(v' / (1 − β₂ᵗ)) + ε)
 *
 * and then, for the recipes' decoupled weight decay, `w' · keep`. Written
 * as tfjs ops this is about fourteen full-size kernels per variable per
 * step (for the dense layer's 1.6 M weights, some 250 MB of memory
 * traffic); here one WebAssembly SIMD loop on every thread of the kernel
 * pool reads `w`, `m`, `v`, `g` once and writes `w'`, `m'`, `v'`. Every
 * product, quotient, square root and sum is rounded to float32 in the
 * ops' order, so the result equals the op-by-op update bit for bit.
 *
 * @module
 */
import { tf } from "../../tf.ts";
import { pointerOf, runElementwise } from "../simd/mod.ts";
import type { KernelArgs, TensorInfo } from "./util.ts";

/** Name of the kernel registered for the `wasm` backend. */
export const ADAM_UPDATE = "AdamUpdate";

/**
 * The kernel's attributes: the optimizer's constants as tfjs's ops see
 * them (each is rounded to float32 here, as a scalar tensor would be).
 */
export interface AdamUpdateAttrs {
  beta1: number;
  beta2: number;
  /** 1 − β₁ᵗ, as tfjs computes it (a float32 subtraction). */
  oneMinusAccBeta1: number;
  /** 1 − β₂ᵗ, likewise. */
  oneMinusAccBeta2: number;
  epsilon: number;
  learningRate: number;
  /** Factor of the decoupled weight decay, or null for none. */
  keep: number | null;
}

/**
 * The kernel: inputs `{ w, m, v, g }` (same shape, float32), attributes
 * {@link AdamUpdateAttrs}; outputs `[w', m', v']`.
 */
export function adamUpdate(args: KernelArgs): TensorInfo[] {
  const { inputs, backend } = args;
  const a = args.attrs as unknown as AdamUpdateAttrs;
  const w = inputs.w as TensorInfo;
  const outs = [0, 1, 2].map(() => backend.makeOutput(w.shape, "float32"));
  const f = Math.fround;
  runElementwise(
    backend,
    "adamUpdate",
    [
      pointerOf(backend, w),
      pointerOf(backend, inputs.m as TensorInfo),
      pointerOf(backend, inputs.v as TensorInfo),
      pointerOf(backend, inputs.g as TensorInfo),
      ...outs.map((o) => pointerOf(backend, o)),
      f(a.beta1),
      f(1 - a.beta1),
      f(a.beta2),
      f(1 - a.beta2),
      f(a.oneMinusAccBeta1),
      f(a.oneMinusAccBeta2),
      f(a.epsilon),
      f(-a.learningRate),
      f(a.keep ?? 1),
      a.keep === null ? 0 : 1,
    ],
    tf.util.sizeFromShape(w.shape),
  );
  return outs;
}
