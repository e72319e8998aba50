/**
 * Formatting one piece of source with `deno fmt` (reading standard input),
 * as `deno fmt` would format it in a file: for notebook cells, which the
 * project formats cell by cell (Deno 2.9's `deno fmt --check` reports every
 * TypeScript notebook as unformatted, so `.ipynb` files are excluded from
 * it in `deno.json`).
 *
 * @example
 * ```ts
 * import { denoFmt } from "./fmt.ts";
 * await denoFmt("const x = {a:1}", "ts"); // "const x = { a: 1 };"
 * ```
 *
 * @module
 */

/**
 * `text` formatted by `deno fmt --ext=EXT -`, without the final newline
 * `deno fmt` adds (notebook cells have none).
 *
 * @throws {Error} with `deno fmt`'s message when the text does not parse.
 * @example
 * ```ts
 * import { denoFmt } from "./fmt.ts";
 * await denoFmt("* a\n* b", "md"); // "- a\n- b"
 * ```
 */
export async function denoFmt(text: string, ext: "ts" | "md"): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", `--ext=${ext}`, "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  if (out.code !== 0) {
    throw new Error(
      `deno fmt could not format this ${ext} text: ${
        new TextDecoder().decode(out.stderr).trim().split("\n")[0]
      }`,
    );
  }
  return new TextDecoder().decode(out.stdout).replace(/\n$/, "");
}
