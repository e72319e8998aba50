/**
 * The notebooks as files: which there are, what "committed clean" means
 * (no outputs, no execution counts, fixed metadata), the rules their code
 * follows, and how Jupyter lays a notebook out on disk. Pure functions over
 * parsed `.ipynb` JSON, used by `deno task notebooks:clean` and the tests.
 *
 * @example
 * ```ts
 * import { cleanNotebook, notebookProblems } from "./notebook_tools.ts";
 * const nb = JSON.parse(await Deno.readTextFile("notebooks/01-data.ipynb"));
 * console.log(notebookProblems(nb)); // [] when committed clean
 * const clean = cleanNotebook(nb);
 * ```
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/**
 * The notebooks, in the order they are meant to be run (file names without
 * `.ipynb`).
 *
 * @example
 * ```ts
 * import { NOTEBOOKS } from "./notebook_tools.ts";
 * console.log(NOTEBOOKS[2]); // "03-train"
 * ```
 */
export const NOTEBOOKS: readonly string[] = Object.freeze([
  "01-data",
  "02-model",
  "03-train",
  "04-evaluate",
  "05-your-own",
]);

/**
 * The project's `notebooks/` folder.
 *
 * @example
 * ```ts
 * import { NOTEBOOK_DIR } from "./notebook_tools.ts";
 * console.log(NOTEBOOK_DIR); // e.g. "/home/me/fmnist/notebooks"
 * ```
 */
export const NOTEBOOK_DIR = fileURLToPath(
  new URL("../../notebooks", import.meta.url),
);

/**
 * The kernel every notebook names: the Deno kernel `deno jupyter --install`
 * registers.
 *
 * @example
 * ```ts
 * import { KERNELSPEC } from "./notebook_tools.ts";
 * console.log(KERNELSPEC.name); // "deno"
 * ```
 */
export const KERNELSPEC = Object.freeze({
  display_name: "Deno",
  language: "typescript",
  name: "deno",
});

/**
 * The language information every notebook carries (what the Deno kernel
 * reports, without the version, which changes with Deno).
 *
 * @example
 * ```ts
 * import { LANGUAGE_INFO } from "./notebook_tools.ts";
 * console.log(LANGUAGE_INFO.file_extension); // ".ts"
 * ```
 */
export const LANGUAGE_INFO = Object.freeze({
  codemirror_mode: "typescript",
  file_extension: ".ts",
  mimetype: "text/x.typescript",
  name: "typescript",
  nbconvert_exporter: "script",
  pygments_lexer: "typescript",
});

/**
 * One cell of a notebook (nbformat 4).
 *
 * @example
 * ```ts
 * import type { Cell } from "./notebook_tools.ts";
 * const c: Cell = { cell_type: "markdown", id: "intro", metadata: {}, source: ["# Title"] };
 * ```
 */
export interface Cell {
  cell_type: "code" | "markdown" | "raw";
  id?: string;
  metadata: Record<string, unknown>;
  source: string | string[];
  outputs?: Array<Record<string, unknown>>;
  execution_count?: number | null;
}

/**
 * A notebook (nbformat 4).
 *
 * @example
 * ```ts
 * import type { Notebook } from "./notebook_tools.ts";
 * const nb: Notebook = { cells: [], metadata: {}, nbformat: 4, nbformat_minor: 5 };
 * ```
 */
export interface Notebook {
  cells: Cell[];
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
}

/**
 * A cell's source as one string.
 *
 * @example
 * ```ts
 * import { cellSource } from "./notebook_tools.ts";
 * cellSource({ source: ["a\n", "b"] }); // "a\nb"
 * ```
 */
export function cellSource(cell: Pick<Cell, "source">): string {
  return Array.isArray(cell.source) ? cell.source.join("") : cell.source;
}

/**
 * Source text as Jupyter stores it: a list of lines, each but the last
 * ending in "\n".
 *
 * @example
 * ```ts
 * import { sourceLines } from "./notebook_tools.ts";
 * sourceLines("a\nb"); // ["a\n", "b"]
 * ```
 */
