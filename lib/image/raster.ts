/**
 * Small raster helpers over {@link RgbaImage}: create a blank image, read and
 * write single pixels, fill rectangles and circles, draw lines of any
 * direction and thickness. Every drawing call clips at the image edges, so
 * callers may draw partly (or wholly) outside the picture.
 *
 * Drawing functions mutate the image they are given; nothing else is touched.
 *
 * @example
 * ```ts
 * import { createImage, drawLine, fillRect } from "./raster.ts";
 * const img = createImage(40, 30, [255, 255, 255]);
 * fillRect(img, 5, 5, 10, 10, [200, 0, 0]);
 * drawLine(img, 0, 29, 39, 0, [0, 0, 255], 2);
 * ```
 *
 * @module
 */

import type { RgbaImage } from "../types.ts";

/**
 * An opaque colour as `[red, green, blue]`, each 0..255.
 *
 * @example
 * ```ts
 * import type { Rgb } from "./raster.ts";
 * const orange: Rgb = [255, 127, 14];
 * ```
 */
export type Rgb = readonly [number, number, number];

/**
 * A colour with alpha as `[red, green, blue, alpha]`, each 0..255. Alpha is
 * stored as given; drawing does not blend.
 *
 * @example
 * ```ts
 * import type { Rgba } from "./raster.ts";
 * const clear: Rgba = [0, 0, 0, 0];
 * ```
 */
export type Rgba = readonly [number, number, number, number];

/**
 * Creates a `width` × `height` image filled with `background` (opaque unless
 * an alpha is given).
 *
 * @example
 * ```ts
 * import { createImage } from "./raster.ts";
 * const img = createImage(2, 1, [0, 0, 0]);
 * console.log(img.data.length); // 8
 * ```
 */
export function createImage(
  width: number,
  height: number,
  background: Rgb | Rgba = [255, 255, 255],
): RgbaImage {
  if (
    !Number.isInteger(width) || !Number.isInteger(height) || width < 0 ||
    height < 0
  ) {
    throw new RangeError(
      `Image size must be two non-negative integers, got ${width}×${height}.`,
    );
  }
  const data = new Uint8Array(width * height * 4);
  const [r, g, b] = background;
  const a = background.length === 4 ? background[3] : 255;
  for (let i = 0; i < data.length; i += 4) {
    data[i] = r;
    data[i + 1] = g;
    data[i + 2] = b;
    data[i + 3] = a;
  }
  return { width, height, data };
}

/**
 * Sets the pixel at integer position (`x`, `y`); positions outside the image
 * are ignored. Non-integer positions are floored.
 *
 * @example
 * ```ts
 * import { createImage, getPixel, setPixel } from "./raster.ts";
 * const img = createImage(3, 3);
 * setPixel(img, 1, 1, [10, 20, 30]);
 * console.log(getPixel(img, 1, 1)); // [10, 20, 30, 255]
 * ```
 */
export function setPixel(
  img: RgbaImage,
  x: number,
  y: number,
  color: Rgb | Rgba,
): void {
  const px = Math.floor(x);
  const py = Math.floor(y);
  if (px < 0 || py < 0 || px >= img.width || py >= img.height) return;
  const i = (py * img.width + px) * 4;
  img.data[i] = color[0];
  img.data[i + 1] = color[1];
  img.data[i + 2] = color[2];
  img.data[i + 3] = color.length === 4 ? color[3] : 255;
}

/**
 * Returns the pixel at (`x`, `y`) as `[r, g, b, a]`; throws a RangeError for a
 * position outside the image.
 *
 * @example
 * ```ts
 * import { createImage, getPixel } from "./raster.ts";
 * console.log(getPixel(createImage(1, 1, [1, 2, 3]), 0, 0)); // [1, 2, 3, 255]
 * ```
 */
export function getPixel(
  img: RgbaImage,
  x: number,
  y: number,
): [number, number, number, number] {
  if (
    !Number.isInteger(x) || !Number.isInteger(y) || x < 0 || y < 0 ||
    x >= img.width || y >= img.height
  ) {
    throw new RangeError(
      `Pixel (${x}, ${y}) is outside the ${img.width}×${img.height} image.`,
    );
  }
  const i = (y * img.width + x) * 4;
  const d = img.data;
  return [d[i], d[i + 1], d[i + 2], d[i + 3]];
}

