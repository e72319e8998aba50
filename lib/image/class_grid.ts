/**
 * A sample grid of a dataset: one row per class, its name on the left,
 * then the first few images of that class, each enlarged by a whole
 * factor — the classic "what does the data look like" picture. Composed
 * as SVG for `svgPng` in `render/png.ts` to draw with a real font.
 *
 * @example
 * ```ts
 * import { classGridSvg } from "./class_grid.ts";
 * import { svgPng } from "../render/png.ts";
 * const split = { images: new Uint8Array(2 * 784), labels: new Uint8Array([0, 1]), count: 2 };
 * const png = await svgPng(classGridSvg(split, ["Coat", "Bag"]).svg);
 * ```
 *
 * @module
 */
import { PALETTE } from "../charts.ts";
import { svgDocument, svgGrayImage, type SvgPicture, svgText } from "./svg.ts";

const SIDE = 28;
const PIXELS = SIDE * SIDE;

/**
 * Options of {@link classGridSvg}.
 *
 * @example
 * ```ts
 * import type { ClassGridOptions } from "./class_grid.ts";
 * const opts: ClassGridOptions = { perClass: 10, scale: 2, gap: 2 };
 * ```
 */
export interface ClassGridOptions {
  /** Images per class (default 8). */
  perClass?: number;
  /** Enlargement of each 28×28 image (whole number, default 2). */
  scale?: number;
  /** Pixels between images and around the grid (default 2). */
  gap?: number;
}

/**
 * Indices of the first `perClass` items of each class, in split order;
 * `result[c]` lists class `c`'s (fewer when the split has fewer).
 *
 * @example
 * ```ts
 * import { firstOfEachClass } from "./class_grid.ts";
 * firstOfEachClass(new Uint8Array([1, 0, 1, 1]), 2, 2); // [[1], [0, 2]]
 * ```
 */
export function firstOfEachClass(
  labels: ArrayLike<number>,
  classes: number,
  perClass: number,
): number[][] {
  const picks: number[][] = Array.from({ length: classes }, () => []);
  let open = classes;
  for (let i = 0; i < labels.length && open > 0; i++) {
    const row = picks[labels[i]];
    if (row === undefined || row.length >= perClass) continue;
    row.push(i);
    if (row.length === perClass) open--;
  }
  return picks;
}

/**
 * Composes one row per class: the class name (light text on dark grey,
 * right-aligned in a column as wide as the longest name needs), then the
 * class's first `perClass` images of the split at `scale`×, `gap` pixels
 * between and around them.
 *
 * @throws {RangeError} for a non-positive `perClass`/`scale`, a negative `gap`, or images that are not 28×28 bytes each.
 * @example
 * ```ts
 * import { classGridSvg } from "./class_grid.ts";
 * const split = { images: new Uint8Array(2 * 784), labels: new Uint8Array([0, 1]), count: 2 };
 * const picture = classGridSvg(split, ["Coat", "Bag"], { perClass: 1 });
 * console.log(picture.height); // 2 rows of 56 px plus 3 gaps of 2 px: 118
 * ```
 */
export function classGridSvg(
  split: { images: Uint8Array; labels: Uint8Array; count: number },
  classNames: readonly string[],
  options: ClassGridOptions = {},
): SvgPicture {
  const { perClass = 8, scale = 2, gap = 2 } = options;
  if (!Number.isInteger(perClass) || perClass < 1) {
    throw new RangeError(
      `perClass must be a positive integer, got ${perClass}.`,
    );
  }
  if (!Number.isInteger(scale) || scale < 1) {
    throw new RangeError(`scale must be a positive integer, got ${scale}.`);
  }
  if (!Number.isInteger(gap) || gap < 0) {
    throw new RangeError(`gap must be a non-negative integer, got ${gap}.`);
  }
  if (split.images.length !== split.count * PIXELS) {
    throw new RangeError(
      `A split of ${split.count} images needs ${
        split.count * PIXELS
      } bytes, got ${split.images.length}.`,
    );
  }
  const tile = SIDE * scale;
  const size = tile >= 40 ? 14 : 11;
  const longest = Math.max(1, ...classNames.map((n) => [...n].length));
  const label = Math.ceil(longest * 0.62 * size) + 16;
  const width = label + perClass * (tile + gap) + gap;
  const height = classNames.length * (tile + gap) + gap;
  const picks = firstOfEachClass(split.labels, classNames.length, perClass);
  const parts = picks.flatMap((indices, c) => {
    const top = gap + c * (tile + gap);
    return [
      svgText(classNames[c], label - 8, top + tile / 2 + size * 0.36, {
        size,
        color: PALETTE.lightText,
        anchor: "end",
      }),
      ...indices.map((index, k) =>
        svgGrayImage(
          split.images.subarray(index * PIXELS, (index + 1) * PIXELS),
          label + k * (tile + gap),
          top,
          tile,
        )
      ),
    ];
  });
  return svgDocument(width, height, PALETTE.dark, parts);
}
