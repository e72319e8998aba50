/**
 * Plotly figure specifications as plain data, and a standalone HTML page that
 * draws them. Nothing here touches the file system or the network: pass the
 * plotly.js source (see `lib/image/plotly_source.ts`) to {@link figureHtml}.
 *
 * Non-finite numbers in the data become `null`, which plotly draws as gaps.
 *
 * @example
 * ```ts
 * import { classBalanceFigure, figureHtml } from "./plots.ts";
 * const fig = classBalanceFigure([6000, 6000], ["T-shirt/top", "Trouser"]);
 * const html = figureHtml([fig], "// plotly.js source here", "Class balance");
 * ```
 *
 * @module
 */

import type { EpochRecord } from "./types.ts";

/**
 * One plotly trace (`{ type: "scatter", x: [...], y: [...], ... }`): plain
 * JSON-compatible data.
 *
 * @example
 * ```ts
 * import type { PlotlyTrace } from "./plots.ts";
 * const t: PlotlyTrace = { type: "bar", x: ["a", "b"], y: [1, 2] };
 * ```
 */
export type PlotlyTrace = Record<string, unknown>;

/**
 * A plotly figure: what `Plotly.newPlot(div, figure.data, figure.layout)`
 * takes. Plain JSON-compatible data.
 *
 * @example
 * ```ts
 * import type { PlotlyFigure } from "./plots.ts";
 * const fig: PlotlyFigure = {
 *   data: [{ type: "scatter", x: [1, 2], y: [3, 4] }],
 *   layout: { title: { text: "demo" } },
 * };
 * ```
 */
export interface PlotlyFigure {
  data: PlotlyTrace[];
  layout: Record<string, unknown>;
}

const TRAIN_COLOR = "#1f77b4";
const VAL_COLOR = "#ff7f0e";

/** `v` if finite, else `null` (plotly's gap). */
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

/**
 * Training curves: loss and val_loss in a left subplot, accuracy and
 * val_accuracy in a right one, x = epoch. Traces are, in order: loss,
 * val_loss, accuracy, val_accuracy; a validation trace with no finite value
 * (training without validation) is left out.
 *
 * @example
 * ```ts
 * import { historyFigure } from "./plots.ts";
 * const fig = historyFigure([
 *   { epoch: 1, loss: 0.5, accuracy: 0.8, val_loss: 0.4, val_accuracy: 0.85,
 *     lr: 0.01, seconds: 60, images_per_second: 1000, images_seen: 60000,
 *     wall_seconds: 60 },
 * ]);
 * console.log(fig.data.length); // 4
 * ```
 */
export function historyFigure(history: EpochRecord[]): PlotlyFigure {
  const x = history.map((r) => r.epoch);
  const trace = (
    key: keyof EpochRecord,
    color: string,
    axis: "" | "2",
  ): PlotlyTrace | undefined => {
    const y = history.map((r) => num(r[key]));
    if (key.startsWith("val_") && y.every((v) => v === null)) return undefined;
    return {
      type: "scatter",
      mode: "lines+markers",
      name: key,
      x,
      y,
      xaxis: `x${axis}`,
      yaxis: `y${axis}`,
      line: { color, dash: key.startsWith("val_") ? "dash" : "solid" },
      marker: { color, size: 6 },
      legendgroup: key.startsWith("val_") ? "val" : "train",
    };
  };
  const data = [
    trace("loss", TRAIN_COLOR, ""),
    trace("val_loss", VAL_COLOR, ""),
    trace("accuracy", TRAIN_COLOR, "2"),
    trace("val_accuracy", VAL_COLOR, "2"),
  ].filter((t): t is PlotlyTrace => t !== undefined);
  return {
    data,
    layout: {
      title: { text: "Training history" },
      grid: { rows: 1, columns: 2, pattern: "independent" },
      xaxis: {
        title: { text: "epoch" },
        dtick: history.length > 12 ? undefined : 1,
      },
      yaxis: { title: { text: "loss" } },
      xaxis2: {
        title: { text: "epoch" },
        dtick: history.length > 12 ? undefined : 1,
      },
      yaxis2: { title: { text: "accuracy" } },
      hovermode: "x unified",
    },
  };
}

/**
 * One run for {@link recipeComparisonFigure}: a label and its history.
 *
 * @example
 * ```ts
 * import type { RunCurve } from "./plots.ts";
 * const r: RunCurve = { label: "fast (seed 42)", history: [] };
 * ```
 */
export interface RunCurve {
  label: string;
  history: EpochRecord[];
}

