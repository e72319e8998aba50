/**
 * What every chart of the project shows, as plain data: one definition per
 * chart (title, panels, axes, series, colours from {@link PALETTE}), with
 * no knowledge of how it is drawn.
 *
 * The display pipeline: chart definitions (this module; tables in
 * `tables.ts`) → views (`views.ts`, what a notebook calls) → renderers
 * (`render/`: a plotly figure for notebooks, a Vega-Lite spec and a PNG for
 * files, HTML, plain text, Jupyter MIME bundles). A new chart goes here as a
 * function returning a {@link Chart}; every renderer then draws it.
 *
 * Non-finite numbers in the data become `null`: a gap.
 *
 * @example
 * ```ts
 * import { classBalanceChart } from "./charts.ts";
 * const chart = classBalanceChart([6000, 5990], ["T-shirt/top", "Trouser"]);
 * console.log(chart.title); // "Examples per class"
 * ```
 *
 * @module
 */
import type { EpochRecord } from "./types.ts";

/**
 * The colours of every chart and picture, defined once.
 *
 * @example
 * ```ts
 * import { PALETTE } from "./charts.ts";
 * console.log(PALETTE.train, PALETTE.validation); // "#1f77b4" "#ff7f0e"
 * ```
 */
export const PALETTE = Object.freeze({
  /** Training series, and bars. */
  train: "#1f77b4",
  /** Validation series. */
  validation: "#ff7f0e",
  /** Runs of a comparison, in turn. */
  runs: Object.freeze([
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#8c564b",
    "#e377c2",
    "#17becf",
  ]),
  /** A heatmap's scale, from the smallest value to the largest. */
  heat: Object.freeze(["#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b"]),
  /** Text on a light background. */
  text: "#222222",
  /** Text on a dark background. */
  lightText: "#ebebeb",
  /** Background of picture grids (montage, class grid). */
  dark: "#282828",
  /** A right prediction's label. */
  right: "#2fd62f",
  /** A wrong prediction's label. */
  wrong: "#ff4040",
});

/**
 * One axis of a panel.
 *
 * @example
 * ```ts
 * import type { Axis } from "./charts.ts";
 * const y: Axis = { title: "accuracy", range: [0, 1], percent: true };
 * ```
 */
export interface Axis {
  title: string;
  /** Fixed range (default: fitted to the data). */
  range?: [number, number];
  /** Start the range at zero. */
  zero?: boolean;
  /** Logarithmic scale. */
  log?: boolean;
  /** Tick labels as percentages of 1. */
  percent?: boolean;
  /** A tick at every whole number (epochs). */
  wholeTicks?: boolean;
}

/**
 * A line through points, e.g. one metric over epochs.
 *
 * @example
 * ```ts
 * import { type LineSeries, PALETTE } from "./charts.ts";
 * const s: LineSeries = { kind: "line", name: "loss", group: "train", color: PALETTE.train, x: [1, 2], y: [0.5, 0.3] };
 * ```
 */
export interface LineSeries {
  kind: "line";
  /** The series' own name (e.g. "val_loss"). */
  name: string;
  /** Its legend entry: series of one group share colour and dash. */
  group: string;
  color: string;
  x: number[];
  y: (number | null)[];
  dashed?: boolean;
  /** Draw a marker at each point (default true). */
  markers?: boolean;
}

/**
 * Bars, one per category, optionally labelled with their value.
 *
 * @example
 * ```ts
 * import { type BarSeries, PALETTE } from "./charts.ts";
 * const b: BarSeries = { kind: "bar", name: "count", color: PALETTE.train, categories: ["Bag"], values: [6000] };
 * ```
 */
export interface BarSeries {
  kind: "bar";
  name: string;
  color: string;
  /** Category of each bar, in the order shown. */
  categories: (string | number)[];
  values: (number | null)[];
  /** Text on each bar. */
  labels?: string[];
  /** Bars along the y axis, the first at the top. */
  horizontal?: boolean;
  /** Bars touching each other (a histogram). */
  touching?: boolean;
}

/**
 * A grid of values (row `i`, column `j`), each cell coloured on
 * {@link PALETTE}'s heat scale and labelled with its value; the first row
 * at the top.
 *
 * @example
 * ```ts
 * import type { HeatmapSeries } from "./charts.ts";
 * const h: HeatmapSeries = { kind: "heatmap", name: "count", rows: ["a", "b"], columns: ["a", "b"], values: [[5, 1], [0, 6]] };
 * ```
 */
