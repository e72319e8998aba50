/**
 * Finding Fashion-MNIST: an explicit directory (used alone); the project's
 * `data/`; `/usr/share/datasets/fashion-mnist/` (Debian package
 * `dataset-fashion-mnist`); a download from the official mirrors into
 * `data/`. A source whose files are missing or cannot be read (a directory
 * or a symbolic link loop where a file should be, permission denied) is
 * skipped for the next one, with a one-line note naming the file and why;
 * an explicit directory fails with one sentence saying the same.
 *
 * @example
 * ```ts
 * import { loadFashionMnist } from "./load.ts";
 * const ds = await loadFashionMnist({ download: false });
 * console.log(ds.train.count, ds.test.count, ds.source);
 * ```
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { DataError, type FashionMnist, HOW_TO_GET } from "./fashion_mnist.ts";
import { findFiles, readDir, readFound, UnusableFile } from "./local.ts";
import { downloadFashionMnist, MIRRORS } from "./download.ts";

/**
 * Where Debian's `dataset-fashion-mnist` package installs the files.
 *
 * @example
 * ```ts
 * import { DEBIAN_DIR, loadFashionMnist } from "./load.ts";
 * await loadFashionMnist({ dataDir: DEBIAN_DIR });
 * ```
 */
export const DEBIAN_DIR = "/usr/share/datasets/fashion-mnist";

/**
 * The project's own `data/` directory (next to `lib/`), searched first and
 * where downloads go.
 *
 * @example
 * ```ts
 * import { PROJECT_DATA_DIR } from "./load.ts";
 * PROJECT_DATA_DIR.endsWith("/data"); // true
 * ```
 */
export const PROJECT_DATA_DIR = fileURLToPath(
  new URL("../../data", import.meta.url),
);

/**
 * Options of {@link loadFashionMnist}.
 *
 * @example
 * ```ts
 * import type { LoadOptions } from "./load.ts";
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
 * import { loadFashionMnist } from "./load.ts";
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
