/**
 * Training recipes as plain data: one object says everything about how a
 * model is trained — optimizer, learning-rate schedule, batch size, epochs,
 * regularisation, augmentation and what validates it — so a learner can
 * read it, print it and copy it, and a run records it whole.
 *
 * - {@link SEED_RECIPE}: the original Keras tutorial's, faithfully
 *   (including its validation on the test set).
 * - {@link FAST_RECIPE}: seed accuracy in 5 epochs.
 * - {@link BEST_RECIPE}: the best this MiniVGGNet reaches within an hour.
 *
 * @example
 * ```ts
 * import { learningRateAt, recipeNamed } from "./recipes.ts";
 * const r = recipeNamed("best");
 * learningRateAt(r.schedule, 0, 1000); // the learning rate of the first batch
 * ```
 *
 * @module
 */

/**
 * How the learning rate moves with the batches seen so far (`t`, 0-based,
 * out of `T` in the whole run):
 *
 * - `time-decay`: Keras's `decay`, lr(t) = initial / (1 + decay · t);
 * - `one-cycle`: a linear warm-up from `peak · startFactor` to `peak` over
 *   the first `warmupFraction` of the run, then a cosine down to
 *   `peak · endFactor` at the last batch.
 *
 * @example
 * ```ts
 * import type { LearningRateSchedule } from "./recipes.ts";
 * const s: LearningRateSchedule = { kind: "time-decay", initial: 0.01, decay: 4e-4 };
 * ```
 */
export type LearningRateSchedule =
  | { kind: "time-decay"; initial: number; decay: number }
  | {
    kind: "one-cycle";
    peak: number;
    warmupFraction: number;
    startFactor: number;
    endFactor: number;
  };

/**
 * Random changes made to each training image every time it is seen (never
 * to validation or test images): a shift by up to `maxShift` pixels in
 * each direction (the border filled with black, the background), and a
 * left–right flip with probability ½ if `flip` (a mirrored shirt is still
 * a shirt: every Fashion-MNIST class keeps its label).
 *
 * @example
 * ```ts
 * import type { Augmentation } from "./recipes.ts";
 * const a: Augmentation = { maxShift: 2, flip: true };
 * ```
 */
export interface Augmentation {
  maxShift: number;
  flip: boolean;
}

/**
 * What validates a run after every epoch: the test set, as the original
 * tutorial does (`test`), or a held-out part of the training set, drawn
 * with the run's seed and never trained on (`holdout`), so the test set is
 * read only once, at the end.
 *
 * @example
 * ```ts
 * import type { Validation } from "./recipes.ts";
 * const v: Validation = { kind: "holdout", size: 5000 };
 * ```
 */
export type Validation = { kind: "test" } | { kind: "holdout"; size: number };

/**
 * A training recipe. Every field is plain data (see the module notes).
 *
 * @example
 * ```ts
 * import { FAST_RECIPE, type Recipe } from "./recipes.ts";
 * const mine: Recipe = { ...FAST_RECIPE, name: "mine", epochs: 3 };
 * ```
 */
export interface Recipe {
  /** Short name: `seed`, `fast`, `best`, or your own. */
  name: string;
  /** One line on what it is for and where it comes from. */
  description: string;
  /**
   * Stochastic gradient descent with (heavy-ball) momentum, with an L2
   * penalty on the convolution and dense kernels (not biases or batch
   * norm); or Adam with that decay decoupled from the gradient (AdamW).
   */
  optimizer:
    | { kind: "sgd"; momentum: number; weightDecay: number }
    | {
      kind: "adam";
      beta1: number;
      beta2: number;
      epsilon: number;
      weightDecay: number;
    };
  schedule: LearningRateSchedule;
  batchSize: number;
  epochs: number;
  /** Targets (1 − ε) on the true class and ε/10 on every class (0: one-hot). */
  labelSmoothing: number;
  /** Random changes to training images, or null for none. */
  augmentation: Augmentation | null;
  validation: Validation;
  /**
   * Re-estimate the batch-normalisation statistics (exact means and
   * variances over a sample of training images, dropout off) before each
   * validation and at the end, instead of relying on the moving averages
   * alone (they lag far behind in short runs).
   */
  recalibrateBatchNorm: boolean;
  /**
   * Validate and finish with an exponential moving average of the weights
   * (`decay` per batch, warmed up as min(decay, (1 + t)/(10 + t))), or
   * null to use the weights as trained.
   */
  weightAveraging: { kind: "ema"; decay: number } | null;
}

