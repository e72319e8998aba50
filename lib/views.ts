/**
 * Notebook views of the library's results: each function takes what a
 * pipeline step returns and gives a {@link View} that renders itself in
 * Jupyter (HTML tables, plotly charts, pictures) and prints as plain text
 * elsewhere. Pass them to `show`, which files them under the running cell
 * even on Run All.
 *
 * The display pipeline: definitions (charts in `charts.ts`, tables as
 * `tables.ts` data, pictures composed in `image/`) → views (this module:
 * what a notebook calls) → renderers (`render/`: MIME bundles, HTML, text,
 * plotly, PNG). A new view goes here: build its chart or table, hand it to
 * a renderer; no HTML, escaping or number formats of its own.
 *
 * @example
 * ```ts
 * import { confusionView, reportView } from "./views.ts";
 * import { show } from "./jupyter.ts";
 * import { evaluateModel } from "./evaluate.ts";
 * import { CLASS_NAMES } from "./data.ts";
 * import type { Split } from "./data.ts";
 * declare const test: Split;
 * import type { Predictions } from "./evaluate.ts";
 * declare const predictions: Predictions;
 * const { report, confusion } = evaluateModel(test.labels, predictions, CLASS_NAMES);
 * await show(reportView(report), confusionView(confusion, CLASS_NAMES));
 * ```
 *
 * @module
 */
import type { tf } from "./tf.ts";
import {
  classCounts,
  DATASET_FILES,
  type DatasetFile,
  type FashionMnist,
  IMAGE_SIZE,
  PIXELS,
  type Split,
} from "./data.ts";
import { forwardFlops, layerTable } from "./model.ts";
import type { WasmBackendInfo } from "./backend/mod.ts";
import type { Predictions } from "./evaluate.ts";
import { mostConfidentMistakes, perClassAccuracy } from "./metrics.ts";
import {
  type Chart,
  classBalanceChart,
  confusionChart,
  historyChart,
  pct,
  perClassAccuracyChart,
  pixelHistogramChart,
  recipeComparisonChart,
  type RunCurve,
  topKChart,
} from "./charts.ts";
import type { BarSeries } from "./charts.ts";
import type { Table } from "./tables.ts";
import {
  chartMime,
  imageMime,
  picturesMime,
  tableMime,
  textMime,
} from "./render/mime.ts";
import { imageText } from "./render/text.ts";
import { svgPng } from "./render/png.ts";
import { View } from "./jupyter.ts";
import { montageInput, type SavedRun } from "./outputs.ts";
import { montageSvg } from "./image/montage.ts";
import { classGridSvg } from "./image/class_grid.ts";
import type { SvgPicture } from "./image/svg.ts";
import { fitRgba, grayToRgba } from "./image/resize.ts";
import { formatReport } from "./metrics.ts";
import type { PreparedImage } from "./preprocess.ts";
import { formatEpochLine } from "./progress.ts";
import { describeSettings, type NotebookSettings } from "./settings.ts";
import { describeRecipe, type Recipe } from "./recipes.ts";
import type { PixelStatistics } from "./stats.ts";
import type { EpochRecord, Report } from "./types.ts";

const newId = () => `chart-${crypto.randomUUID()}`;
const count = (v: number) => v.toLocaleString("en-US");

/**
 * Any chart as a view (a plotly chart in Jupyter), with `plain` as its
 * text (default: the chart's title and series).
 *
 * @example
 * ```ts
 * import { chartView } from "./views.ts";
 * import { topKChart } from "./charts.ts";
 * chartView(topKChart([0.2, 0.8], ["Bag", "Coat"], 2));
 * ```
 */
export function chartView(
  chart: Chart,
  plain?: string,
  height?: number,
): View {
  return new View(chartMime(chart, { id: newId(), plain, height }), {
    usesPlotly: true,
  });
}

/**
 * Tables as a view (one under the other).
 *
 * @example
 * ```ts
 * import { tableView } from "./views.ts";
 * tableView({ headers: ["class", "count"], rows: [["Bag", 6000]] });
 * ```
 */
export function tableView(...tables: Table[]): View {
  return new View(tableMime(...tables));
}

