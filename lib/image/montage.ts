/**
 * A grid picture of classified 28×28 grey images, each tile labelled with its
 * predicted class: green when the prediction is right, red when it is wrong.
 * Composed as SVG (the images as embedded PNGs, enlarged pixel for pixel,
 * the names as text) for `svgPng` in `render/png.ts` to draw with a real
 * font.
 *
 * @example
 * ```ts
 * import { montageSvg } from "./montage.ts";
 * import { svgPng } from "../render/png.ts";
 * const images = Array.from({ length: 16 }, () => new Uint8Array(784).fill(128));
 * const labels = Array.from({ length: 16 }, (_, i) => i % 10);
 * const picture = montageSvg({ images, labels, predicted: labels, classNames: ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"] });
 * const png = await svgPng(picture.svg);
 * ```
 *
 * @module
 */

import { PALETTE } from "../charts.ts";
import { svgDocument, svgGrayImage, type SvgPicture, svgText } from "./svg.ts";

/** Side of a source image in pixels. */
const SOURCE = 28;

/**
 * Input of {@link montageSvg}.
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

/**
 * Composes the images as a grid of `tile` × `tile` tiles (each pixel
 * enlarged as a square), `columns` per row, on a dark grey background with
 * `gap` pixels between and around tiles. Each tile gets a darkened band
 * along its bottom edge with the predicted class name, centred, in
 * `PALETTE.right` when `predicted[i] === labels[i]` and in `PALETTE.wrong`
 * otherwise; names too long for the tile are squeezed, an index without a
 * name is shown as its number. Throws a RangeError when the arrays differ
 * in length, an image is not 784 bytes, or there are none.
 *
 * @example
 * ```ts
 * import { montageSvg } from "./montage.ts";
 * const picture = montageSvg({
 *   images: [new Uint8Array(784).fill(200)], labels: [9], predicted: [7],
 *   classNames: ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
 *     "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
 * });
 * console.log(picture.width, picture.height); // 104 104
 * ```
 */
export function montageSvg(options: MontageOptions): SvgPicture {
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
  const size = Math.max(8, Math.round(tile / 7.5));
  const band = Math.round(size * 1.6);
  const padding = Math.max(2, Math.round(tile / 32));
  const parts = images.map((im, i) => {
    const [ox, oy] = layout.tileOrigin(i);
    const p = predicted[i];
    return [
      svgGrayImage(im, ox, oy, tile),
      `<rect x="${ox}" y="${
        oy + tile - band
      }" width="${tile}" height="${band}" fill="black" fill-opacity="0.78"/>`,
      svgText(
        classNames[p] ?? String(p),
        ox + tile / 2,
        oy + tile - Math.round((band - size * 0.72) / 2),
        {
          size,
          color: p === labels[i] ? PALETTE.right : PALETTE.wrong,
          anchor: "middle",
          maxWidth: tile - 2 * padding,
        },
      ),
    ].join("");
  });
  return svgDocument(layout.width, layout.height, PALETTE.dark, parts);
}
