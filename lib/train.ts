/**
 * Training: turning dataset bytes into tensors, and the fit loop
 * (`model.fitDataset`) driven by a recipe (`recipes.ts`): seeded shuffling
 * and augmentation, the recipe's learning-rate schedule per batch,
 * batch-norm statistics re-estimated where the recipe says, validation
 * after every epoch, progress events, a per-epoch history, and a stop
 * after the current batch on request.
 *
 * @example
 * ```ts
 * import { buildMiniVGGNet, FAST_RECIPE, holdoutSplit, initWasmBackend, loadFashionMnist, trainModel } from "./mod.ts";
 * await initWasmBackend();
 * const data = await loadFashionMnist();
 * const { train, validation } = holdoutSplit(data.train, 5000, 42);
 * const model = buildMiniVGGNet({ seed: 42 });
 * const { history } = await trainModel(model, train, validation, { recipe: FAST_RECIPE });
 * ```
 *
 * @module
 */
import { tf } from "./tf.ts";
import { PIXELS, type Split } from "./data.ts";
import { ScheduledAdam, ScheduledMomentumSGD } from "./optimizer.ts";
import { makeRng, sample, shuffledIndices } from "./random.ts";
import type { EpochRecord } from "./types.ts";
import { inJupyterKernel, onInterrupt } from "./interrupt.ts";
import { learningRateAt, type Recipe, SEED_RECIPE } from "./recipes.ts";
import { augmentedPixels, smoothedOneHot } from "./augment.ts";

/**
 * Images of a split (or of chosen items) as a float32 tensor
 * `[n, 28, 28, 1]` scaled to [0, 1] by dividing by 255.
 *
 * @example
 * ```ts
 * import { imagesToTensor } from "./train.ts";
 * const x = imagesToTensor(data.test.images); // [10000, 28, 28, 1]
 * ```
 */
export function imagesToTensor(
  images: Uint8Array,
  indices?: ArrayLike<number>,
): tf.Tensor4D {
  const n = indices === undefined ? images.length / PIXELS : indices.length;
  const values = new Float32Array(n * PIXELS);
  for (let i = 0; i < n; i++) {
    const src = (indices === undefined ? i : indices[i]) * PIXELS;
    const dst = i * PIXELS;
    for (let p = 0; p < PIXELS; p++) values[dst + p] = images[src + p] / 255;
  }
  return tf.tensor4d(values, [n, 28, 28, 1]);
}

/**
 * Labels (or chosen labels) as a one-hot float32 tensor `[n, classes]`.
 *
 * @example
 * ```ts
 * import { labelsToOneHot } from "./train.ts";
 * labelsToOneHot(new Uint8Array([0, 9])).shape; // [2, 10]
 * ```
 */
export function labelsToOneHot(
  labels: Uint8Array,
  indices?: ArrayLike<number>,
  classes = 10,
): tf.Tensor2D {
  const n = indices === undefined ? labels.length : indices.length;
  const values = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) {
    values[i * classes + labels[indices === undefined ? i : indices[i]]] = 1;
  }
  return tf.tensor2d(values, [n, classes]);
}

/**
 * Progress after one batch, for progress bars and live charts.
 *
 * @example
 * ```ts
 * import type { BatchProgress } from "./train.ts";
 * const onBatch = (p: BatchProgress) => console.log(`${p.batch}/${p.batches} loss ${p.loss}`);
 * ```
 */
export interface BatchProgress {
  /** 1-based epoch. */
  epoch: number;
  epochs: number;
  /** Batches done in this epoch. */
  batch: number;
  batches: number;
  /** Running mean of the epoch's batch losses so far. */
  loss: number;
  /** Running mean of the epoch's batch accuracies so far. */
  accuracy: number;
  /** Training images per second so far in this epoch. */
  imagesPerSecond: number;
  /** Estimated seconds left in this epoch's training part. */
  secondsLeft: number;
  /** Learning rate used by this batch. */
  lr: number;
}

