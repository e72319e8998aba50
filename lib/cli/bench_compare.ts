/**
 * Comparing two sides' speeds measured in alternating windows: the order of
 * the windows, each side's median/min/max, the ratio ours ÷ theirs, the CPU
 * model, and the table printed at the end of
 * `deno task bench --compare-pytorch`. Pure functions, apart from
 * {@link alternate}, which only calls what it is given.
 *
 * @example
 * ```ts
 * import { compareRates } from "./bench_compare.ts";
 * compareRates([600, 620], [300, 320]).ratio.median; // 1.97
 * ```
 *
 * @module
 */

/**
 * Median, smallest and largest of a side's windows, and every window (images/s).
 *
 * @example
 * ```ts
 * import type { SideSummary } from "./bench_compare.ts";
 * const s: SideSummary = { median: 2, min: 1, max: 3, windows: [3, 1, 2] };
 * ```
 */
export interface SideSummary {
  median: number;
  min: number;
  max: number;
  windows: number[];
}

/**
 * Ours ÷ theirs. `median`, `min` and `max` are over the pairs of adjacent
 * windows (window i of ours ÷ window i of theirs), which share the machine's
 * load; `of_medians` divides the two medians.
 *
 * @example
 * ```ts
 * import type { Ratio } from "./bench_compare.ts";
 * const r: Ratio = { median: 2.2, min: 2, max: 2.5, of_medians: 2 };
 * ```
 */
export interface Ratio {
  median: number;
  min: number;
  max: number;
  of_medians: number;
}

/**
 * One measurement compared: both sides' windows and the ratio.
 *
 * @example
 * ```ts
 * import { type Comparison, compareRates } from "./bench_compare.ts";
 * const c: Comparison = compareRates([600], [300]);
 * ```
 */
export interface Comparison {
  ours: SideSummary;
  theirs: SideSummary;
  ratio: Ratio;
}

/**
 * Median of numbers (the mean of the middle two for an even count).
 *
 * @example
 * ```ts
 * import { median } from "./bench_compare.ts";
 * median([4, 1, 3, 2]); // 2.5
 * ```
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError("median of no values");
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const round = (x: number, digits: number) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/**
 * A side's windows summarised, rates rounded to 0.1.
 *
 * @example
 * ```ts
 * import { summarize } from "./bench_compare.ts";
 * summarize([3, 1, 2]); // { median: 2, min: 1, max: 3, windows: [3, 1, 2] }
 * ```
 */
export function summarize(windows: readonly number[]): SideSummary {
  return {
    median: round(median(windows), 1),
    min: round(Math.min(...windows), 1),
    max: round(Math.max(...windows), 1),
    windows: windows.map((w) => round(w, 1)),
  };
}

/**
 * Both sides' windows (window i of one beside window i of the other) and
 * the ratio ours ÷ theirs, rounded to 0.01.
 *
 * @throws {RangeError} when the sides have different numbers of windows, or none.
 * @example
 * ```ts
 * import { compareRates } from "./bench_compare.ts";
 * const c = compareRates([600, 500, 660], [300, 200, 300]);
 * c.ratio; // { median: 2.2, min: 2, max: 2.5, of_medians: 2 }
 * ```
 */
export function compareRates(
  ours: readonly number[],
  theirs: readonly number[],
): Comparison {
  if (ours.length !== theirs.length || ours.length === 0) {
    throw new RangeError(
      `need the same number of windows on both sides, got ${ours.length} and ${theirs.length}`,
    );
  }
  const pairs = ours.map((o, i) => o / theirs[i]);
  return {
    ours: summarize(ours),
    theirs: summarize(theirs),
    ratio: {
      median: round(median(pairs), 2),
      min: round(Math.min(...pairs), 2),
      max: round(Math.max(...pairs), 2),
      of_medians: round(median(ours) / median(theirs), 2),
    },
  };
}

/**
 * Runs `windows` timed windows of each side, in turn in the order the sides
 * are given (ours, theirs, ours, theirs…), so all see the same machine
 * load; each call returns one window's images/s.
 *
 * @example
 * ```ts
 * import { alternate } from "./bench_compare.ts";
 * const order: string[] = [];
 * const rates = await alternate(2, {
 *   ours: () => (order.push("ours"), Promise.resolve(10)),
 *   theirs: () => (order.push("theirs"), Promise.resolve(5)),
 * });
 * order; // ["ours", "theirs", "ours", "theirs"]
 * rates; // { ours: [10, 10], theirs: [5, 5] }
 * ```
 */
export async function alternate<K extends string>(
  windows: number,
  sides: Record<K, () => Promise<number>>,
): Promise<Record<K, number[]>> {
  const names = Object.keys(sides) as K[];
  const rates = Object.fromEntries(
    names.map((n) => [n, [] as number[]]),
  ) as Record<K, number[]>;
  for (let w = 0; w < windows; w++) {
    for (const name of names) rates[name].push(await sides[name]());
  }
  return rates;
}

/**
 * The table printed to stderr at the end of a comparison: one row per
 * measurement, medians and ranges of both sides and the ratio; the sides
 * are named `ourName` and `theirName`.
 *
 * @example
 * ```ts
 * import { compareRates, formatComparisonTable } from "./bench_compare.ts";
 * console.log(formatComparisonTable({ "training, batch 32": compareRates([600], [300]) }));
 * ```
 */
export function formatComparisonTable(
  rows: Record<string, Comparison>,
  theirName = "PyTorch",
  ourName = "ours",
): string {
  const range = (s: SideSummary) =>
    `${s.median.toFixed(1)} (${s.min.toFixed(1)}–${s.max.toFixed(1)})`;
  const ratio = (r: Ratio) =>
    `${r.median.toFixed(2)}× (${r.min.toFixed(2)}–${r.max.toFixed(2)})`;
  const table = [
    [
      "images/s, median (range)",
      ourName,
      theirName,
      `${ourName} ÷ ${theirName}`,
    ],
    ...Object.entries(rows).map(([name, c]) => [
      name,
      range(c.ours),
      range(c.theirs),
      ratio(c.ratio),
    ]),
  ];
  const widths = table[0].map((_, i) =>
    Math.max(...table.map((row) => row[i].length))
  );
  return table
    .map((row) =>
      row.map((cell, i) =>
        i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])
      )
        .join("  ")
    )
    .join("\n");
}
