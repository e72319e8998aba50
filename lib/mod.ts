/**
 * What a notebook or script imports, by name, in the order data flows:
 * data → model → backend → training → evaluation → your own images →
 * saving → charts and views. Everything else in `lib/` is internal: its
 * modules export for each other and for the tests, not for users.
 *
 * @example
 * ```ts
 * import { buildMiniVGGNet, initWasmBackend, loadFashionMnist } from "./mod.ts";
 * await initWasmBackend();
 * const data = await loadFashionMnist();
 * const model = buildMiniVGGNet();
 * console.log(data.train.count, model.countParams()); // 60000 1679082
 * model.dispose();
 * ```
 *
 * @module
 */

/** The TensorFlow.js instance every module of the library uses. */
export { tf } from "./tf.ts";

// Data: Fashion-MNIST, checked byte by byte, and what is in it.
export {
  CLASS_NAMES,
  classCounts,
  DataError,
  downloadFashionMnist,
  type FashionMnist,
  IMAGE_SIZE,
  loadFashionMnist,
  type LoadOptions,
  type Split,
  takeFirst,
} from "./data.ts";
export { type PixelStatistics, pixelStatistics } from "./stats.ts";
export {
  describeSettings,
  limitSplits,
  type NotebookChoices,
  type NotebookSettings,
  notebookSettings,
} from "./settings.ts";

// Model: MiniVGGNet and the layers the notebooks build it from.
export {
  buildMiniVGGNet,
  MINIVGGNET_PARAMS,
  type MiniVGGNetOptions,
} from "./model.ts";
export { batchNormalization, dropout, inputConv2d } from "./layers.ts";

// Backend: TensorFlow.js on WebAssembly with SIMD and threads.
export {
  initWasmBackend,
  type WasmBackendInfo,
  type WasmBackendOptions,
} from "./backend/mod.ts";

// Training: recipes as data, honest validation, the loop, checkpoints.
export {
  BEST_RECIPE,
  describeRecipe,
  FAST_RECIPE,
  learningRateAt,
  type Recipe,
  recipeNamed,
  RECIPES,
  SEED_RECIPE,
} from "./recipes.ts";
export { describeSplits, holdoutSplit } from "./splits.ts";
export { type RecipeRun, recipeSplits, runRecipe } from "./run.ts";
export {
  compileForRecipe,
  describeStop,
  optimizerFor,
  trainModel,
  type TrainOptions,
  type TrainResult,
} from "./train.ts";
export {
  CheckpointError,
  loadCheckpoint,
  saveCheckpoint,
  type TrainCheckpoint,
} from "./checkpoint.ts";
export type { EpochRecord, Report, RgbaImage } from "./types.ts";

// Evaluation: predictions, the classification report, mistakes.
export {
  classifyPixels,
  evaluateModel,
  type Evaluation,
  type Predictions,
  predictSplit,
  probabilitiesOf,
} from "./evaluate.ts";
export {
  classificationReport,
  confusionMatrix,
  formatReport,
  type Mistake,
  mostConfidentMistakes,
  perClassAccuracy,
} from "./metrics.ts";

// Your own images: any PNG or JPEG, prepared like Fashion-MNIST.
export {
  ImageError,
  type PreparedImage,
  prepareImage,
  prepareImageFile,
} from "./preprocess.ts";

// Saving: the model zip, and the runs under out/.
export {
  type LoadedModelZip,
  loadModelZip,
  type ModelMetadata,
  modelMetadata,
  ModelZipError,
  saveModelZip,
} from "./model_zip.ts";
export { readRuns, type SavedRun } from "./outputs.ts";

// Charts (pure data) → views (what a notebook shows) → show().
export {
  type Chart,
  classBalanceChart,
  confusionChart,
  historyChart,
  liveTrainingChart,
  PALETTE,
  perClassAccuracyChart,
  pixelHistogramChart,
  recipeComparisonChart,
  topKChart,
} from "./charts.ts";
export { chartPng } from "./render/png.ts";
export { plotlyFigure } from "./render/plotly.ts";
export {
  backendView,
  chartView,
  classBalanceView,
  classGridView,
  confusionView,
  datasetView,
  historyView,
  mistakesView,
  modelView,
  montageView,
  perClassAccuracyView,
  pictureView,
  pixelHistogramView,
  pixelStatsView,
  predictionsView,
  preparedView,
  recipeComparisonView,
  recipeView,
  reportView,
  settingsView,
  tableView,
  textView,
  topKView,
} from "./views.ts";
export { inJupyter, LiveTrainingChart, show, View } from "./jupyter.ts";
