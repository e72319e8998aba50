/**
 * Fashion-MNIST: where the files come from, how IDX files are parsed, and how
 * every byte is verified before a model sees it. No TensorFlow.js here: the
 * result is plain `Uint8Array`s.
 *
 * Sources, in order: an explicit directory (used alone); the project's
 * `data/`; `/usr/share/datasets/fashion-mnist/` (Debian package
 * `dataset-fashion-mnist`); a download from the official mirrors into
 * `data/`. A source whose files are missing or cannot be read (a directory
 * or a symbolic link loop where a file should be, permission denied) is
 * skipped for the next one, with a one-line note naming the file and why;
 * an explicit directory fails with one sentence saying the same.
 *
 * @example
 * ```ts
 * import { loadFashionMnist, CLASS_NAMES } from "./data.ts";
 * const ds = await loadFashionMnist();
 * console.log(ds.train.count, ds.test.count, CLASS_NAMES[ds.train.labels[0]]);
 * ```
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { join } from "node:path";

/**
 * The ten Fashion-MNIST class names, indexed by label.
 *
 * @example
 * ```ts
 * import { CLASS_NAMES } from "./data.ts";
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

/** Image side length in pixels. */
export const IMAGE_SIZE = 28;
/** Pixels per image (28 × 28). */
export const PIXELS = IMAGE_SIZE * IMAGE_SIZE;

/**
 * What one of the four dataset files must be.
 *
 * @example
 * ```ts
 * import { DATASET_FILES } from "./data.ts";
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
 * import { DATASET_FILES } from "./data.ts";
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
 * The official download mirrors, tried in order.
 *
 * @example
 * ```ts
 * import { MIRRORS } from "./data.ts";
 * console.log(MIRRORS[0]);
 * ```
 */
export const MIRRORS: readonly string[] = Object.freeze([
  "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
  "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
]);

/** Where Debian's `dataset-fashion-mnist` package installs the files. */
export const DEBIAN_DIR = "/usr/share/datasets/fashion-mnist";

/** The project's own `data/` directory (next to `lib/`). */
export const PROJECT_DATA_DIR = fileURLToPath(
  new URL("../data", import.meta.url),
);

/**
 * A problem with the dataset that the user can fix (missing, corrupt or
 * wrong files). The message is one sentence that names the file and says
 * what to do; command-line tools print it without a stack trace.
 *
 * @example
 * ```ts
 * import { DataError } from "./data.ts";
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
 * import { loadFashionMnist, PIXELS } from "./data.ts";
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
 * import { loadFashionMnist } from "./data.ts";
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
 * Options of {@link loadFashionMnist}.
 *
 * @example
 * ```ts
 * import type { LoadOptions } from "./data.ts";
 * const opts: LoadOptions = { dataDir: "./my-data", download: false };
 * ```
 */
export interface LoadOptions {
  /**
   * Read only this directory (no fallback to other sources): a file that is
   * missing or cannot be read is a {@link DataError} naming it.
   */
  dataDir?: string;
  /** Try the official mirrors when no local copy exists (default true). */
  download?: boolean;
  /** Mirrors to try (default {@link MIRRORS}). */
  mirrors?: readonly string[];
  /** Where downloads go (default {@link PROJECT_DATA_DIR}). */
  downloadDir?: string;
  /** Local directories searched when `dataDir` is not given. */
  searchDirs?: readonly string[];
  /**
   * Called with one line of progress text (which source, downloads), and
   * with a one-line note for each source skipped: a folder that holds only
   * some of the files, or one whose file cannot be read (a directory or a
   * symbolic link loop in its place, permission denied). Without it, those
   * notes go to `console.warn` and progress is not shown.
   */
  onProgress?: (message: string) => void;
}

/**
 * The header of an IDX file plus its payload.
 *
 * @example
 * ```ts
 * import { parseIdx } from "./data.ts";
 * const bytes = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 1, 7]);
 * parseIdx(bytes, "labels", "x").dims; // [1]
 * ```
 */
