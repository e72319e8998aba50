/**
 * The gradient of batch normalisation (`FusedBatchNorm`) on the WASM
 * backend, in one kernel. tfjs's generic gradient builds it from a dozen ops
 * and materialises full-size `Tile`s of per-channel values — the largest
 * single cost of a MiniVGGNet training step on WASM. For channels-last
 * input with per-channel (1-D) mean, variance and scale, this kernel
 * computes all five gradients in two passes over the data:
 *
 *     inv    = 1 / sqrt(variance + ε)
 *     dx     = dy · scale · inv
 *     dmean  = −Σ dy · scale · inv
 *     dvar   = Σ dy · (x − mean) · scale · (−½ · inv³)
 *     dscale = Σ dy · (x − mean) · inv
 *     doff   = Σ dy                        (Σ over all but the channel axis)
 *
 * Other backends, and other shapes, keep tfjs's own gradient.
 *
 * @module
 */
import { tf } from "../../tf.ts";
import {
  heapF32,
  type KernelArgs,
  replaceGradient,
  type TensorInfo,
} from "./util.ts";

let enabled = true;

/**
 * Switches the one-kernel gradient on or off (off: tfjs's own gradient on
 * every backend). The benchmark's baseline turns it off.
 */
export function setBatchNormGradEnabled(on: boolean): void {
  enabled = on;
}

/** Name of the kernel registered for the `wasm` backend. */
export const BATCH_NORM_GRAD = "BatchNormGradChannelsLast";

/**
 * The kernel: inputs `{ x, dy, mean, variance, scale? }`, attribute
 * `{ varianceEpsilon }`; outputs `[dx, dmean, dvariance, dscale, doffset]`.
 */
export function batchNormGrad(args: KernelArgs): TensorInfo[] {
  const { inputs, backend } = args;
  const { varianceEpsilon } = args.attrs as unknown as {
    varianceEpsilon: number;
  };
  const x = inputs.x as TensorInfo, dy = inputs.dy as TensorInfo;
  const mean = inputs.mean as TensorInfo,
    variance = inputs.variance as TensorInfo;
  const scale = inputs.scale as TensorInfo | undefined;
  const C = x.shape[x.shape.length - 1];
  const dxInfo = backend.makeOutput(x.shape, "float32");
  const outs = [0, 1, 2, 3].map(() => backend.makeOutput([C], "float32"));
  // Views after every allocation: the heap may have grown.
  const xs = heapF32(backend, x), dys = heapF32(backend, dy);
  const m = heapF32(backend, mean), v = heapF32(backend, variance);
  const s = scale ? heapF32(backend, scale) : null;
  const dx = heapF32(backend, dxInfo);
  const [dmean, dvar, dscale, doff] = outs.map((o) => heapF32(backend, o));

  const inv = new Float32Array(C), k = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    inv[c] = 1 / Math.sqrt(v[c] + varianceEpsilon);
    k[c] = (s ? s[c] : 1) * inv[c];
  }
  const sumDy = new Float64Array(C), sumDyXm = new Float64Array(C);
  const n = xs.length;
  for (let i = 0; i < n; i += C) {
    for (let c = 0; c < C; c++) {
      const g = dys[i + c];
      sumDy[c] += g;
      sumDyXm[c] += g * (xs[i + c] - m[c]);
      dx[i + c] = g * k[c];
    }
  }
  for (let c = 0; c < C; c++) {
    const sc = s ? s[c] : 1;
    dmean[c] = -sumDy[c] * k[c];
    dvar[c] = sumDyXm[c] * sc * -0.5 * inv[c] * inv[c] * inv[c];
    dscale[c] = sumDyXm[c] * inv[c];
    doff[c] = sumDy[c];
  }
  return [dxInfo, ...outs];
}

/**
 * Replaces the gradient of `FusedBatchNorm` with one that runs
 * {@link batchNormGrad} on the WASM backend for channels-last input with
 * 1-D statistics, and tfjs's own gradient everywhere else (so the CPU
 * backend stays an independent reference).
 */
export function registerBatchNormGradient(): void {
  replaceGradient(
    "FusedBatchNorm",
    BATCH_NORM_GRAD,
    (stock) => (dy, saved, attrs) => {
      const [x, mean, variance, scale] = saved;
      const g = dy as tf.Tensor;
      const C = x.shape[x.rank - 1];
      const perChannel = (t: tf.Tensor | null | undefined) =>
        t == null || (t.rank === 1 && t.shape[0] === C);
      if (
        !enabled || tf.getBackend() !== "wasm" || !perChannel(mean) ||
        !perChannel(variance) || !perChannel(scale)
      ) {
        return stock.gradFunc(dy, saved, attrs);
      }
      const inputs: tf.NamedTensorMap = { x, dy: g, mean, variance };
      if (scale != null) inputs.scale = scale;
      const [dx, dmean, dvar, dscale, doff] = tf.engine().runKernel(
        BATCH_NORM_GRAD,
        inputs,
        {
          varianceEpsilon:
            (attrs as { varianceEpsilon: number }).varianceEpsilon,
        },
      ) as tf.Tensor[];
      return {
        x: () => dx,
        mean: () => dmean,
        variance: () => dvar,
        scale: () => dscale,
        offset: () => doff,
      };
    },
  );
}