/**
 * The original Keras tutorial's recipe, reproduced (see its `description`).
 *
 * @example
 * ```ts
 * import { SEED_RECIPE } from "./recipes.ts";
 * SEED_RECIPE.validation; // { kind: "test" }, as the original validates
 * ```
 */
export const SEED_RECIPE: Readonly<Recipe> = deepFreeze({
  name: "seed",
  description:
    "The original Keras MiniVGGNet tutorial's recipe, reproduced: SGD momentum 0.9, lr 0.01 with per-batch decay 0.01/25, batch 32, 25 epochs, validation on the test set (as the original does).",
  optimizer: { kind: "sgd", momentum: 0.9, weightDecay: 0 },
  schedule: { kind: "time-decay", initial: 0.01, decay: 0.01 / 25 },
  batchSize: 32,
  epochs: 25,
  labelSmoothing: 0,
  augmentation: null,
  validation: { kind: "test" },
  recalibrateBatchNorm: false,
  weightAveraging: null,
});

/**
 * Seed accuracy in 5 epochs (see its `description`); no augmentation, which
 * costs more than it gives back in runs this short (see the README).
 *
 * @example
 * ```ts
 * import { FAST_RECIPE } from "./recipes.ts";
 * FAST_RECIPE.epochs; // 5
 * ```
 */
export const FAST_RECIPE: Readonly<Recipe> = deepFreeze({
  name: "fast",
  description:
    "Seed accuracy in 5 epochs: Adam (decoupled weight decay 1e-4), one-cycle lr (warm-up to 0.0015, cosine down), batch 32, label smoothing 0.1, no augmentation, batch-norm statistics re-estimated; validation on 5,000 held-out training images.",
  optimizer: {
    kind: "adam",
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-7,
    weightDecay: 1e-4,
  },
  schedule: {
    kind: "one-cycle",
    peak: 0.0015,
    warmupFraction: 0.2,
    startFactor: 0.1,
    endFactor: 0.002,
  },
  batchSize: 32,
  epochs: 5,
  labelSmoothing: 0.1,
  augmentation: null,
  validation: { kind: "holdout", size: 5000 },
  recalibrateBatchNorm: true,
  weightAveraging: null,
});

/**
 * The fast recipe's means over a long run, with the regularisation one
 * needs (see its `description`): the best this MiniVGGNet reaches.
 *
 * @example
 * ```ts
 * import { BEST_RECIPE } from "./recipes.ts";
 * BEST_RECIPE.augmentation; // { maxShift: 2, flip: true }
 * ```
 */
export const BEST_RECIPE: Readonly<Recipe> = deepFreeze({
  name: "best",
  description:
    "The best within an hour: Adam (decoupled weight decay 0.01), one-cycle lr (warm-up to 0.003, cosine down), batch 128, 40 epochs, label smoothing 0.1, shifts of up to 2 pixels and flips, batch-norm statistics re-estimated, weights averaged (EMA 0.999); validation on 5,000 held-out training images.",
  optimizer: {
    kind: "adam",
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-7,
    weightDecay: 0.01,
  },
  schedule: {
    kind: "one-cycle",
    peak: 0.003,
    warmupFraction: 0.15,
    startFactor: 0.1,
    endFactor: 0.002,
  },
  batchSize: 128,
  epochs: 40,
  labelSmoothing: 0.1,
  augmentation: { maxShift: 2, flip: true },
  validation: { kind: "holdout", size: 5000 },
  recalibrateBatchNorm: true,
  weightAveraging: { kind: "ema", decay: 0.999 },
});

