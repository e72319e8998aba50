/**
 * Reads a file shipped in an npm package of the project (fonts, WebAssembly,
 * plotly.js) from `node_modules`, which exists once `deno install` has run
 * (the project uses `"nodeModulesDir": "auto"`). Needs read permission for
 * `node_modules`. A renderer helper: no chart knowledge here.
 *
 * @example
 * ```ts
 * import { readPackageFile } from "./package_file.ts";
 * const ttf = await readPackageFile("dejavu-fonts-ttf", "ttf/DejaVuSans.ttf");
 * ```
 *
 * @module
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Where `file` of `pkg` may be, best guess first. */
function candidates(pkg: string, file: string): string[] {
  const paths: string[] = [];
  try {
    // With a node_modules directory this resolves to the package's main file,
    // at the package's root.
    const resolved = import.meta.resolve(pkg);
    if (resolved.startsWith("file:")) {
      paths.push(join(dirname(fileURLToPath(resolved)), file));
    }
  } catch {
    // Not in the import map: fall back to searching.
  }
  // Walk up from this module and from the working directory to a
  // node_modules directory holding the package.
  const starts: string[] = [Deno.cwd()];
  if (import.meta.url.startsWith("file:")) {
    starts.unshift(dirname(fileURLToPath(import.meta.url)));
  }
  for (const start of starts) {
    let dir = start;
    for (;;) {
      paths.push(join(dir, "node_modules", pkg, file));
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return [...new Set(paths)];
}

/**
 * The bytes of `file` (a path inside the package) of the npm package `pkg`.
 * Looks where `import.meta.resolve(pkg)` points, then in the `node_modules`
 * folders above this module and the working folder. Rejects with a sentence
 * naming the file and saying to run `deno install` when it is missing, or
 * to allow reading `node_modules` when permission is denied.
 *
 * @example
 * ```ts
 * import { readPackageFile } from "./package_file.ts";
 * const wasm = await readPackageFile("@resvg/resvg-wasm", "index_bg.wasm");
 * console.log(wasm.length > 0); // true
 * ```
 */
export async function readPackageFile(
  pkg: string,
  file: string,
): Promise<Uint8Array> {
  for (const path of candidates(pkg, file)) {
    try {
      return await Deno.readFile(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue;
      if (e instanceof Deno.errors.NotCapable) {
        throw new Error(
          `Cannot read ${path}: reading node_modules is not allowed; run with --allow-read (at least for the project folder).`,
        );
      }
      throw e;
    }
  }
  throw new Error(
    `Cannot find ${pkg}/${file} in node_modules; run \`deno install\` in the project root.`,
  );
}