export function sourceLines(text: string): string[] {
  return text === "" ? [] : text.split(/(?<=\n)/);
}

/**
 * A copy of `nb` as it is committed: code cells without outputs and
 * execution counts, every cell's metadata empty, every cell with an id
 * (kept, or `cell-N` by position), the notebook metadata exactly
 * {@link KERNELSPEC} and {@link LANGUAGE_INFO}, nbformat 4.5, sources as
 * line lists.
 *
 * @example
 * ```ts
 * import { cleanNotebook } from "./notebook_tools.ts";
 * const nb = cleanNotebook({
 *   cells: [{ cell_type: "code", metadata: { scrolled: true }, source: "1 + 1", outputs: [{}], execution_count: 3 }],
 *   metadata: {}, nbformat: 4, nbformat_minor: 4,
 * });
 * console.log(nb.cells[0].outputs, nb.cells[0].execution_count); // [] null
 * ```
 */
export function cleanNotebook(nb: Notebook): Notebook {
  return {
    cells: nb.cells.map((cell, i) => {
      const base = {
        cell_type: cell.cell_type,
        id: cell.id ?? `cell-${i + 1}`,
        metadata: {},
        source: sourceLines(cellSource(cell)),
      };
      return cell.cell_type === "code"
        ? { ...base, execution_count: null, outputs: [] }
        : base;
    }),
    metadata: {
      kernelspec: { ...KERNELSPEC },
      language_info: { ...LANGUAGE_INFO },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

function sameJson(a: unknown, b: unknown): boolean {
  return serializeNotebookValue(a) === serializeNotebookValue(b);
}

/**
 * What keeps `nb` from being committed clean, one sentence per problem
 * (empty when clean).
 *
 * @example
 * ```ts
 * import { notebookProblems } from "./notebook_tools.ts";
 * notebookProblems({ cells: [{ cell_type: "code", metadata: {}, source: "1", outputs: [{}], execution_count: 1 }],
 *   metadata: {}, nbformat: 4, nbformat_minor: 5 });
 * // ["cell 1 has outputs", "cell 1 has execution count 1", "cell 1 has no id", "the notebook metadata is not the standard Deno kernel metadata"]
 * ```
 */
export function notebookProblems(nb: Notebook): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  nb.cells.forEach((cell, i) => {
    const where = `cell ${i + 1}`;
    if (cell.cell_type === "code") {
      if ((cell.outputs ?? []).length > 0) {
        problems.push(`${where} has outputs`);
      }
      if (cell.execution_count !== null) {
        problems.push(`${where} has execution count ${cell.execution_count}`);
      }
    }
    if (Object.keys(cell.metadata ?? {}).length > 0) {
      problems.push(`${where} has metadata`);
    }
    if (cell.id === undefined) problems.push(`${where} has no id`);
    else if (ids.has(cell.id)) problems.push(`${where} repeats id ${cell.id}`);
    else ids.add(cell.id);
  });
  if (!sameJson(nb.metadata, cleanNotebook(nb).metadata)) {
    problems.push(
      "the notebook metadata is not the standard Deno kernel metadata",
    );
  }
  if (nb.nbformat !== 4 || nb.nbformat_minor !== 5) {
    problems.push(
      `the notebook is nbformat ${nb.nbformat}.${nb.nbformat_minor}, not 4.5`,
    );
  }
  return problems;
}

/** A function, arrow function or class being defined. */
const DEFINITION =
  /\bfunction\b[\s*]*[\w$]*\s*\(|\bclass\s+[\w$]+\s*(\{|extends\b)|\bclass\s*\{|=>/;

/** The longest code line a notebook may have. */
export const MAX_CODE_LINE = 100;

/**
 * Breaks of the notebooks' code rules, one sentence each (empty when
 * none):
 *
 * - imports come from the shared library only (`"../lib/mod.ts"`), named
 *   (`import { a, b } from …`, as many statements as reads well, grouped
 *   by topic) or as a namespace (`import * as lib from …`);
 * - no `deno-fmt-ignore`, and no line longer than {@link MAX_CODE_LINE};
 * - no functions, arrow functions or classes: whatever a notebook needs
 *   beyond the code a learner should read belongs in lib/, tested; and
 *   what a notebook does define in view (02-model's network, 03-train's
 *   compile step) is checked against the library by the notebook tests.
 *
 * @example
 * ```ts
 * import { codeRuleBreaks } from "./notebook_tools.ts";
 * codeRuleBreaks({ cells: [{ cell_type: "code", metadata: {}, source: "const f = (x) => x;" }],
 *   metadata: {}, nbformat: 4, nbformat_minor: 5 });
 * // ["there is no import from \"../lib/mod.ts\"", "cell 1 defines a function or class: const f = (x) => x;"]
 * ```
 */
export function codeRuleBreaks(nb: Notebook): string[] {
  const breaks: string[] = [];
  const code = nb.cells
    .map((cell, i) => ({ cell, i }))
    .filter(({ cell }) => cell.cell_type === "code");
  const statement = /^import\b[^;]*?from\s+"([^"]*)";?|^import\s+"([^"]*)"/gms;
  let libImports = 0;
  for (const { cell, i } of code) {
    const source = cellSource(cell);
    for (const m of source.matchAll(statement)) {
      const from = m[1] ?? m[2];
      const what = m[0].replace(/\s+/g, " ").trim();
      if (from !== "../lib/mod.ts") {
        breaks.push(`cell ${i + 1} imports something else: ${what}`);
      } else if (!/^import (\{[^}]*\}|\* as [\w$]+) from/.test(what)) {
        breaks.push(`cell ${i + 1} imports in another form: ${what}`);
      } else {
        libImports++;
      }
    }
    for (const line of source.split("\n")) {
      if (line.includes("deno-fmt-ignore")) {
        breaks.push(`cell ${i + 1} turns formatting off: ${line.trim()}`);
      }
      if (line.length > MAX_CODE_LINE) {
        breaks.push(
          `cell ${i + 1} has a line of ${line.length} characters (at most ${MAX_CODE_LINE}): ${
            line.trim().slice(0, 40)
          }…`,
        );
      }
      if (DEFINITION.test(line.replace(/\/\/.*$/, ""))) {
        breaks.push(
          `cell ${i + 1} defines a function or class: ${line.trim()}`,
        );
      }
    }
  }
  if (libImports === 0) breaks.push('there is no import from "../lib/mod.ts"');
  return breaks;
}

/**
 * The code cells of a notebook as one TypeScript module, in order (cells
 * separated by a blank line), for type checking.
 *
 * @example
 * ```ts
 * import { notebookCode } from "./notebook_tools.ts";
 * notebookCode({ cells: [{ cell_type: "code", metadata: {}, source: "1 + 1" }], metadata: {}, nbformat: 4, nbformat_minor: 5 });
 * // "1 + 1\n"
 * ```
 */
export function notebookCode(nb: Notebook): string {
  return nb.cells
    .filter((c) => c.cell_type === "code")
    .map((c) => cellSource(c).replace(/\n?$/, "\n"))
    .join("\n");
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value) || value === null || typeof value !== "object") {
    return value;
  }
  return Object.fromEntries(
    Object.keys(value).sort().map((
      k,
    ) => [k, (value as Record<string, unknown>)[k]]),
  );
}

function serializeNotebookValue(value: unknown): string {
  return JSON.stringify(value, (_key, v) => sortKeys(v), 1);
}

/**
 * A notebook as Jupyter writes it: JSON with sorted keys, one-space
 * indentation, non-ASCII kept, and a final newline.
 *
 * @example
 * ```ts
 * import { cleanNotebook, serializeNotebook } from "./notebook_tools.ts";
 * const file = "notebooks/01-data.ipynb";
 * const nb = JSON.parse(await Deno.readTextFile(file));
 * await Deno.writeTextFile(file, serializeNotebook(cleanNotebook(nb)));
 * ```
 */
export function serializeNotebook(nb: Notebook): string {
  return serializeNotebookValue(nb) + "\n";
}