/**
 * A picture composed as SVG (montage, class grid) as a view: drawn to PNG
 * when first shown; its text is its size and caption.
 *
 * @example
 * ```ts
 * import { pictureView } from "./views.ts";
 * import { svgDocument } from "./image/svg.ts";
 * pictureView(svgDocument(10, 10, "black", []), "a black square");
 * ```
 */
export function pictureView(picture: SvgPicture, caption: string): View {
  return new View(
    async () =>
      imageMime(
        await svgPng(picture.svg),
        picture.width,
        picture.height,
        caption,
      ),
    { text: imageText(picture.width, picture.height, caption) },
  );
}

/** A 28×28 grey image as a table cell, shown 3×. */
function grayCell(pixels: Uint8Array, alt: string) {
  return { image: grayToRgba(pixels, IMAGE_SIZE, IMAGE_SIZE, 3), alt };
}

/**
 * Preformatted text as a view.
 *
 * @example
 * ```ts
 * import { textView } from "./views.ts";
 * textView("hello");
 * ```
 */
export function textView(text: string): View {
  return new View(textMime(text));
}

/**
 * What a notebook run will do (quick or full, images, epochs, where the
 * model goes).
 *
 * @example
 * ```ts
 * import { settingsView } from "./views.ts";
 * import { notebookSettings } from "./settings.ts";
 * settingsView(notebookSettings());
 * ```
 */
export function settingsView(settings: NotebookSettings): View {
  return tableView({
    caption: describeSettings(settings),
    headers: ["setting", "value"],
    align: ["left", "left"],
    rows: [
      ["recipe", settings.recipe.name],
      ["mode", settings.quick ? "quick (a limit is set)" : "full"],
      [
        "training images",
        settings.trainLimit === null
          ? "all (60,000)"
          : count(settings.trainLimit),
      ],
      [
        "test images",
        settings.testLimit === null
          ? "all (10,000)"
          : count(settings.testLimit),
      ],
      ["epochs", settings.epochs],
      ["seed", settings.seed],
      ["model zip", settings.modelPath],
    ],
  });
}

/**
 * Where the dataset was read from and what was verified, file by file.
 *
 * @example
 * ```ts
 * import { datasetView } from "./views.ts";
 * import { loadFashionMnist } from "./data.ts";
 * datasetView(await loadFashionMnist());
 * ```
 */
export function datasetView(data: FashionMnist): View {
  const loaded = (f: DatasetFile) =>
    (f.split === "train" ? data.train : data.test).count;
  return tableView({
    caption:
      `Read from ${data.source}; each file's content matched its official SHA-256 (and gzip, IDX header, 28×28, item count and labels 0–9 were checked)`,
    headers: ["file", "split", "kind", "items loaded", "SHA-256 (content)"],
    align: ["left", "left", "left", "right", "left"],
    rows: DATASET_FILES.map((f) => [
      f.name,
      f.split,
      f.kind,
      count(loaded(f)),
      `${f.sha256.slice(0, 16)}…`,
    ]),
  });
}

/**
 * Examples per class of a split, as a bar chart.
 *
 * @example
 * ```ts
 * import { classBalanceView } from "./views.ts";
 * import { CLASS_NAMES } from "./data.ts";
 * import type { FashionMnist } from "./data.ts";
 * declare const data: FashionMnist;
 * classBalanceView(data.train, CLASS_NAMES);
 * ```
 */
export function classBalanceView(
  split: Split,
  classNames: readonly string[],
): View {
  const counts = classCounts(split, classNames.length);
  return chartView(
    classBalanceChart(counts, classNames),
    `Examples per class: ${
      classNames.map((n, i) => `${n} ${counts[i]}`).join(", ")
    }`,
  );
}

/**
 * The first `perClass` images of every class, one row per class.
 *
 * @example
 * ```ts
 * import { classGridView } from "./views.ts";
 * import { CLASS_NAMES } from "./data.ts";
 * import type { FashionMnist } from "./data.ts";
 * declare const data: FashionMnist;
 * classGridView(data.train, CLASS_NAMES, 10);
 * ```
 */
