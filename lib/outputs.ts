/**
 * Everything a training run writes to its output folder (the output
 * contract): the model in two forms, history, report, confusion matrix,
 * predictions, charts, montage and the run record. Each file is written
 * atomically, so an interrupted run never leaves half a file.
 *
 * @example
 * ```ts
 * import { type RunOutputs, writeRunOutputs } from "./outputs.ts";
 * declare const inputs: RunOutputs;
 * const { report } = await writeRunOutputs("out/run", inputs);
 * ```
 *
 * @module
 */
import { join } from "node:path";
import type { tf } from "./tf.ts";
import { PIXELS, type Split } from "./data.ts";
import { modelMetadata, saveModelDir, saveModelZip } from "./model_zip.ts";
import {
  crossEntropyOf,
  evaluateModel,
  type Predictions,
  predictionsCsv,
} from "./evaluate.ts";
import { formatReport } from "./metrics.ts";
import { historyChart } from "./charts.ts";
import { chartPage } from "./render/html.ts";
import { plotlyJsSource } from "./render/plotly_source.ts";
import { chartPng, svgPng } from "./render/png.ts";
import { type MontageOptions, montageSvg } from "./image/montage.ts";
import { makeRng, sample } from "./random.ts";
import { writeFileAtomic } from "./files.ts";
import type { EpochRecord, Report } from "./types.ts";

/**
 * The files of the output contract, in the order they are written.
 *
 * @example
 * ```ts
 * import { OUTPUT_FILES } from "./outputs.ts";
 * OUTPUT_FILES.includes("montage.png"); // true
 * ```
 */
export const OUTPUT_FILES: readonly string[] = Object.freeze([
  "model",
  "model.zip",
  "history.json",
  "report.txt",
  "report.json",
  "confusion.json",
  "predictions.csv",
  "plot.html",
  "plot.png",
  "montage.png",
  "run.json",
]);

/**
 * The montage's input: `count` test items picked at random (seeded), with
 * their labels and predictions. {@link montagePng} draws it; callers that
 * also want to say how many are right use this directly.
 *
 * @example
 * ```ts
 * import { montageInput } from "./outputs.ts";
 * import type { Predictions } from "./evaluate.ts";
 * declare const predictions: Predictions;
 * import { CLASS_NAMES } from "./data.ts";
 * import type { FashionMnist } from "./data.ts";
 * declare const data: FashionMnist;
 * const input = montageInput(data.test, predictions, CLASS_NAMES, 42);
 * const right = input.labels.filter((l, i) => l === input.predicted[i]).length;
 * ```
 */
export function montageInput(
  split: Split,
  predictions: Pick<Predictions, "predicted">,
  classNames: readonly string[],
  seed = 42,
  count = 16,
): MontageOptions {
  const picks = sample(split.count, count, makeRng(seed));
  return {
    images: picks.map((i) => split.images.slice(i * PIXELS, (i + 1) * PIXELS)),
    labels: picks.map((i) => split.labels[i]),
    predicted: picks.map((i) => predictions.predicted[i]),
    classNames,
  };
}

/**
 * Picks `count` random test items (seeded) and draws the 4×4 montage as
 * PNG bytes: each image enlarged to 96×96 with its predicted class name,
 * green when right, red when wrong (see `montageSvg`).
 *
 * @example
 * ```ts
 * import { montagePng } from "./outputs.ts";
 * const split = { images: new Uint8Array(16 * 784), labels: new Uint8Array(16), count: 16 };
 * const png = await montagePng(split, { predicted: new Uint8Array(16) }, ["a", "b"], 7);
 * ```
 */
export async function montagePng(
  split: Split,
  predictions: Pick<Predictions, "predicted">,
  classNames: readonly string[],
  seed = 42,
  count = 16,
): Promise<Uint8Array> {
  const picture = montageSvg(
    montageInput(split, predictions, classNames, seed, count),
  );
  return await svgPng(picture.svg);
}

/**
 * What {@link writeRunOutputs} needs.
 *
 * @example
 * ```ts
 * import type { RunOutputs } from "./outputs.ts";
 * import { CLASS_NAMES, type FashionMnist } from "./data.ts";
 * import type { Predictions } from "./evaluate.ts";
 * import type { EpochRecord } from "./types.ts";
 * import type { tf } from "./tf.ts";
 * declare const model: tf.LayersModel;
 * declare const history: EpochRecord[];
 * declare const data: FashionMnist;
 * declare const predictions: Predictions;
 * const inputs: RunOutputs = { model, history, test: data.test, predictions, classNames: CLASS_NAMES, run: {} };
 * ```
 */
