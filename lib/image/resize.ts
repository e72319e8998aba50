/**
 * Resizing pixel grids: area-averaging resampling (what shrinking a photo to
 * 28×28 needs: every source pixel contributes by the area it covers), and
 * whole-number nearest-neighbour enlargement of grey images for display.
 *
 * @example
 * ```ts
 * import { grayToRgba, resizeArea } from "./resize.ts";
 * const small = resizeArea(new Float32Array(100 * 50).fill(1), 100, 50, 1, 10, 5);
 * const big = grayToRgba(new Uint8Array(784), 28, 28, 8); // 224 × 224 RGBA
 * ```
 *
 * @module
 */
import type { RgbaImage } from "../types.ts";

/** For each target index: the source indices it covers and their weights. */
function axisWeights(
  from: number,
  to: number,
): Array<{ first: number; weights: number[] }> {
  const scale = from / to;
  return Array.from({ length: to }, (_, o) => {
    const a = o * scale, b = Math.min(from, (o + 1) * scale);
    const first = Math.floor(a);
    const weights: number[] = [];
    for (let i = first; i < b; i++) {
      weights.push((Math.min(b, i + 1) - Math.max(a, i)) / scale);
    }
    return { first, weights };
  });
}

/**
 * Resamples a `width` × `height` grid of `channels` interleaved values to
 * `toWidth` × `toHeight` by area averaging: each target pixel is the mean
 * of the source area it covers, partly covered source pixels weighted by
 * the part covered. Enlarging repeats pixels (blending at the seams).
 * Separable: rows first, then columns.
 *
 * @throws {RangeError} when a size is not a positive integer or `pixels` has the wrong length.
 * @example
 * ```ts
 * import { resizeArea } from "./resize.ts";
 * resizeArea(new Float32Array([0, 2, 4, 6]), 4, 1, 1, 2, 1); // Float32Array [1, 5]
 * ```
 */
export function resizeArea(
  pixels: ArrayLike<number>,
  width: number,
  height: number,
  channels: number,
  toWidth: number,
  toHeight: number,
): Float32Array {
  for (
    const [name, v] of Object.entries({
      width,
      height,
      channels,
      toWidth,
      toHeight,
    })
  ) {
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(`${name} must be a positive integer, got ${v}.`);
    }
  }
  if (pixels.length !== width * height * channels) {
    throw new RangeError(
      `Expected ${
        width * height * channels
      } values for ${width}×${height}×${channels}, got ${pixels.length}.`,
    );
  }
  const c = channels;
  // Rows: width → toWidth.
  const xs = axisWeights(width, toWidth);
  const mid = new Float32Array(toWidth * height * c);
  for (let y = 0; y < height; y++) {
    const row = y * width * c, out = y * toWidth * c;
    for (let o = 0; o < toWidth; o++) {
      const { first, weights } = xs[o];
      for (let k = 0; k < c; k++) {
        let sum = 0;
        for (let j = 0; j < weights.length; j++) {
          sum += weights[j] * pixels[row + (first + j) * c + k];
        }
        mid[out + o * c + k] = sum;
      }
    }
  }
  // Columns: height → toHeight.
  const ys = axisWeights(height, toHeight);
  const result = new Float32Array(toWidth * toHeight * c);
  const stride = toWidth * c;
  for (let o = 0; o < toHeight; o++) {
    const { first, weights } = ys[o];
    const out = o * stride;
    for (let j = 0; j < weights.length; j++) {
      const w = weights[j], src = (first + j) * stride;
      for (let i = 0; i < stride; i++) result[out + i] += w * mid[src + i];
    }
  }
  return result;
}

/**
 * Shrinks an RGBA image to fit within `maxSide` × `maxSide` (keeping its
 * aspect ratio; area averaging), or returns it unchanged when it already
 * fits. For showing large photos at a sensible size.
 *
 * @example
 * ```ts
 * import { fitRgba } from "./resize.ts";
 * const photo = { width: 1000, height: 500, data: new Uint8Array(1000 * 500 * 4) };
 * const img = fitRgba(photo, 200);
 * console.log(img.width, img.height); // 200 100
 * ```
 */
export function fitRgba(img: RgbaImage, maxSide: number): RgbaImage {
  const scale = maxSide / Math.max(img.width, img.height);
  if (scale >= 1) return img;
  const width = Math.max(1, Math.round(img.width * scale));
  const height = Math.max(1, Math.round(img.height * scale));
  const resized = resizeArea(img.data, img.width, img.height, 4, width, height);
  const data = new Uint8Array(resized.length);
  for (let i = 0; i < resized.length; i++) data[i] = Math.round(resized[i]);
  return { width, height, data };
}

/**
 * A grey image (one byte per pixel, 0 = black) as an opaque RGBA image,
 * each pixel enlarged to a `scale` × `scale` block.
 *
 * @throws {RangeError} when `scale` is not a positive integer or `pixels` has the wrong length.
 * @example
 * ```ts
 * import { grayToRgba } from "./resize.ts";
 * const img = grayToRgba(new Uint8Array([0, 255]), 2, 1, 2);
 * console.log(img.width, img.height); // 4 2
 * ```
 */
export function grayToRgba(
  pixels: Uint8Array,
  width: number,
  height: number,
  scale = 1,
): RgbaImage {
  if (!Number.isInteger(scale) || scale < 1) {
    throw new RangeError(`scale must be a positive integer, got ${scale}.`);
  }
  if (pixels.length !== width * height) {
    throw new RangeError(
      `Expected ${
        width * height
      } grey pixels for ${width}×${height}, got ${pixels.length}.`,
    );
  }
  const w = width * scale, h = height * scale;
  const data = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    const src = Math.floor(y / scale) * width;
    for (let x = 0; x < w; x++) {
      const v = pixels[src + Math.floor(x / scale)];
      const d = (y * w + x) * 4;
      data[d] = data[d + 1] = data[d + 2] = v;
      data[d + 3] = 255;
    }
  }
  return { width: w, height: h, data };
}