export function classGridView(
  split: Split,
  classNames: readonly string[],
  perClass = 10,
): View {
  return pictureView(
    classGridSvg(split, classNames, { perClass, scale: 2 }),
    `The first ${perClass} images of each class (28×28, shown 2×)`,
  );
}

/**
 * Pixel statistics as a table, class by class.
 *
 * @example
 * ```ts
 * import { pixelStatsView } from "./views.ts";
 * import { CLASS_NAMES } from "./data.ts";
 * import type { FashionMnist } from "./data.ts";
 * declare const data: FashionMnist;
 * import { pixelStatistics } from "./stats.ts";
 * pixelStatsView(pixelStatistics(data.train), CLASS_NAMES);
 * ```
 */
export function pixelStatsView(
  stats: PixelStatistics,
  classNames: readonly string[],
): View {
  return tableView({
    caption: `Pixel statistics over ${count(stats.images)} images (${
      count(stats.pixels)
    } pixels, values 0–255)`,
    headers: ["measure", "value"],
    align: ["left", "right"],
    rows: [
      ["mean", stats.mean.toFixed(2)],
      ["standard deviation", stats.std.toFixed(2)],
      ["mean after ÷255 (model input)", (stats.mean / 255).toFixed(4)],
      ["min / max", `${stats.min} / ${stats.max}`],
      ["black pixels (value 0)", pct(stats.zeroFraction)],
      ...classNames.map((
        n,
        i,
      ) => [`mean of ${n}`, stats.classMeans[i].toFixed(2)]),
    ],
  });
}

/**
 * The histogram of pixel values (log scale).
 *
 * @example
 * ```ts
 * import { pixelHistogramView } from "./views.ts";
 * import type { FashionMnist } from "./data.ts";
 * declare const data: FashionMnist;
 * import { pixelStatistics } from "./stats.ts";
 * pixelHistogramView(pixelStatistics(data.train));
 * ```
 */
export function pixelHistogramView(stats: PixelStatistics): View {
  return chartView(
    pixelHistogramChart(stats.histogram),
    `Pixel values: ${pct(stats.zeroFraction)} are 0 (black), ${
      pct(stats.histogram[255] / stats.pixels, 2)
    } are 255`,
  );
}

/**
 * A model's layer table (name, type, output shape, parameters) with its
 * totals and cost per image.
 *
 * @example
 * ```ts
 * import { modelView } from "./views.ts";
 * import { buildMiniVGGNet } from "./model.ts";
 * modelView(buildMiniVGGNet({ seed: 42 }));
 * ```
 */
export function modelView(model: tf.LayersModel): View {
  const trainable = model.trainableWeights.reduce(
    (n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1),
    0,
  );
  const rows = layerTable(model);
  const n = (v: number) => v.toLocaleString("en-US");
  const mflop = (v: number) => `${(v / 1e6).toFixed(1)} MFLOP`;
  const params = model.countParams();
  const flops = forwardFlops(model);
  return tableView({
    caption: `${model.name}: ${rows.length} layers`,
    headers: ["#", "layer", "type", "output shape", "parameters"],
    align: ["right", "left", "left", "left", "right"],
    rows: rows.map((r, i) => [
      i + 1,
      r.name,
      r.type,
      `(${r.outputShape.map((d) => d ?? "batch").join(", ")})`,
      n(r.params),
    ]),
  }, {
    headers: ["total", "value"],
    align: ["left", "right"],
    rows: [
      ["parameters", n(params)],
      ["trainable", n(trainable)],
      [
        "not trainable (BatchNorm moving mean/variance)",
        n(params - trainable),
      ],
      ["forward pass, one image", mflop(flops)],
      ["training step, one image (≈ 3 × forward)", mflop(3 * flops)],
    ],
  });
}

/**
 * The WebAssembly backend as set up: SIMD, threads, versions.
 *
 * @example
 * ```ts
 * import { backendView } from "./views.ts";
 * import { initWasmBackend } from "./backend/mod.ts";
 * backendView(await initWasmBackend());
 * ```
 */
