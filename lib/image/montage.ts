/**
 * A grid picture of classified 28×28 grey images, each tile labelled with its
 * predicted class: green when the prediction is right, red when it is wrong.
 *
 * @example
 * ```ts
 * import { renderMontage } from "./montage.ts";
 * import { encodePng } from "./png.ts";
 * const images = Array.from({ length: 16 }, () => new Uint8Array(784).fill(128));
 * const labels = Array.from({ length: 16 }, (_, i) => i % 10);
 * const img = renderMontage({ images, labels, predicted: labels, classNames: ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"] });
 * const png = encodePng(img);
 * ```
 *
 * @module
 */

import type { RgbaImage } from "../types.ts";
import { drawText, FONT_HEIGHT, textWidth } from "./font.ts";
import { createImage, type Rgb } from "./raster.ts";

/** Side of a source image in pixels. */
const SOURCE = 28;

/**
 * Text colour of a right prediction.
 *
 * @example
 * ```ts
 * import { RIGHT_COLOR } from "./montage.ts";
 * console.log(RIGHT_COLOR); // [0, 200, 0]
 * ```
 */
export const RIGHT_COLOR: Rgb = [0, 200, 0];

/**
 * Text colour of a wrong prediction.
 *
 * @example
 * ```ts
 * import { WRONG_COLOR } from "./montage.ts";
 * console.log(WRONG_COLOR); // [230, 30, 30]
 * ```
 */
export const WRONG_COLOR: Rgb = [230, 30, 30];

/**
 * Input of {@link renderMontage}.
 *
 * @example
 * ```ts
 * import type { MontageOptions } from "./montage.ts";
 * const opts: MontageOptions = {
 *   images: [new Uint8Array(784)], labels: [0], predicted: [1],
 *   classNames: ["T-shirt/top", "Trouser"], tile: 64, columns: 1,
 * };
 * ```
 */
export interface MontageOptions {
  /** Grey images, each 28 × 28 bytes, row-major, 0 = black. */
  images: Uint8Array[];
  /** True class index of each image. */
  labels: number[];
  /** Predicted class index of each image. */
  predicted: number[];
  /** Class names by index. */
  classNames: readonly string[];
  /** Side of one tile in pixels (default 96). */
  tile?: number;
  /** Tiles per row (default 4). */
  columns?: number;
  /** Blank pixels between tiles and around the grid (default 4). */
  gap?: number;
}

/**
 * Pixel layout of a montage: where tile `i` goes. Exposed so callers and
 * tests can find a tile without repeating the arithmetic.
 *
 * @example
 * ```ts
 * import { montageLayout } from "./montage.ts";
 * const l = montageLayout(16, 96, 4, 4);
 * console.log(l.width, l.height, l.tileOrigin(5)); // 404 404 [104, 104]
 * ```
 */
export function montageLayout(
  count: number,
  tile: number,
  columns: number,
  gap: number,
): {
  width: number;
  height: number;
  rows: number;
  tileOrigin: (i: number) => [number, number];
} {
  const cols = Math.max(1, Math.min(columns, count));
  const rows = Math.max(1, Math.ceil(count / cols));
  return {
    width: cols * tile + (cols + 1) * gap,
    height: rows * tile + (rows + 1) * gap,
    rows,
    tileOrigin: (i) => [
      gap + (i % cols) * (tile + gap),
      gap + Math.floor(i / cols) * (tile + gap),
    ],
  };
}

/** Shortens `text` with a trailing "." until it fits `maxWidth` at `scale`. */
function fitText(text: string, maxWidth: number, scale: number): string {
  if (textWidth(text, scale) <= maxWidth) return text;
  const chars = [...text];
  while (
    chars.length > 1 && textWidth(chars.join("") + ".", scale) > maxWidth
  ) {
    chars.pop();
  }
  return chars.join("") + ".";
}

