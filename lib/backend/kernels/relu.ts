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
 * A ReLU followed by a batch norm (MiniVGGNet's blocks) takes one pass
 * backwards instead of two: the batch norm's gradient multiplies by the
 * step of its input, the ReLU's output, as it computes (`bnGradRows`), and
 * marks what it returns ({@link markStepApplied}); the ReLU's gradient,
 * given exactly that tensor for its own output, passes it on. Given a sum
 * (its output has other consumers), it multiplies as usual: the step is 0
 * or 1, so applying it twice changes no value (a zero's sign, at most). The batch norm leaves the
 * step out when its input is itself a tensor whose gradient was asked for
 * ({@link stepMayBeApplied}).
 *
 * A batch norm after a ReLU needs its input's statistics first: a whole
 * pass over that tensor, read back from memory. While a gradient is being
 * recorded (training: a batch norm then uses the batch's statistics), the
 * `Relu` kernel sums its output per channel as it writes it, 64 rows at a
 * time while they are still in cache, and keeps the sums with the output
 * ({@link reluMomentsOf}); the batch norm's kernel takes them instead of
 * summing. They are the sums the batch norm would compute, bit for bit: the
 * same blocks, the same order, the same shift.
 *
 * @module
 */
import { tf } from "../../tf.ts";
import {
  channelSumsAt,
  channelSumsFloats,
  pointerOf,
  runChannelSums,
  runElementwise,
} from "../simd/mod.ts";
import {
  heapF32,
  type KernelArgs,
  release,
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

let fused = true;

/**
 * Switches the one-pass gradient of a ReLU and the batch norm after it on
 * (the default) or off (off: two passes, the same values). For measuring.
 */
export function setReluBatchNormFusion(on: boolean): void {
  fused = on;
}

/** A ReLU's output (its data) → its input's data, for outputs of {@link relu}. */
const reluInputOf = new WeakMap<object, object>();
/** A gradient's data → the ReLU output whose step it already includes. */
const stepAppliedFor = new WeakMap<object, object>();
/** The data of the tensors whose gradients are being computed (innermost last). */
const targets: Set<object>[] = [];
let targetsTracked = false;

/**
 * Whether a gradient with respect to `x` may include the step of the ReLU
 * that made `x`: `x` is a float32 output of this module's `Relu` kernel,
 * the one-pass gradient is on, and `x` is not a tensor whose gradient is
 * being asked for (that gradient must not include the step).
 */
export function stepMayBeApplied(x: tf.Tensor): boolean {
  return enabled && fused && targetsTracked && reluInputOf.has(x.dataId) &&
    !targets.some((t) => t.has(x.dataId));
}

/**
 * Marks `grad` as a gradient with respect to `reluOutput` that already
 * includes that ReLU's step (see the module notes).
 */
export function markStepApplied(grad: tf.Tensor, reluOutput: tf.Tensor): void {
  stepAppliedFor.set(grad.dataId, reluOutput.dataId);
}

/**
 * Notes the tensors each gradient computation (`tf.grad`, `tf.grads`,
 * `variableGrads`, Keras's fit) is for, so that {@link stepMayBeApplied}
 * can leave them out. Idempotent; {@link registerReluGradient} calls it.
 */
function trackGradientTargets(): void {
  if (targetsTracked) return;
  const engine = tf.engine() as unknown as {
    gradients(f: unknown, xs: tf.Tensor[], ...rest: unknown[]): unknown;
  };
  const gradients = engine.gradients.bind(engine);
  engine.gradients = (f, xs, ...rest) => {
    targets.push(new Set(xs.map((x) => x.dataId)));
    try {
      return gradients(f, xs, ...rest);
    } finally {
      targets.pop();
    }
  };
  targetsTracked = true;
}

let momentsFused = true;

/**
 * Switches the statistics the `Relu` kernel sums for a batch norm after it
 * on (the default) or off (off: the batch norm sums its input itself, to
 * the same bits). For measuring.
 */
export function setReluMomentsFusion(on: boolean): void {
  momentsFused = on;
}

/**
 * A ReLU output's per-channel sums, as the batch norm's statistics pass
 * would make them: `shift` is the output's first row, `acc` holds
 * Σ (y − shift[c]) for each channel c, then Σ (y − shift[c])².
 */
export interface ReluMoments {
  shift: Float32Array;
  acc: Float64Array;
}

/** A ReLU output's data → its sums over channels of its last axis. */
const momentsOf = new WeakMap<object, ReluMoments>();

/**
 * The sums the `Relu` kernel made of its output `y` (the data of a tensor
 * whose last axis has C channels), if it made them.
 */
export function reluMomentsOf(
  y: object,
  C: number,
): ReluMoments | undefined {
  const m = momentsOf.get(y);
  return m !== undefined && m.shift.length === C ? m : undefined;
}

/** Whether a gradient is being recorded (the engine's tape is on). */
function recording(): boolean {
  const engine = tf.engine() as unknown as {
    state: { gradientDepth: number };
  };
  return engine.state.gradientDepth > 0;
}

/**
 * y = max(x, 0) for x [rows, C] (C a multiple of 4) with y's sums per
 * channel, remembered for a batch norm after it (see the module notes).
 */
function reluWithMoments(
  backend: KernelArgs["backend"],
  x: TensorInfo,
  y: TensorInfo,
  rows: number,
  C: number,
): void {
  // The shift (C floats), then the kernel's per-block sums.
  const work = backend.makeOutput([C + channelSumsFloats(rows, C)], "float32");
  const base = pointerOf(backend, work);
  // The batch norm shifts by its input's first row: y's, as the kernel
  // will write it (max(−0, 0) and max(0, 0) are +0; NaN stays NaN).
  const first = heapF32(backend, x).subarray(0, C);
  const shift = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    const v = first[c];
    shift[c] = v > 0 || v !== v ? v : 0;
  }
  heapF32(backend, work).set(shift);
  const acc = new Float64Array(2 * C);
  runChannelSums(
    backend,
    "reluMoments",
    [pointerOf(backend, x), pointerOf(backend, y), rows, C, base],
    rows,
    C,
    channelSumsAt(base + 4 * C),
    acc,
  );
  release(backend, work);
  momentsOf.set(y.dataId, { shift, acc });
}

/** The `Relu` kernel: float32 on every thread, other dtypes stock. */
export function relu(args: KernelArgs): TensorInfo {
  const { inputs, backend } = args;
  const x = inputs.x as TensorInfo;
  if (x.dtype !== "float32") return runStock(backend, "Relu", inputs, {});
  const y = backend.makeOutput(x.shape, "float32");
  const size = tf.util.sizeFromShape(x.shape);
  const C = x.shape[x.shape.length - 1] ?? 0;
  if (
    momentsFused && x.shape.length >= 2 && size > 0 && C % 4 === 0 &&
    recording()
  ) {
    reluWithMoments(backend, x, y, size / C, C);
  } else {
    runElementwise(
      backend,
      "relu",
      [pointerOf(backend, x), pointerOf(backend, y)],
      size,
    );
  }
  reluInputOf.set(y.dataId, x.dataId);
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
  trackGradientTargets();
  replaceGradient("Relu", RELU_GRAD, (stock) => (dy, saved, attrs) => {
    const [x] = saved;
    const g = dy as tf.Tensor;
    if (
      !enabled || tf.getBackend() !== "wasm" || x.dtype !== "float32" ||
      g.dtype !== "float32" || !tf.util.arraysEqual(x.shape, g.shape)
    ) {
      return stock.gradFunc(dy, saved, attrs);
    }
    const output = stepAppliedFor.get(g.dataId);
    if (output !== undefined && reluInputOf.get(output) === x.dataId) {
      // A batch norm's gradient that includes this ReLU's step already.
      return { x: () => tf.clone(g) };
    }
    return {
      x: () => tf.engine().runKernel(RELU_GRAD, { dy: g, x }) as tf.Tensor,
    };
  });
}
