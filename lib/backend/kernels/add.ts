/**
 * `Add` for the WASM backend. A per-channel bias added to a channels-last
 * tensor (x [..., C] + b [C], float32, C in 4s: the first layer's bias in
 * training, see `InputConv2D`) runs on every thread of the kernel pool, in
 * one pass, where tfjs-wasm's broadcasting add runs on one thread. Small
 * adds run on the calling thread (`small_ops.ts`); every other add goes to
 * the stock kernel.
 *
 * @module
 */
import { tf } from "../../tf.ts";
import { pointerOf, runRows } from "../simd/mod.ts";
import { smallBinary } from "./small_ops.ts";
import { type KernelArgs, runStock, type TensorInfo } from "./util.ts";

/** The kernel function: inputs `{ a, b }`. */
export function add(args: KernelArgs): TensorInfo {
  const { inputs, backend } = args;
  const a = inputs.a as TensorInfo, b = inputs.b as TensorInfo;
  const C = a.shape[a.shape.length - 1];
  if (
    a.dtype !== "float32" || b.dtype !== "float32" || a.shape.length < 2 ||
    b.shape.length !== 1 || b.shape[0] !== C || C % 4 !== 0
  ) {
    return smallBinary(backend, a, b, (x, y) => x + y) ??
      runStock(backend, "Add", inputs, {});
  }
  const rows = tf.util.sizeFromShape(a.shape) / C;
  const out = backend.makeOutput(a.shape, "float32");
  runRows(
    backend,
    "addChannels",
    [
      pointerOf(backend, a),
      pointerOf(backend, b),
      pointerOf(backend, out),
      rows,
      C,
    ],
    rows,
    C,
  );
  return out;
}
