/**
 * Batch normalisation in training mode as two kernels for the WASM backend,
 * for channels-last input normalised per channel (the last axis):
 *
 * - `BatchNormTraining` — the batch's per-channel mean and (biased)
 *   variance, and the normalised output, in two passes over `x`:
 *
 *       y = (x − mean) · scale / sqrt(variance + ε) + offset
 *
 * - `BatchNormTrainingGrad` — the whole gradient with respect to `x`,
 *   `scale` and `offset`, through the statistics too, in two passes
 *   (M values per channel, inv = 1/sqrt(variance + ε)):
 *
 *       doffset = Σ dy
 *       dscale  = inv · Σ dy·(x − mean)
 *       dx      = scale·inv · (dy − doffset/M − (x − mean)·inv · dscale/M)
 *
 * Keras's layer computes the same with `tf.moments` and `tf.batchNorm`:
 * about a dozen ops forwards and twenty backwards, each a full pass over
 * the activations. {@link batchNormTraining} wraps the two kernels as one
 * differentiable op.
 *
 * @module
 */
import { tf } from "../../tf.ts";
import { heapF32, type KernelArgs, type TensorInfo } from "./util.ts";

/** Name of the forward kernel. */
export const BATCH_NORM_TRAINING = "BatchNormTraining";
/** Name of the gradient kernel. */
export const BATCH_NORM_TRAINING_GRAD = "BatchNormTrainingGrad";

interface EpsAttrs {
  varianceEpsilon: number;
}

/**
 * Per-channel mean and biased variance of rows of `C` values, in double
 * precision, shifted by the first row so that large means lose nothing.
 */
function moments(xs: Float32Array, C: number): [Float64Array, Float64Array] {
  const shift = new Float64Array(C);
  for (let c = 0; c < C; c++) shift[c] = xs[c];
  const s1 = new Float64Array(C), s2 = new Float64Array(C);
  const n = xs.length, n4 = n - (n % (4 * C));
  let i = 0;
  for (; i < n4; i += 4 * C) { // four rows per pass, as in columnSums
    for (let c = 0; c < C; c++) {
      const j = i + c, k = shift[c];
      const d0 = xs[j] - k, d1 = xs[j + C] - k;
      const d2 = xs[j + 2 * C] - k, d3 = xs[j + 3 * C] - k;
      s1[c] += (d0 + d1) + (d2 + d3);
      s2[c] += (d0 * d0 + d1 * d1) + (d2 * d2 + d3 * d3);
    }
  }
  for (; i < n; i += C) {
    for (let c = 0; c < C; c++) {
      const d = xs[i + c] - shift[c];
      s1[c] += d;
      s2[c] += d * d;
    }
  }
  const M = n / C;
  const mean = new Float64Array(C), variance = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const m = s1[c] / M;
    mean[c] = shift[c] + m;
    variance[c] = Math.max(0, s2[c] / M - m * m);
  }
  return [mean, variance];
}

/**
 * The forward kernel: inputs `{ x, scale, offset }` (per-channel, 1-D),
 * attribute `{ varianceEpsilon }`; outputs `[y, mean, variance]`.
 *
 * @example
 * ```ts
 * tf.registerKernel({ kernelName: BATCH_NORM_TRAINING, backendName: "wasm", kernelFunc: batchNormTrainingKernel });
 * ```
 */
export function batchNormTrainingKernel(args: KernelArgs): TensorInfo[] {
  const { inputs, backend } = args;
  const { varianceEpsilon } = args.attrs as unknown as EpsAttrs;
  const x = inputs.x as TensorInfo;
  const C = x.shape[x.shape.length - 1];
  const yInfo = backend.makeOutput(x.shape, "float32");
  const meanInfo = backend.makeOutput([C], "float32");
  const varInfo = backend.makeOutput([C], "float32");
  // Views after every allocation: the heap may have grown.
  const xs = heapF32(backend, x), ys = heapF32(backend, yInfo);
  const scale = heapF32(backend, inputs.scale as TensorInfo);
  const offset = heapF32(backend, inputs.offset as TensorInfo);
  const [mean, variance] = moments(xs, C);
  heapF32(backend, meanInfo).set(mean);
  heapF32(backend, varInfo).set(variance);
  const a = new Float64Array(C), b = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    // Rounded as the op-by-op path rounds: statistics are float32 tensors.
    const m = Math.fround(mean[c]), v = Math.fround(variance[c]);
    a[c] = scale[c] / Math.sqrt(v + varianceEpsilon);
    b[c] = offset[c] - m * a[c];
  }
  for (let i = 0; i < xs.length; i += C) {
    for (let c = 0; c < C; c++) ys[i + c] = xs[i + c] * a[c] + b[c];
  }
  return [yInfo, meanInfo, varInfo];
}

/**
 * The gradient kernel: inputs `{ x, dy, mean, variance, scale }`,
 * attribute `{ varianceEpsilon }`; outputs `[dx, dscale, doffset]`.
 *
 * @example
 * ```ts
 * tf.registerKernel({ kernelName: BATCH_NORM_TRAINING_GRAD, backendName: "wasm", kernelFunc: batchNormTrainingGradKernel });
 * ```
 */
