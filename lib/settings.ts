/**
 * The quick-run knob of the notebooks: environment variables that shrink a
 * run so every notebook executes in a few minutes, and where the notebooks
 * keep what they write.
 *
 * - `FMNIST_LIMIT=N`: train on the first N training images, validate and
 *   evaluate on the first N test images (at most 10,000), and train for
 *   four epochs. Unset: all 60,000 / 10,000 images and the seed recipe's 25
 *   epochs.
 * - `FMNIST_EPOCHS=N`: epochs, overriding either default.
 * - `FMNIST_OUT=DIR`: where the notebooks save and load `model.zip`
 *   (default: the project's `out/notebooks/`).
 *
 * @example
 * ```ts
 * import { limitSplits, notebookSettings } from "./settings.ts";
 * import { loadFashionMnist } from "./data.ts";
 * const settings = notebookSettings(); // reads FMNIST_LIMIT, FMNIST_EPOCHS, FMNIST_OUT
 * const { train, test } = limitSplits(await loadFashionMnist(), settings);
 * ```
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FashionMnist, Split } from "./data.ts";
import { takeFirst } from "./data.ts";
import { SEED_RECIPE } from "./train.ts";

/**
 * Epochs of a quick run (`FMNIST_LIMIT` set, `FMNIST_EPOCHS` not).
 *
 * @example
 * ```ts
 * import { QUICK_EPOCHS } from "./settings.ts";
 * console.log(QUICK_EPOCHS); // 4
 * ```
 */
export const QUICK_EPOCHS = 4;

/**
 * Where the notebooks write by default: the project's `out/notebooks/`.
 *
 * @example
 * ```ts
 * import { NOTEBOOK_OUT_DIR } from "./settings.ts";
 * console.log(NOTEBOOK_OUT_DIR); // e.g. "/home/me/fmnist/out/notebooks"
 * ```
 */
export const NOTEBOOK_OUT_DIR = fileURLToPath(
  new URL("../out/notebooks", import.meta.url),
);

/**
 * How big a notebook run is and where it keeps its model.
 *
 * @example
 * ```ts
 * import type { NotebookSettings } from "./settings.ts";
 * const s: NotebookSettings = {
 *   quick: true, trainLimit: 2000, testLimit: 2000, epochs: 1, seed: 42,
 *   outDir: "out/notebooks", modelPath: "out/notebooks/model.zip",
 * };
 * ```
 */
export interface NotebookSettings {
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
  /** The model bundle 03-train saves and 04/05 load. */
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
 * The settings of a notebook run, from the environment (or from `env`, a
 * lookup function, for tests). Empty values count as unset.
 *
 * @throws {Error} with one sentence when `FMNIST_LIMIT` or `FMNIST_EPOCHS` is not a positive whole number.
 * @example
 * ```ts
 * import { notebookSettings } from "./settings.ts";
 * const quick = notebookSettings((name) => name === "FMNIST_LIMIT" ? "2000" : undefined);
 * console.log(quick.trainLimit, quick.testLimit, quick.epochs); // 2000 2000 4
 * ```
 */
export function notebookSettings(
  env: (name: string) => string | undefined = readEnv,
): NotebookSettings {
  const get = (name: string) => {
    const v = env(name);
    return v === undefined || v.trim() === "" ? undefined : v;
  };
  const limitText = get("FMNIST_LIMIT");
  const epochsText = get("FMNIST_EPOCHS");
  const limit = limitText === undefined
    ? null
    : positiveInt("FMNIST_LIMIT", limitText);
  const quick = limit !== null;
  const epochs = epochsText !== undefined
    ? positiveInt("FMNIST_EPOCHS", epochsText)
    : quick
    ? QUICK_EPOCHS
    : SEED_RECIPE.epochs;
  const outDir = get("FMNIST_OUT") ?? NOTEBOOK_OUT_DIR;
  return {
    quick,
    trainLimit: limit,
    testLimit: limit === null ? null : Math.min(limit, 10000),
    epochs,
    seed: 42,
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
 * import { limitSplits, notebookSettings } from "./settings.ts";
 * const { train, test } = limitSplits(data, notebookSettings());
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
 * console.log(describeSettings(notebookSettings(() => undefined)));
 * // "full run: all 60,000 training and 10,000 test images, 25 epochs (seed recipe), seed 42"
 * ```
 */
export function describeSettings(s: NotebookSettings): string {
  const n = (v: number) => v.toLocaleString("en-US");
  const epochs = `${s.epochs} epoch${s.epochs === 1 ? "" : "s"}`;
  if (!s.quick) {
    return `full run: all 60,000 training and 10,000 test images, ${epochs}${
      s.epochs === SEED_RECIPE.epochs ? " (seed recipe)" : ""
    }, seed ${s.seed}`;
  }
  return `quick run (FMNIST_LIMIT=${s.trainLimit}): the first ${
    n(s.trainLimit ?? 0)
  } training and ${n(s.testLimit ?? 0)} test images, ${epochs}, seed ${s.seed}`;
}
