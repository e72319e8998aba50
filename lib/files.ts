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
import { basename, dirname, join } from "node:path";

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

/** Leftovers older than this are a killed writer's, not a running one's. */
const STALE_MS = 10 * 60 * 1000;

/**
 * Deletes what killed writers of `path` left beside it (`NAME.tmp-…`,
 * `NAME.old-…` older than ten minutes), first putting an `old` copy back
 * if `path` itself is missing (a kill between the two renames).
 */
async function cleanLeftovers(path: string): Promise<void> {
  const dir = dirname(path), name = basename(path);
  const leftovers: { path: string; old: boolean; mtime: number }[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      const old = e.name.startsWith(`${name}.old-`);
      if (!old && !e.name.startsWith(`${name}.tmp-`)) continue;
      const at = join(dir, e.name);
      const info = await Deno.lstat(at).catch(() => null);
      if (info) {
        leftovers.push({ path: at, old, mtime: info.mtime?.getTime() ?? 0 });
      }
    }
  } catch {
    return; // no folder yet: nothing left over
  }
  const missing = await Deno.lstat(path).then(() => false, () => true);
  const olds = leftovers.filter((l) => l.old).sort((a, b) => b.mtime - a.mtime);
  if (missing && olds.length > 0) {
    await Deno.rename(olds[0].path, path).catch(() => {});
    olds.shift();
  }
  const now = Date.now();
  for (const l of [...olds, ...leftovers.filter((l) => !l.old)]) {
    if (now - l.mtime > STALE_MS) {
      await Deno.remove(l.path, { recursive: true }).catch(() => {});
    }
  }
}

/**
 * Fills a directory so that `path` is always either the old directory or
 * the complete new one: `fill` writes into a fresh temporary directory
 * next to `path`; the old one is renamed away, the new one renamed in,
 * and the old one deleted. Leftovers of killed writers are cleaned first
 * (an old copy put back if a kill fell between the two renames). Two
 * writers at once both succeed, the later one's directory staying.
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
  await cleanLeftovers(path);
  const id = crypto.randomUUID();
  const tmp = `${path}.tmp-${id}`, old = `${path}.old-${id}`;
  try {
    await Deno.mkdir(tmp);
    await fill(tmp);
    // Another writer may put its directory in between: move it away too.
    for (let attempt = 0;; attempt++) {
      await Deno.rename(path, old).catch((e) => {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      });
      try {
        await Deno.rename(tmp, path);
        break;
      } catch (e) {
        if (attempt >= 5) throw e;
        await Deno.remove(old, { recursive: true }).catch(() => {});
      }
    }
    await Deno.remove(old, { recursive: true }).catch(() => {});
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw e;
  }
}

/**
 * What is at `path`: a folder, something else (a file, a link to one), or
 * nothing. Symbolic links are followed unless `followLinks` is false (then
 * a link is "file"). Errors other than "not found" (or a path through a
 * file) are thrown.
 *
 * @example
 * ```ts
 * import { pathKind } from "./files.ts";
 * if ((await pathKind("out/a")) === "file") console.log("not a folder");
 * ```
 */
export async function pathKind(
  path: string,
  followLinks = true,
): Promise<"none" | "dir" | "file"> {
  try {
    const info = await (followLinks ? Deno.stat(path) : Deno.lstat(path));
    return info.isDirectory ? "dir" : "file";
  } catch (e) {
    // Also nothing there: a path through a file (`a-file/x`).
    if (
      e instanceof Deno.errors.NotFound ||
      e instanceof Deno.errors.NotADirectory
    ) return "none";
    throw e;
  }
}
