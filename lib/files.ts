/**
 * Writing files so that a reader never sees half of one: write to a
 * temporary name in the same directory, then rename.
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from "./files.ts";
 * await writeFileAtomic("out/report.txt", "hello\n");
 * ```
 *
 * @module
 */
import { dirname } from "node:path";

/**
 * Writes `data` (bytes or text) to `path` atomically, creating the parent
 * directory. On failure the temporary file is removed and the error
 * re-thrown; `path` is either the old file or the complete new one.
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from "./files.ts";
 * await writeFileAtomic("out/x.json", JSON.stringify({ a: 1 }));
 * ```
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${crypto.randomUUID()}`;
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/**
 * Fills a directory atomically: `fill` writes into a fresh temporary
 * directory next to `path`, which then replaces `path` in one rename.
 *
 * @example
 * ```ts
 * import { writeDirAtomic } from "./files.ts";
 * await writeDirAtomic("out/model", async (tmp) => {
 *   await Deno.writeTextFile(`${tmp}/model.json`, "{}");
 * });
 * ```
 */
export async function writeDirAtomic(
  path: string,
  fill: (tmpDir: string) => Promise<void>,
): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${crypto.randomUUID()}`;
  try {
    await Deno.mkdir(tmp);
    await fill(tmp);
    await Deno.remove(path, { recursive: true }).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw e;
  }
}
