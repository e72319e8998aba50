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
import { Dropout } from "./layers.ts";
import type { TrainCheckpoint } from "./checkpoint.ts";
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
 * imagesToTensor(new Uint8Array(2 * 784)).shape; // [2, 28, 28, 1]
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
  /**
   * Stop after the batch during which this many seconds of this call have
   * passed (reason "time"); the model and a checkpoint are kept as for
   * any stop.
   */
  timeBudgetSeconds?: number;
  /**
   * Called with the run's state after every complete epoch and once more
   * when training stops early (before the weight average is swapped in),
   * so that `resume` can continue it exactly. Training waits for it.
   */
  onCheckpoint?: (checkpoint: TrainCheckpoint) => void | Promise<void>;
  /**
   * The model is compiled already (e.g. in a notebook, with
   * {@link optimizerFor}, the loss and metrics): train with its optimizer,
   * made for this run's epochs × batches, instead of compiling for the
   * recipe.
   */
  compiled?: boolean;
  /** Carried in every checkpoint's `meta` (e.g. the settings of a CLI run). */
  checkpointMeta?: Record<string, unknown>;
  /**
   * Continue from this checkpoint (from `onCheckpoint` or `loadCheckpoint`)
   * instead of starting afresh: `model` must be a freshly built model of
   * the same architecture, `train` the same images, and the recipe, epochs,
   * batch size and seed those of the checkpoint. With the same thread count
   * the weights at the end are byte for byte those of an uninterrupted run.
   */
  resume?: TrainCheckpoint;
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
  /**
   * "interrupt": Jupyter's Stop or Ctrl-C; "signal": the `signal` option;
   * "time": the `timeBudgetSeconds` option.
   */
  reason: "interrupt" | "signal" | "time";
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
  const why = stop.reason === "interrupt"
    ? "on interrupt"
    : stop.reason === "time"
    ? "at its time budget"
    : "on request";
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
 * import { describeStop, type TrainResult } from "./train.ts";
 * declare const result: TrainResult; // from trainModel
 * console.log(result.stopped ? describeStop(result.stopped) : `${result.history.length} epochs`);
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
 * The recipe's optimizer, its learning rate following the schedule over
 * `totalSteps` batches: SGD with momentum ({@link ScheduledMomentumSGD};
 * for the seed recipe, exactly Keras's decayed SGD) or Adam
 * ({@link ScheduledAdam}), with the recipe's weight decay.
 *
 * @example
 * ```ts
 * import { optimizerFor } from "./train.ts";
 * import { FAST_RECIPE } from "./recipes.ts";
 * import { tf } from "./tf.ts";
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 10, inputShape: [784] })] });
 * const optimizer = optimizerFor(FAST_RECIPE, 5 * 1719); // 5 epochs of 1,719 batches
 * model.compile({ optimizer, loss: "categoricalCrossentropy", metrics: ["accuracy"] });
 * ```
 */
export function optimizerFor(
  recipe: Readonly<Recipe>,
  totalSteps: number,
): ScheduledMomentumSGD | ScheduledAdam {
  const o = recipe.optimizer;
  return o.kind === "sgd"
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
}

/**
 * Compiles `model` for a recipe, as Keras's tutorial does: the recipe's
 * optimizer ({@link optimizerFor}), categorical cross-entropy, accuracy.
 * Returns the optimizer.
 *
 * @example
 * ```ts
 * import { compileForRecipe } from "./train.ts";
 * import { SEED_RECIPE } from "./recipes.ts";
 * import { tf } from "./tf.ts";
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 10, inputShape: [784] })] });
 * compileForRecipe(model, SEED_RECIPE, 25 * 1875); // 25 epochs of 1,875 batches
 * ```
 */
export function compileForRecipe(
  model: tf.LayersModel,
  recipe: Readonly<Recipe>,
  totalSteps = 1,
): ScheduledMomentumSGD | ScheduledAdam {
  const optimizer = optimizerFor(recipe, totalSteps);
  model.compile({
    optimizer,
    loss: "categoricalCrossentropy",
    metrics: ["accuracy"],
  });
  return optimizer;
}

/** The optimizer a model was compiled with, checked for a run of `steps`. */
function compiledOptimizer(
  model: tf.LayersModel,
  steps: number,
): ScheduledMomentumSGD | ScheduledAdam {
  const o = model.optimizer as unknown;
  if (!(o instanceof ScheduledAdam || o instanceof ScheduledMomentumSGD)) {
    throw new Error(
      "the model is not compiled with a recipe's optimizer; compile it with optimizerFor(recipe, steps), or leave out `compiled`.",
    );
  }
  if (o.totalSteps !== steps) {
    throw new Error(
      `the model's optimizer was made for ${o.totalSteps} batches, this run has ${steps} (epochs × batches per epoch); compile it again with optimizerFor(recipe, ${steps}).`,
    );
  }
  if (o.iterations > 0) {
    throw new Error(
      "the model's optimizer has trained already; compile the model again before training it again.",
    );
  }
  return o;
}

/** What {@link recalibrateBatchNorm} changes on a batch-norm layer. */
interface BatchNormLike {
  momentum: number;
}

const isBatchNorm = (layer: tf.layers.Layer) =>
  layer.getClassName() === "BatchNormalization";

/**
 * Re-estimates every batch-normalisation layer's moving mean and variance
 * from the images of `split` at `indices` (default: all): the average of
 * the batches' own statistics, dropout off, layer after layer. Weights are
 * not touched. Training's moving averages lag behind the weights, far
 * behind in short runs; after this they match them.
 *
 * @example
 * ```ts
 * import { recalibrateBatchNorm } from "./train.ts";
 * import { loadFashionMnist } from "./data.ts";
 * import type { tf } from "./tf.ts";
 * declare const model: tf.LayersModel; // a trained MiniVGGNet
 * const { train } = await loadFashionMnist();
 * recalibrateBatchNorm(model, train, [0, 1, 2, 3]);
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
 * import { WeightAverage } from "./train.ts";
 * import { tf } from "./tf.ts";
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [1] })] });
 * const ema = new WeightAverage(model, 0.999);
 * ema.update(); // after each batch
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

  /** The average's values and step count, for a checkpoint. */
  exportState(): { steps: number; values: Float32Array[] } {
    return {
      steps: this.#steps,
      values: this.#average.map((a) =>
        Float32Array.from(a.dataSync() as Float32Array)
      ),
    };
  }

  /** Sets the average back to a checkpoint's values and step count. */
  importState(state: { steps: number; values: Float32Array[] }): void {
    if (state.values.length !== this.#average.length) {
      throw new Error(
        `the checkpoint averages ${state.values.length} weights, the model has ${this.#average.length}.`,
      );
    }
    tf.tidy(() => {
      this.#average.forEach((a, i) => {
        if (state.values[i].length !== a.size) {
          throw new Error(
            `averaged weight ${i} has ${
              state.values[i].length
            } values in the checkpoint, ${a.size} in the model.`,
          );
        }
        a.assign(tf.tensor(state.values[i], a.shape));
      });
    });
    this.#steps = state.steps;
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
 * Stops after the current batch when `signal` is aborted, when the time
 * budget is spent or, inside Jupyter, when the kernel is interrupted
 * (Stop); the result then says where ({@link TrainStop}) and the model
 * can be used or trained further. `onCheckpoint` receives the run's state
 * after every epoch and at a stop; `resume` continues from one exactly.
 *
 * @example
 * ```ts
 * import { trainModel } from "./train.ts";
 * import { buildMiniVGGNet, initWasmBackend, loadFashionMnist, takeFirst } from "./mod.ts";
 * await initWasmBackend();
 * const { train, test } = await loadFashionMnist();
 * const { history } = await trainModel(buildMiniVGGNet(), takeFirst(train, 1000), test, {
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
  const epochs = options.epochs ?? options.recipe?.epochs ??
    SEED_RECIPE.epochs;
  const batchSize = options.batchSize ?? options.recipe?.batchSize ??
    SEED_RECIPE.batchSize;
  if (!(Number.isInteger(epochs) && epochs >= 1)) {
    throw new Error(`epochs must be a positive integer, got ${epochs}.`);
  }
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) {
    throw new Error(`batch size must be a positive integer, got ${batchSize}.`);
  }
  const recipe: Readonly<Recipe> = {
    ...(options.recipe ?? SEED_RECIPE),
    epochs,
    batchSize,
  };
  if (train.count === 0) throw new Error("the training set is empty.");
  const seed = options.seed ?? 42;
  const resume = options.resume ?? null;
  if (resume !== null) checkResumable(resume, recipe, seed, train, model);
  const batches = Math.ceil(train.count / batchSize);
  const optimizer = options.compiled
    ? compiledOptimizer(model, epochs * batches)
    : compileForRecipe(model, recipe, epochs * batches);
  const shuffleRng = makeRng(seed);
  const augmentRng = makeRng(seed ^ 0x5bd1e995);
  const dropouts = model.layers.filter((l) =>
    l instanceof Dropout
  ) as Dropout[];
  const trainable = () =>
    model.trainableWeights.map((w) => w.read() as tf.Variable);
  const calibration = recipe.recalibrateBatchNorm
    ? sample(
      train.count,
      Math.min(CALIBRATION_IMAGES, train.count),
      makeRng(seed ^ 0x27d4eb2f),
    ).sort((a, b) => a - b)
    : null;

  // The batches of an epoch already trained before a resume are skipped
  // (their order is drawn again from the stream as it stood then).
  let skipBatches = 0;
  let epochShuffleState = shuffleRng.state;
  const dataset = tf.data.generator(function* () {
    epochShuffleState = shuffleRng.state;
    const order = shuffledIndices(train.count, shuffleRng);
    const first = skipBatches * batchSize;
    skipBatches = 0;
    for (let start = first; start < train.count; start += batchSize) {
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
  let elapsedBefore = 0;
  let stopped: TrainStop | null = null;
  let interrupted = false;
  const overTime = () =>
    options.timeBudgetSeconds !== undefined &&
    (performance.now() - runStart) / 1000 >= options.timeBudgetSeconds;
  // The time budget is checked after batches: every call trains one.
  const requestedStop = (afterBatch = true): TrainStop["reason"] | null =>
    interrupted
      ? "interrupt"
      : options.signal?.aborted
      ? "signal"
      : afterBatch && overTime()
      ? "time"
      : null;
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
    lastLr = 0,
    // Batches of the current epoch before this call (after a resume).
    batchOffset = 0,
    // Seconds of the current epoch before this call (after a resume).
    epochSecondsBefore = 0;
  const elapsed = () => elapsedBefore + (performance.now() - runStart) / 1000;

  const checkpoint = (): TrainCheckpoint => ({
    recipe: structuredClone(recipe) as Recipe,
    seed,
    trainCount: train.count,
    epochsDone: history.length,
    batchesDone: stopped === null ? 0 : stopped.batch,
    step,
    imagesSeen: seenInRun,
    elapsedSeconds: elapsed(),
    history: history.map((r) => ({ ...r })),
    epochProgress: stopped === null ? null : {
      lossSum,
      accSum,
      seen,
      seconds: epochSecondsBefore + (trainEnd - epochStart) / 1000,
    },
    rng: {
      shuffle: shuffleRng.state,
      epochShuffle: epochShuffleState,
      augment: augmentRng.state,
      dropout: dropouts.map((d) => d.maskState),
    },
    weights: model.weights.map((w) =>
      Float32Array.from(w.read().dataSync() as Float32Array)
    ),
    optimizer: optimizer.exportState(trainable()),
    average: average?.exportState() ?? null,
    meta: { ...options.checkpointMeta },
  });

  if (resume !== null) {
    const tensors = resume.weights.map((values, i) =>
      tf.tensor(values, model.weights[i].shape as number[])
    );
    model.setWeights(tensors);
    tf.dispose(tensors);
    optimizer.importState(resume.optimizer, trainable());
    if (average !== null && resume.average !== null) {
      average.importState(resume.average);
    }
    dropouts.forEach((d, i) => d.maskState = resume.rng.dropout[i]);
    augmentRng.state = resume.rng.augment;
    if (resume.batchesDone > 0) {
      shuffleRng.state = resume.rng.epochShuffle;
      skipBatches = resume.batchesDone;
    } else {
      shuffleRng.state = resume.rng.shuffle;
    }
    history.push(...resume.history.map((r) => ({ ...r })));
    step = resume.step;
    seenInRun = resume.imagesSeen;
    elapsedBefore = resume.elapsedSeconds;
  }

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
    const early = requestedStop(false);
    if (early !== null) {
      stopped = {
        epoch: history.length + 1,
        batch: resume?.batchesDone ?? 0,
        batches,
        reason: early,
        completedEpochs: history.length,
      };
      return { history, seconds: 0, stopped };
    }
    if (history.length < epochs) {
      await model.fitDataset(dataset, {
        epochs,
        initialEpoch: history.length,
        verbose: 0,
        callbacks: {
          onEpochBegin: () => {
            epochStart = performance.now();
            const progress = resume !== null && history.length ===
                resume.epochsDone
              ? resume.epochProgress
              : null;
            lossSum = progress?.lossSum ?? 0;
            accSum = progress?.accSum ?? 0;
            seen = progress?.seen ?? 0;
            epochSecondsBefore = progress?.seconds ?? 0;
            batchOffset = progress === null ? 0 : resume!.batchesDone;
          },
          onBatchBegin: () => {
            lastLr = learningRateAt(recipe.schedule, step, epochs * batches);
            step++;
          },
          onBatchEnd: async (batchInCall, logs) => {
            const batch = batchInCall + batchOffset;
            const size = Math.min(batchSize, train.count - batch * batchSize);
            lossSum += (logs?.loss ?? NaN) * size;
            accSum += (logs?.acc ?? NaN) * size;
            seen += size;
            seenInRun += size;
            trainEnd = performance.now();
            const seconds = epochSecondsBefore + (trainEnd - epochStart) / 1000;
            const ips = seen / Math.max(seconds, 1e-9);
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
            // every `yieldEveryMs` (tfjs's own yields can be an epoch apart).
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
          onEpochEnd: async (epoch) => {
            // A stopped epoch is not complete: it has no validation.
            if (stopped !== null) return;
            const seconds = epochSecondsBefore + (trainEnd - epochStart) / 1000;
            // Validate the averaged weights, if any, then train on.
            average?.swap();
            if (calibration !== null) {
              recalibrateBatchNorm(model, train, calibration);
            }
            const [valLoss, valAccuracy] = validate();
            if (epoch + 1 < epochs) average?.swap();
            const record: EpochRecord = {
              epoch: epoch + 1,
              loss: lossSum / seen,
              accuracy: accSum / seen,
              val_loss: valLoss,
              val_accuracy: valAccuracy,
              lr: lastLr,
              seconds: epochSecondsBefore +
                (performance.now() - epochStart) / 1000,
              images_per_second: seen / seconds,
              images_seen: seenInRun,
              wall_seconds: elapsed(),
            };
            history.push(record);
            options.onEpoch?.(record);
            if (options.onCheckpoint) await options.onCheckpoint(checkpoint());
          },
        },
      });
    }
    // A run stopped mid-epoch ends with the average too, and statistics
    // that match its weights; its checkpoint is taken before that.
    if (stopped !== null) {
      if (options.onCheckpoint) await options.onCheckpoint(checkpoint());
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

/** Throws one sentence when `c` cannot continue this run. */
function checkResumable(
  c: TrainCheckpoint,
  recipe: Readonly<Recipe>,
  seed: number,
  train: Split,
  model: tf.LayersModel,
): void {
  const differs = (what: string, saved: unknown, now: unknown) =>
    new Error(
      `the checkpoint was made with ${what} ${saved}, this run has ${now}: resume with the same settings.`,
    );
  if (JSON.stringify(c.recipe) !== JSON.stringify(recipe)) {
    throw differs(
      "the recipe",
      JSON.stringify(c.recipe),
      JSON.stringify(recipe),
    );
  }
  if (c.seed !== seed) throw differs("seed", c.seed, seed);
  if (c.trainCount !== train.count) {
    throw differs("training images:", c.trainCount, train.count);
  }
  const sizes = model.weights.map((w) =>
    (w.shape as number[]).reduce((a, b) => a * b, 1)
  );
  if (
    c.weights.length !== sizes.length ||
    c.weights.some((w, i) => w.length !== sizes[i])
  ) {
    throw new Error(
      "the checkpoint's weights do not fit this model: resume with the model the run was started with.",
    );
  }
  const dropouts = model.layers.filter((l) => l instanceof Dropout).length;
  if (c.rng.dropout.length !== dropouts) {
    throw new Error(
      `the checkpoint has ${c.rng.dropout.length} dropout streams, the model ${dropouts} dropout layers.`,
    );
  }
}