export interface RunOutputs {
  model: tf.LayersModel;
  history: EpochRecord[];
  /** The labelled data the predictions are of (the test set). */
  test: Split;
  predictions: Predictions;
  classNames: readonly string[];
  /** Configuration and facts recorded in `run.json` and the model zip's metadata. */
  run: Record<string, unknown>;
  /** Seed for choosing the montage's images. */
  seed?: number;
}

/**
 * Writes every file of the output contract into `outDir` and returns the
 * report (so callers can print the accuracy).
 *
 * @example
 * ```ts
 * import { writeRunOutputs } from "./outputs.ts";
 * declare const inputs: RunOutputs;
 * const { report } = await writeRunOutputs("out/run", inputs);
 * console.log(report.accuracy);
 * ```
 */
export async function writeRunOutputs(
  outDir: string,
  o: RunOutputs,
): Promise<{ report: Report; confusion: number[][] }> {
  const { report, confusion } = evaluateModel(
    o.test.labels,
    o.predictions,
    o.classNames,
  );
  const metrics = {
    test_accuracy: report.accuracy,
    test_loss: crossEntropyOf(o.test.labels, o.predictions),
    macro_f1: report.macro_avg.f1,
  };
  const metadata = modelMetadata({
    classNames: o.classNames,
    recipe: o.run.recipe,
    metrics,
  });
  const json = (v: unknown) => JSON.stringify(v, null, 2) + "\n";
  const file = (name: string) => join(outDir, name);

  await saveModelDir(o.model, file("model"));
  await saveModelZip(o.model, file("model.zip"), metadata);
  await writeFileAtomic(file("history.json"), json(o.history));
  await writeFileAtomic(file("report.txt"), formatReport(report));
  await writeFileAtomic(file("report.json"), json(report));
  await writeFileAtomic(file("confusion.json"), json(confusion));
  await writeFileAtomic(
    file("predictions.csv"),
    predictionsCsv(o.test.labels, o.predictions),
  );
  await writeFileAtomic(
    file("plot.html"),
    chartPage(
      [historyChart(o.history)],
      await plotlyJsSource(),
      "MiniVGGNet training",
    ),
  );
  await writeFileAtomic(
    file("plot.png"),
    await chartPng(historyChart(o.history)),
  );
  await writeFileAtomic(
    file("montage.png"),
    await montagePng(o.test, o.predictions, o.classNames, o.seed),
  );
  await writeFileAtomic(
    file("run.json"),
    json({
      ...o.run,
      versions: metadata.versions,
      metrics,
      history_epochs: o.history.length,
    }),
  );
  return { report, confusion };
}

/**
 * A finished training run found on disk (see {@link readRuns}).
 *
 * @example
 * ```ts
 * import type { SavedRun } from "./outputs.ts";
 * import type { EpochRecord } from "./types.ts";
 * declare const history: EpochRecord[];
 * const r: SavedRun = { folder: "out/fast-1", recipe: "fast", seed: 1, testAccuracy: 0.93, history: [] };
 * ```
 */
export interface SavedRun {
  folder: string;
  recipe: string;
  seed: number | null;
  testAccuracy: number | null;
  history: EpochRecord[];
}

/**
 * The training runs in the folders directly under `dir` (by default the
 * project's `out/`): each folder with a `run.json` and a `history.json`
 * whose epochs carry validation accuracy, images seen and wall time (runs
 * from before those were recorded are left out, as are unreadable ones).
 * Sorted by recipe, then folder.
 *
 * @example
 * ```ts
 * import { readRuns } from "./outputs.ts";
 * for (const run of await readRuns("out")) console.log(run.recipe, run.testAccuracy);
 * ```
 */
export async function readRuns(dir: string): Promise<SavedRun[]> {
  const runs: SavedRun[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  for (const e of entries.filter((e) => e.isDirectory)) {
    const folder = join(dir, e.name);
    try {
      const run = JSON.parse(await Deno.readTextFile(join(folder, "run.json")));
      const history = JSON.parse(
        await Deno.readTextFile(join(folder, "history.json")),
      ) as EpochRecord[];
      const complete = Array.isArray(history) && history.length > 0 &&
        history.every((h) =>
          typeof h.val_accuracy === "number" &&
          typeof h.images_seen === "number" &&
          typeof h.wall_seconds === "number"
        );
      if (!complete) continue;
      runs.push({
        folder,
        recipe: String(run?.recipe?.name ?? "?"),
        seed: typeof run?.seed === "number" ? run.seed : null,
        testAccuracy: typeof run?.test_accuracy === "number"
          ? run.test_accuracy
          : null,
        history,
      });
    } catch {
      // Not a run folder, or one being written: leave it out.
    }
  }
  return runs.sort((a, b) =>
    a.recipe.localeCompare(b.recipe) || a.folder.localeCompare(b.folder)
  );
}