/** Colours of the runs of a comparison, in turn. */
const RUN_COLORS = [
  "#1f77b4",
  "#d62728",
  "#2ca02c",
  "#9467bd",
  "#ff7f0e",
  "#8c564b",
  "#e377c2",
  "#17becf",
];

/**
 * Recipes side by side: each run's validation accuracy after every epoch,
 * against wall time (minutes, left) and against training images seen
 * (right) — time to accuracy, on this machine and independent of it.
 * Epochs without validation or without the two counts are left out.
 *
 * @example
 * ```ts
 * import { recipeComparisonFigure } from "./plots.ts";
 * const fig = recipeComparisonFigure([{ label: "fast", history }]);
 * console.log(fig.data.length); // 2: one trace per subplot
 * ```
 */
export function recipeComparisonFigure(runs: RunCurve[]): PlotlyFigure {
  const data: PlotlyTrace[] = [];
  runs.forEach((run, i) => {
    const points = run.history.filter((r) =>
      Number.isFinite(r.val_accuracy) && Number.isFinite(r.wall_seconds) &&
      Number.isFinite(r.images_seen)
    );
    const color = RUN_COLORS[i % RUN_COLORS.length];
    const y = points.map((r) => r.val_accuracy);
    for (
      const [x, axis] of [
        [points.map((r) => r.wall_seconds / 60), ""],
        [points.map((r) => r.images_seen), "2"],
      ] as const
    ) {
      data.push({
        type: "scatter",
        mode: "lines+markers",
        name: run.label,
        x,
        y,
        xaxis: `x${axis}`,
        yaxis: `y${axis}`,
        line: { color },
        marker: { color, size: 6 },
        legendgroup: run.label,
        showlegend: axis === "",
      });
    }
  });
  return {
    data,
    layout: {
      title: { text: "Recipes side by side: validation accuracy" },
      grid: { rows: 1, columns: 2, pattern: "independent" },
      xaxis: { title: { text: "wall time (minutes)" }, rangemode: "tozero" },
      yaxis: { title: { text: "validation accuracy" } },
      xaxis2: { title: { text: "training images seen" }, rangemode: "tozero" },
      yaxis2: { title: { text: "validation accuracy" } },
    },
  };
}

/**
 * Confusion-matrix heatmap: row i is the true class i, column j the
 * predicted class j, `z` is the matrix itself. Every cell is annotated with
 * its count (white on dark cells); the y axis is reversed so class 0 is at
 * the top, as the matrix is printed.
 *
 * @example
 * ```ts
 * import { confusionFigure } from "./plots.ts";
 * const fig = confusionFigure([[5, 1], [0, 6]], ["Bag", "Coat"]);
 * console.log((fig.layout.annotations as unknown[]).length); // 4
 * ```
 */
export function confusionFigure(
  confusion: number[][],
  classNames: readonly string[],
): PlotlyFigure {
  checkLength("The confusion matrix", confusion, classNames);
  confusion.forEach((row, i) =>
    checkLength(`Row ${i} of the confusion matrix`, row, classNames)
  );
  const max = Math.max(1, ...confusion.flat().filter(Number.isFinite));
  const names = [...classNames];
  const annotations = confusion.flatMap((row, i) =>
    row.map((v, j) => ({
      x: names[j],
      y: names[i],
      text: String(v),
      showarrow: false,
      font: { color: v > max / 2 ? "white" : "black", size: 11 },
    }))
  );
  return {
    data: [{
      type: "heatmap",
      z: confusion.map((row) => row.map(num)),
      x: names,
      y: names,
      // White for 0 up to dark blue for the largest count. (plotly's own
      // "Blues" runs the other way.)
      colorscale: [
        [0, "#f7fbff"],
        [0.25, "#c6dbef"],
        [0.5, "#6baed6"],
        [0.75, "#2171b5"],
        [1, "#08306b"],
      ],
      hovertemplate: "true %{y}<br>predicted %{x}<br>count %{z}<extra></extra>",
    }],
    layout: {
      title: { text: "Confusion matrix" },
      xaxis: { title: { text: "predicted" }, side: "bottom" },
      yaxis: { title: { text: "true" }, autorange: "reversed" },
      annotations,
    },
  };
}

/**
 * Bar chart of the accuracy (0..1) of each class, shown as percentages.
 *
 * @example
 * ```ts
 * import { perClassAccuracyFigure } from "./plots.ts";
 * const fig = perClassAccuracyFigure([0.91, 0.98], ["T-shirt/top", "Trouser"]);
 * ```
 */