export interface Idx {
  magic: number;
  dims: number[];
  data: Uint8Array;
}

const MAGIC = { images: 2051, labels: 2049 } as const;

/**
 * Parses an uncompressed IDX file of unsigned bytes and checks its
 * structure: the magic number for its kind (2051 images, 2049 labels),
 * the number of dimensions, 28×28 images, and a payload of exactly the
 * size the header promises. `fileName` is used in error messages.
 *
 * @throws {DataError} when the bytes are not such a file.
 * @example
 * ```ts
 * import { parseIdx } from "./data.ts";
 * const header = [0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0, 28];
 * const idx = parseIdx(new Uint8Array([...header, ...new Array(784).fill(0)]), "images", "img");
 * console.log(idx.dims); // [1, 28, 28]
 * ```
 */
export function parseIdx(
  bytes: Uint8Array,
  kind: "images" | "labels",
  fileName: string,
): Idx {
  const ndims = kind === "images" ? 3 : 1;
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw new DataError(
      `${fileName} is too short (${bytes.length} bytes) to be an IDX ${kind} file; replace it with a fresh copy.`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (magic !== MAGIC[kind]) {
    throw new DataError(
      `${fileName} has IDX magic number ${magic}, but ${kind} files have ${
        MAGIC[kind]
      }; check that the file is the right one and not damaged.`,
    );
  }
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  if (kind === "images" && (dims[1] !== IMAGE_SIZE || dims[2] !== IMAGE_SIZE)) {
    throw new DataError(
      `${fileName} holds ${dims[1]}×${
        dims[2]
      } images, but Fashion-MNIST images are 28×28; use the official files.`,
    );
  }
  const expected = dims.reduce((a, b) => a * b, 1);
  const payload = bytes.length - headerBytes;
  if (payload !== expected) {
    throw new DataError(
      `${fileName} should hold ${expected} bytes of data after its header but holds ${payload} (truncated or damaged); replace it with a fresh copy.`,
    );
  }
  return { magic, dims, data: bytes.subarray(headerBytes) };
}

/**
 * Decompresses gzip bytes (streaming `DecompressionStream`).
 *
 * @throws {DataError} naming `fileName` when the data is not valid gzip or is truncated.
 * @example
 * ```ts
 * import { gunzip } from "./data.ts";
 * import { gzipSync } from "node:zlib";
 * const out = await gunzip(gzipSync(new Uint8Array([1, 2, 3])), "x.gz"); // Uint8Array [1, 2, 3]
 * ```
 */
export async function gunzip(
  bytes: Uint8Array,
  fileName: string,
): Promise<Uint8Array> {
  try {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
      .pipeThrough(new DecompressionStream("gzip"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch {
    throw new DataError(
      `${fileName} is not a valid gzip file (corrupt or truncated); delete it and get a fresh copy.`,
    );
  }
}

/**
 * SHA-256 of bytes, as lowercase hex.
 *
 * @example
 * ```ts
 * import { sha256Hex } from "./data.ts";
 * await sha256Hex(new Uint8Array()); // "e3b0c442..."
 * ```
 */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    bytes as Uint8Array<ArrayBuffer>,
  );
  return Array.from(
    new Uint8Array(digest),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}

/**
 * Checks decompressed file content against its specification: IDX
 * structure, item count, labels in 0–9, and the SHA-256 of the content.
 * Returns the payload (pixels or labels) without the header.
 *
 * @throws {DataError} naming the file and the problem; a content hash
 * mismatch says "checksum mismatch".
 * @example
 * ```ts
 * import { DATASET_FILES, verifyContent } from "./data.ts";
 * const raw = await Deno.readFile("data/t10k-labels-idx1-ubyte");
 * const labels = await verifyContent(raw, DATASET_FILES[3], "data/t10k-labels-idx1-ubyte");
 * ```
 */
export async function verifyContent(
  content: Uint8Array,
  spec: DatasetFile,
  fileName: string,
): Promise<Uint8Array> {
  const idx = parseIdx(content, spec.kind, fileName);
  if (idx.dims[0] !== spec.count) {
    throw new DataError(
      `${fileName} holds ${
        idx.dims[0]
      } ${spec.kind} but the official file holds ${spec.count}; use the official Fashion-MNIST files.`,
    );
  }
  if (spec.kind === "labels") {
    const bad = idx.data.findIndex((l) => l > 9);
    if (bad >= 0) {
      throw new DataError(
        `${fileName} has label ${
          idx.data[bad]
        } at item ${bad}, but labels must be 0–9; the file is damaged, get a fresh copy.`,
      );
    }
  }
  const hash = await sha256Hex(content);
  if (hash !== spec.sha256) {
    throw new DataError(
      `${fileName}: checksum mismatch (SHA-256 of content ${hash}, expected ${spec.sha256}); the file is damaged or not the official one, get a fresh copy.`,
    );
  }
  return idx.data;
}

/**
 * Why a path that is there cannot be used as a dataset file: what is wrong
 * (after the path, e.g. "is a symbolic link loop") and what to do about it.
 */
interface Unusable {
  path: string;
  what: string;
  fix: string;
}

const REPLACE = "replace it with the official file";

/** What is wrong with `path`, from the error that reading or stating it gave. */
function unusable(path: string, e: unknown): Unusable {
  const of = (what: string, fix = REPLACE): Unusable => ({ path, what, fix });
  if (e instanceof Deno.errors.FilesystemLoop) {
    return of("is a symbolic link loop (too many levels of symbolic links)");
  }
  if (e instanceof Deno.errors.IsADirectory) {
    return of("is a directory, not a file");
  }
  if (e instanceof Deno.errors.PermissionDenied) {
    return of(
      "cannot be read (permission denied)",
      "make it readable (chmod a+r) or replace it with a readable copy",
    );
  }
  if (e instanceof Deno.errors.NotCapable) {
    return of(
      "cannot be read (Deno's --allow-read does not cover it)",
      "allow reading it (--allow-read) or use another source",
    );
  }
  if (e instanceof Deno.errors.NotADirectory) {
    return of(
      "cannot be reached (a part of its path is a file, not a directory)",
      "check the path",
    );
  }
  if (e instanceof Deno.errors.NotFound) {
    return of("disappeared while it was being read", "put it back");
  }
  return of(
    `cannot be read (${String((e as Error)?.message ?? e).split("\n")[0]})`,
    "check it or replace it with the official file",
  );
}

/**
 * A dataset file that exists but cannot be read; sources in a search fall
 * back to the next one on it (other DataErrors, about content, do not).
 */
class UnusableFile extends DataError {
  constructor(readonly problem: Unusable) {
    super(`${problem.path} ${problem.what}; ${problem.fix}.`);
  }
}

/**
 * Whether `path` is a regular file that can be opened ("file"), absent
 * ("missing"), or there but unusable: a directory, a symbolic link loop or
 * one to nothing, a device, or a path Deno or the system will not read.
 */
async function probe(path: string): Promise<"file" | "missing" | Unusable> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) return unusable(path, e);
    const link = await Deno.lstat(path).then((s) => s.isSymlink, () => false);
    return link
      ? {
        path,
        what: "is a symbolic link to a file that does not exist",
        fix: "point it at the official file or replace it with the file",
      }
      : "missing";
  }
  if (info.isFile) return "file";
  if (info.isDirectory) {
    return { path, what: "is a directory, not a file", fix: REPLACE };
  }
  return {
    path,
    what: "is not a regular file (a device, pipe or socket)",
    fix: REPLACE,
  };
}