export interface HeatmapSeries {
  kind: "heatmap";
  name: string;
  rows: string[];
  columns: string[];
  values: (number | null)[][];
}

/**
 * Any series a panel can hold.
 *
 * @example
 * ```ts
 * import type { Series } from "./charts.ts";
 * const kinds: Series["kind"][] = ["line", "bar", "heatmap"];
 * ```
 */
export type Series = LineSeries | BarSeries | HeatmapSeries;

/**
 * One plot area: two axes and the series drawn on them.
 *
 * @example
 * ```ts
 * import type { Panel } from "./charts.ts";
 * const p: Panel = { x: { title: "epoch" }, y: { title: "loss" }, series: [] };
 * ```
 */
export interface Panel {
  x: Axis;
  y: Axis;
  series: Series[];
}

/**
 * A chart: a title over one or more panels side by side.
 *
 * @example
 * ```ts
 * import type { Chart } from "./charts.ts";
 * const c: Chart = { title: "Empty", panels: [] };
 * ```
 */
export interface Chart {
  title: string;
  panels: Panel[];
}

/** `v` if finite, else `null` (a gap). */
function num(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

function checkLength(
  what: string,
  values: readonly unknown[],
  classNames: readonly string[],
): void {
  if (values.length !== classNames.length) {
    throw new RangeError(
      `${what} has ${values.length} entries but there are ${classNames.length} class names.`,
    );
  }
}

const percent = (v: number) => Number.isFinite(v) ? pct(v) : "";

/**
 * `v` (a fraction of 1) as a percentage with `digits` decimals: the one
 * percentage format of the display.
 *
 * @example
 * ```ts
 * import { pct } from "./charts.ts";
 * console.log(pct(0.9444), pct(0.9444, 2)); // "94.4%" "94.44%"
 * ```
 */
export function pct(v: number, digits = 1): string {
  return `${(v * 100).toFixed(digits)}%`;
}

/**
 * Training curves, as in the Keras tutorial's figure: loss and val_loss on
 * the left panel, accuracy and val_accuracy on the right, x = epoch;
 * training solid, validation dashed. A validation series with no finite
 * value (training without validation) is left out.
 *
 * @example
 * ```ts
 * import { historyChart } from "./charts.ts";
 * const chart = historyChart([
 *   { epoch: 1, loss: 0.5, accuracy: 0.8, val_loss: 0.4, val_accuracy: 0.85,
 *     lr: 0.01, seconds: 60, images_per_second: 1000, images_seen: 60000,
 *     wall_seconds: 60 },
 * ]);
 * console.log(chart.panels.map((p) => p.series.length)); // [2, 2]
 * ```
 */
export function historyChart(history: EpochRecord[]): Chart {
  const x = history.map((r) => r.epoch);
  const series = (
    key: "loss" | "accuracy" | "val_loss" | "val_accuracy",
  ): LineSeries[] => {
    const y = history.map((r) => num(r[key]));
    const val = key.startsWith("val_");
    if (val && y.every((v) => v === null)) return [];
    return [{
      kind: "line",
      name: key,
      group: val ? "validation" : "train",
      color: val ? PALETTE.validation : PALETTE.train,
      dashed: val,
      x,
      y,
    }];
  };
  const wholeTicks = history.length <= 12;
  return {
    title: "Training history",
    panels: [
      {
        x: { title: "epoch", wholeTicks },
        y: { title: "loss" },
        series: [...series("loss"), ...series("val_loss")],
      },
      {
        x: { title: "epoch", wholeTicks },
        y: { title: "accuracy" },
        series: [...series("accuracy"), ...series("val_accuracy")],
      },
    ],
  };
}

/**
 * One run for {@link recipeComparisonChart}: a label and its history.
 *
 * @example
 * ```ts
 * import type { RunCurve } from "./charts.ts";
 * const r: RunCurve = { label: "fast (seed 42)", history: [] };
 * ```
 */
export interface RunCurve {
  label: string;
  history: EpochRecord[];
}

/**
 * Recipes side by side: each run's validation accuracy after every epoch,
 * against wall time (minutes, left) and against training images seen
 * (right). Epochs without validation or without the two counts are left
 * out.
 *
 * @example
 * ```ts
 * import { recipeComparisonChart } from "./charts.ts";
 * const chart = recipeComparisonChart([{ label: "fast", history: [] }]);
 * console.log(chart.panels[1].series[0].name); // "fast"
 * ```
 */
export function recipeComparisonChart(runs: RunCurve[]): Chart {
  const curves = runs.map((run, i) => {
    const points = run.history.filter((r) =>
      Number.isFinite(r.val_accuracy) && Number.isFinite(r.wall_seconds) &&
      Number.isFinite(r.images_seen)
    );
    return { run, points, color: PALETTE.runs[i % PALETTE.runs.length] };
  });
  const panel = (
    title: string,
    x: (r: EpochRecord) => number,
  ): Panel => ({
    x: { title, zero: true },
    y: { title: "validation accuracy" },
    series: curves.map(({ run, points, color }): LineSeries => ({
      kind: "line",
      name: run.label,
      group: run.label,
      color,
      x: points.map(x),
      y: points.map((r) => r.val_accuracy),
    })),
  });
  return {
    title: "Recipes side by side: validation accuracy",
    panels: [
      panel("wall time (minutes)", (r) => r.wall_seconds / 60),
      panel("training images seen", (r) => r.images_seen),
    ],
  };
}

/**
 * Confusion-matrix heatmap: row i is the true class i (class 0 at the
 * top), column j the predicted class j, every cell labelled with its count.
 *
 * @example
 * ```ts
 * import { confusionChart } from "./charts.ts";
 * const chart = confusionChart([[5, 1], [0, 6]], ["Bag", "Coat"]);
 * console.log(chart.panels[0].x.title); // "predicted"
 * ```
 */
export function confusionChart(
  confusion: number[][],
  classNames: readonly string[],
): Chart {
  checkLength("The confusion matrix", confusion, classNames);
  confusion.forEach((row, i) =>
    checkLength(`Row ${i} of the confusion matrix`, row, classNames)
  );
  return {
    title: "Confusion matrix",
    panels: [{
      x: { title: "predicted" },
      y: { title: "true" },
      series: [{
        kind: "heatmap",
        name: "count",
        rows: [...classNames],
        columns: [...classNames],
        values: confusion.map((row) => row.map(num)),
      }],
    }],
  };
}

/** A single-panel bar chart. */
function barChart(
  title: string,
  x: Axis,
  y: Axis,
  bars: Omit<BarSeries, "kind" | "color">,
): Chart {
  return {
    title,
    panels: [{
      x,
      y,
      series: [{ kind: "bar", color: PALETTE.train, ...bars }],
    }],
  };
}

/**
 * Bar chart of the accuracy (0..1) of each class, shown as percentages.
 *
 * @example
 * ```ts
 * import { perClassAccuracyChart } from "./charts.ts";
 * const chart = perClassAccuracyChart([0.91, 0.98], ["T-shirt/top", "Trouser"]);
 * ```
 */
export function perClassAccuracyChart(
  acc: number[],
  classNames: readonly string[],
): Chart {
  checkLength("The accuracy list", acc, classNames);
  return barChart(
    "Accuracy per class",
    { title: "class" },
    { title: "accuracy", range: [0, 1], percent: true },
    {
      name: "accuracy",
      categories: [...classNames],
      values: acc.map(num),
      labels: acc.map(percent),
    },
  );
}

/**
 * The `k` most probable classes of one prediction as horizontal bars, most
 * probable at the top (ties: lower class index first); `k` is capped at the
 * number of classes.
 *
 * @example
 * ```ts
 * import { type BarSeries, topKChart } from "./charts.ts";
 * const chart = topKChart([0.1, 0.7, 0.2], ["Bag", "Coat", "Dress"], 2);
 * console.log((chart.panels[0].series[0] as BarSeries).categories); // ["Coat", "Dress"]
 * ```
 */
export function topKChart(
  probabilities: number[],
  classNames: readonly string[],
  k = 3,
): Chart {
  checkLength("The probability list", probabilities, classNames);
  const order = probabilities
    .map((p, i) => ({ p: Number.isFinite(p) ? p : -Infinity, i }))
    .sort((a, b) => b.p - a.p || a.i - b.i)
    .slice(0, Math.max(0, Math.min(Math.floor(k), probabilities.length)));
  return barChart(
    `Top ${order.length} predictions`,
    { title: "probability", range: [0, 1], percent: true },
    { title: "class" },
    {
      name: "probability",
      horizontal: true,
      categories: order.map(({ i }) => classNames[i]),
      values: order.map(({ i }) => num(probabilities[i])),
      labels: order.map(({ i }) => percent(probabilities[i])),
    },
  );
}

/**
 * Bar chart of how many examples each class has.
 *
 * @example
 * ```ts
 * import { classBalanceChart } from "./charts.ts";
 * const chart = classBalanceChart([6000, 5990], ["Bag", "Coat"]);
 * ```
 */
export function classBalanceChart(
  counts: number[],
  classNames: readonly string[],
): Chart {
  checkLength("The count list", counts, classNames);
  return barChart(
    "Examples per class",
    { title: "class" },
    { title: "count", zero: true },
    {
      name: "count",
      categories: [...classNames],
      values: counts.map(num),
      labels: counts.map((c) => (Number.isFinite(c) ? String(c) : "")),
    },
  );
}

/**
 * Histogram of pixel values 0–255 (a bar per value). The black background
 * dominates Fashion-MNIST, so the y axis is logarithmic.
 *
 * @example
 * ```ts
 * import { pixelHistogramChart } from "./charts.ts";
 * const chart = pixelHistogramChart(new Array(256).fill(1));
 * console.log(chart.panels[0].y.log); // true
 * ```
 */
export function pixelHistogramChart(histogram: number[]): Chart {
  if (histogram.length !== 256) {
    throw new RangeError(
      `A pixel histogram has 256 bins, got ${histogram.length}.`,
    );
  }
  return barChart(
    "Pixel values",
    { title: "pixel value (0 = black)", range: [-1, 256] },
    { title: "pixels", log: true },
    {
      name: "pixels",
      touching: true,
      categories: histogram.map((_, v) => v),
      values: histogram.map(num),
    },
  );
}

/**
 * One point of a training run in progress: epochs done so far (fractional,
 * e.g. 1.5 halfway through epoch 2) and the epoch's running loss and
 * accuracy at that moment.
 *
 * @example
 * ```ts
 * import type { TrainingPoint } from "./charts.ts";
 * const p: TrainingPoint = { x: 0.5, loss: 0.9, accuracy: 0.68 };
 * ```
 */
export interface TrainingPoint {
  x: number;
  loss: number;
  accuracy: number;
}

/**
 * The chart of a training run while it runs: running training loss and
 * accuracy as lines over fractional epochs, validation loss and accuracy
 * with markers at the end of each finished epoch; loss on the left,
 * accuracy on the right, the x axes spanning all `epochs`. Always two
 * series per panel (validation empty until an epoch ends), so a chart can
 * be updated in place.
 *
 * @example
 * ```ts
 * import { liveTrainingChart } from "./charts.ts";
 * const chart = liveTrainingChart([{ x: 0.5, loss: 0.9, accuracy: 0.7 }], [], 2);
 * console.log(chart.panels.flatMap((p) => p.series.map((s) => s.name))); // ["loss", "val_loss", "accuracy", "val_accuracy"]
 * ```
 */
export function liveTrainingChart(
  points: TrainingPoint[],
  history: EpochRecord[],
  epochs: number,
  title = "Training",
): Chart {
  const line = (key: "loss" | "accuracy"): LineSeries => ({
    kind: "line",
    name: key,
    group: "train",
    color: PALETTE.train,
    markers: false,
    x: points.map((p) => p.x),
    y: points.map((p) => num(p[key])),
  });
  const val = (key: "val_loss" | "val_accuracy"): LineSeries => ({
    kind: "line",
    name: key,
    group: "validation",
    color: PALETTE.validation,
    dashed: true,
    x: history.map((r) => r.epoch),
    y: history.map((r) => num(r[key])),
  });
  const range: [number, number] = [0, Math.max(1, epochs)];
  const wholeTicks = epochs <= 12;
  return {
    title,
    panels: [
      {
        x: { title: "epoch", range, wholeTicks },
        y: { title: "loss", zero: true },
        series: [line("loss"), val("val_loss")],
      },
      {
        x: { title: "epoch", range, wholeTicks },
        y: { title: "accuracy", range: [0, 1] },
        series: [line("accuracy"), val("val_accuracy")],
      },
    ],
  };
}