/**
 * Fills the axis-aligned rectangle whose top-left corner is (`x`, `y`) and
 * whose size is `w` × `h`, clipped to the image. Coordinates are rounded to
 * whole pixels.
 *
 * @example
 * ```ts
 * import { createImage, fillRect } from "./raster.ts";
 * const img = createImage(10, 10);
 * fillRect(img, 2, 2, 4, 3, [0, 0, 0]);
 * ```
 */
export function fillRect(
  img: RgbaImage,
  x: number,
  y: number,
  w: number,
  h: number,
  color: Rgb | Rgba,
): void {
  const x0 = Math.max(0, Math.round(x));
  const y0 = Math.max(0, Math.round(y));
  const x1 = Math.min(img.width, Math.round(x + w));
  const y1 = Math.min(img.height, Math.round(y + h));
  if (x0 >= x1 || y0 >= y1) return;
  const [r, g, b] = color;
  const a = color.length === 4 ? color[3] : 255;
  const d = img.data;
  for (let py = y0; py < y1; py++) {
    let i = (py * img.width + x0) * 4;
    for (let px = x0; px < x1; px++, i += 4) {
      d[i] = r;
      d[i + 1] = g;
      d[i + 2] = b;
      d[i + 3] = a;
    }
  }
}

/**
 * Fills a disc centred on (`cx`, `cy`) with radius `radius`, clipped to the
 * image. A pixel is inside when its centre lies within the radius (plus half
 * a pixel, so small radii still look round).
 *
 * @example
 * ```ts
 * import { createImage, fillCircle } from "./raster.ts";
 * const img = createImage(9, 9);
 * fillCircle(img, 4, 4, 3, [255, 0, 0]);
 * ```
 */
export function fillCircle(
  img: RgbaImage,
  cx: number,
  cy: number,
  radius: number,
  color: Rgb | Rgba,
): void {
  const r = Math.max(0, radius) + 0.5;
  const r2 = r * r;
  const xMin = Math.floor(cx - r);
  const xMax = Math.ceil(cx + r);
  const yMin = Math.floor(cy - r);
  const yMax = Math.ceil(cy + r);
  for (let y = yMin; y <= yMax; y++) {
    for (let x = xMin; x <= xMax; x++) {
      const dx = x - cx;
      const dy = y - cy;
      if (dx * dx + dy * dy < r2) setPixel(img, x, y, color);
    }
  }
}

/**
 * Draws a straight line from (`x0`, `y0`) to (`x1`, `y1`), both ends included,
 * in any direction. With `thickness` 1 it is a one-pixel Bresenham line;
 * thicker lines stamp a square (thickness 2) or a disc (3 and more) of that
 * width at every step, which gives round ends and joins. A line with a
 * non-finite end is not drawn.
 *
 * @example
 * ```ts
 * import { createImage, drawLine } from "./raster.ts";
 * const img = createImage(20, 20);
 * drawLine(img, 19, 0, 0, 19, [0, 0, 0], 3);
 * ```
 */
export function drawLine(
  img: RgbaImage,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  color: Rgb | Rgba,
  thickness = 1,
): void {
  if (![x0, y0, x1, y1].every(Number.isFinite)) return;
  let x = Math.round(x0);
  let y = Math.round(y0);
  const xe = Math.round(x1);
  const ye = Math.round(y1);
  const t = Math.max(1, Math.round(thickness));
  const stamp = (px: number, py: number): void => {
    if (t === 1) setPixel(img, px, py, color);
    else if (t === 2) fillRect(img, px, py, 2, 2, color);
    else fillCircle(img, px, py, (t - 1) / 2, color);
  };
  const dx = Math.abs(xe - x);
  const dy = -Math.abs(ye - y);
  const sx = x < xe ? 1 : -1;
  const sy = y < ye ? 1 : -1;
  let err = dx + dy;
  // Bresenham over all octants; the step count is bounded by dx - dy + 1.
  for (;;) {
    stamp(x, y);
    if (x === xe && y === ye) break;
    const e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y += sy;
    }
  }
}