/**
 * Options of {@link trainModel}. Missing values come from the recipe.
 *
 * @example
 * ```ts
 * import type { TrainOptions } from "./train.ts";
 * const opts: TrainOptions = { epochs: 1, seed: 7, onEpoch: (e) => console.log(e) };
 * ```
 */
export interface TrainOptions {
  recipe?: Readonly<Recipe>;
  epochs?: number;
  batchSize?: number;
  /** Seed of the per-epoch shuffle and the augmentations (default 42). */
  seed?: number;
  /** Called after every batch. */
  onBatch?: (progress: BatchProgress) => void;
  /** Called after every epoch with its record (validation included). */
  onEpoch?: (record: EpochRecord) => void;
  /** Batch size used for validation (default 256; does not change results). */
  validationBatchSize?: number;
  /** Stops training after the current batch once aborted. */
  signal?: AbortSignal;
  /**
   * Stop after the current batch on an interrupt: Jupyter's Stop button,
   * or Ctrl-C (default: true inside the Jupyter kernel, false elsewhere).
   * The listener is removed when training ends.
   */
  stopOnInterrupt?: boolean;
  /** Called once if training stops early (see {@link TrainStop}). */
  onStop?: (stop: TrainStop) => void;
}

/**
 * Where and why a run stopped before its last epoch: after `batch` of the
 * `batches` of epoch `epoch` (1-based). The model keeps the weights of
 * that batch; the history holds only the epochs before it (the stopped
 * epoch has no validation).
 *
 * @example
 * ```ts
 * import { describeStop, type TrainStop } from "./train.ts";
 * const s: TrainStop = { epoch: 2, batch: 40, batches: 63, reason: "interrupt", completedEpochs: 1 };
 * console.log(describeStop(s));
 * ```
 */
export interface TrainStop {
  epoch: number;
  batch: number;
  batches: number;
  /** "interrupt": Jupyter's Stop or Ctrl-C; "signal": the `signal` option. */
  reason: "interrupt" | "signal";
  /** Epochs finished (and validated) before the stop. */
  completedEpochs: number;
}

/**
 * One line saying where a run stopped and what it kept.
 *
 * @example
 * ```ts
 * import { describeStop } from "./train.ts";
 * describeStop({ epoch: 2, batch: 40, batches: 63, reason: "interrupt", completedEpochs: 1 });
 * // "Stopped on interrupt in epoch 2 after batch 40 of 63: the model keeps the weights of that batch; the history has 1 complete epoch."
 * ```
 */
export function describeStop(stop: TrainStop): string {
  const why = stop.reason === "interrupt" ? "on interrupt" : "on request";
  const n = stop.completedEpochs;
  return `Stopped ${why} in epoch ${stop.epoch} after batch ${stop.batch} of ${stop.batches}: the model keeps the weights of that batch; the history has ${n} complete epoch${
    n === 1 ? "" : "s"
  }.`;
}

/**
 * The result of {@link trainModel}.
 *
 * @example
 * ```ts
 * const { history, seconds } = await trainModel(model, data.train, data.test);
 * ```
 */
export interface TrainResult {
  history: EpochRecord[];
  /** Wall-clock seconds of the whole run. */
  seconds: number;
  /** Where the run stopped early, or null if it ran all its epochs. */
  stopped: TrainStop | null;
}

/**
 * Compiles `model` for a recipe: categorical cross-entropy, accuracy, and
 * the recipe's optimizer with its learning rate following the schedule
 * over `totalSteps` batches: SGD with momentum
 * ({@link ScheduledMomentumSGD}; for the seed recipe, exactly Keras's
 * decayed SGD) or Adam ({@link ScheduledAdam}). Returns the optimizer.
 *
 * @example
 * ```ts
 * import { compileForRecipe } from "./train.ts";
 * import { SEED_RECIPE } from "./recipes.ts";
 * const optimizer = compileForRecipe(model, SEED_RECIPE, 46875);
 * ```
 */
