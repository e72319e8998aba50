/**
 * The settings of a notebook run: the recipe a learner picks in the
 * notebook (default `fast`), how much data (all, or a quick run), and
 * where the notebooks keep what they write. Environment variables override
 * the notebook's choices, for headless runs:
 *
 * - `FMNIST_RECIPE=seed|fast|best`: the recipe.
 * - `FMNIST_LIMIT=N`: a quick run: train on the first N training images
 *   (the recipe's validation held out of them, or for the seed recipe the
 *   first N test images), and evaluate on the first N test images (at most
 *   10,000); the seed recipe then trains four epochs, the others their own.
 * - `FMNIST_EPOCHS=N`: epochs, overriding the recipe's.
 * - `FMNIST_OUT=DIR`: where the notebooks save and load `model.zip`
 *   (default: the project's `out/notebooks/`).
 *
 * @example
 * ```ts
 * import { limitSplits, notebookSettings } from "./settings.ts";
 * import { loadFashionMnist } from "./data.ts";
 * const settings = notebookSettings({ recipe: "fast" }); // FMNIST_* may override
 * const { train, test } = limitSplits(await loadFashionMnist(), settings);
 * ```
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FashionMnist, Split } from "./data.ts";
import { takeFirst } from "./data.ts";
import { type Recipe, recipeNamed, SEED_RECIPE } from "./recipes.ts";

/** Epochs of a quick run (`FMNIST_LIMIT`) of the seed recipe; others keep theirs. */
export const QUICK_EPOCHS = 4;

/** Where the notebooks write by default: the project's `out/notebooks/`. */
export const NOTEBOOK_OUT_DIR = fileURLToPath(
  new URL("../out/notebooks", import.meta.url),
);

/**
 * How big a notebook run is and where it keeps its model.
 *
 * @example
 * ```ts
 * import { type NotebookSettings, notebookSettings } from "./settings.ts";
 * const s: NotebookSettings = notebookSettings({ limit: 2000 });
 * s.modelPath; // where the notebooks save and load the model
 * ```
 */
export interface NotebookSettings {
  /** The recipe, with the epochs of this run. */
  recipe: Readonly<Recipe>;
  /** True when `FMNIST_LIMIT` is set. */
  quick: boolean;
  /** Training images used (`null`: all). */
  trainLimit: number | null;
  /** Test images used for validation and evaluation (`null`: all). */
  testLimit: number | null;
  epochs: number;
  /** Seed for weights, dropout, shuffling and picked examples. */
  seed: number;
  /** Folder the notebooks write to. */
  outDir: string;
  /** The model zip 03-train saves and 04/05 load. */
  modelPath: string;
}

function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new Error(
      `${name} must be a positive whole number, got "${value}"; unset it for the full run.`,
    );
  }
  return n;
}

/** Reads a variable; without permission to read it, it counts as unset. */
function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch (e) {
    if (e instanceof Deno.errors.NotCapable) return undefined;
    throw e;
  }
}

/**
 * What a notebook chooses; the environment overrides it (see the module
 * notes).
 *
 * @example
 * ```ts
 * import type { NotebookChoices } from "./settings.ts";
 * const c: NotebookChoices = { recipe: "fast", limit: 2000 };
 * ```
 */
export interface NotebookChoices {
  /** `seed`, `fast` (default) or `best`. */
  recipe?: string;
  /** Train on the first N training images (a quick run); null: all. */
  limit?: number | null;
  /**
   * Epochs (null or absent: the recipe's; 4 for a quick run of the seed
   * recipe).
   */
  epochs?: number | null;
  /** Seed of the weights, dropout, shuffling and held-out images (42). */
  seed?: number;
}

/** A chosen count, checked: a positive whole number, or null for none. */
function positiveOrNull(
  name: string,
  value: number | null | undefined,
): number | null {
  if (value === undefined || value === null) return null;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new Error(
      `${name} must be a positive whole number or null, got ${value}.`,
    );
  }
  return value;
}

/** The chosen seed, checked: a whole number from 0 to 2³² − 1. */
function seedOf(value: number | undefined): number {
  if (value === undefined) return 42;
  if (!Number.isSafeInteger(value) || value < 0 || value >= 2 ** 32) {
    throw new Error(
      `seed must be a whole number from 0 to 4294967295, got ${value}.`,
    );
  }
  return value;
}