export function backendView(info: WasmBackendInfo, tfjsVersion?: string): View {
  return tableView({
    caption: `TensorFlow.js backend: ${info.backend}${
      info.simd ? " with SIMD" : ""
    }, ${info.threads} thread${info.threads === 1 ? "" : "s"}`,
    headers: ["setting", "value"],
    align: ["left", "left"],
    rows: [
      ["backend", info.backend],
      ["WebAssembly SIMD128", info.simd ? "on" : "off"],
      ["threads", info.threads],
      ...(tfjsVersion ? [["tfjs", tfjsVersion]] : []),
      ["cores on this machine", navigator.hardwareConcurrency],
    ],
  });
}

/**
 * A training history as the loss and accuracy chart (per epoch), with the
 * epoch lines as plain text.
 *
 * @example
 * ```ts
 * import { historyView } from "./views.ts";
 * import type { EpochRecord } from "./types.ts";
 * declare const history: EpochRecord[];
 * historyView(history);
 * ```
 */
export function historyView(history: EpochRecord[]): View {
  const epochs = history.length;
  return chartView(
    historyChart(history),
    history.map((r) => formatEpochLine(r, epochs)).join("\n") ||
      "No epochs trained.",
  );
}

/**
 * A classification report as a table (plain text: scikit-learn's layout).
 *
 * @example
 * ```ts
 * import { reportView } from "./views.ts";
 * import { CLASS_NAMES } from "./data.ts";
 * import type { Split } from "./data.ts";
 * declare const test: Split;
 * import type { Predictions } from "./evaluate.ts";
 * declare const predictions: Predictions;
 * import { evaluateModel } from "./evaluate.ts";
 * reportView(evaluateModel(test.labels, predictions, CLASS_NAMES).report);
 * ```
 */
export function reportView(report: Report): View {
  const fixed = (v: number) => v.toFixed(2);
  const total = report.macro_avg.support;
  const averages = [
    ["macro avg", report.macro_avg],
    ["weighted avg", report.weighted_avg],
  ] as const;
  const table = tableMime({
    caption: `Classification report (${count(total)} images)`,
    headers: ["class", "precision", "recall", "f1-score", "support"],
    align: ["left", "right", "right", "right", "right"],
    rows: [
      ...report.classes.map((c) => [
        c.name,
        fixed(c.precision),
        fixed(c.recall),
        fixed(c.f1),
        c.support,
      ]),
      ["accuracy", "", "", fixed(report.accuracy), total],
      ...averages.map(([name, s]) => [
        name,
        fixed(s.precision),
        fixed(s.recall),
        fixed(s.f1),
        s.support,
      ]),
    ],
  });
  return new View({ ...table, "text/plain": formatReport(report) });
}

/**
 * The confusion matrix as an annotated heatmap.
 *
 * @example
 * ```ts
 * import { confusionView } from "./views.ts";
 * import { CLASS_NAMES } from "./data.ts";
 * declare const confusion: number[][];
 * confusionView(confusion, CLASS_NAMES);
 * ```
 */
export function confusionView(
  confusion: number[][],
  classNames: readonly string[],
): View {
  return chartView(
    confusionChart(confusion, classNames),
    tableMime({
      caption: "Confusion matrix (rows: true class, columns: predicted 0–" +
        `${classNames.length - 1})`,
      headers: ["true \\ predicted", ...classNames.map((_, i) => String(i))],
      rows: confusion.map((row, i) => [`${i} ${classNames[i]}`, ...row]),
    })["text/plain"] as string,
    560,
  );
}

/**
 * Accuracy of each class (the confusion matrix's diagonal over its row
 * sums), as a bar chart.
 *
 * @example
 * ```ts
 * import { perClassAccuracyView } from "./views.ts";
 * import { CLASS_NAMES } from "./data.ts";
 * declare const confusion: number[][];
 * perClassAccuracyView(confusion, CLASS_NAMES);
 * ```
 */
export function perClassAccuracyView(
  confusion: number[][],
  classNames: readonly string[],
): View {
  const acc = perClassAccuracy(confusion);
  return chartView(
    perClassAccuracyChart(acc, classNames),
    `Accuracy per class: ${
      classNames.map((n, i) => `${n} ${pct(acc[i])}`).join(", ")
    }`,
  );
}