export function compileForRecipe(
  model: tf.LayersModel,
  recipe: Readonly<Recipe>,
  totalSteps = 1,
): ScheduledMomentumSGD | ScheduledAdam {
  const o = recipe.optimizer;
  const optimizer = o.kind === "sgd"
    ? new ScheduledMomentumSGD(
      recipe.schedule,
      totalSteps,
      o.momentum,
      o.weightDecay,
    )
    : new ScheduledAdam(
      recipe.schedule,
      totalSteps,
      o.beta1,
      o.beta2,
      o.epsilon,
      o.weightDecay,
    );
  model.compile({
    optimizer,
    loss: "categoricalCrossentropy",
    metrics: ["accuracy"],
  });
  return optimizer;
}

/** What {@link recalibrateBatchNorm} changes on a batch-norm layer. */
interface BatchNormLike {
  momentum: number;
}

const isBatchNorm = (layer: tf.layers.Layer) =>
  layer.getClassName() === "BatchNormalization";

/**
 * Re-estimates every batch-normalisation layer's moving mean and variance
 * from the images of `split` at `indices` (default: all), in batches:
 * each layer normalises with the batch's own statistics, as in training,
 * with dropout off, as in use; the moving statistics become the average
 * over the batches (each layer after the ones before it are updated).
 * Weights are not touched. The moving averages of training lag behind the
 * weights, far behind in short runs; after this they match them.
 *
 * @example
 * ```ts
 * import { recalibrateBatchNorm } from "./train.ts";
 * recalibrateBatchNorm(model, data.train, [0, 1, 2, 3]);
 * ```
 */
export function recalibrateBatchNorm(
  model: tf.LayersModel,
  split: Split,
  indices?: ArrayLike<number>,
  batchSize = 256,
): void {
  const norms = model.layers.filter(isBatchNorm) as unknown as BatchNormLike[];
  if (norms.length === 0) return;
  const idx = indices ?? Uint32Array.from({ length: split.count }, (_, i) => i);
  const saved = norms.map((l) => l.momentum);
  try {
    let step = 0;
    for (let start = 0; start < idx.length; start += batchSize) {
      step++;
      // Moving = moving − (moving − batch)/step: the mean of the batches.
      for (const l of norms) l.momentum = 1 - 1 / step;
      const chunk = Array.prototype.slice.call(
        idx,
        start,
        Math.min(start + batchSize, idx.length),
      ) as number[];
      tf.tidy(() => {
        let h: tf.Tensor = imagesToTensor(split.images, chunk);
        for (const layer of model.layers) {
          if (layer.getClassName() === "InputLayer") continue;
          h = layer.apply(h, { training: isBatchNorm(layer) }) as tf.Tensor;
        }
      });
    }
  } finally {
    norms.forEach((l, i) => l.momentum = saved[i]);
  }
}

/**
 * An exponential moving average of a model's trainable weights, kept in
 * variables of its own: {@link WeightAverage.update} after every batch,
 * {@link WeightAverage.swap} to put the average in the model (and the
 * trained weights in the average's place), again to swap back.
 *
 * @example
 * ```ts
 * const ema = new WeightAverage(model, 0.999);
 * // after each batch: ema.update();
 * ema.swap(); // evaluate with the average
 * ema.swap(); // back to the trained weights
 * ema.dispose();
 * ```
 */
export class WeightAverage {
  readonly #weights: tf.LayerVariable[];
  readonly #average: tf.Variable[];
  #steps = 0;

  constructor(model: tf.LayersModel, readonly decay: number) {
    this.#weights = model.trainableWeights;
    this.#average = this.#weights.map((w) =>
      tf.tidy(() => tf.variable(w.read().clone(), false))
    );
  }

  /** Moves the average towards the weights (warmed up early on). */
  update(): void {
    this.#steps++;
    const d = Math.min(this.decay, (1 + this.#steps) / (10 + this.#steps));
    tf.tidy(() => {
      this.#weights.forEach((w, i) => {
        const a = this.#average[i];
        a.assign(tf.add(tf.mul(a, d), tf.mul(w.read(), 1 - d)));
      });
    });
  }

  /** Exchanges the model's weights and the average. */
  swap(): void {
    tf.tidy(() => {
      this.#weights.forEach((w, i) => {
        const a = this.#average[i];
        const trained = w.read().clone();
        w.write(a.clone());
        a.assign(trained);
      });
    });
  }

  dispose(): void {
    tf.dispose(this.#average);
  }
}

