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
 * - `BatchNormMovingUpdate` — Keras's update of the moving statistics from
 *   the batch's, for mean and variance at once:
 *
 *       moving' = moving − (moving − batch) · decay
 *
 *   rounded to float32 after each operation as the three ops would round
 *   it (the same values bit for bit), in one kernel call instead of six
 *   ops and two scalar tensors per layer and step.
 *
 * @module
 */
import { tf } from "../../tf.ts";
import {
  channelSumsAt,
  channelSumsFloats,
  pointerOf,
  runChannelSums,
  runRows,
} from "../simd/mod.ts";
import { heapF32, type KernelArgs, release, type TensorInfo } from "./util.ts";
import { markStepApplied, reluMomentsOf, stepMayBeApplied } from "./relu.ts";
import { rememberColumnSums, sumsArePooled } from "./reductions.ts";

/** Name of the forward kernel. */
export const BATCH_NORM_TRAINING = "BatchNormTraining";
/** Name of the gradient kernel. */
export const BATCH_NORM_TRAINING_GRAD = "BatchNormTrainingGrad";
/** Name of the moving-statistics kernel. */
export const BATCH_NORM_MOVING_UPDATE = "BatchNormMovingUpdate";

interface EpsAttrs {
  varianceEpsilon: number;
}

/**
 * Per-channel work space: two f64 accumulators per channel (in
 * JavaScript), and on the WASM heap, in one allocation, three f32
 * coefficients per channel and the WebAssembly kernels' per-block sums. The
 * kernels take byte offsets; the JavaScript fallbacks take the views.
 */
class Work {
  readonly info: TensorInfo;
  readonly acc: Float64Array;
  readonly k0: Float32Array;
  readonly k1: Float32Array;
  readonly k2: Float32Array;
  readonly at: { k0: number; k1: number; k2: number; part: number };

  /** Allocate before taking any other heap view (the heap may grow). */
  constructor(backend: KernelArgs["backend"], rows: number, C: number) {
    // 3C coefficients, then the sums.
    this.info = backend.makeOutput(
      [3 * C + channelSumsFloats(rows, C)],
      "float32",
    );
    const base = pointerOf(backend, this.info);
    const heap = heapF32(backend, this.info).buffer;
    this.at = {
      k0: base,
      k1: base + 4 * C,
      k2: base + 8 * C,
      part: channelSumsAt(base + 12 * C),
    };
    this.acc = new Float64Array(2 * C);
    this.k0 = new Float32Array(heap, this.at.k0, C);
    this.k1 = new Float32Array(heap, this.at.k1, C);
    this.k2 = new Float32Array(heap, this.at.k2, C);
  }
}

/** Whether our WebAssembly kernels take C channels (a multiple of 4). */
function simdFor(C: number): boolean {
  return C % 4 === 0;
}

/** acc[c] += Σ (x − k[c]), acc[C + c] += Σ (x − k[c])² (JS fallback). */
function momentsAcc(
  xs: Float32Array,
  C: number,
  k: Float32Array,
  acc: Float64Array,
): void {
  for (let i = 0; i < xs.length; i += C) {
    for (let c = 0; c < C; c++) {
      const d = xs[i + c] - k[c];
      acc[c] += d;
      acc[C + c] += d * d;
    }
  }
}

/** acc[c] += Σ dy, acc[C + c] += Σ dy · (x − m[c]) (JS fallback). */
function bnGradAcc(
  xs: Float32Array,
  dys: Float32Array,
  C: number,
  m: Float32Array,
  acc: Float64Array,
): void {
  for (let i = 0; i < xs.length; i += C) {
    for (let c = 0; c < C; c++) {
      const g = dys[i + c];
      acc[c] += g;
      acc[C + c] += g * (xs[i + c] - m[c]);
    }
  }
}

/**
 * The forward kernel: inputs `{ x, scale, offset }` (per-channel, 1-D),
 * attribute `{ varianceEpsilon }`; outputs `[y, mean, variance]`.
 */
