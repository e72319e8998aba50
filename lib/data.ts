/**
 * Fashion-MNIST for the rest of the library: what it is
 * (`data/fashion_mnist.ts`), how its IDX files are parsed and checked
 * (`data/idx.ts`), where it is found (`data/load.ts`, `data/local.ts`) and
 * downloaded (`data/download.ts`). No TensorFlow.js here: the result is
 * plain `Uint8Array`s, every byte verified before a model sees it.
 *
 * @example
 * ```ts
 * import { CLASS_NAMES, loadFashionMnist } from "./data.ts";
 * const ds = await loadFashionMnist();
 * console.log(ds.train.count, ds.test.count, CLASS_NAMES[ds.train.labels[0]]);
 * ```
 *
 * @module
 */
export {
  CLASS_NAMES,
  classCounts,
  DataError,
  DATASET_FILES,
  type DatasetFile,
  type FashionMnist,
  IMAGE_SIZE,
  PIXELS,
  type Split,
  takeFirst,
} from "./data/fashion_mnist.ts";
export {
  gunzip,
  type Idx,
  parseIdx,
  sha256Hex,
  verifyContent,
} from "./data/idx.ts";
export { downloadFashionMnist, MIRRORS } from "./data/download.ts";
export {
  DEBIAN_DIR,
  loadFashionMnist,
  type LoadOptions,
  PROJECT_DATA_DIR,
} from "./data/load.ts";
