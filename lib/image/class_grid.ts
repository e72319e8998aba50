/**
 * A sample grid of a dataset: one row per class, its name on the left,
 * then the first few images of that class, each enlarged by a whole
 * factor — the classic "what does the data look like" picture.
 *
 * @example
 * ```ts
 * import { renderClassGrid } from "./class_grid.ts";
 * import { encodePng } from "./png.ts";
 * const img = renderClassGrid(data.train, CLASS_NAMES, { perClass: 8 });
 * await Deno.writeFile("out/grid.png", encodePng(img));
 * ```
 *
 * @module
 */
import type { RgbaImage } from "../types.ts";
import { drawText, FONT_HEIGHT, textWidth } from "./font.ts";
import { createImage, type Rgb } from "./raster.ts";

const SIDE = 28;
const PIXELS = SIDE * SIDE;
const BACKGROUND: Rgb = [40, 40, 40];
const TEXT: Rgb = [235, 235, 235];

/**
 * Options of {@link renderClassGrid}.
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
 * Renders one row per class: the class name (light text on dark grey),
 * then the class's first `perClass` images of the split at `scale`×.
 *
 * @throws {RangeError} for a non-positive `perClass`/`scale`, a negative `gap`, or images that are not 28×28 bytes each.
 * @example
 * ```ts
 * import { renderClassGrid } from "./class_grid.ts";
 * const split = { images: new Uint8Array(2 * 784), labels: new Uint8Array([0, 1]), count: 2 };
 * const img = renderClassGrid(split, ["Coat", "Bag"], { perClass: 1 });
 * console.log(img.height); // 2 rows of 56 px plus 3 gaps of 2 px: 118
 * ```
 */
export function renderClassGrid(
  split: { images: Uint8Array; labels: Uint8Array; count: number },
  classNames: readonly string[],
  options: ClassGridOptions = {},
): RgbaImage {
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
  const textScale = tile >= 4 * FONT_HEIGHT ? 2 : 1;
  const label = Math.max(...classNames.map((n) => textWidth(n, textScale))) +
    12;
  const width = label + perClass * (tile + gap) + gap;
  const height = classNames.length * (tile + gap) + gap;
  const img = createImage(width, height, BACKGROUND);
  const picks = firstOfEachClass(split.labels, classNames.length, perClass);
  picks.forEach((indices, c) => {
    const top = gap + c * (tile + gap);
    drawText(
      img,
      classNames[c],
      label - 8 - textWidth(classNames[c], textScale),
      top + Math.floor((tile - FONT_HEIGHT * textScale) / 2),
      TEXT,
      textScale,
    );
    indices.forEach((index, k) => {
      const left = label + k * (tile + gap);
      const src = index * PIXELS;
      for (let y = 0; y < tile; y++) {
        const row = src + Math.floor(y / scale) * SIDE;
        let d = ((top + y) * width + left) * 4;
        for (let x = 0; x < tile; x++, d += 4) {
          const v = split.images[row + Math.floor(x / scale)];
          img.data[d] = img.data[d + 1] = img.data[d + 2] = v;
        }
      }
    });
  });
  return img;
}
