/**
 * The dataset files in a folder: whether each is there and usable (a
 * directory, a symbolic link loop or an unreadable file in its place is
 * named with what is wrong and what to do), and reading and verifying all
 * four.
 *
 * @example
 * ```ts
 * import { readDir } from "./local.ts";
 * const ds = await readDir("/usr/share/datasets/fashion-mnist");
 * console.log(ds.train.count); // 60000
 * ```
 *
 * @module
 */
import { join } from "node:path";
import {
  CLASS_NAMES,
  DataError,
  DATASET_FILES,
  type DatasetFile,
  type FashionMnist,
} from "./fashion_mnist.ts";
import { gunzip, verifyContent } from "./idx.ts";
import { pathKind } from "../files.ts";

/**
 * Why a path that is there cannot be used as a dataset file: what is wrong
 * (after the path, e.g. "is a symbolic link loop") and what to do about it.
 *
 * @example
 * ```ts
 * import type { Unusable } from "./local.ts";
 * const u: Unusable = { path: "data/x", what: "is a directory, not a file", fix: "remove it" };
 * console.log(`${u.path} ${u.what}; ${u.fix}.`);
 * ```
 */
export interface Unusable {
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
 *
 * @example
 * ```ts
 * import { UnusableFile } from "./local.ts";
 * const e = new UnusableFile({ path: "data/x", what: "is a directory, not a file", fix: "remove it" });
 * e.message; // "data/x is a directory, not a file; remove it."
 * ```
 */
export class UnusableFile extends DataError {
  constructor(readonly problem: Unusable) {
    super(`${problem.path} ${problem.what}; ${problem.fix}.`);
  }
}

/**
 * Whether `path` is a regular file that can be opened ("file"), absent
 * ("missing"), or there but unusable: a directory, a symbolic link loop or
 * one to nothing, a device, or a path Deno or the system will not read.
 *
 * @example
 * ```ts
 * import { probe } from "./local.ts";
 * await probe("/tmp"); // { path: "/tmp", what: "is a directory, not a file", ... }
 * ```
 */
export async function probe(
  path: string,
): Promise<"file" | "missing" | Unusable> {
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
 *
 * @example
 * ```ts
 * import { findFiles } from "./local.ts";
 * const found = await findFiles("data");
 * if ("problem" in found) console.log(found.problem.path, found.problem.what);
 * ```
 */
export async function findFiles(
  dir: string,
): Promise<
  { paths: string[] } | { problem: Unusable; missing: boolean; found: number }
> {
  const paths: string[] = [];
  let missing: Unusable | undefined;
  let bad: Unusable | undefined;
  const folder = await pathKind(dir);
  if (folder !== "dir") {
    // Nothing to look for inside: say so about the folder itself.
    return {
      problem: {
        path: dir,
        what: folder === "none" ? "does not exist" : "is a file, not a folder",
        fix: "pass a folder that holds all four Fashion-MNIST files",
      },
      missing: true,
      found: 0,
    };
  }
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

/**
 * Reads and verifies the four files {@link findFiles} found in `dir`; a
 * file that cannot be read is an {@link UnusableFile}.
 *
 * @example
 * ```ts
 * import { findFiles, readFound } from "./local.ts";
 * const found = await findFiles("data");
 * if ("paths" in found) console.log((await readFound("data", found.paths)).test.count);
 * ```
 */
export async function readFound(
  dir: string,
  paths: string[],
): Promise<FashionMnist> {
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

/**
 * Reads `dir` alone: every problem is a DataError naming the file.
 *
 * @example
 * ```ts
 * import { readDir } from "./local.ts";
 * const { test } = await readDir("/usr/share/datasets/fashion-mnist");
 * ```
 */
export async function readDir(dir: string): Promise<FashionMnist> {
  const found = await findFiles(dir);
  if ("problem" in found) {
    const { path, what, fix } = found.problem;
    throw new DataError(`${path} ${what}; ${fix}.`);
  }
  return await readFound(dir, found.paths);
}