/**
 * Where `spec` is in `dir`: the decompressed file if usable, else the
 * `.gz`; or why neither can be used (unusable wins over missing).
 */
async function locate(
  dir: string,
  spec: DatasetFile,
): Promise<string | "missing" | Unusable> {
  let problem: Unusable | undefined;
  for (
    const candidate of [join(dir, spec.name), join(dir, spec.name + ".gz")]
  ) {
    const found = await probe(candidate);
    if (found === "file") return candidate;
    if (found !== "missing") problem ??= found;
  }
  return problem ?? "missing";
}

async function readVerified(
  path: string,
  spec: DatasetFile,
): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new UnusableFile(unusable(path, e));
  }
  const content = path.endsWith(".gz") ? await gunzip(bytes, path) : bytes;
  return verifyContent(content, spec, path);
}

/**
 * Finds the four files in `dir`: their paths, or the first problem (an
 * unusable file before a missing one) and how many files were found.
 */
async function findFiles(
  dir: string,
): Promise<
  { paths: string[] } | { problem: Unusable; missing: boolean; found: number }
> {
  const paths: string[] = [];
  let missing: Unusable | undefined;
  let bad: Unusable | undefined;
  for (const spec of DATASET_FILES) {
    const where = await locate(dir, spec);
    if (typeof where === "string" && where !== "missing") paths.push(where);
    else if (where === "missing") {
      missing ??= {
        path: `${join(dir, spec.name)}(.gz)`,
        what: "is missing",
        fix: `put all four Fashion-MNIST files in ${dir}`,
      };
    } else bad ??= where;
  }
  if (bad) return { problem: bad, missing: false, found: paths.length };
  if (missing) return { problem: missing, missing: true, found: paths.length };
  return { paths };
}