export function perClassAccuracyFigure(
  acc: number[],
  classNames: readonly string[],
): PlotlyFigure {
  checkLength("The accuracy list", acc, classNames);
  return {
    data: [{
      type: "bar",
      x: [...classNames],
      y: acc.map(num),
      text: acc.map((a) =>
        Number.isFinite(a) ? `${(a * 100).toFixed(1)}%` : ""
      ),
      textposition: "auto",
      marker: { color: TRAIN_COLOR },
    }],
    layout: {
      title: { text: "Accuracy per class" },
      xaxis: { title: { text: "class" } },
      yaxis: { title: { text: "accuracy" }, range: [0, 1], tickformat: ".0%" },
    },
  };
}

/**
 * Horizontal bar chart of the `k` most probable classes of one prediction,
 * most probable at the top. Trace `y` holds the class names and `x` the
 * probabilities, both in descending order of probability (ties: lower class
 * index first). `k` is capped at the number of classes.
 *
 * @example
 * ```ts
 * import { topKFigure } from "./plots.ts";
 * const fig = topKFigure([0.1, 0.7, 0.2], ["Bag", "Coat", "Dress"], 2);
 * console.log(fig.data[0].y); // ["Coat", "Dress"]
 * ```
 */
export function topKFigure(
  probabilities: number[],
  classNames: readonly string[],
  k = 3,
): PlotlyFigure {
  checkLength("The probability list", probabilities, classNames);
  const order = probabilities
    .map((p, i) => ({ p: Number.isFinite(p) ? p : -Infinity, i }))
    .sort((a, b) => b.p - a.p || a.i - b.i)
    .slice(0, Math.max(0, Math.min(Math.floor(k), probabilities.length)));
  return {
    data: [{
      type: "bar",
      orientation: "h",
      x: order.map(({ i }) => num(probabilities[i])),
      y: order.map(({ i }) => classNames[i]),
      text: order.map(({ i }) =>
        Number.isFinite(probabilities[i])
          ? `${(probabilities[i] * 100).toFixed(1)}%`
          : ""
      ),
      textposition: "auto",
      marker: { color: TRAIN_COLOR },
    }],
    layout: {
      title: { text: `Top ${order.length} predictions` },
      xaxis: {
        title: { text: "probability" },
        range: [0, 1],
        tickformat: ".0%",
      },
      yaxis: { autorange: "reversed" },
    },
  };
}

/**
 * Bar chart of how many examples each class has.
 *
 * @example
 * ```ts
 * import { classBalanceFigure } from "./plots.ts";
 * const fig = classBalanceFigure([6000, 5990], ["Bag", "Coat"]);
 * ```
 */
export function classBalanceFigure(
  counts: number[],
  classNames: readonly string[],
): PlotlyFigure {
  checkLength("The count list", counts, classNames);
  return {
    data: [{
      type: "bar",
      x: [...classNames],
      y: counts.map(num),
      text: counts.map((c) => (Number.isFinite(c) ? String(c) : "")),
      textposition: "auto",
      marker: { color: TRAIN_COLOR },
    }],
    layout: {
      title: { text: "Examples per class" },
      xaxis: { title: { text: "class" } },
      yaxis: { title: { text: "count" }, rangemode: "tozero" },
    },
  };
}

/**
 * Histogram of pixel values 0–255 (bar per value). The black background
 * dominates Fashion-MNIST, so the y axis is logarithmic.
 *
 * @example
 * ```ts
 * import { pixelHistogramFigure } from "./plots.ts";
 * const fig = pixelHistogramFigure(new Array(256).fill(1));
 * console.log(fig.data[0].type); // "bar"
 * ```
 */
export function pixelHistogramFigure(histogram: number[]): PlotlyFigure {
  if (histogram.length !== 256) {
    throw new RangeError(
      `A pixel histogram has 256 bins, got ${histogram.length}.`,
    );
  }
  return {
    data: [{
      type: "bar",
      x: histogram.map((_, v) => v),
      y: histogram.map(num),
      marker: { color: TRAIN_COLOR },
      hovertemplate: "value %{x}<br>%{y} pixels<extra></extra>",
    }],
    layout: {
      title: { text: "Pixel values" },
      xaxis: { title: { text: "pixel value (0 = black)" }, range: [-1, 256] },
      yaxis: { title: { text: "pixels" }, type: "log" },
      bargap: 0,
    },
  };
}

