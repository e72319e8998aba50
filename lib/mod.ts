/**
 * The public surface of the library: everything a notebook or script needs,
 * in the order data flows — data → model → backend → train → evaluate →
 * plots → notebook display — plus the shared `tf` instance.
 *
 * @example
 * ```ts
 * import { buildMiniVGGNet, initWasmBackend, loadFashionMnist } from "./mod.ts";
 * await initWasmBackend();
 * const data = await loadFashionMnist();
 * const model = buildMiniVGGNet();
 * ```
 *
 * @module
 */
export { tf } from "./tf.ts";
export * from "./types.ts";
export * from "./data.ts";
export * from "./stats.ts";
export * from "./settings.ts";
export * from "./model.ts";
export * from "./layers.ts";
export * from "./backend/mod.ts";
export * from "./recipes.ts";
export * from "./splits.ts";
export * from "./augment.ts";
export * from "./optimizer.ts";
export * from "./train.ts";
export * from "./checkpoint.ts";
export * from "./run.ts";
export * from "./progress.ts";
export * from "./evaluate.ts";
export * from "./metrics.ts";
export * from "./charts.ts";
export * from "./tables.ts";
export * from "./model_zip.ts";
export * from "./outputs.ts";
export * from "./preprocess.ts";
export * from "./render/mod.ts";
export * from "./jupyter.ts";
export { flushOutputs } from "./iopub.ts";
export { onInterrupt } from "./interrupt.ts";
export * from "./views.ts";
export { decodePng, encodePng } from "./image/png.ts";
export { type MontageOptions, montageSvg } from "./image/montage.ts";
export { svgDocument, type SvgPicture } from "./image/svg.ts";
export { decodeJpeg, isJpeg } from "./image/jpeg.ts";
export {
  type ImageHeader,
  MAX_IMAGE_PIXELS,
  readImageHeader,
} from "./image/header.ts";
export { fitRgba, grayToRgba, resizeArea } from "./image/resize.ts";
export {
  type ClassGridOptions,
  classGridSvg,
  firstOfEachClass,
} from "./image/class_grid.ts";