/**
 * The recipes by name.
 *
 * @example
 * ```ts
 * import { RECIPES } from "./recipes.ts";
 * Object.keys(RECIPES); // ["seed", "fast", "best"]
 * ```
 */
export const RECIPES: Readonly<Record<string, Readonly<Recipe>>> = Object
  .freeze({ seed: SEED_RECIPE, fast: FAST_RECIPE, best: BEST_RECIPE });

/**
 * The recipe called `name`, or an Error naming the choices.
 *
 * @example
 * ```ts
 * import { recipeNamed } from "./recipes.ts";
 * recipeNamed("fast").epochs; // 5
 * ```
 */
export function recipeNamed(name: string): Readonly<Recipe> {
  const recipe = Object.hasOwn(RECIPES, name) ? RECIPES[name] : undefined;
  if (recipe === undefined) {
    throw new Error(
      `there is no recipe "${name}"; choose one of ${
        Object.keys(RECIPES).join(", ")
      }.`,
    );
  }
  return recipe;
}

/**
 * The learning rate of batch `t` (0-based) of a run of `total` batches.
 *
 * @example
 * ```ts
 * import { learningRateAt } from "./recipes.ts";
 * learningRateAt({ kind: "time-decay", initial: 0.01, decay: 4e-4 }, 2500, 46875); // 0.005
 * const s = { kind: "one-cycle", peak: 0.1, warmupFraction: 0.2, startFactor: 0.1, endFactor: 0 } as const;
 * learningRateAt(s, 200, 1000); // 0.1, the peak, at the end of the warm-up
 * ```
 */
export function learningRateAt(
  schedule: LearningRateSchedule,
  t: number,
  total: number,
): number {
  if (schedule.kind === "time-decay") {
    return schedule.initial / (1 + schedule.decay * t);
  }
  const { peak, warmupFraction, startFactor, endFactor } = schedule;
  const warmup = Math.round(warmupFraction * total);
  if (t < warmup) {
    return peak * (startFactor + (1 - startFactor) * (t / warmup));
  }
  const rest = Math.max(1, total - 1 - warmup);
  const p = Math.min(1, (t - warmup) / rest);
  return peak * (endFactor + (1 - endFactor) * (1 + Math.cos(Math.PI * p)) / 2);
}

/**
 * One line summing a recipe up, for logs and `run.json` readers.
 *
 * @example
 * ```ts
 * import { describeRecipe, SEED_RECIPE } from "./recipes.ts";
 * describeRecipe(SEED_RECIPE);
 * // "seed: 25 epochs, batch 32, SGD momentum 0.9, lr 0.01 decayed by 0.0004 per batch, validation on the test set"
 * ```
 */
export function describeRecipe(r: Readonly<Recipe>): string {
  const s = r.schedule;
  const lr = s.kind === "time-decay"
    ? `lr ${s.initial} decayed by ${s.decay} per batch`
    : `one-cycle lr to ${s.peak}`;
  const o = r.optimizer;
  const parts = [
    `${r.epochs} epoch${r.epochs === 1 ? "" : "s"}`,
    `batch ${r.batchSize}`,
    o.kind === "sgd"
      ? `SGD momentum ${o.momentum}`
      : `Adam (β ${o.beta1}, ${o.beta2})`,
    lr,
  ];
  if (r.optimizer.weightDecay > 0) {
    parts.push(`weight decay ${r.optimizer.weightDecay}`);
  }
  if (r.labelSmoothing > 0) parts.push(`label smoothing ${r.labelSmoothing}`);
  if (r.augmentation) {
    parts.push(
      `shifts ≤ ${r.augmentation.maxShift} px${
        r.augmentation.flip ? " and flips" : ""
      }`,
    );
  }
  if (r.recalibrateBatchNorm) parts.push("batch norm re-estimated");
  if (r.weightAveraging) {
    parts.push(`weights averaged (EMA ${r.weightAveraging.decay})`);
  }
  parts.push(
    r.validation.kind === "test"
      ? "validation on the test set"
      : `validation on ${
        r.validation.size.toLocaleString("en-US")
      } held-out training images`,
  );
  return `${r.name}: ${parts.join(", ")}`;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
