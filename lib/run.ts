/**
 * A whole training run by a recipe: the training and validation images the
 * recipe asks for, the training, and then — once — the test set. Used by
 * `deno task train`; a notebook or script can call it the same way.
 *
 * @example
 * ```ts
 * import { initWasmBackend, loadFashionMnist, recipeNamed, runRecipe } from "./mod.ts";
 * await initWasmBackend();
 * const data = await loadFashionMnist();
 * const run = await runRecipe(data, recipeNamed("fast"), { seed: 42 });
 * console.log(run.testAccuracy, run.history.at(-1)?.val_accuracy);
 * run.model.dispose();
 * ```
 *
 * @module
 */
import type { tf } from "./tf.ts";
import { type Split, takeFirst } from "./data.ts";
import { buildMiniVGGNet } from "./model.ts";
import type { Recipe } from "./recipes.ts";
import { type HoldoutInfo, holdoutSplit } from "./splits.ts";
import { trainModel, type TrainOptions, type TrainResult } from "./train.ts";
import { type Predictions, predictSplit } from "./evaluate.ts";

/**
 * The training and validation images of a run: for a recipe that
 * validates on the test set (the seed recipe, as the original), the
 * training set and the test set; otherwise a held-out part of the
 * training set, drawn with `seed`: the recipe's size, or a twelfth of a
 * smaller training set, whichever is smaller. `holdout` says how it was
 * drawn (null for the test set).
 *
 * @example
 * ```ts
 * import { recipeSplits } from "./run.ts";
 * import { FAST_RECIPE } from "./recipes.ts";
 * import { loadFashionMnist } from "./data.ts";
 * const data = await loadFashionMnist();
 * const { train, validation, holdout } = recipeSplits(FAST_RECIPE, data.train, data.test, 42);
 * ```
 */
export function recipeSplits(
  recipe: Readonly<Recipe>,
  train: Split,
  test: Split,
  seed: number,
): { train: Split; validation: Split; holdout: HoldoutInfo | null } {
  if (recipe.validation.kind === "test") {
    return { train, validation: test, holdout: null };
  }
  const size = Math.min(recipe.validation.size, Math.floor(train.count / 12));
  if (size < 1) {
    throw new RangeError(
      `${train.count} training images are too few to hold some out for validation; use 12 or more.`,
    );
  }
  const parts = holdoutSplit(train, size, seed);
  return {
    train: parts.train,
    validation: parts.validation,
    holdout: parts.info,
  };
}

/**
 * Options of {@link runRecipe}: the seed (weights, dropout, shuffling,
 * augmentation and the held-out split; default 42), a limit on the
 * training images (the first N), and `trainModel`'s callbacks, stops,
 * checkpoints and resume.
 *
 * @example
 * ```ts
 * import type { RunOptions } from "./run.ts";
 * const o: RunOptions = { seed: 1, limit: 2000, onEpoch: (r) => console.log(r.val_accuracy) };
 * ```
 */
export interface RunOptions extends
  Pick<
    TrainOptions,
    | "onBatch"
    | "onEpoch"
    | "onStop"
    | "signal"
    | "stopOnInterrupt"
    | "timeBudgetSeconds"
    | "onCheckpoint"
    | "checkpointMeta"
    | "resume"
  > {
  seed?: number;
  limit?: number;
  /** Called before training with the images chosen and the recipe used. */
  onStart?: (start: {
    train: number;
    validation: number;
    holdout: HoldoutInfo | null;
    recipe: Readonly<Recipe>;
  }) => void;
  /** Called after training, before the test images are classified. */
  onTest?: (test: { images: number }) => void;
}

/**
 * What {@link runRecipe} returns: the trained model (yours to dispose),
 * the training result, the split actually used, and the test set's
 * predictions, plain and with flipped copies averaged in (test-time
 * augmentation), with their accuracies.
 *
 * @example
 * ```ts
 * import type { RecipeRun } from "./run.ts";
 * declare const run: RecipeRun; // from runRecipe
 * console.log(run.testAccuracy, run.testAccuracyWithFlips);
 * ```
 */
export interface RecipeRun extends TrainResult {
  model: tf.LayersModel;
  recipe: Readonly<Recipe>;
  seed: number;
  train: Split;
  validation: Split;
  holdout: HoldoutInfo | null;
  predictions: Predictions;
  flipPredictions: Predictions;
  testAccuracy: number;
  testAccuracyWithFlips: number;
}

/**
 * The share of `labels` that `predictions` get right (NaN for none).
 *
 * @example
 * ```ts
 * import { accuracyOf } from "./run.ts";
 * accuracyOf({ predicted: new Uint8Array([1, 2]), count: 2 }, new Uint8Array([1, 3])); // 0.5
 * ```
 */
export function accuracyOf(
  predictions: Pick<Predictions, "predicted" | "count">,
  labels: Uint8Array,
): number {
  let right = 0;
  for (let i = 0; i < predictions.count; i++) {
    if (predictions.predicted[i] === labels[i]) right++;
  }
  return predictions.count === 0 ? NaN : right / predictions.count;
}

/**
 * Builds MiniVGGNet with `seed`, trains it by `recipe` on `data.train`
 * (the first `limit` images, if given), validating as the recipe says,
 * and only then classifies `data.test` — the one time the test set is
 * read when the recipe holds out its own validation images.
 *
 * @example
 * ```ts
 * import { runRecipe } from "./run.ts";
 * import { FAST_RECIPE } from "./recipes.ts";
 * import { initWasmBackend } from "./backend/mod.ts";
 * import { loadFashionMnist } from "./data.ts";
 * await initWasmBackend();
 * const data = await loadFashionMnist();
 * const run = await runRecipe(data, FAST_RECIPE, { seed: 7, limit: 2000 });
 * ```
 */
export async function runRecipe(
  data: { train: Split; test: Split },
  recipe: Readonly<Recipe>,
  options: RunOptions = {},
): Promise<RecipeRun> {
  const seed = options.seed ?? 42;
  const limited = options.limit === undefined
    ? data.train
    : takeFirst(data.train, options.limit);
  const { train, validation, holdout } = recipe.validation.kind === "test"
    ? recipeSplits(recipe, limited, data.test, seed)
    : recipeSplits(recipe, limited, limited, seed);
  const used: Readonly<Recipe> = holdout
    ? { ...recipe, validation: { kind: "holdout", size: holdout.validation } }
    : recipe;
  options.onStart?.({
    train: train.count,
    validation: validation.count,
    holdout,
    recipe: used,
  });
  const model = buildMiniVGGNet({ seed });
  try {
    const result = await trainModel(model, train, validation, {
      recipe: used,
      seed,
      onBatch: options.onBatch,
      onEpoch: options.onEpoch,
      onStop: options.onStop,
      signal: options.signal,
      stopOnInterrupt: options.stopOnInterrupt,
      timeBudgetSeconds: options.timeBudgetSeconds,
      onCheckpoint: options.onCheckpoint,
      checkpointMeta: options.checkpointMeta,
      resume: options.resume,
    });
    options.onTest?.({ images: data.test.count });
    const predictions = predictSplit(model, data.test);
    const flipPredictions = predictSplit(model, data.test, 256, {
      flip: true,
    });
    return {
      ...result,
      model,
      recipe: used,
      seed,
      train,
      validation,
      holdout,
      predictions,
      flipPredictions,
      testAccuracy: accuracyOf(predictions, data.test.labels),
      testAccuracyWithFlips: accuracyOf(flipPredictions, data.test.labels),
    };
  } catch (e) {
    model.dispose();
    throw e;
  }
}
