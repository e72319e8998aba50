/**
 * ReLU and its gradient for the WASM backend, on every thread of the
 * kernel pool.
 *
 * - `Relu`: y = max(x, 0) for float32 (the stock kernel runs on one
 *   thread); other dtypes go to the stock kernel.
 * - `ReluGrad` (a kernel of ours): dx = dy · step(x) in one pass. tfjs's
 *   gradient of `Relu` computes it as `Step`, `Cast` and `Multiply`: three
 *   full passes over the activations and two temporaries.
 *   {@link registerReluGradient}
 *   makes the gradient of `Relu` call this kernel on the WASM backend, and
 *   tfjs's own gradient everywhere else.
 *
 * @module
 */
import { tf } from "../../tf.ts";
import { pointerOf, runElementwise } from "../simd/mod.ts";
import {
  type KernelArgs,
  replaceGradient,
  runStock,
  type TensorInfo,
} from "./util.ts";

/** Name of the gradient kernel registered for the `wasm` backend. */
export const RELU_GRAD = "ReluGrad";

let enabled = true;

/**
 * Switches the one-pass gradient on or off (off: tfjs's own gradient on
 * every backend). The benchmark's baseline turns it off.
 */
export function setReluGradEnabled(on: boolean): void {
  enabled = on;
}

/** The `Relu` kernel: float32 on every thread, other dtypes stock. */
export function relu(args: KernelArgs): TensorInfo {
  const { inputs, backend } = args;
  const x = inputs.x as TensorInfo;
  if (x.dtype !== "float32") return runStock(backend, "Relu", inputs, {});
  const y = backend.makeOutput(x.shape, "float32");
  runElementwise(
    backend,
    "relu",
    [pointerOf(backend, x), pointerOf(backend, y)],
    tf.util.sizeFromShape(x.shape),
  );
  return y;
}

/**
 * The `ReluGrad` kernel: inputs `{ dy, x }` (same shape, float32); output
 * dx = dy · step(x) (1 where x > 0, 0 elsewhere, NaN where x is NaN).
 */
export function reluGrad(args: KernelArgs): TensorInfo {
  const { inputs, backend } = args;
  const dy = inputs.dy as TensorInfo, x = inputs.x as TensorInfo;
  const dx = backend.makeOutput(x.shape, "float32");
  runElementwise(
    backend,
    "reluGrad",
    [pointerOf(backend, dy), pointerOf(backend, x), pointerOf(backend, dx)],
    tf.util.sizeFromShape(x.shape),
  );
  return dx;
}

/**
 * Replaces tfjs's gradient of `Relu` with one that runs {@link reluGrad}
 * on the WASM backend for float32 tensors, and tfjs's own gradient in
 * every other case. Idempotent; {@link registerTrainingKernels} calls it.
 */
export function registerReluGradient(): void {
  replaceGradient("Relu", RELU_GRAD, (stock) => (dy, saved, attrs) => {
    const [x] = saved;
    const g = dy as tf.Tensor;
    if (
      !enabled || tf.getBackend() !== "wasm" || x.dtype !== "float32" ||
      g.dtype !== "float32" || !tf.util.arraysEqual(x.shape, g.shape)
    ) {
      return stock.gradFunc(dy, saved, attrs);
    }
    return {
      x: () => tf.engine().runKernel(RELU_GRAD, { dy: g, x }) as tf.Tensor,
    };
  });
}
