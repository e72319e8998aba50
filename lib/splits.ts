/**
 * Held-out validation: a seeded part of the training set set aside before
 * training, never trained on, so a recipe can choose anything (its
 * schedule, when to stop) without looking at the test set.
 *
 * @example
 * ```ts
 * import { holdoutSplit } from "./splits.ts";
 * import { loadFashionMnist } from "./data.ts";
 * const data = await loadFashionMnist();
 * const { train, validation } = holdoutSplit(data.train, 5000, 42);
 * ```
 *
 * @module
 */
import type { Split } from "./data.ts";
import { makeRng, shuffledIndices } from "./random.ts";

const PIXELS = 28 * 28;

/**
 * The images and labels at `indices` (in that order) as a split of their
 * own (copied).
 *
 * @example
 * ```ts
 * import { pick } from "./splits.ts";
 * const split = { images: new Uint8Array(3 * 784), labels: new Uint8Array([4, 5, 6]), count: 3 };
 * pick(split, [0, 2]).labels; // Uint8Array [4, 6]
 * ```
 */
export function pick(split: Split, indices: ArrayLike<number>): Split {
  const n = indices.length;
  const images = new Uint8Array(n * PIXELS);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const k = indices[i];
    if (!(k >= 0 && k < split.count)) {
      throw new RangeError(`index ${k} is outside a split of ${split.count}.`);
    }
    images.set(split.images.subarray(k * PIXELS, (k + 1) * PIXELS), i * PIXELS);
    labels[i] = split.labels[k];
  }
  return { images, labels, count: n };
}

/**
 * How a held-out split was drawn, for `run.json`.
 *
 * @example
 * ```ts
 * import type { HoldoutInfo } from "./splits.ts";
 * const h: HoldoutInfo = { from: 60000, train: 55000, validation: 5000, seed: 42, how: "…" };
 * ```
 */
export interface HoldoutInfo {
  /** Images in the split that was divided. */
  from: number;
  train: number;
  validation: number;
  seed: number;
  how: string;
}

/**
 * Divides `split` into `size` validation images drawn at random with
 * `seed` (a seeded shuffle; the first `size` of it) and the rest for
 * training, both in their original order. Disjoint, and together exactly
 * `split`. `size` must leave at least one training image. Also returns
 * the indices (into `split`, ascending) of either part.
 *
 * @example
 * ```ts
 * import { holdoutSplit } from "./splits.ts";
 * import { loadFashionMnist } from "./data.ts";
 * const data = await loadFashionMnist();
 * const { train, validation } = holdoutSplit(data.train, 5000, 42);
 * console.log(train.count, validation.count); // 55000 5000
 * ```
 */
export function holdoutSplit(
  split: Split,
  size: number,
  seed: number,
): {
  train: Split;
  validation: Split;
  info: HoldoutInfo;
  trainIndices: number[];
  validationIndices: number[];
} {
  if (!(Number.isInteger(size) && size >= 1 && size < split.count)) {
    throw new RangeError(
      `a held-out validation set of ${size} images does not fit in ${split.count} training images; use fewer.`,
    );
  }
  const order = shuffledIndices(split.count, makeRng(seed));
  const chosen = new Uint8Array(split.count);
  for (let i = 0; i < size; i++) chosen[order[i]] = 1;
  const validationIndices: number[] = [];
  const trainIndices: number[] = [];
  for (let k = 0; k < split.count; k++) {
    (chosen[k] ? validationIndices : trainIndices).push(k);
  }
  return {
    train: pick(split, trainIndices),
    validation: pick(split, validationIndices),
    info: {
      from: split.count,
      train: trainIndices.length,
      validation: validationIndices.length,
      seed,
      how:
        `the first ${size} of a seeded shuffle (mulberry32, seed ${seed}) of the training images, kept in their original order; never trained on`,
    },
    trainIndices,
    validationIndices,
  };
}

/**
 * One sentence on the images a run trains and validates on.
 *
 * @example
 * ```ts
 * import { describeSplits, holdoutSplit } from "./splits.ts";
 * import { loadFashionMnist } from "./data.ts";
 * const data = await loadFashionMnist();
 * const { train, validation, info } = holdoutSplit(data.train, 5000, 42);
 * describeSplits(train, validation, info);
 * // "55,000 training images; 5,000 more held out for validation (seed 42), never trained on"
 * ```
 */
export function describeSplits(
  train: Split,
  validation: Split,
  holdout: HoldoutInfo | null,
): string {
  const n = (v: number) => v.toLocaleString("en-US");
  return holdout
    ? `${n(train.count)} training images; ${
      n(validation.count)
    } more held out for validation (seed ${holdout.seed}), never trained on`
    : `${n(train.count)} training images; validation on the ${
      n(validation.count)
    } test images after every epoch, as the original tutorial does`;
}
