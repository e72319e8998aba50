/**
 * Dropout masks made on the WASM backend, on every thread of the kernel
 * pool: the same values as `dropoutMask` in `random.ts` (each element is
 * one number of a mulberry32 stream, and mulberry32's n-th number needs
 * only the seed and n), without a JavaScript loop over every element.
 *
 * @module
 */
import { tf } from "../../tf.ts";
import { pointerOf, runElementwise } from "../simd/mod.ts";
import type { KernelArgs, TensorInfo } from "./util.ts";

/** Name of the kernel registered for the `wasm` backend. */
export const DROPOUT_MASK = "DropoutMask";

/** The kernel's attributes. */
export interface DropoutMaskAttrs {
  /** Shape of the mask. */
  shape: number[];
  /** Fraction dropped, in (0, 1). */
  rate: number;
  /** mulberry32 state the mask's numbers follow (a 32-bit unsigned integer). */
  state: number;
}

/**
 * The kernel: no inputs, attributes {@link DropoutMaskAttrs}; output the
 * float32 mask.
 */
export function dropoutMaskKernel(args: KernelArgs): TensorInfo {
  const { backend } = args;
  const { shape, rate, state } = args.attrs as unknown as DropoutMaskAttrs;
  const out = backend.makeOutput(shape, "float32");
  const keep = 1 - rate;
  runElementwise(
    backend,
    "dropoutMask",
    [pointerOf(backend, out), state >>> 0, keep, 1 / keep],
    tf.util.sizeFromShape(shape),
  );
  return out;
}
