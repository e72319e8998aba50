/**
 * Keras layers of MiniVGGNet with faster training steps, serialised exactly
 * as Keras's (same class names and configurations). Importing this module
 * registers `BatchNormalization` and `Dropout` for deserialisation, so
 * loaded models get them.
 *
 * `BatchNormalization`: Keras's layer (same weights and names), except that
 * a training-mode call on the WASM backend runs the fused op of
 * `backend/kernels/batch_norm_train.ts` — two kernels instead of some
 * thirty ops — and then updates the moving statistics to the values
 * Keras's ops give, in one kernel call. Inference, other backends and other configurations run Keras's
 * code unchanged.
 *
 * `Dropout`: Keras's layer, except that in training its mask is a stretch
 * of a seeded mulberry32 stream (`dropoutMask` in `random.ts`): a fresh
 * mask at every call, the same masks for the same seed, and on the WASM
 * backend made on every thread of the kernel pool (tfjs's own draws its
 * numbers one by one in JavaScript).
 *
 * `InputConv2D`: Keras's `Conv2D` for a model's first layer, without the
 * gradient with respect to the model's input in training.
 *
 * @module
 */
import { tf } from "./tf.ts";
import { advanceRng, dropoutMask } from "./random.ts";
import {
  batchNormTraining,
  batchNormTrainingAvailable,
  updateMovingStatistics,
} from "./backend/kernels/batch_norm_train.ts";
import { DROPOUT_MASK } from "./backend/kernels/dropout_mask.ts";
import { inputConv, inputConvAvailable } from "./backend/kernels/input_conv.ts";

/**
 * The one input tensor of a layer call: `inputs` itself, or the only
 * element of the one-element array a model's executor passes; null for
 * anything else.
 */
