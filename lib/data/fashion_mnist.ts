/**
 * What Fashion-MNIST is: its ten classes, 28×28 images, the four official
 * files with their checksums, the shape of a loaded split, and the error a
 * user can fix. Plain data, no reading or downloading.
 *
 * @example
 * ```ts
 * import { CLASS_NAMES, DATASET_FILES, PIXELS } from "./fashion_mnist.ts";
 * console.log(CLASS_NAMES.length, PIXELS, DATASET_FILES[0].count); // 10 784 60000
 * ```
 *
 * @module
 */
/**
 * The ten Fashion-MNIST class names, indexed by label.
 *
 * @example
 * ```ts
 * import { CLASS_NAMES } from "./fashion_mnist.ts";
 * CLASS_NAMES[9]; // "Ankle boot"
 * ```
 */
export const CLASS_NAMES: readonly string[] = Object.freeze([
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
]);

/**
 * Image side length in pixels.
 *
 * @example
 * ```ts
 * import { IMAGE_SIZE } from "./fashion_mnist.ts";
 * IMAGE_SIZE; // 28
 * ```
 */
export const IMAGE_SIZE = 28;

/**
 * Pixels per image (28 × 28).
 *
 * @example
 * ```ts
 * import { PIXELS } from "./fashion_mnist.ts";
 * PIXELS; // 784
 * ```
 */
export const PIXELS = IMAGE_SIZE * IMAGE_SIZE;

/**
 * What one of the four dataset files must be.
 *
 * @example
 * ```ts
 * import { DATASET_FILES } from "./fashion_mnist.ts";
 * DATASET_FILES.map((f) => f.name); // ["train-images-idx3-ubyte", ...]
 * ```
 */
export interface DatasetFile {
  /** File name without `.gz`. */
  name: string;
  kind: "images" | "labels";
  split: "train" | "test";
  /** Number of items. */
  count: number;
  /** Size of the decompressed file in bytes. */
  bytes: number;
  /** SHA-256 of the decompressed content (hex). */
  sha256: string;
}

/**
 * The four official files, with the SHA-256 of their decompressed content.
 *
 * @example
 * ```ts
 * import { DATASET_FILES } from "./fashion_mnist.ts";
 * console.log(DATASET_FILES[0].sha256);
 * ```
 */
export const DATASET_FILES: readonly DatasetFile[] = Object.freeze([
  {
    name: "train-images-idx3-ubyte",
    kind: "images",
    split: "train",
    count: 60000,
    bytes: 47040016,
    sha256: "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
  },
  {
    name: "train-labels-idx1-ubyte",
    kind: "labels",
    split: "train",
    count: 60000,
    bytes: 60008,
    sha256: "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
  },
  {
    name: "t10k-images-idx3-ubyte",
    kind: "images",
    split: "test",
    count: 10000,
    bytes: 7840016,
    sha256: "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
  },
  {
    name: "t10k-labels-idx1-ubyte",
    kind: "labels",
    split: "test",
    count: 10000,
    bytes: 10008,
    sha256: "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
  },
]);

/**
 * A problem with the dataset that the user can fix (missing, corrupt or
 * wrong files). The message is one sentence that names the file and says
 * what to do; command-line tools print it without a stack trace.
 *
 * @example
 * ```ts
 * import { DataError } from "./fashion_mnist.ts";
 * try { throw new DataError("x is missing."); } catch (e) { console.log(e instanceof DataError); }
 * ```
 */
export class DataError extends Error {
  override name = "DataError";
}

/**
 * One split of the dataset: `count` images of 28×28 bytes, row-major, one
 * after another, and their labels 0–9.
 *
 * @example
 * ```ts
 * import { PIXELS } from "./fashion_mnist.ts";
 * import { loadFashionMnist } from "./load.ts";
 * const { test } = await loadFashionMnist();
 * const first = test.images.subarray(0, PIXELS); // the first test image
 * ```
 */
export interface Split {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

/**
 * The loaded, verified dataset.
 *
 * @example
 * ```ts
 * import { loadFashionMnist } from "./load.ts";
 * const ds = await loadFashionMnist();
 * console.log(ds.source); // e.g. "/usr/share/datasets/fashion-mnist"
 * ```
 */
export interface FashionMnist {
  train: Split;
  test: Split;
  classNames: readonly string[];
  /** The directory the files were read from. */
  source: string;
}

/**
 * Keeps the first `n` items of a split (a view, no copy).
 *
 * @example
 * ```ts
 * import { takeFirst } from "./fashion_mnist.ts";
 * import { loadFashionMnist } from "./load.ts";
 * const small = takeFirst((await loadFashionMnist()).train, 2000);
 * console.log(small.count); // 2000
 * ```
 */
export function takeFirst(split: Split, n: number): Split {
  const count = Math.max(0, Math.min(split.count, Math.floor(n)));
  return {
    images: split.images.subarray(0, count * PIXELS),
    labels: split.labels.subarray(0, count),
    count,
  };
}

/**
 * Counts of each label 0–9 in a split.
 *
 * @example
 * ```ts
 * import { classCounts } from "./fashion_mnist.ts";
 * import { loadFashionMnist } from "./load.ts";
 * classCounts((await loadFashionMnist()).train); // [6000, 6000, ...]
 * ```
 */
export function classCounts(split: Split, classes = 10): number[] {
  const counts = new Array(classes).fill(0);
  for (const l of split.labels) counts[l]++;
  return counts;
}

/**
 * The ways to get the dataset, ending the sentence about not finding it.
 *
 * @example
 * ```ts
 * import { HOW_TO_GET } from "./fashion_mnist.ts";
 * console.log(`Not found; to get it, ${HOW_TO_GET}.`);
 * ```
 */
export const HOW_TO_GET =
  "install the Debian package (apt-get install dataset-fashion-mnist), or put the four official .gz files in data/, or point --data-dir DIR (in code: loadFashionMnist({ dataDir })) at a folder that holds them";
