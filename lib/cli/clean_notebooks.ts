/**
 * `deno task notebooks:clean`: strips outputs, execution counts and cell
 * metadata from the notebooks in `notebooks/`, sets their metadata to the
 * Deno kernel's, and formats every cell with `deno fmt` (code as
 * TypeScript, prose as Markdown), so they are committed clean. Run it
 * before committing a notebook edited in Jupyter.
 *
 * @example
 * ```sh
 * deno task notebooks:clean
 * ```
 *
 * @module
 */
import { join } from "node:path";
import {
  cellSource,
  cleanNotebook,
  type Notebook,
  NOTEBOOK_DIR,
  notebookProblems,
  serializeNotebook,
  sourceLines,
} from "./notebook_tools.ts";
import { helpOnly, runMain } from "./args.ts";
import { denoFmt } from "./fmt.ts";

const HELP =
  `deno task notebooks:clean: strips outputs, execution counts and cell
metadata from the notebooks in notebooks/, sets their kernel to Deno's, and
formats every cell with deno fmt, so they are committed clean. Run it before
committing a notebook edited in Jupyter. Takes no arguments.

  --help, -h   this text`;

async function main(): Promise<void> {
  if (helpOnly(Deno.args, HELP)) return;
  const names: string[] = [];
  for await (const entry of Deno.readDir(NOTEBOOK_DIR)) {
    if (entry.isFile && entry.name.endsWith(".ipynb")) names.push(entry.name);
  }
  for (const name of names.sort()) {
    const path = join(NOTEBOOK_DIR, name);
    let nb: Notebook;
    try {
      nb = JSON.parse(await Deno.readTextFile(path));
    } catch (e) {
      throw new Error(
        `${path} is not valid notebook JSON (${(e as Error).message}).`,
      );
    }
    const problems = notebookProblems(nb);
    const clean = cleanNotebook(nb);
    let formatted = 0;
    for (const cell of clean.cells) {
      if (cell.cell_type === "raw") continue;
      const source = cellSource(cell);
      const pretty = await denoFmt(
        source,
        cell.cell_type === "code" ? "ts" : "md",
      );
      if (pretty !== source) {
        cell.source = sourceLines(pretty);
        formatted++;
      }
    }
    const text = serializeNotebook(clean);
    if (text === await Deno.readTextFile(path)) {
      console.log(`${name}: clean`);
      continue;
    }
    await Deno.writeTextFile(path, text);
    const what = [
      ...problems,
      ...(formatted ? [`${formatted} cell(s) formatted`] : []),
    ];
    console.log(`${name}: cleaned (${what.join("; ") || "layout"})`);
  }
}

if (import.meta.main) {
  await runMain(main);
}
