/**
 * A model's first convolution in training, as one op on the WASM backend:
 * 3×3 "same", stride 1, one-channel images to a multiple of 8 channels
 * (MiniVGGNet's first layer), with its bias.
 *
 * - `InputConv2D` (a kernel of ours): y = x ⊛ filter + bias in one pass
 *   on every thread of the kernel pool (the direct kernel `Conv2D` uses
 *   for such a layer, with the bias added as it stores).
 * - `InputConv2DGrad`: the filter's and the bias's gradients in one pass
 *   over dy on every thread (the bias is a tenth tap whose pixel is 1),
 *   summed over blocks of images in block order, so the result does not
 *   depend on the thread count.
 *
 * Its gradient computes the input's gradient only when something asks for
 * it: tfjs's fused convolution always does, and a model's input never
 * needs one in training. Split into a convolution and an add instead, the
 * bias would cost a pass over the activations each way, and the filter
 * gradient a patch matrix nine times the input's size.
 *
 * @module
 */
import { tf } from "../../tf.ts";
import { pointerOf, simdPool } from "../simd/mod.ts";
import { singleChannel, singleChannelApplies } from "./conv2d.ts";
import { heapF32, type KernelArgs, release, type TensorInfo } from "./util.ts";

/** Name of the forward kernel registered for the `wasm` backend. */
export const INPUT_CONV = "InputConv2D";
/** Name of the gradient kernel registered for the `wasm` backend. */
export const INPUT_CONV_GRAD = "InputConv2DGrad";

/** Blocks of images the gradients are summed over, at most. */
const GRAD_BLOCKS = 8;

/** The convolution's attributes, for the input gradient when one is asked for. */
const SAME_3X3 = {
  strides: [1, 1],
  pad: "same",
  dataFormat: "NHWC",
  dilations: [1, 1],
};

let enabled = true;

/**
 * Switches the op on or off (off: the layer runs a convolution and an add,
 * as before). The benchmark's baseline turns it off.
 */
export function setInputConvEnabled(on: boolean): void {
  enabled = on;
}

/**
 * True when {@link inputConv} can run: the WASM backend is active with this
 * project's kernels, x is float32, and the convolution is 3×3 "same" with
 * stride and dilation 1 from one channel to a multiple of 8.
 */
export function inputConvAvailable(
  x: tf.Tensor,
  filterShape: number[],
  strides: number[],
  padding: string,
  dilations: number[],
): boolean {
  return enabled && x.dtype === "float32" && x.rank === 4 &&
    tf.getBackend() === "wasm" &&
    tf.getKernel(INPUT_CONV, "wasm") !== undefined &&
    singleChannelApplies(x.shape, filterShape, {
      strides: strides as [number, number],
      pad: padding === "same" ? "same" : "valid",
      dilations: dilations as [number, number],
    });
}

/**
 * x ⊛ filter + bias as one differentiable op (see the module notes); check
 * {@link inputConvAvailable} first.
 */
export function inputConv(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  bias: tf.Tensor1D | null,
): tf.Tensor4D {
  const inputs: tf.NamedTensorMap = { x, filter };
  if (bias !== null) inputs.bias = bias;
  return tf.engine().runKernel(INPUT_CONV, inputs) as tf.Tensor4D;
}

/** The forward kernel: inputs `{ x, filter, bias? }`. */
export function inputConvKernel(args: KernelArgs): TensorInfo {
  const { inputs, backend } = args;
  return singleChannel(
    backend,
    inputs.x as TensorInfo,
    inputs.filter as TensorInfo,
    inputs.bias as TensorInfo | undefined,
    false,
  );
}

/**
 * The gradient kernel: inputs `{ x, dy }` (x [N, H, W, 1], dy
 * [N, H, W, Co]); outputs `[dFilter [3, 3, 1, Co], dBias [Co]]`.
 */
export function inputConvGradKernel(args: KernelArgs): TensorInfo[] {
  const { inputs, backend } = args;
  const x = inputs.x as TensorInfo, dy = inputs.dy as TensorInfo;
  const [N, H, W] = x.shape;
  const Co = dy.shape[3];
  const pool = simdPool(backend);
  const G = Math.ceil(N / GRAD_BLOCKS);
  const blocks = Math.ceil(N / G);
  const part = backend.makeOutput([blocks, 10, Co], "float32");
  const scratch = backend.makeOutput(
    [pool.threads * (H + 2) * (W + 6)],
    "float32",
  );
  pool.run(
    "conv3x3SingleGrad",
    [
      pointerOf(backend, x),
      pointerOf(backend, dy),
      pointerOf(backend, part),
      pointerOf(backend, scratch),
      N,
      H,
      W,
      Co,
      G,
    ],
    3,
    4 * (H + 2) * (W + 6),
    blocks,
  );
  const dFilter = backend.makeOutput([3, 3, 1, Co], "float32");
  const dBias = backend.makeOutput([Co], "float32");
  const p = heapF32(backend, part);
  const f = heapF32(backend, dFilter), b = heapF32(backend, dBias);
  // Block by block, in order, each sum rounded to float32 as it goes.
  const sums = new Float32Array(10 * Co);
  for (let k = 0; k < blocks; k++) {
    for (let j = 0; j < 10 * Co; j++) sums[j] += p[k * 10 * Co + j];
  }
  f.set(sums.subarray(0, 9 * Co));
  b.set(sums.subarray(9 * Co));
  release(backend, part, scratch);
  return [dFilter, dBias];
}

let gradientRegistered = false;

/**
 * Registers the gradient of {@link INPUT_CONV}: the filter's and bias's
 * from one {@link INPUT_CONV_GRAD} call, the input's (only when asked for)
 * from `Conv2DBackpropInput`. Idempotent; `registerTrainingKernels` calls it.
 */
export function registerInputConvGradient(): void {
  if (gradientRegistered) return;
  tf.registerGradient({
    kernelName: INPUT_CONV,
    inputsToSave: ["x", "filter"],
    gradFunc: (dy, saved) => {
      const [x, filter] = saved;
      const g = dy as tf.Tensor;
      // Both at once, here: the op is on the backward path when its
      // filter and bias (one layer's variables, trainable together) need a
      // gradient, or, rarely, when only the input's is asked for.
      const [dFilter, dBias] = tf.engine().runKernel(
        INPUT_CONV_GRAD,
        { x, dy: g },
      ) as tf.Tensor[];
      return {
        x: () =>
          tf.engine().runKernel("Conv2DBackpropInput", { dy: g, filter }, {
            ...SAME_3X3,
            inputShape: x.shape,
          } as unknown as tf.NamedAttrMap) as tf.Tensor,
        filter: () => dFilter,
        bias: () => dBias,
      };
    },
  });
  gradientRegistered = true;
}
