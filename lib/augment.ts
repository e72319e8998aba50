/**
 * Training images as the network sees them: pixels scaled to [0, 1], and,
 * when a recipe asks for it, randomly shifted and mirrored
 * ({@link Augmentation}); targets as one-hot rows, optionally smoothed.
 * Pure functions of their inputs and a seeded random source, so a run is
 * reproducible.
 *
 * @example
 * ```ts
 * import { augmentedPixels, smoothedOneHot } from "./augment.ts";
 * import { makeRng } from "./random.ts";
 * import { loadFashionMnist } from "./data.ts";
 * const { train } = await loadFashionMnist();
 * const x = augmentedPixels(train.images, [0, 1, 2], { maxShift: 2, flip: true }, makeRng(1));
 * const y = smoothedOneHot(train.labels, [0, 1, 2], 0.1);
 * ```
 *
 * @module
 */
import type { Augmentation } from "./recipes.ts";

const SIDE = 28;
const PIXELS = SIDE * SIDE;

/**
 * The images at `indices` (each 28×28 bytes in `images`) as floats in
 * [0, 1], one after another; with `augmentation`, each shifted by a whole
 * number of pixels, drawn uniformly from −maxShift…maxShift per axis (the
 * uncovered border black), and mirrored left–right with probability ½ if
 * `flip`. `random` gives numbers in [0, 1) (see `makeRng`).
 *
 * @example
 * ```ts
 * import { augmentedPixels } from "./augment.ts";
 * const images = new Uint8Array(2 * 784).fill(255);
 * augmentedPixels(images, [1], null, Math.random); // image 1 / 255: 784 ones
 * ```
 */
export function augmentedPixels(
  images: Uint8Array,
  indices: ArrayLike<number>,
  augmentation: Augmentation | null,
  random: () => number,
): Float32Array {
  const n = indices.length;
  const out = new Float32Array(n * PIXELS);
  const s = augmentation?.maxShift ?? 0;
  for (let i = 0; i < n; i++) {
    const src = indices[i] * PIXELS;
    const dst = i * PIXELS;
    if (augmentation === null) {
      for (let p = 0; p < PIXELS; p++) out[dst + p] = images[src + p] / 255;
      continue;
    }
    const dy = Math.floor(random() * (2 * s + 1)) - s;
    const dx = Math.floor(random() * (2 * s + 1)) - s;
    const flip = augmentation.flip && random() < 0.5;
    for (let y = 0; y < SIDE; y++) {
      const sy = y - dy;
      if (sy < 0 || sy >= SIDE) continue;
      for (let x = 0; x < SIDE; x++) {
        const sx = x - dx;
        if (sx < 0 || sx >= SIDE) continue;
        const col = flip ? SIDE - 1 - sx : sx;
        out[dst + y * SIDE + x] = images[src + sy * SIDE + col] / 255;
      }
    }
  }
  return out;
}

/**
 * The labels at `indices` as one-hot rows of `classes` values, smoothed:
 * `1 − smoothing + smoothing/classes` on the true class and
 * `smoothing/classes` elsewhere (each row still sums to 1).
 *
 * @example
 * ```ts
 * import { smoothedOneHot } from "./augment.ts";
 * smoothedOneHot(new Uint8Array([2]), [0], 0.1, 3); // [0.0333…, 0.0333…, 0.9333…]
 * ```
 */
export function smoothedOneHot(
  labels: Uint8Array,
  indices: ArrayLike<number>,
  smoothing: number,
  classes = 10,
): Float32Array {
  const n = indices.length;
  const off = smoothing / classes;
  const out = new Float32Array(n * classes).fill(off);
  for (let i = 0; i < n; i++) {
    out[i * classes + labels[indices[i]]] = 1 - smoothing + off;
  }
  return out;
}