/** Reads and verifies the four files found in `dir`. */
async function readFound(dir: string, paths: string[]): Promise<FashionMnist> {
  const payloads: Uint8Array[] = [];
  for (const [i, spec] of DATASET_FILES.entries()) {
    payloads.push(await readVerified(paths[i], spec));
  }
  const [trainImages, trainLabels, testImages, testLabels] = payloads;
  return {
    train: {
      images: trainImages,
      labels: trainLabels,
      count: trainLabels.length,
    },
    test: { images: testImages, labels: testLabels, count: testLabels.length },
    classNames: CLASS_NAMES,
    source: dir,
  };
}

/** Reads `dir` alone: every problem is a DataError naming the file. */
async function readDir(dir: string): Promise<FashionMnist> {
  const found = await findFiles(dir);
  if ("problem" in found) {
    const { path, what, fix } = found.problem;
    throw new DataError(`${path} ${what}; ${fix}.`);
  }
  return await readFound(dir, found.paths);
}

const HOW_TO_GET =
  "install the Debian package (apt-get install dataset-fashion-mnist), or put the four official .gz files in data/, or pass --data-dir DIR (dataDir in code) pointing at a folder that holds them";

async function fetchBytes(url: string, timeoutMs: number): Promise<Uint8Array> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`HTTP ${response.status}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * Downloads the four `.gz` files into `dir` from the first mirror that
 * works. Each file is verified before it is moved into place, so `dir`
 * never holds a partial or wrong file.
 *
 * @throws {DataError} when no mirror can be reached, saying the other ways to get the data.
 * @example
 * ```ts
 * import { downloadFashionMnist } from "./data.ts";
 * await downloadFashionMnist("data"); // needs --allow-net and --allow-write=data
 * ```
 */
export async function downloadFashionMnist(
  dir: string,
  mirrors: readonly string[] = MIRRORS,
  onProgress: (message: string) => void = () => {},
  timeoutMs = 30000,
): Promise<void> {
  for (const spec of DATASET_FILES) {
    const target = join(dir, spec.name + ".gz");
    const found = await probe(target);
    if (typeof found === "object") {
      throw new DataError(
        `${target} ${found.what}, where the download would be saved; remove it and try again.`,
      );
    }
  }
  const failures: string[] = [];
  for (const mirror of mirrors) {
    try {
      for (const spec of DATASET_FILES) {
        const target = join(dir, spec.name + ".gz");
        if ((await probe(target)) === "file") continue;
        onProgress(`downloading ${mirror}${spec.name}.gz`);
        const gz = await fetchBytes(`${mirror}${spec.name}.gz`, timeoutMs);
        await verifyContent(
          await gunzip(gz, spec.name + ".gz"),
          spec,
          `${mirror}${spec.name}.gz`,
        );
        await Deno.mkdir(dir, { recursive: true });
        const tmp = `${target}.part-${crypto.randomUUID()}`;
        try {
          await Deno.writeFile(tmp, gz);
          await Deno.rename(tmp, target);
        } catch (e) {
          await Deno.remove(tmp).catch(() => {});
          throw e;
        }
      }
      return;
    } catch (e) {
      failures.push(`${mirror}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  throw new DataError(
    `Fashion-MNIST was not found locally and could not be downloaded (${
      failures.join("; ")
    }); to get it, ${HOW_TO_GET}.`,
  );
}