export function batchNormTrainingGradKernel(args: KernelArgs): TensorInfo[] {
  const { inputs, backend } = args;
  const { varianceEpsilon } = args.attrs as unknown as EpsAttrs;
  const x = inputs.x as TensorInfo;
  const C = x.shape[x.shape.length - 1];
  const dxInfo = backend.makeOutput(x.shape, "float32");
  const dscaleInfo = backend.makeOutput([C], "float32");
  const doffInfo = backend.makeOutput([C], "float32");
  const xs = heapF32(backend, x),
    dys = heapF32(backend, inputs.dy as TensorInfo);
  const mean = heapF32(backend, inputs.mean as TensorInfo);
  const variance = heapF32(backend, inputs.variance as TensorInfo);
  const scale = heapF32(backend, inputs.scale as TensorInfo);
  const dx = heapF32(backend, dxInfo);

  const m = new Float64Array(C);
  for (let c = 0; c < C; c++) m[c] = mean[c];
  const sumDy = new Float64Array(C), sumDyXm = new Float64Array(C);
  const n = xs.length, n4 = n - (n % (4 * C));
  let i = 0;
  for (; i < n4; i += 4 * C) { // four rows per pass
    for (let c = 0; c < C; c++) {
      const j = i + c, k = m[c];
      const g0 = dys[j], g1 = dys[j + C], g2 = dys[j + 2 * C];
      const g3 = dys[j + 3 * C];
      sumDy[c] += (g0 + g1) + (g2 + g3);
      sumDyXm[c] += (g0 * (xs[j] - k) + g1 * (xs[j + C] - k)) +
        (g2 * (xs[j + 2 * C] - k) + g3 * (xs[j + 3 * C] - k));
    }
  }
  for (; i < n; i += C) {
    for (let c = 0; c < C; c++) {
      const g = dys[i + c];
      sumDy[c] += g;
      sumDyXm[c] += g * (xs[i + c] - m[c]);
    }
  }
  const M = n / C;
  // dx = a·dy + b·x + d per channel.
  const a = new Float64Array(C), b = new Float64Array(C);
  const d = new Float64Array(C);
  const dscale = heapF32(backend, dscaleInfo);
  const doff = heapF32(backend, doffInfo);
  for (let c = 0; c < C; c++) {
    const inv = 1 / Math.sqrt(variance[c] + varianceEpsilon);
    a[c] = scale[c] * inv;
    b[c] = -a[c] * inv * inv * sumDyXm[c] / M;
    d[c] = -a[c] * sumDy[c] / M - b[c] * m[c];
    dscale[c] = inv * sumDyXm[c];
    doff[c] = sumDy[c];
  }
  for (let r = 0; r < n; r += C) {
    for (let c = 0; c < C; c++) {
      const j = r + c;
      dx[j] = a[c] * dys[j] + b[c] * xs[j] + d[c];
    }
  }
  return [dxInfo, dscaleInfo, doffInfo];
}

let enabled = true;

/**
 * Switches the fused training op on or off (off: Keras's op-by-op
 * computation). The benchmark's baseline turns it off.
 *
 * @example
 * ```ts
 * setBatchNormTrainingEnabled(false);
 * ```
 */
export function setBatchNormTrainingEnabled(on: boolean): void {
  enabled = on;
}

/**
 * True when {@link batchNormTraining} can run for `x`: the WASM backend is
 * active with this project's kernels, and `x` is float32 with channels
 * last.
 *
 * @example
 * ```ts
 * if (batchNormTrainingAvailable(x)) batchNormTraining(x, gamma, beta, 1e-3);
 * ```
 */
export function batchNormTrainingAvailable(x: tf.Tensor): boolean {
  return enabled && x.dtype === "float32" && x.rank >= 2 &&
    tf.getBackend() === "wasm" &&
    tf.getKernel(BATCH_NORM_TRAINING, "wasm") !== undefined;
}

/** The result of {@link batchNormTraining}. */
export interface BatchNormTrainingResult {
  /** The normalised, scaled and shifted input (differentiable). */
  y: tf.Tensor;
  /** The batch's per-channel mean (not differentiable). */
  mean: tf.Tensor1D;
  /** The batch's per-channel biased variance (not differentiable). */
  variance: tf.Tensor1D;
}

/**
 * Batch normalisation of `x` over every axis but the last, with the
 * batch's own statistics, as one differentiable op on the WASM backend
 * (see the module notes). Check {@link batchNormTrainingAvailable} first.
 *
 * @example
 * ```ts
 * const { y, mean, variance } = batchNormTraining(x, gamma, beta, 1e-3);
 * ```
 */
export function batchNormTraining(
  x: tf.Tensor,
  scale: tf.Tensor1D,
  offset: tf.Tensor1D,
  varianceEpsilon: number,
): BatchNormTrainingResult {
  const attrs = { varianceEpsilon };
  let stats: tf.Tensor[] = [];
  const op = tf.customGrad((...args: unknown[]) => {
    const [xIn, scaleIn, offsetIn] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const [y, mean, variance] = tf.engine().runKernel(
      BATCH_NORM_TRAINING,
      { x: xIn, scale: scaleIn, offset: offsetIn },
      attrs as unknown as tf.NamedAttrMap,
    ) as tf.Tensor[];
    save([xIn, mean, variance, scaleIn]);
    // The engine frees what the forward function makes but does not
    // return; keep the statistics past it (released below).
    stats = [tf.keep(mean), tf.keep(variance)];
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, m, v, s] = saved;
        return tf.engine().runKernel(
          BATCH_NORM_TRAINING_GRAD,
          { x: xs, dy, mean: m, variance: v, scale: s },
          attrs as unknown as tf.NamedAttrMap,
        ) as tf.Tensor[];
      },
    };
  });
  const y = op(x, scale, offset);
  // Clones belong to the caller's scope, as any op's outputs do.
  const [mean, variance] = stats.map((t) => tf.clone(t) as tf.Tensor1D);
  tf.dispose(stats);
  return { y, mean, variance };
}