/**
 * The settings of a notebook run: the notebook's `choices`, overridden by
 * `FMNIST_RECIPE`, `FMNIST_LIMIT`, `FMNIST_EPOCHS` and `FMNIST_OUT` from
 * the environment (or from `env`, a lookup function, for tests). Empty
 * values count as unset.
 *
 * @throws {Error} with one sentence when a value is not a positive whole number or not a recipe.
 * @example
 * ```ts
 * import { notebookSettings } from "./settings.ts";
 * const quick = notebookSettings({ recipe: "fast", limit: 2000 }, () => undefined);
 * console.log(quick.trainLimit, quick.testLimit, quick.epochs); // 2000 2000 5
 * ```
 */
export function notebookSettings(
  choices: NotebookChoices = {},
  env: (name: string) => string | undefined = readEnv,
): NotebookSettings {
  const get = (name: string) => {
    const v = env(name);
    return v === undefined || v.trim() === "" ? undefined : v;
  };
  const fromEnv = get("FMNIST_RECIPE")?.trim();
  let base: Readonly<Recipe>;
  try {
    base = recipeNamed(fromEnv ?? choices.recipe ?? "fast");
  } catch (e) {
    throw new Error(
      `${fromEnv ? "FMNIST_RECIPE: " : ""}${(e as Error).message}`,
    );
  }
  const limitText = get("FMNIST_LIMIT");
  const epochsText = get("FMNIST_EPOCHS");
  const limit = limitText !== undefined
    ? positiveInt("FMNIST_LIMIT", limitText)
    : positiveOrNull("limit", choices.limit);
  const quick = limit !== null;
  const epochs = epochsText !== undefined
    ? positiveInt("FMNIST_EPOCHS", epochsText)
    : positiveOrNull("epochs", choices.epochs) ??
      (quick && base.name === SEED_RECIPE.name ? QUICK_EPOCHS : base.epochs);
  const outDir = get("FMNIST_OUT") ?? NOTEBOOK_OUT_DIR;
  return {
    recipe: { ...base, epochs },
    quick,
    trainLimit: limit,
    testLimit: limit === null ? null : Math.min(limit, 10000),
    epochs,
    seed: seedOf(choices.seed),
    outDir,
    modelPath: join(outDir, "model.zip"),
  };
}

/**
 * The training and test splits a notebook works on: the first
 * `trainLimit` / `testLimit` images of each (views, no copy), or all of them.
 *
 * @example
 * ```ts
 * import { limitSplits } from "./settings.ts";
 * import { loadFashionMnist } from "./data.ts";
 * const { train, test } = limitSplits(await loadFashionMnist(), { trainLimit: 2000, testLimit: 500 });
 * console.log(train.count, test.count); // 2000 500
 * ```
 */
export function limitSplits(
  data: Pick<FashionMnist, "train" | "test">,
  settings: Pick<NotebookSettings, "trainLimit" | "testLimit">,
): { train: Split; test: Split } {
  return {
    train: settings.trainLimit === null
      ? data.train
      : takeFirst(data.train, settings.trainLimit),
    test: settings.testLimit === null
      ? data.test
      : takeFirst(data.test, settings.testLimit),
  };
}

/**
 * One line saying what a run with these settings does, for the top of a
 * notebook.
 *
 * @example
 * ```ts
 * import { describeSettings, notebookSettings } from "./settings.ts";
 * describeSettings(notebookSettings({}, () => undefined));
 * // "full run: all 60,000 training and 10,000 test images, fast recipe, 5 epochs, seed 42"
 * ```
 */
export function describeSettings(s: NotebookSettings): string {
  const n = (v: number) => v.toLocaleString("en-US");
  const epochs = `${s.epochs} epoch${s.epochs === 1 ? "" : "s"}`;
  const recipe = `${s.recipe.name} recipe`;
  if (!s.quick) {
    return `full run: all 60,000 training and 10,000 test images, ${recipe}, ${epochs}, seed ${s.seed}`;
  }
  return `quick run (FMNIST_LIMIT=${s.trainLimit}): the first ${
    n(s.trainLimit ?? 0)
  } training and ${
    n(s.testLimit ?? 0)
  } test images, ${recipe}, ${epochs}, seed ${s.seed}`;
}
