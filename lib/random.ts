/**
 * Seeded pseudo-random numbers (mulberry32) for shuffling and sampling, so
 * that runs with the same seed see the same order.
 *
 * @example
 * ```ts
 * import { makeRng, shuffledIndices } from "./random.ts";
 * const rng = makeRng(42);
 * console.log(rng(), shuffledIndices(5, rng));
 * ```
 *
 * @module
 */

/**
 * A generator of uniform numbers in [0, 1) from a 32-bit seed.
 *
 * @example
 * ```ts
 * import { makeRng } from "./random.ts";
 * const rng = makeRng(7);
 * rng(); // same value every time for seed 7
 * ```
 */
export function makeRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The numbers 0..n-1 in random order (Fisher–Yates).
 *
 * @example
 * ```ts
 * import { makeRng, shuffledIndices } from "./random.ts";
 * shuffledIndices(4, makeRng(1)); // a permutation of [0, 1, 2, 3]
 * ```
 */
export function shuffledIndices(n: number, rng: () => number): Uint32Array {
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  return idx;
}

/**
 * `k` distinct numbers from 0..n-1, in random order.
 *
 * @example
 * ```ts
 * import { makeRng, sample } from "./random.ts";
 * sample(10000, 16, makeRng(3)); // 16 distinct test-set indices
 * ```
 */
export function sample(n: number, k: number, rng: () => number): number[] {
  return Array.from(shuffledIndices(n, rng).subarray(0, Math.min(k, n)));
}

/**
 * A dropout mask: each value is `1 / (1 − rate)` with probability
 * `1 − rate`, else 0, drawn from `rng`. Multiplying by it drops units and
 * rescales the kept ones, as Keras's dropout does.
 *
 * @example
 * ```ts
 * import { dropoutMask, makeRng } from "./random.ts";
 * const mask = dropoutMask(8, 0.5, makeRng(1)); // values 0 or 2
 * ```
 */
export function dropoutMask(
  n: number,
  rate: number,
  rng: () => number,
): Float32Array {
  const keep = 1 - rate, scale = 1 / keep;
  const mask = new Float32Array(n);
  for (let i = 0; i < n; i++) mask[i] = rng() < keep ? scale : 0;
  return mask;
}
