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
 * A seeded generator of uniform numbers in [0, 1): call it for the next
 * number. Its `state` (a 32-bit unsigned integer) is where the stream
 * stands; setting it back replays the stream from there, which is how a
 * checkpoint resumes shuffling and augmentation exactly.
 *
 * @example
 * ```ts
 * import { makeRng, type Rng } from "./random.ts";
 * const rng: Rng = makeRng(7);
 * const saved = rng.state;
 * const a = rng();
 * rng.state = saved;
 * rng() === a; // true
 * ```
 */
export interface Rng {
  (): number;
  state: number;
}

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
export function makeRng(seed: number): Rng {
  const rng = (() => {
    rng.state = (rng.state + MULBERRY32_STEP) >>> 0;
    return mulberry32Output(rng.state);
  }) as Rng;
  rng.state = seed >>> 0;
  return rng;
}

/** How much mulberry32's state advances per number. */
export const MULBERRY32_STEP = 0x6d2b79f5;

/**
 * The number in [0, 1) that mulberry32 outputs for state `a` (a 32-bit
 * unsigned integer). The k-th number (from 1) of {@link makeRng}`(seed)` is
 * `mulberry32Output(seed + k · MULBERRY32_STEP mod 2³²)`, so any stretch of
 * the stream can be computed on its own, in parallel.
 *
 * @example
 * ```ts
 * import { makeRng, MULBERRY32_STEP, mulberry32Output } from "./random.ts";
 * mulberry32Output((7 + MULBERRY32_STEP) >>> 0) === makeRng(7)(); // true
 * ```
 */
export function mulberry32Output(a: number): number {
  let t = a;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/**
 * The state of a mulberry32 stream at `state` after `n` more numbers.
 *
 * @example
 * ```ts
 * import { advanceRng } from "./random.ts";
 * const next = advanceRng(7, 1000); // the state after 1,000 numbers from 7
 * ```
 */
export function advanceRng(state: number, n: number): number {
  return (state + Math.imul(n, MULBERRY32_STEP)) >>> 0;
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
 * `1 − rate`, else 0: value i is kept when the i-th (from 1) number of the
 * mulberry32 stream at `state` is below `1 − rate`. Multiplying by it drops
 * units and rescales the kept ones, as Keras's dropout does. The WASM
 * backend computes the same mask in parallel (`DropoutMask`).
 *
 * @example
 * ```ts
 * import { dropoutMask } from "./random.ts";
 * const mask = dropoutMask(8, 0.5, 1); // values 0 or 2
 * ```
 */
export function dropoutMask(
  n: number,
  rate: number,
  state: number,
): Float32Array {
  const keep = 1 - rate, scale = 1 / keep;
  const mask = new Float32Array(n);
  let a = state >>> 0;
  for (let i = 0; i < n; i++) {
    a = (a + MULBERRY32_STEP) >>> 0;
    mask[i] = mulberry32Output(a) < keep ? scale : 0;
  }
  return mask;
}