/**
 * Finds, reads and verifies Fashion-MNIST (see the module doc for the
 * order of sources). Every file is checked — gzip integrity, IDX magic,
 * 28×28 dimensions, counts 60,000/10,000, labels 0–9, SHA-256 of content —
 * before anything is returned. A searched folder that holds only some of
 * the files, or a file it cannot read, is skipped with a note (see
 * {@link LoadOptions.onProgress}); damaged content is an error.
 *
 * @throws {DataError} with one sentence naming the file and the problem.
 * @example
 * ```ts
 * import { loadFashionMnist } from "./data.ts";
 * const { train, test } = await loadFashionMnist({ download: false });
 * console.log(train.count, test.count); // 60000 10000
 * ```
 */
export async function loadFashionMnist(
  options: LoadOptions = {},
): Promise<FashionMnist> {
  const progress = options.onProgress ?? (() => {});
  const note = options.onProgress ?? ((m: string) => console.warn(m));
  if (options.dataDir !== undefined) {
    progress(`reading Fashion-MNIST from ${options.dataDir}`);
    return await readDir(options.dataDir);
  }
  const dirs = options.searchDirs ?? [PROJECT_DATA_DIR, DEBIAN_DIR];
  const download = options.download !== false;
  const skipped: string[] = [];
  for (const [i, dir] of dirs.entries()) {
    const next = dirs[i + 1] ??
      (download ? "a download from the official mirrors" : undefined);
    const skip = (why: string) => {
      skipped.push(why);
      note(`skipping ${dir}: ${why}${next ? `; trying ${next}` : ""}.`);
    };
    const found = await findFiles(dir);
    if ("problem" in found) {
      const { path, what } = found.problem;
      // A folder without any of the files is simply not a source; one with
      // some, or with a file that cannot be read, is worth a note.
      if (!found.missing || found.found > 0) {
        skip(
          `${path} ${what}${
            found.missing ? ` (${found.found} of the 4 files are there)` : ""
          }`,
        );
      }
      continue;
    }
    progress(`reading Fashion-MNIST from ${dir}`);
    try {
      return await readFound(dir, found.paths);
    } catch (e) {
      if (!(e instanceof UnusableFile)) throw e;
      skip(`${e.problem.path} ${e.problem.what}`);
    }
  }
  const downloadDir = options.downloadDir ?? PROJECT_DATA_DIR;
  if (!download) {
    throw new DataError(
      `Fashion-MNIST was not found in ${dirs.join(" or ")}${
        skipped.length > 0 ? ` (skipped: ${skipped.join("; ")})` : ""
      }; to get it, ${HOW_TO_GET}.`,
    );
  }
  await downloadFashionMnist(downloadDir, options.mirrors ?? MIRRORS, progress);
  return await readDir(downloadDir);
}

/**
 * Keeps the first `n` items of a split (a view, no copy).
 *
 * @example
 * ```ts
 * import { loadFashionMnist, takeFirst } from "./data.ts";
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
 * import { classCounts, loadFashionMnist } from "./data.ts";
 * classCounts((await loadFashionMnist()).train); // [6000, 6000, ...]
 * ```
 */
export function classCounts(split: Split, classes = 10): number[] {
  const counts = new Array(classes).fill(0);
  for (const l of split.labels) counts[l]++;
  return counts;
}