export function batchNormTrainingKernel(args: KernelArgs): TensorInfo[] {
  const { inputs, backend } = args;
  const { varianceEpsilon } = args.attrs as unknown as EpsAttrs;
  const x = inputs.x as TensorInfo;
  const C = x.shape[x.shape.length - 1];
  const yInfo = backend.makeOutput(x.shape, "float32");
  const meanInfo = backend.makeOutput([C], "float32");
  const varInfo = backend.makeOutput([C], "float32");
  const rows = tf.util.sizeFromShape(x.shape) / C;
  const work = new Work(backend, rows, C);
  // Views after every allocation: the heap may have grown.
  const xs = heapF32(backend, x), ys = heapF32(backend, yInfo);
  const simd = simdFor(C);
  // Shifted by the first row, so that large means lose nothing.
  const shift = work.k0;
  // A ReLU's output comes with these sums made (relu.ts).
  const made = reluMomentsOf(x.dataId, C);
  if (made !== undefined) {
    shift.set(made.shift);
    work.acc.set(made.acc);
  } else if (simd) {
    shift.set(xs.subarray(0, C));
    runChannelSums(
      backend,
      "momentsAcc",
      [pointerOf(backend, x), rows, C, work.at.k0],
      rows,
      C,
      work.at.part,
      work.acc,
    );
  } else {
    shift.set(xs.subarray(0, C));
    momentsAcc(xs, C, shift, work.acc);
  }
  const mean = heapF32(backend, meanInfo), variance = heapF32(backend, varInfo);
  const scale = heapF32(backend, inputs.scale as TensorInfo);
  const offset = heapF32(backend, inputs.offset as TensorInfo);
  const a = work.k1;
  for (let c = 0; c < C; c++) {
    const d = work.acc[c] / rows;
    mean[c] = shift[c] + d;
    variance[c] = Math.max(0, work.acc[C + c] / rows - d * d);
    a[c] = scale[c] / Math.sqrt(variance[c] + varianceEpsilon);
  }
  if (simd) {
    runRows(
      backend,
      "normalizeRows",
      [
        pointerOf(backend, x),
        pointerOf(backend, yInfo),
        rows,
        C,
        pointerOf(backend, meanInfo),
        work.at.k1,
        pointerOf(backend, inputs.offset as TensorInfo),
      ],
      rows,
      C,
    );
  } else {
    for (let i = 0; i < xs.length; i += C) {
      for (let c = 0; c < C; c++) {
        ys[i + c] = (xs[i + c] - mean[c]) * a[c] + offset[c];
      }
    }
  }
  release(backend, work.info);
  return [yInfo, meanInfo, varInfo];
}

/**
 * The gradient kernel: inputs `{ x, dy, mean, variance, scale }`,
 * attributes `{ varianceEpsilon, relu? }`; outputs `[dx, dscale, doffset]`.
 * With `relu` (x is a ReLU's output), dx includes the ReLU's step: the
 * gradient with respect to the ReLU's input (see relu.ts).
 */
export function batchNormTrainingGradKernel(args: KernelArgs): TensorInfo[] {
  const { inputs, backend } = args;
  const { varianceEpsilon, relu } = args.attrs as unknown as EpsAttrs & {
    relu?: boolean;
  };
  const x = inputs.x as TensorInfo, dy = inputs.dy as TensorInfo;
  const meanInfo = inputs.mean as TensorInfo;
  const C = x.shape[x.shape.length - 1];
  const dxInfo = backend.makeOutput(x.shape, "float32");
  const dscaleInfo = backend.makeOutput([C], "float32");
  const doffInfo = backend.makeOutput([C], "float32");
  const rows = tf.util.sizeFromShape(x.shape) / C;
  const work = new Work(backend, rows, C);
  const xs = heapF32(backend, x), dys = heapF32(backend, dy);
  const mean = heapF32(backend, meanInfo);
  const simd = simdFor(C);
  if (simd) {
    runChannelSums(
      backend,
      "bnGradAcc",
      [
        pointerOf(backend, x),
        pointerOf(backend, dy),
        rows,
        C,
        pointerOf(backend, meanInfo),
      ],
      rows,
      C,
      work.at.part,
      work.acc,
    );
  } else bnGradAcc(xs, dys, C, mean, work.acc);
  const variance = heapF32(backend, inputs.variance as TensorInfo);
  const scale = heapF32(backend, inputs.scale as TensorInfo);
  const dscale = heapF32(backend, dscaleInfo);
  const doff = heapF32(backend, doffInfo);
  // dx = a·dy + b·x + d per channel.
  const a = work.k0, b = work.k1, d = work.k2;
  for (let c = 0; c < C; c++) {
    const sumDy = work.acc[c], sumDyXm = work.acc[C + c];
    const inv = 1 / Math.sqrt(variance[c] + varianceEpsilon);
    const ac = scale[c] * inv;
    const bc = -ac * inv * inv * sumDyXm / rows;
    a[c] = ac;
    b[c] = bc;
    d[c] = -ac * sumDy / rows - bc * mean[c];
    dscale[c] = inv * sumDyXm;
    doff[c] = sumDy;
  }
  // bnGradSums and bnGradRows: x, dy, dx, rows, C, the coefficients, relu.
  const rowArgs = [
    pointerOf(backend, x),
    pointerOf(backend, dy),
    pointerOf(backend, dxInfo),
    rows,
    C,
    work.at.k0,
    work.at.k1,
    work.at.k2,
    relu ? 1 : 0,
  ];
  if (simd && sumsArePooled(rows, C)) {
    // dx and its per-channel sums in one pass: the bias gradient of the
    // convolution before, when it asks `Sum` for them.
    const sums = new Float64Array(2 * C);
    runChannelSums(
      backend,
      "bnGradSums",
      rowArgs,
      rows,
      C,
      work.at.part,
      sums,
    );
    rememberColumnSums(dxInfo, sums.subarray(0, C));
  } else if (simd) {
    runRows(
      backend,
      "bnGradRows",
      rowArgs,
      rows,
      C,
    );
  } else {
    const dx = heapF32(backend, dxInfo);
    for (let r = 0; r < xs.length; r += C) {
      for (let c = 0; c < C; c++) {
        const j = r + c;
        const g = Math.fround(a[c] * dys[j] + b[c] * xs[j] + d[c]);
        // ReLU's step: 1 above 0, 0 below, NaN for NaN (as reluGrad).
        dx[j] = relu ? g * (xs[j] > 0 ? 1 : xs[j] <= 0 ? 0 : NaN) : g;
      }
    }
  }
  release(backend, work.info);
  return [dxInfo, dscaleInfo, doffInfo];
}