/**
 * The 4×4 montage of random test images (seeded), the predicted class on
 * each: green when right, red when wrong.
 *
 * @example
 * ```ts
 * import { montageView } from "./views.ts";
 * import { CLASS_NAMES } from "./data.ts";
 * import type { Split } from "./data.ts";
 * declare const test: Split;
 * import type { Predictions } from "./evaluate.ts";
 * declare const predictions: Predictions;
 * montageView(test, predictions, CLASS_NAMES, 42);
 * ```
 */
export function montageView(
  split: Split,
  predictions: Pick<Predictions, "predicted">,
  classNames: readonly string[],
  seed = 42,
): View {
  const input = montageInput(split, predictions, classNames, seed, 16);
  const right = input.labels.filter((l, i) => l === input.predicted[i]).length;
  return pictureView(
    montageSvg(input),
    `16 random test images (seed ${seed}) with the predicted class: ${right} right (green), ${
      16 - right
    } wrong (red)`,
  );
}

/**
 * The `k` wrong predictions the model was surest of, with their images.
 *
 * @example
 * ```ts
 * import { mistakesView } from "./views.ts";
 * import { CLASS_NAMES } from "./data.ts";
 * import type { Split } from "./data.ts";
 * declare const test: Split;
 * import type { Predictions } from "./evaluate.ts";
 * declare const predictions: Predictions;
 * mistakesView(test, predictions, CLASS_NAMES, 8);
 * ```
 */
export function mistakesView(
  split: Split,
  predictions: Pick<Predictions, "predicted" | "confidence">,
  classNames: readonly string[],
  k = 8,
): View {
  const mistakes = mostConfidentMistakes(
    split.labels,
    predictions.predicted,
    predictions.confidence,
    k,
  );
  return tableView({
    caption: `The ${mistakes.length} most confident mistakes`,
    headers: ["image", "test index", "true class", "predicted", "confidence"],
    align: ["left", "right", "left", "left", "right"],
    rows: mistakes.map((m) => [
      grayCell(
        split.images.subarray(m.index * PIXELS, (m.index + 1) * PIXELS),
        `test image ${m.index}`,
      ),
      m.index,
      classNames[m.label],
      classNames[m.predicted],
      pct(m.confidence),
    ]),
  });
}

/**
 * Test images with their true class and the model's three most probable
 * classes, one row per image.
 *
 * @example
 * ```ts
 * import { predictionsView } from "./views.ts";
 * import { CLASS_NAMES } from "./data.ts";
 * import type { Split } from "./data.ts";
 * declare const test: Split;
 * import type { Predictions } from "./evaluate.ts";
 * declare const predictions: Predictions;
 * predictionsView(test, predictions, CLASS_NAMES, [0, 1, 2, 3]);
 * ```
 */
export function predictionsView(
  split: Split,
  predictions: Pick<Predictions, "probabilities" | "classes">,
  classNames: readonly string[],
  indices: number[],
): View {
  const top3 = (i: number) => {
    const p = predictions.probabilities.subarray(
      i * predictions.classes,
      (i + 1) * predictions.classes,
    );
    return Array.from(p, (v, c) => ({ v, c }))
      .sort((a, b) => b.v - a.v || a.c - b.c)
      .slice(0, 3)
      .map(({ v, c }) => `${classNames[c]} ${pct(v)}`)
      .join(", ");
  };
  return tableView({
    caption: `${indices.length} test images and the model's top 3`,
    headers: ["image", "test index", "true class", "top 3 predictions"],
    align: ["left", "right", "left", "left"],
    rows: indices.map((i) => [
      grayCell(
        split.images.subarray(i * PIXELS, (i + 1) * PIXELS),
        `test image ${i}`,
      ),
      i,
      classNames[split.labels[i]],
      top3(i),
    ]),
  });
}