/**
 * Renders the images as a grid of `tile` × `tile` tiles (nearest-neighbour
 * upscaling, sampling each tile pixel's centre), `columns` per row, on a dark
 * grey background with `gap` pixels between and around tiles. Each tile gets
 * a darkened band along its bottom edge with the predicted class name,
 * centred, in {@link RIGHT_COLOR} when `predicted[i] === labels[i]` and in
 * {@link WRONG_COLOR} otherwise. Names too long for the tile are shortened;
 * an index without a name is shown as its number. Throws a RangeError when
 * the arrays differ in length, an image is not 784 bytes, or there are none.
 *
 * @example
 * ```ts
 * import { renderMontage } from "./montage.ts";
 * const img = renderMontage({
 *   images: [new Uint8Array(784).fill(200)], labels: [9], predicted: [7],
 *   classNames: ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
 *     "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
 * });
 * console.log(img.width, img.height); // 104 104
 * ```
 */
export function renderMontage(options: MontageOptions): RgbaImage {
  const {
    images,
    labels,
    predicted,
    classNames,
    tile = 96,
    columns = 4,
    gap = 4,
  } = options;
  if (images.length === 0) {
    throw new RangeError("A montage needs at least one image.");
  }
  if (labels.length !== images.length || predicted.length !== images.length) {
    throw new RangeError(
      `A montage needs one label and one prediction per image, got ${images.length} images, ${labels.length} labels and ${predicted.length} predictions.`,
    );
  }
  if (!Number.isInteger(tile) || tile < SOURCE / 2) {
    throw new RangeError(`Tile size must be an integer ≥ 14, got ${tile}.`);
  }
  if (!Number.isInteger(columns) || columns < 1) {
    throw new RangeError(`Columns must be a positive integer, got ${columns}.`);
  }
  if (!Number.isInteger(gap) || gap < 0) {
    throw new RangeError(`Gap must be a non-negative integer, got ${gap}.`);
  }
  images.forEach((im, i) => {
    if (im.length !== SOURCE * SOURCE) {
      throw new RangeError(
        `Image ${i} holds ${im.length} bytes, not ${
          SOURCE * SOURCE
        } (28×28 grey).`,
      );
    }
  });

  const layout = montageLayout(images.length, tile, columns, gap);
  const out = createImage(layout.width, layout.height, [40, 40, 40]);
  const { data, width } = out;

  // Source index of each tile column / row, nearest to the pixel centre.
  const sourceOf = Array.from(
    { length: tile },
    (_, k) => Math.min(SOURCE - 1, Math.floor(((k + 0.5) * SOURCE) / tile)),
  );

  // Text size: as large as fits both a quarter of the tile's height and, for
  // the longest name, its width; at least 1.
  const padding = Math.max(2, Math.round(tile / 32));
  const longest = classNames.reduce((m, n) => Math.max(m, [...n].length), 1);
  let scale = Math.max(1, Math.floor(tile / (4 * FONT_HEIGHT)));
  while (
    scale > 1 && textWidth("x".repeat(longest), scale) > tile - 2 * padding
  ) {
    scale--;
  }
  const band = FONT_HEIGHT * scale + 2 * padding;

  images.forEach((im, i) => {
    const [ox, oy] = layout.tileOrigin(i);
    for (let ty = 0; ty < tile; ty++) {
      const srcRow = sourceOf[ty] * SOURCE;
      const inBand = ty >= tile - band;
      let d = ((oy + ty) * width + ox) * 4;
      for (let tx = 0; tx < tile; tx++, d += 4) {
        let v = im[srcRow + sourceOf[tx]];
        if (inBand) v = 16 + Math.round(v * 0.12); // darken so the text reads
        data[d] = data[d + 1] = data[d + 2] = v;
        data[d + 3] = 255;
      }
    }
    const p = predicted[i];
    const name = fitText(
      classNames[p] ?? String(p),
      tile - 2 * padding,
      scale,
    );
    const color = p === labels[i] ? RIGHT_COLOR : WRONG_COLOR;
    const tx = ox + Math.floor((tile - textWidth(name, scale)) / 2);
    const ty = oy + tile - band + padding;
    drawText(out, name, tx, ty, color, scale);
  });
  return out;
}
