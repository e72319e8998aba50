/**
 * Reads the minified plotly.js file of the npm package `plotly.js-dist-min`
 * (mapped in `deno.json`), to embed in standalone HTML pages with
 * `chartPage` from `html.ts`, and writes it next to a notebook for
 * the charts of the Jupyter kernel ({@link ensurePlotlyAsset}). This module does I/O: it needs read
 * permission for the project's `node_modules` directory, which exists once
 * `deno install` has run (the project uses `"nodeModulesDir": "auto"`).
 *
 * @example
 * ```ts
 * import { plotlyJsSource } from "./plotly_source.ts";
 * const js = await plotlyJsSource();
 * console.log(js.length > 1_000_000); // true
 * ```
 *
 * @module
 */

import { join } from "node:path";
import { writeFileAtomic } from "../files.ts";
import { readPackageFile } from "./package_file.ts";

const PACKAGE = "plotly.js-dist-min";
const FILE = "plotly.min.js";

let cached: Promise<string> | undefined;

async function load(): Promise<string> {
  return new TextDecoder().decode(await readPackageFile(PACKAGE, FILE));
}

/**
 * The source text of plotly.js (`plotly.js-dist-min/plotly.min.js`, about
 * 4.8 MB), read once and cached for later calls. Looks where
 * `import.meta.resolve("plotly.js-dist-min")` points, then in the
 * `node_modules` directories above this module and the working directory.
 * Rejects with an Error saying to run `deno install` when the package is
 * missing, or with the file-system error (e.g. `NotCapable` without
 * `--allow-read`); a failed read is not cached.
 *
 * @example
 * ```ts
 * import { plotlyJsSource } from "./plotly_source.ts";
 * import { chartPage } from "./html.ts";
 * import { classBalanceChart } from "../charts.ts";
 * const html = chartPage(
 *   [classBalanceChart([3, 4], ["Bag", "Coat"])],
 *   await plotlyJsSource(),
 *   "Class balance",
 * );
 * ```
 */
export function plotlyJsSource(): Promise<string> {
  cached ??= load().catch((e) => {
    cached = undefined;
    throw e;
  });
  return cached;
}

/**
 * The version named in plotly.js's header comment (`plotly.js v4.1.2`), or
 * null if there is none.
 *
 * @example
 * ```ts
 * import { plotlyVersionOf } from "./plotly_source.ts";
 * plotlyVersionOf("/**\n* plotly.js v4.1.2\n*" + "/"); // "4.1.2"
 * ```
 */
export function plotlyVersionOf(source: string): string | null {
  return /plotly\.js v(\d+\.\d+\.\d+)/.exec(source.slice(0, 500))?.[1] ?? null;
}

const written = new Map<string, Promise<string>>();

async function writeAsset(dir: string, src: string): Promise<string> {
  const source = await plotlyJsSource();
  const wanted = /plotly-(\d+\.\d+\.\d+)\.min\.js$/.exec(src)?.[1];
  const version = plotlyVersionOf(source);
  if (wanted !== undefined && version !== wanted) {
    throw new Error(
      `node_modules has plotly.js ${
        version ?? "of unknown version"
      } where the charts expect ${wanted}; run \`deno install\` in the project root.`,
    );
  }
  const path = join(dir, src);
  const bytes = new TextEncoder().encode(source);
  try {
    if ((await Deno.stat(path)).size === bytes.length) return path;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  // Whole or not at all: the server never serves half a file.
  await writeFileAtomic(path, bytes);
  return path;
}

/**
 * Makes sure plotly.js is at `src` (a path relative to `dir`) so the
 * charts' HTML can load it from the Jupyter server: writes the pinned
 * package's `plotly.min.js` there unless a file of the same size already
 * is. Once per folder and process; resolves to the file's path. Rejects
 * with a sentence saying what to do when the package is missing, its
 * version is not the one `src` names, or the folder cannot be written.
 *
 * @example
 * ```ts
 * import { ensurePlotlyAsset } from "./plotly_source.ts";
 * await ensurePlotlyAsset(Deno.cwd(), "_static/plotly-4.1.2.min.js");
 * ```
 */
export function ensurePlotlyAsset(dir: string, src: string): Promise<string> {
  const key = join(dir, src);
  let pending = written.get(key);
  if (pending === undefined) {
    pending = writeAsset(dir, src).catch((e) => {
      written.delete(key);
      throw new Error(
        `cannot write plotly.js to ${key} for the charts: ${
          (e as Error).message
        }`,
      );
    });
    written.set(key, pending);
  }
  return pending;
}