/**
 * One point of a training run in progress: epochs done so far (fractional,
 * e.g. 1.5 halfway through epoch 2) and the epoch's running loss and
 * accuracy at that moment.
 *
 * @example
 * ```ts
 * import type { TrainingPoint } from "./plots.ts";
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
 * accuracy as lines over fractional epochs, validation loss and accuracy as
 * markers at the end of each finished epoch; loss on the left, accuracy on
 * the right, the x axes spanning all `epochs`. Always four traces, in the
 * order loss, val_loss, accuracy, val_accuracy (validation traces empty
 * until an epoch ends), so a chart can be updated in place.
 *
 * @example
 * ```ts
 * import { liveTrainingFigure } from "./plots.ts";
 * const fig = liveTrainingFigure([{ x: 0.5, loss: 0.9, accuracy: 0.7 }], [], 2);
 * console.log(fig.data.map((t) => t.name)); // ["loss", "val_loss", "accuracy", "val_accuracy"]
 * ```
 */
export function liveTrainingFigure(
  points: TrainingPoint[],
  history: EpochRecord[],
  epochs: number,
  title = "Training",
): PlotlyFigure {
  const line = (key: "loss" | "accuracy", axis: "" | "2"): PlotlyTrace => ({
    type: "scatter",
    mode: "lines",
    name: key,
    x: points.map((p) => p.x),
    y: points.map((p) => num(p[key])),
    xaxis: `x${axis}`,
    yaxis: `y${axis}`,
    line: { color: TRAIN_COLOR },
    legendgroup: "train",
  });
  const val = (key: "val_loss" | "val_accuracy", axis: "" | "2") => ({
    type: "scatter",
    mode: "lines+markers",
    name: key,
    x: history.map((r) => r.epoch),
    y: history.map((r) => num(r[key])),
    xaxis: `x${axis}`,
    yaxis: `y${axis}`,
    line: { color: VAL_COLOR, dash: "dash" },
    marker: { color: VAL_COLOR, size: 8 },
    legendgroup: "val",
  });
  const range = [0, Math.max(1, epochs)];
  const dtick = epochs > 12 ? undefined : 1;
  return {
    data: [
      line("loss", ""),
      val("val_loss", ""),
      line("accuracy", "2"),
      val("val_accuracy", "2"),
    ],
    layout: {
      title: { text: title },
      grid: { rows: 1, columns: 2, pattern: "independent" },
      xaxis: { title: { text: "epoch" }, range, dtick },
      yaxis: { title: { text: "loss" }, rangemode: "tozero" },
      xaxis2: { title: { text: "epoch" }, range, dtick },
      yaxis2: { title: { text: "accuracy" }, range: [0, 1] },
      hovermode: "x unified",
    },
  };
}

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Escapes `&`, `<`, `>`, `"` and `'` so `text` can stand in HTML text or in
 * a quoted attribute.
 *
 * @example
 * ```ts
 * import { escapeHtml } from "./plots.ts";
 * escapeHtml('<b title="x">'); // "&lt;b title=&quot;x&quot;&gt;"
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/**
 * Makes `source` safe to place between `<script>` and `</script>`: a
 * `</script`, `<script` or `<!--` inside it could end the element early or
 * change how the HTML parser reads it. They can only occur inside strings,
 * regular expressions or comments, where `\x3C` is the same `<`.
 *
 * @example
 * ```ts
 * import { scriptSafe } from "./plots.ts";
 * scriptSafe('var s = "</script>";'); // 'var s = "\\x3C/script>";'
 * ```
 */
export function scriptSafe(source: string): string {
  return source.replace(/<(?=\/?script|!--)/gi, "\\x3C");
}

/**
 * A complete standalone HTML page: `title` as heading and page title, then
 * each figure in its own `<div>`, drawn by plotly.js whose source
 * (`plotlyJs`, e.g. from `plotlyJsSource()`) is embedded inline — the page
 * loads nothing from the network and works from a local file.
 *
 * @example
 * ```ts
 * import { figureHtml, historyFigure } from "./plots.ts";
 * import { plotlyJsSource } from "./image/plotly_source.ts";
 * const html = figureHtml([historyFigure([])], await plotlyJsSource(), "Run 1");
 * // await Deno.writeTextFile("out/report.html", html);
 * ```
 */
export function figureHtml(
  figures: PlotlyFigure[],
  plotlyJs: string,
  title: string,
): string {
  const divs = figures
    .map((_, i) => `<div class="figure" id="figure-${i}"></div>`)
    .join("\n");
  // JSON with "<" escaped cannot close the script element.
  const json = JSON.stringify(figures).replace(/</g, "\\u003c");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
.figure { max-width: 1100px; height: 460px; margin: 0 auto 2rem; }
</style>
<script>
${scriptSafe(plotlyJs)}
</script>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${divs}
<script>
(function () {
  var figures = ${json};
  figures.forEach(function (fig, i) {
    Plotly.newPlot("figure-" + i, fig.data, fig.layout, {
      responsive: true,
      displaylogo: false,
    });
  });
})();
</script>
</body>
</html>
`;
}
