/**
 * Notebook views of the library's results: each function takes what a
 * pipeline step returns and gives a {@link View} that renders itself in
 * Jupyter (HTML tables, plotly charts, pictures) and prints as plain text
 * elsewhere. Pass them to `show`, which files them under the running cell
 * even on Run All.
 *
 * @example
 * ```ts
 * import { confusionView, reportView } from "./views.ts";
 * import { show } from "./jupyter.ts";
 * import { evaluateModel } from "./evaluate.ts";
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
  classBalanceFigure,
  confusionFigure,
  historyFigure,
  perClassAccuracyFigure,
  pixelHistogramFigure,
  type PlotlyFigure,
  recipeComparisonFigure,
  type RunCurve,
  topKFigure,
} from "./plots.ts";
import {
  confusionText,
  figureBundle,
  imageBundle,
  imgTag,
  mistakesBundle,
  modelSummaryBundle,
  preparedImageBundle,
  reportBundle,
  tableBundle,
  textBundle,
} from "./display.ts";
import { View } from "./jupyter.ts";
import { montageInput, type SavedRun } from "./outputs.ts";
import { renderMontage } from "./image/montage.ts";
import { renderClassGrid } from "./image/class_grid.ts";
import { grayToRgba } from "./image/resize.ts";
import type { PreparedImage } from "./preprocess.ts";
import { formatEpochLine } from "./progress.ts";
import { describeSettings, type NotebookSettings } from "./settings.ts";
import { describeRecipe, type Recipe } from "./recipes.ts";
import type { PixelStatistics } from "./stats.ts";
import type { EpochRecord, Report } from "./types.ts";

const newId = () => `chart-${crypto.randomUUID()}`;
const pct = (v: number, digits = 1) => `${(v * 100).toFixed(digits)}%`;
const count = (v: number) => v.toLocaleString("en-US");

/**
 * Any plotly figure as a chart view.
 *
 * @example
 * ```ts
 * import { figureView } from "./views.ts";
 * import { topKFigure } from "./plots.ts";
 * figureView(topKFigure([0.2, 0.8], ["Bag", "Coat"], 2));
 * ```
 */
export function figureView(figure: PlotlyFigure, plain?: string): View {
  return new View(figureBundle(figure, { id: newId(), plain }), true);
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
  return new View(textBundle(text));
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
  return new View(tableBundle({
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
      ["model bundle", settings.modelPath],
    ],
  }));
}

/**
 * Where the dataset was read from and what was verified, file by file.
 *
 * @example
 * ```ts
 * import { datasetView } from "./views.ts";
 * datasetView(await loadFashionMnist());
 * ```
 */
export function datasetView(data: FashionMnist): View {
  const loaded = (f: DatasetFile) =>
    (f.split === "train" ? data.train : data.test).count;
  return new View(tableBundle({
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
  }));
}

/**
 * Examples per class of a split, as a bar chart.
 *
 * @example
 * ```ts
 * import { classBalanceView } from "./views.ts";
 * classBalanceView(data.train, CLASS_NAMES);
 * ```
 */
