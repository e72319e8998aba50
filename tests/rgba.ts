/**
 * Builds small RGBA pictures for tests and examples: a blank picture and a
 * filled rectangle. Test fixtures only; the library draws nothing by hand.
 *
 * @example
 * ```ts
 * import { createImage, fillRect } from "./rgba.ts";
 * const img = createImage(3, 3, [255, 255, 255]);
 * fillRect(img, 1, 1, 1, 1, [0, 0, 0]);
 * ```
 *
 * @module
 */
import type { RgbaImage } from "../lib/types.ts";

/**
 * A colour: red, green, blue (0–255), and optionally alpha.
 *
 * @example
 * ```ts
 * import type { Rgb } from "./rgba.ts";
 * const black: Rgb = [0, 0, 0];
 * ```
 */
export type Rgb =
  | readonly [number, number, number]
  | readonly [number, number, number, number];

/**
 * A `width` × `height` picture of one colour (default white, opaque).
 *
 * @example
 * ```ts
 * import { createImage } from "./rgba.ts";
 * createImage(2, 1, [0, 0, 0]).data; // Uint8Array [0, 0, 0, 255, 0, 0, 0, 255]
 * ```
 */
export function createImage(
  width: number,
  height: number,
  color: Rgb = [255, 255, 255],
): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < data.length; i += 4) data.set(rgba(color), i);
  return { width, height, data };
}

/**
 * Paints the rectangle at (`x`, `y`) of `w` × `h` pixels in `color`,
 * clipped to the picture.
 *
 * @example
 * ```ts
 * import { createImage, fillRect } from "./rgba.ts";
 * const img = createImage(4, 4);
 * fillRect(img, 2, 2, 5, 5, [0, 0, 0]); // paints the 2×2 bottom-right corner
 * ```
 */
export function fillRect(
  img: RgbaImage,
  x: number,
  y: number,
  w: number,
  h: number,
  color: Rgb,
): void {
  for (let py = Math.max(0, y); py < Math.min(img.height, y + h); py++) {
    for (let px = Math.max(0, x); px < Math.min(img.width, x + w); px++) {
      img.data.set(rgba(color), (py * img.width + px) * 4);
    }
  }
}

function rgba(color: Rgb): number[] {
  return [color[0], color[1], color[2], color[3] ?? 255];
}
