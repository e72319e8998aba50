/**
 * Pixel statistics of a split: overall mean, standard deviation, share of
 * black pixels, a 256-bin histogram, and the mean brightness of each class.
 * Pure functions over plain arrays (no TensorFlow.js).
 *
 * @example
 * ```ts
 * import { pixelStatistics } from "./stats.ts";
 * import { loadFashionMnist } from "./data.ts";
 * const data = await loadFashionMnist();
 * const s = pixelStatistics(data.train);
 * console.log(s.mean.toFixed(1), s.std.toFixed(1)); // "72.9" "90.0"
 * ```
 *
 * @module
 */

/**
 * What {@link pixelStatistics} measures. Brightness is in raw pixel units
 * (0 = black … 255 = white).
 *
 * @example
 * ```ts
 * import type { PixelStatistics } from "./stats.ts";
 * const s: PixelStatistics = {
 *   images: 1, pixels: 784, mean: 0, std: 0, min: 0, max: 0, zeroFraction: 1,
 *   histogram: new Array(256).fill(0), classMeans: [0],
 * };
 * ```
 */
export interface PixelStatistics {
  images: number;
  pixels: number;
  mean: number;
  /** Population standard deviation over all pixels. */
  std: number;
  min: number;
  max: number;
  /** Share of pixels that are exactly 0 (the black background). */
  zeroFraction: number;
  /** `histogram[v]` = number of pixels of value `v`. */
  histogram: number[];
  /** Mean pixel value of each class's images (NaN for an absent class). */
  classMeans: number[];
}

/**
 * Measures every pixel of a split (`count` images of `pixelsPerImage`
 * bytes, with their labels).
 *
 * @throws {RangeError} when the split is empty or its arrays do not match.
 * @example
 * ```ts
 * import { pixelStatistics } from "./stats.ts";
 * const s = pixelStatistics(
 *   { images: new Uint8Array([0, 255, 0, 0]), labels: new Uint8Array([0, 1]), count: 2 },
 *   2,
 *   2,
 * );
 * console.log(s.mean, s.zeroFraction, s.classMeans); // 63.75 0.75 [127.5, 0]
 * ```
 */
export function pixelStatistics(
  split: { images: Uint8Array; labels: Uint8Array; count: number },
  classes = 10,
  pixelsPerImage = 784,
): PixelStatistics {
  const { images, labels, count } = split;
  if (count < 1) throw new RangeError("The split holds no images.");
  if (images.length !== count * pixelsPerImage || labels.length !== count) {
    throw new RangeError(
      `A split of ${count} images needs ${
        count * pixelsPerImage
      } pixel bytes and ${count} labels, got ${images.length} and ${labels.length}.`,
    );
  }
  const histogram = new Array<number>(256).fill(0);
  const classSums = new Array<number>(classes).fill(0);
  const classCounts = new Array<number>(classes).fill(0);
  for (let i = 0; i < count; i++) {
    let sum = 0;
    const base = i * pixelsPerImage;
    for (let p = 0; p < pixelsPerImage; p++) {
      const v = images[base + p];
      histogram[v]++;
      sum += v;
    }
    classSums[labels[i]] += sum;
    classCounts[labels[i]]++;
  }
  const pixels = count * pixelsPerImage;
  let total = 0, squares = 0, min = 255, max = 0;
  histogram.forEach((n, v) => {
    if (n === 0) return;
    total += n * v;
    squares += n * v * v;
    if (v < min) min = v;
    if (v > max) max = v;
  });
  const mean = total / pixels;
  return {
    images: count,
    pixels,
    mean,
    std: Math.sqrt(Math.max(0, squares / pixels - mean * mean)),
    min,
    max,
    zeroFraction: histogram[0] / pixels,
    histogram,
    classMeans: classSums.map((s, c) =>
      classCounts[c] === 0 ? NaN : s / (classCounts[c] * pixelsPerImage)
    ),
  };
}