function onlyInput(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | null {
  if (!Array.isArray(inputs)) return inputs;
  return inputs.length === 1 ? inputs[0] : null;
}

/** What this module uses of a Keras `LayerVariable`. */
interface LayerVariable {
  read(): tf.Tensor;
  write(value: tf.Tensor): void;
}

/** What this module uses of Keras's `BatchNormalization`. */
interface KerasBatchNorm extends tf.layers.Layer {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: LayerVariable;
  beta: LayerVariable;
  movingMean: LayerVariable;
  movingVariance: LayerVariable;
}

type LayerArgs = Parameters<typeof tf.layers.batchNormalization>[0];

/** Keras's class, which tfjs-layers does not export by name. */
const KerasBatchNormalization = Object.getPrototypeOf(
  tf.layers.batchNormalization({}),
).constructor as new (args?: LayerArgs) => KerasBatchNorm;

/**
 * Keras's `BatchNormalization` layer with the fused training step (see the
 * module notes).
 *
 * @example
 * ```ts
 * import { BatchNormalization } from "./layers.ts";
 * const layer = new BatchNormalization({ axis: -1 });
 * ```
 */
export class BatchNormalization extends KerasBatchNormalization {
  /** The serialised class name: Keras's, so saved models are unchanged. */
  static className = "BatchNormalization";

  override call(
    inputs: tf.Tensor | tf.Tensor[],
    kwargs: Record<string, unknown>,
  ): tf.Tensor | tf.Tensor[] {
    const x = onlyInput(inputs);
    if (
      x === null || kwargs.training !== true || !this.center || !this.scale ||
      (this.axis < 0 ? this.axis + x.rank : this.axis) !== x.rank - 1 ||
      !batchNormTrainingAvailable(x)
    ) {
      return super.call(inputs, kwargs);
    }
    return tf.tidy(() => {
      const { y, mean, variance } = batchNormTraining(
        x,
        this.gamma.read() as tf.Tensor1D,
        this.beta.read() as tf.Tensor1D,
        this.epsilon,
      );
      // Keras's moving-average update, as its ops round it.
      const [movingMean, movingVariance] = updateMovingStatistics(
        this.movingMean.read() as tf.Tensor1D,
        this.movingVariance.read() as tf.Tensor1D,
        mean,
        variance,
        1 - this.momentum,
      );
      this.movingMean.write(movingMean);
      this.movingVariance.write(movingVariance);
      return y;
    });
  }
}
tf.serialization.registerClass(
  // fromConfig is Keras's, inherited.
  BatchNormalization as unknown as tf.serialization.SerializableConstructor<
    tf.serialization.Serializable
  >,
);

/**
 * A {@link BatchNormalization} layer, as `tf.layers.batchNormalization`
 * makes Keras's.
 *
 * @example
 * ```ts
 * import { batchNormalization } from "./layers.ts";
 * import { tf } from "./tf.ts";
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 8, inputShape: [4] })] });
 * model.add(batchNormalization({ axis: -1 }));
 * ```
 */
export function batchNormalization(args?: LayerArgs): BatchNormalization {
  return new BatchNormalization(args);
}

/** What this module uses of Keras's `Dropout`. */
interface KerasDropoutLayer extends tf.layers.Layer {
  rate: number;
  noiseShape?: number[];
  seed?: number;
}

type DropoutArgs = Parameters<typeof tf.layers.dropout>[0];

/** Keras's class, which tfjs-layers does not export by name. */
const KerasDropout = Object.getPrototypeOf(
  tf.layers.dropout({ rate: 0.5 }),
).constructor as new (args: DropoutArgs) => KerasDropoutLayer;

/**
 * Keras's `Dropout` layer with a fresh, fast mask at every training call
 * (see the module notes).
 *
 * @example
 * ```ts
 * import { Dropout } from "./layers.ts";
 * const layer = new Dropout({ rate: 0.25, seed: 7 });
 * ```
 */
export class Dropout extends KerasDropout {
  /** The serialised class name: Keras's, so saved models are unchanged. */
  static className = "Dropout";
  /** Where the mulberry32 stream of this layer's masks stands. */
  #state: number;

  constructor(args: DropoutArgs) {
    super(args);
    this.#state = (args.seed ?? Math.floor(Math.random() * 2 ** 32)) >>> 0;
  }

  /**
   * Where this layer's stream of masks stands (a 32-bit unsigned integer):
   * saved in checkpoints and set back on resume, so the masks after a
   * resume are the ones an uninterrupted run would have drawn.
   *
   * @example
   * ```ts
   * import { Dropout } from "./layers.ts";
   * const layer = new Dropout({ rate: 0.25, seed: 7 });
   * const saved = layer.maskState;
   * layer.maskState = saved;
   * ```
   */
  get maskState(): number {
    return this.#state;
  }

  set maskState(state: number) {
    this.#state = state >>> 0;
  }

  override call(
    inputs: tf.Tensor | tf.Tensor[],
    kwargs: Record<string, unknown>,
  ): tf.Tensor | tf.Tensor[] {
    const x = onlyInput(inputs);
    if (
      x === null || kwargs.training !== true ||
      !(this.rate > 0 && this.rate < 1) || this.noiseShape != null
    ) {
      return super.call(inputs, kwargs);
    }
    const attrs = { shape: x.shape, rate: this.rate, state: this.#state };
    this.#state = advanceRng(this.#state, x.size);
    return tf.tidy(() => {
      // The same mask either way; the WASM backend makes it on every thread.
      const mask = tf.getBackend() === "wasm" &&
          tf.getKernel(DROPOUT_MASK, "wasm") !== undefined
        ? tf.engine().runKernel(
          DROPOUT_MASK,
          {},
          attrs as unknown as tf.NamedAttrMap,
        ) as tf.Tensor
        : tf.tensor(dropoutMask(x.size, attrs.rate, attrs.state), x.shape);
      return tf.mul(x, mask);
    });
  }
}
tf.serialization.registerClass(
  Dropout as unknown as tf.serialization.SerializableConstructor<
    tf.serialization.Serializable
  >,
);

/**
 * A {@link Dropout} layer, as `tf.layers.dropout` makes Keras's.
 *
 * @example
 * ```ts
 * import { dropout } from "./layers.ts";
 * import { tf } from "./tf.ts";
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 8, inputShape: [4] })] });
 * model.add(dropout({ rate: 0.5, seed: 3 }));
 * ```
 */
export function dropout(args: DropoutArgs): Dropout {
  return new Dropout(args);
}

/** What this module uses of Keras's `Conv2D`. */
interface KerasConv2DLayer extends tf.layers.Layer {
  kernel: LayerVariable;
  bias: LayerVariable | null;
  strides: number[];
  padding: string;
  dataFormat: string;
  dilationRate: number[];
  activation: { apply(x: tf.Tensor): tf.Tensor };
}

type Conv2DArgs = Parameters<typeof tf.layers.conv2d>[0];

/** Keras's class, as registered for deserialisation (no instance made). */
const KerasConv2D = tf.serialization.SerializationMap.getMap()
  .classNameMap.Conv2D[0] as unknown as new (
    args: Conv2DArgs,
  ) => KerasConv2DLayer;

/**
 * Keras's `Conv2D`, for a model's first layer: in training it runs as an
 * op whose gradient computes the input's gradient only when something asks
 * for it, instead of tfjs's fused convolution, whose gradient always does;
 * a model's input never needs one in training. On the WASM backend, a 3×3
 * "same" convolution of one-channel images (MiniVGGNet's) is one kernel
 * with its bias each way (`InputConv2D`, `backend/kernels/input_conv.ts`);
 * elsewhere it is a convolution and an add. Inference and
 * every other case run Keras's code; gradients with respect to the input,
 * when asked for, are still computed. It serialises as Keras's `Conv2D`
 * (and loads back as Keras's).
 *
 * @example
 * ```ts
 * import { InputConv2D } from "./layers.ts";
 * const first = new InputConv2D({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, padding: "same" });
 * ```
 */
export class InputConv2D extends KerasConv2D {
  /** The serialised class name: Keras's, so saved models are unchanged. */
  static className = "Conv2D";

  override call(
    inputs: tf.Tensor | tf.Tensor[],
    kwargs: Record<string, unknown>,
  ): tf.Tensor | tf.Tensor[] {
    const x = onlyInput(inputs);
    if (
      x === null || kwargs.training !== true || x.rank !== 4 ||
      this.dataFormat !== "channelsLast"
    ) {
      return super.call(inputs, kwargs);
    }
    const kernel = this.kernel.read() as tf.Tensor4D;
    if (
      inputConvAvailable(
        x,
        kernel.shape,
        this.strides,
        this.padding,
        this.dilationRate,
      )
    ) {
      return tf.tidy(() =>
        this.activation.apply(
          inputConv(
            x as tf.Tensor4D,
            kernel,
            this.bias === null ? null : this.bias.read() as tf.Tensor1D,
          ),
        )
      );
    }
    return tf.tidy(() => {
      let y: tf.Tensor = tf.conv2d(
        x as tf.Tensor4D,
        this.kernel.read() as tf.Tensor4D,
        this.strides as [number, number],
        this.padding === "same" ? "same" : "valid",
        "NHWC",
        this.dilationRate as [number, number],
      );
      if (this.bias !== null) y = tf.add(y, this.bias.read());
      return this.activation.apply(y);
    });
  }
}

/**
 * An {@link InputConv2D} layer (arguments as `tf.layers.conv2d`).
 *
 * @example
 * ```ts
 * import { inputConv2d } from "./layers.ts";
 * import { tf } from "./tf.ts";
 * const model = tf.sequential();
 * model.add(inputConv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3 }));
 * ```
 */
export function inputConv2d(args: Conv2DArgs): InputConv2D {
  return new InputConv2D(args);
}