let enabled = true;

/**
 * Switches the fused training op on or off (off: Keras's op-by-op
 * computation). The benchmark's baseline turns it off.
 */
export function setBatchNormTrainingEnabled(on: boolean): void {
  enabled = on;
}

/**
 * True when {@link batchNormTraining} can run for `x`: the WASM backend is
 * active with this project's kernels, and `x` is float32 with channels
 * last.
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
 */
export function batchNormTraining(
  x: tf.Tensor,
  scale: tf.Tensor1D,
  offset: tf.Tensor1D,
  varianceEpsilon: number,
): BatchNormTrainingResult {
  // The gradient through a ReLU before this batch norm too, in one pass
  // (see relu.ts).
  const relu = stepMayBeApplied(x);
  const attrs = { varianceEpsilon, relu };
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
        const grads = tf.engine().runKernel(
          BATCH_NORM_TRAINING_GRAD,
          { x: xs, dy, mean: m, variance: v, scale: s },
          attrs as unknown as tf.NamedAttrMap,
        ) as tf.Tensor[];
        if (relu) markStepApplied(grads[0], xs);
        return grads;
      },
    };
  });
  const y = op(x, scale, offset);
  // Clones belong to the caller's scope, as any op's outputs do.
  const [mean, variance] = stats.map((t) => tf.clone(t) as tf.Tensor1D);
  tf.dispose(stats);
  return { y, mean, variance };
}

/**
 * The moving-statistics kernel: inputs `{ movingMean, movingVariance, mean,
 * variance }` (float32, one value per channel), attribute `{ decay }`;
 * outputs `[movingMean', movingVariance']`, each
 * `moving − (moving − batch) · decay` with every operation rounded to
 * float32, on the calling thread.
 */
export function batchNormMovingUpdateKernel(args: KernelArgs): TensorInfo[] {
  const { inputs, backend } = args;
  const { decay } = args.attrs as unknown as { decay: number };
  const d = Math.fround(decay);
  const pairs = [
    [inputs.movingMean, inputs.mean],
    [inputs.movingVariance, inputs.variance],
  ] as [TensorInfo, TensorInfo][];
  const outs = pairs.map(([moving]) =>
    backend.makeOutput(moving.shape, "float32")
  );
  // Views after every allocation: the heap may have grown.
  pairs.forEach(([moving, batch], i) => {
    const o = heapF32(backend, moving), b = heapF32(backend, batch);
    const out = heapF32(backend, outs[i]);
    for (let c = 0; c < o.length; c++) {
      const diff = Math.fround(o[c] - b[c]);
      out[c] = o[c] - Math.fround(diff * d);
    }
  });
  return outs;
}

/**
 * Keras's moving-average update of a batch-normalisation layer's moving
 * mean and variance from the batch's statistics (see the module notes) as
 * one kernel call on the WASM backend; elsewhere as Keras's ops.
 *
 * @example
 * ```ts
 * import { tf } from "../../tf.ts";
 * import { updateMovingStatistics } from "./batch_norm_train.ts";
 * const [m, v] = updateMovingStatistics(
 *   tf.zeros([4]) as tf.Tensor1D,
 *   tf.ones([4]) as tf.Tensor1D,
 *   tf.fill([4], 2) as tf.Tensor1D,
 *   tf.fill([4], 3) as tf.Tensor1D,
 *   0.01,
 * );
 * m.print(); // 0.02 each
 * v.print(); // 1.02 each
 * ```
 */
export function updateMovingStatistics(
  movingMean: tf.Tensor1D,
  movingVariance: tf.Tensor1D,
  mean: tf.Tensor1D,
  variance: tf.Tensor1D,
  decay: number,
): [tf.Tensor1D, tf.Tensor1D] {
  if (
    tf.getBackend() === "wasm" &&
    tf.getKernel(BATCH_NORM_MOVING_UPDATE, "wasm") !== undefined &&
    [movingMean, movingVariance, mean, variance].every((t) =>
      t.dtype === "float32"
    )
  ) {
    return tf.engine().runKernel(
      BATCH_NORM_MOVING_UPDATE,
      { movingMean, movingVariance, mean, variance },
      { decay } as unknown as tf.NamedAttrMap,
    ) as [tf.Tensor1D, tf.Tensor1D];
  }
  return tf.tidy(() =>
    [[movingMean, mean], [movingVariance, variance]].map(([moving, batch]) =>
      tf.sub(moving, tf.mul(tf.sub(moving, batch), decay))
    ) as [tf.Tensor1D, tf.Tensor1D]
  );
}