export function classBalanceView(
  split: Split,
  classNames: readonly string[],
): View {
  const counts = classCounts(split, classNames.length);
  return figureView(
    classBalanceFigure(counts, classNames),
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
 * classGridView(data.train, CLASS_NAMES, 10);
 * ```
 */
export function classGridView(
  split: Split,
  classNames: readonly string[],
  perClass = 10,
): View {
  return new View(imageBundle(
    renderClassGrid(split, classNames, { perClass, scale: 2 }),
    `The first ${perClass} images of each class (28×28, shown 2×)`,
  ));
}

/**
 * Pixel statistics as a table, class by class.
 *
 * @example
 * ```ts
 * import { pixelStatsView } from "./views.ts";
 * pixelStatsView(pixelStatistics(data.train), CLASS_NAMES);
 * ```
 */
export function pixelStatsView(
  stats: PixelStatistics,
  classNames: readonly string[],
): View {
  return new View(tableBundle({
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
  }));
}

/**
 * The histogram of pixel values (log scale).
 *
 * @example
 * ```ts
 * import { pixelHistogramView } from "./views.ts";
 * pixelHistogramView(pixelStatistics(data.train));
 * ```
 */
export function pixelHistogramView(stats: PixelStatistics): View {
  return figureView(
    pixelHistogramFigure(stats.histogram),
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
 * modelView(buildMiniVGGNet({ seed: 42 }));
 * ```
 */
export function modelView(model: tf.LayersModel): View {
  const trainable = model.trainableWeights.reduce(
    (n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1),
    0,
  );
  return new View(modelSummaryBundle(layerTable(model), {
    params: model.countParams(),
    trainable,
    forwardFlops: forwardFlops(model),
  }, model.name));
}

/**
 * The WebAssembly backend as set up: SIMD, threads, versions.
 *
 * @example
 * ```ts
 * import { backendView } from "./views.ts";
 * backendView(await initWasmBackend());
 * ```
 */
export function backendView(info: WasmBackendInfo, tfjsVersion?: string): View {
  return new View(tableBundle({
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
  }));
}

/**
 * A training history as the loss and accuracy chart (per epoch), with the
 * epoch lines as plain text.
 *
 * @example
 * ```ts
 * import { historyView } from "./views.ts";
 * historyView(history);
 * ```
 */
export function historyView(history: EpochRecord[]): View {
  const epochs = history.length;
  return figureView(
    historyFigure(history),
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
 * reportView(evaluateModel(test.labels, predictions, CLASS_NAMES).report);
 * ```
 */
export function reportView(report: Report): View {
  return new View(reportBundle(report));
}

/**
 * The confusion matrix as an annotated heatmap.
 *
 * @example
 * ```ts
 * import { confusionView } from "./views.ts";
 * confusionView(confusion, CLASS_NAMES);
 * ```
 */
export function confusionView(
  confusion: number[][],
  classNames: readonly string[],
): View {
  return new View(
    figureBundle(confusionFigure(confusion, classNames), {
      id: newId(),
      plain: confusionText(confusion, classNames),
      height: 560,
    }),
    true,
  );
}

/**
 * Accuracy of each class (the confusion matrix's diagonal over its row
 * sums), as a bar chart.
 *
 * @example
 * ```ts
 * import { perClassAccuracyView } from "./views.ts";
 * perClassAccuracyView(confusion, CLASS_NAMES);
 * ```
 */
export function perClassAccuracyView(
  confusion: number[][],
  classNames: readonly string[],
): View {
  const acc = perClassAccuracy(confusion);
  return figureView(
    perClassAccuracyFigure(acc, classNames),
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
  return new View(imageBundle(
    renderMontage(input),
    `16 random test images (seed ${seed}) with the predicted class: ${right} right (green), ${
      16 - right
    } wrong (red)`,
  ));
}

/**
 * The `k` wrong predictions the model was surest of, with their images.
 *
 * @example
 * ```ts
 * import { mistakesView } from "./views.ts";
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
  return new View(mistakesBundle(
    mistakes.map((m) => ({
      ...m,
      image: split.images.subarray(m.index * PIXELS, (m.index + 1) * PIXELS),
    })),
    classNames,
  ));
}

/**
 * Test images with their true class and the model's three most probable
 * classes, one row per image.
 *
 * @example
 * ```ts
 * import { predictionsView } from "./views.ts";
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
  const rows = (html: boolean) =>
    indices.map((i) => [
      html
        ? imgTag(
          grayToRgba(
            split.images.subarray(i * PIXELS, (i + 1) * PIXELS),
            IMAGE_SIZE,
            IMAGE_SIZE,
            3,
          ),
          `test image ${i}`,
        )
        : "",
      i,
      classNames[split.labels[i]],
      top3(i),
    ]);
  const table = (html: boolean) => ({
    caption: `${indices.length} test images and the model's top 3`,
    headers: ["image", "test index", "true class", "top 3 predictions"],
    align: ["left", "right", "left", "left"] as ("left" | "right")[],
    htmlCells: html,
    rows: rows(html),
  });
  const html = tableBundle(table(true));
  const text = tableBundle(table(false));
  return new View({
    "text/html": html["text/html"],
    "text/plain": text["text/plain"],
  });
}

/**
 * The `k` most probable classes of one prediction as a bar chart.
 *
 * @example
 * ```ts
 * import { topKView } from "./views.ts";
 * topKView(classifyPixels(model, prepared.pixels), CLASS_NAMES);
 * ```
 */
export function topKView(
  probabilities: number[],
  classNames: readonly string[],
  k = 3,
): View {
  const figure = topKFigure(probabilities, classNames, k);
  const names = figure.data[0].y as string[];
  const values = figure.data[0].x as number[];
  return figureView(
    figure,
    `Top ${names.length}: ${
      names.map((n, i) => `${n} ${pct(values[i])}`).join(", ")
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
 * preparedView(await prepareImageFile("images/ankle-boot.jpg"), "ankle-boot.jpg");
 * ```
 */
export function preparedView(prepared: PreparedImage, name: string): View {
  return new View(preparedImageBundle(prepared, name));
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
  const bundle = tableBundle({
    caption: `Recipe ${describeRecipe(recipe)}`,
    headers: ["field", "value"],
    align: ["left", "left"],
    rows,
  });
  return new View({
    ...bundle,
    "text/plain": JSON.stringify(recipe, null, 2),
  });
}

/**
 * Recipes side by side: validation accuracy against wall time and against
 * images seen (see `recipeComparisonFigure`): the run just made, labelled
 * `current.label`, and the runs found on disk (`readRuns`), each labelled
 * by its recipe and folder.
 *
 * @example
 * ```ts
 * import { recipeComparisonView } from "./views.ts";
 * import { readRuns } from "./outputs.ts";
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
  const fig = recipeComparisonFigure(runs);
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
  return figureView(fig, plain);
}