/**
 * The `k` most probable classes of one prediction as a bar chart.
 *
 * @example
 * ```ts
 * import { topKView } from "./views.ts";
 * import { CLASS_NAMES } from "./data.ts";
 * import { classifyPixels } from "./evaluate.ts";
 * import type { PreparedImage } from "./preprocess.ts";
 * declare const prepared: PreparedImage;
 * import type { tf } from "./tf.ts";
 * declare const model: tf.LayersModel;
 * topKView(classifyPixels(model, prepared.pixels), CLASS_NAMES);
 * ```
 */
export function topKView(
  probabilities: number[],
  classNames: readonly string[],
  k = 3,
): View {
  const chart = topKChart(probabilities, classNames, k);
  const bars = chart.panels[0].series[0] as BarSeries;
  return chartView(
    chart,
    `Top ${bars.categories.length}: ${
      bars.categories.map((n, i) => `${n} ${bars.labels?.[i]}`).join(", ")
    }`,
  );
}

/**
 * A picture next to what the model sees after preparation (28×28, light
 * on black), with what preparation did.
 *
 * @example
 * ```ts
 * import { preparedView } from "./views.ts";
 * import { prepareImageFile } from "./preprocess.ts";
 * preparedView(await prepareImageFile("images/ankle-boot.jpg"), "ankle-boot.jpg");
 * ```
 */
export function preparedView(prepared: PreparedImage, name: string): View {
  const { source, box } = prepared;
  const steps = `${source.width}×${source.height} picture; ${
    prepared.inverted
      ? "light background, so inverted"
      : "dark background, not inverted"
  }; object cropped at ${box.width}×${box.height} from (${box.x}, ${box.y}) and fitted into 28×28`;
  return new View(picturesMime(
    [
      {
        image: fitRgba(source, 224),
        caption: `${name} (original)`,
        pixelated: false,
      },
      {
        image: grayToRgba(prepared.pixels, IMAGE_SIZE, IMAGE_SIZE, 8),
        caption: "what the model sees: 28×28, shown 8×",
      },
    ],
    steps,
    `${name}: ${steps}`,
  ));
}

/**
 * A recipe as a table of its fields (nested ones as JSON), with its
 * one-line summary; as plain text, the recipe object itself.
 *
 * @example
 * ```ts
 * import { recipeView } from "./views.ts";
 * import { FAST_RECIPE } from "./recipes.ts";
 * recipeView(FAST_RECIPE);
 * ```
 */
export function recipeView(recipe: Readonly<Recipe>): View {
  const rows = Object.entries(recipe).map(([key, value]) => [
    key,
    typeof value === "object" && value !== null
      ? JSON.stringify(value)
      : String(value),
  ]);
  const table = tableMime({
    caption: `Recipe ${describeRecipe(recipe)}`,
    headers: ["field", "value"],
    align: ["left", "left"],
    rows,
  });
  return new View({
    ...table,
    "text/plain": JSON.stringify(recipe, null, 2),
  });
}

/**
 * Recipes side by side: validation accuracy against wall time and against
 * images seen (see `recipeComparisonChart`): the run just made, labelled
 * `current.label`, and the runs found on disk (`readRuns`), each labelled
 * by its recipe and folder.
 *
 * @example
 * ```ts
 * import { recipeComparisonView } from "./views.ts";
 * import { readRuns } from "./outputs.ts";
 * import type { EpochRecord } from "./types.ts";
 * declare const history: EpochRecord[];
 * recipeComparisonView({ label: "this notebook (fast)", history }, await readRuns("../out"));
 * ```
 */
export function recipeComparisonView(
  current: RunCurve | null,
  saved: SavedRun[] = [],
): View {
  const runs: RunCurve[] = [
    ...(current ? [current] : []),
    ...saved.map((r) => ({
      label: `${r.recipe} (${r.folder.split(/[\\/]/).at(-1)})`,
      history: r.history,
    })),
  ];
  const chart = recipeComparisonChart(runs);
  const plain = runs.length === 0
    ? "No runs to compare."
    : `Validation accuracy by time and by images seen: ${
      runs.map((r) => {
        const last = r.history.at(-1);
        return `${r.label} ${last ? pct(last.val_accuracy, 2) : "–"} after ${
          last ? count(last.images_seen) : 0
        } images`;
      }).join("; ")
    }`;
  return chartView(chart, plain);
}