/** Images used to re-estimate batch-norm statistics (at most). */
const CALIBRATION_IMAGES = 4096;

/**
 * Trains `model` on `train` with `model.fitDataset` following a recipe
 * (default: the seed recipe; `epochs` and `batchSize` override it),
 * validating on `validation` after every epoch (null: no validation).
 * Shuffles each epoch and draws augmentations with seeded generators,
 * smooths the targets, sets the learning rate per batch by the schedule,
 * re-estimates the batch-norm statistics before each validation and at
 * the end if the recipe says so, and reports progress. Compiles the model
 * for the recipe first. Disposes every tensor it makes.
 *
 * Stops after the current batch when `signal` is aborted or, inside
 * Jupyter, when the kernel is interrupted (Stop); the result then says
 * where ({@link TrainStop}) and the model can be used or trained further.
 *
 * @example
 * ```ts
 * import { trainModel } from "./train.ts";
 * const { history } = await trainModel(model, data.train, data.test, {
 *   epochs: 2,
 *   onBatch: (p) => console.log(p.batch, p.loss),
 * });
 * ```
 */
export async function trainModel(
  model: tf.LayersModel,
  train: Split,
  validation: Split | null,
  options: TrainOptions = {},
): Promise<TrainResult> {
  const recipe = options.recipe ?? SEED_RECIPE;
  const epochs = options.epochs ?? recipe.epochs;
  const batchSize = options.batchSize ?? recipe.batchSize;
  if (!(Number.isInteger(epochs) && epochs >= 1)) {
    throw new Error(`epochs must be a positive integer, got ${epochs}.`);
  }
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) {
    throw new Error(`batch size must be a positive integer, got ${batchSize}.`);
  }
  if (train.count === 0) throw new Error("the training set is empty.");
  const seed = options.seed ?? 42;
  const batches = Math.ceil(train.count / batchSize);
  const optimizer = compileForRecipe(model, recipe, epochs * batches);
  const shuffleRng = makeRng(seed);
  const augmentRng = makeRng(seed ^ 0x5bd1e995);
  const calibration = recipe.recalibrateBatchNorm
    ? sample(
      train.count,
      Math.min(CALIBRATION_IMAGES, train.count),
      makeRng(seed ^ 0x27d4eb2f),
    ).sort((a, b) => a - b)
    : null;

  const dataset = tf.data.generator(function* () {
    const order = shuffledIndices(train.count, shuffleRng);
    for (let start = 0; start < train.count; start += batchSize) {
      const idx = order.subarray(
        start,
        Math.min(start + batchSize, train.count),
      );
      yield {
        xs: tf.tensor4d(
          augmentedPixels(
            train.images,
            idx,
            recipe.augmentation,
            augmentRng,
          ),
          [idx.length, 28, 28, 1],
        ),
        ys: tf.tensor2d(
          smoothedOneHot(train.labels, idx, recipe.labelSmoothing),
          [idx.length, 10],
        ),
      };
    }
  });

  const average = recipe.weightAveraging
    ? new WeightAverage(model, recipe.weightAveraging.decay)
    : null;
  const valX = validation ? imagesToTensor(validation.images) : null;
  const valY = validation ? labelsToOneHot(validation.labels) : null;
  const history: EpochRecord[] = [];
  const runStart = performance.now();
  let stopped: TrainStop | null = null;
  let interrupted = false;
  const requestedStop = (): TrainStop["reason"] | null =>
    interrupted ? "interrupt" : options.signal?.aborted ? "signal" : null;
  const listen = options.stopOnInterrupt ?? inJupyterKernel();
  const yieldEveryMs = listen || options.signal ? 100 : 0;
  let lastYield = performance.now();
  const stopListening = listen
    ? onInterrupt(() => interrupted = true)
    : () => {};
  let epochStart = 0,
    trainEnd = 0,
    lossSum = 0,
    accSum = 0,
    seen = 0,
    seenInRun = 0,
    step = 0,
    lastLr = 0;

  /** Validation loss and accuracy of the model as it is now. */
  const validate = (): [number, number] => {
    if (valX === null || valY === null) return [NaN, NaN];
    const outs = model.evaluate(valX, valY, {
      batchSize: options.validationBatchSize ?? 256,
      verbose: 0,
    }) as tf.Scalar[];
    const values = outs.map((t) => t.dataSync()[0]);
    tf.dispose(outs);
    return [values[0], values[1]];
  };

  try {
    const early = requestedStop();
    if (early !== null) {
      stopped = {
        epoch: 1,
        batch: 0,
        batches,
        reason: early,
        completedEpochs: 0,
      };
      return { history, seconds: 0, stopped };
    }
    await model.fitDataset(dataset, {
      epochs,
      verbose: 0,
      callbacks: {
        onEpochBegin: () => {
          epochStart = performance.now();
          lossSum = accSum = seen = 0;
        },
        onBatchBegin: () => {
          lastLr = learningRateAt(recipe.schedule, step, epochs * batches);
          step++;
        },
        onBatchEnd: async (batch, logs) => {
          const size = Math.min(batchSize, train.count - batch * batchSize);
          lossSum += (logs?.loss ?? NaN) * size;
          accSum += (logs?.acc ?? NaN) * size;
          seen += size;
          seenInRun += size;
          trainEnd = performance.now();
          const elapsed = (trainEnd - epochStart) / 1000;
          const ips = seen / Math.max(elapsed, 1e-9);
          options.onBatch?.({
            epoch: history.length + 1,
            epochs,
            batch: batch + 1,
            batches,
            loss: lossSum / seen,
            accuracy: accSum / seen,
            imagesPerSecond: ips,
            secondsLeft: (train.count - seen) / ips,
            lr: lastLr,
          });
          average?.update();
          // An interrupt is delivered by the event loop: give it a turn
          // every ~100 ms (tfjs's own yields can be an epoch apart).
          if (yieldEveryMs > 0 && trainEnd - lastYield >= yieldEveryMs) {
            await new Promise((resolve) => setTimeout(resolve, 0));
            lastYield = performance.now();
          }
          const reason = requestedStop();
          if (reason !== null && stopped === null) {
            stopped = {
              epoch: history.length + 1,
              batch: batch + 1,
              batches,
              reason,
              completedEpochs: history.length,
            };
            model.stopTraining = true;
          }
        },
        onEpochEnd: (epoch) => {
          // A stopped epoch is not complete: it has no validation.
          if (stopped !== null) return;
          const trainSeconds = (trainEnd - epochStart) / 1000;
          // Validate the averaged weights, if any, then train on.
          average?.swap();
          if (calibration !== null) {
            recalibrateBatchNorm(model, train, calibration);
          }
          const [valLoss, valAccuracy] = validate();
          if (epoch + 1 < epochs) average?.swap();
          const now = performance.now();
          const record: EpochRecord = {
            epoch: epoch + 1,
            loss: lossSum / seen,
            accuracy: accSum / seen,
            val_loss: valLoss,
            val_accuracy: valAccuracy,
            lr: lastLr,
            seconds: (now - epochStart) / 1000,
            images_per_second: seen / trainSeconds,
            images_seen: seenInRun,
            wall_seconds: (now - runStart) / 1000,
          };
          history.push(record);
          options.onEpoch?.(record);
        },
      },
    });
    // A run stopped mid-epoch ends with the average too, and statistics
    // that match its weights.
    if (stopped !== null) {
      average?.swap();
      if (calibration !== null) recalibrateBatchNorm(model, train, calibration);
    }
  } finally {
    stopListening();
    average?.dispose();
    tf.dispose([valX, valY].filter((t) => t !== null) as tf.Tensor[]);
    optimizer.dispose();
  }
  if (stopped !== null) options.onStop?.(stopped);
  return { history, seconds: (performance.now() - runStart) / 1000, stopped };
}
