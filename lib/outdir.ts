/**
 * A run's output folder that is never half one run and half another.
 *
 * A run on `out/NAME` holds the lock `out/NAME.lock` (a second run on the
 * same folder refuses up front; a dead run's lock is taken over), writes
 * everything — checkpoints, then outputs — into the staging folder
 * `out/NAME.partial/`, and at the end swaps it in: `out/NAME` is renamed
 * to `out/NAME.previous`, the staging folder to `out/NAME`, and the
 * previous run is deleted. A run killed at any instant leaves the last
 * complete run in `out/NAME` (or, for the instant between the two renames,
 * in `out/NAME.previous`, which the next run or resume puts back), and its
 * own work in `out/NAME.partial/`: a checkpoint to resume from, or finished
 * outputs that the next run swaps in.
 *
 * @example
 * ```ts
 * import { openRunFolder } from "./outdir.ts";
 * const folder = await openRunFolder("out/a");
 * try {
 *   // … write into folder.staging …
 *   await folder.commit();
 * } finally {
 *   await folder.release();
 * }
 * ```
 *
 * @module
 */
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { pathKind } from "./files.ts";

/** A problem with the output folder, in one sentence naming it. */
export class OutDirError extends Error {
  override name = "OutDirError";
}

/** The file in the staging folder that holds the latest checkpoint. */
export const CHECKPOINT_FILE = "checkpoint.bin";

/** Suffixes of the names a run keeps beside its folder. */
const SUFFIXES = [".partial", ".previous", ".lock"] as const;

/**
 * An open output folder (see the module notes).
 *
 * @example
 * ```ts
 * import { openRunFolder, type RunFolder } from "./outdir.ts";
 * const folder: RunFolder = await openRunFolder("out/a");
 * folder.checkpoint; // "out/a.partial/checkpoint.bin"
 * ```
 */
export interface RunFolder {
  /** Where the finished run ends up (`--out`). */
  out: string;
  /** Where this run writes until it is finished. */
  staging: string;
  /** The checkpoint's path in the staging folder. */
  checkpoint: string;
  /** Swaps the finished staging folder in as `out` (see the module notes). */
  commit(): Promise<void>;
  /** Releases the lock (idempotent); the synchronous form is for exits. */
  release(): Promise<void>;
  releaseSync(): void;
}

/** What is at `path`, its own entry (a link is not followed). */
const kind = (path: string) => pathKind(path, false);

/** Who holds a lock, as its file says (for the message). */
interface LockInfo {
  pid: number;
  since: string;
}

/**
 * Takes `path` as a lock: an exclusive `flock` on the file, which the
 * system drops when the process ends however it ends, so a killed run's
 * lock never blocks the next one. The file says who holds it.
 */
async function acquireLock(path: string, out: string): Promise<Deno.FsFile> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const file = await Deno.open(path, {
      read: true,
      write: true,
      create: true,
    });
    let got = false;
    try {
      got = await file.tryLock(true);
    } catch (e) {
      file.close();
      throw e;
    }
    if (!got) {
      file.close();
      let held: LockInfo | null = null;
      try {
        held = JSON.parse(await Deno.readTextFile(path));
      } catch { /* being written: no details */ }
      throw new OutDirError(
        `another run (${
          held ? `process ${held.pid}, since ${held.since}` : "still starting"
        }) is writing ${out}; wait for it to finish or choose another --out.`,
      );
    }
    // A run that just finished deletes its lock file: lock the one at `path`.
    const here = await Deno.stat(path).catch(() => null);
    if (here === null || here.ino !== (await file.stat()).ino) {
      file.close();
      continue;
    }
    const mine: LockInfo = { pid: Deno.pid, since: new Date().toISOString() };
    await file.truncate(0);
    await file.write(new TextEncoder().encode(JSON.stringify(mine)));
    return file;
  }
  throw new OutDirError(
    `could not take the lock ${path}; try again, or choose another --out.`,
  );
}

/** The `status` a run.json records, or null without a readable one. */
async function runStatus(dir: string): Promise<string | null> {
  try {
    const run = JSON.parse(await Deno.readTextFile(join(dir, "run.json")));
    return typeof run?.status === "string" ? run.status : "complete";
  } catch {
    return null;
  }
}

/**
 * Finishes or undoes a swap that a killed run left half done, and deletes
 * what a finished swap left behind. Runs under the lock.
 */
async function recover(out: string, staging: string, previous: string) {
  const prev = await kind(previous);
  if (prev === "dir" && (await kind(out)) === "none") {
    if ((await runStatus(staging)) === "complete") {
      await Deno.rename(staging, out);
    } else {
      await Deno.rename(previous, out);
    }
  }
  // A complete staging folder not yet swapped in: the run finished.
  if ((await runStatus(staging)) === "complete") {
    if ((await kind(out)) !== "none") await Deno.rename(out, previous);
    await Deno.rename(staging, out);
  }
  if ((await kind(previous)) !== "none") {
    await Deno.remove(previous, { recursive: true });
  }
}

/**
 * Checks `out` (it must lie inside `root`, not be a file, and hold nothing
 * but an earlier run), takes its lock, repairs what a killed run left, and
 * prepares the staging folder: fresh for a new run, kept for `resume`.
 *
 * @throws {OutDirError} one sentence when the folder cannot be used.
 * @example
 * ```ts
 * import { openRunFolder } from "./outdir.ts";
 * const folder = await openRunFolder("out/a", { resume: true });
 * ```
 */
export async function openRunFolder(
  out: string,
  options: { resume?: boolean; root?: string } = {},
): Promise<RunFolder> {
  const root = resolve(options.root ?? "out");
  const abs = resolve(out);
  const inside = relative(root, abs);
  if (inside === "" || inside.startsWith("..") || inside.startsWith(sep)) {
    throw new OutDirError(
      `${out} is not inside ${options.root ?? "out"}/: choose --out ${
        options.root ?? "out"
      }/NAME.`,
    );
  }
  const name = basename(abs);
  const suffix = SUFFIXES.find((s) => name.endsWith(s));
  if (suffix !== undefined && name.length > suffix.length) {
    // DIR.partial and the like belong to the run on DIR: name that.
    const owner = out.slice(0, out.length - suffix.length);
    throw new OutDirError(
      options.resume
        ? `${out} is where the run on ${owner} keeps its work; resume it with --resume ${owner}.`
        : `${out} is a name the run on ${owner} keeps for itself; choose another --out.`,
    );
  }
  if (name.startsWith(".") || suffix !== undefined) {
    throw new OutDirError(
      `${out} is a name runs keep for themselves; choose another --out.`,
    );
  }
  const staging = `${out}.partial`;
  const previous = `${out}.previous`;
  const lock = `${out}.lock`;
  await Deno.mkdir(dirname(abs), { recursive: true }).catch((e) => {
    throw new OutDirError(
      `cannot make the folder ${dirname(out)} (${(e as Error).message}).`,
    );
  });
  const outKind = await kind(out);
  if (outKind === "file") {
    throw new OutDirError(
      `${out} is a file, not a folder; choose --out ${
        options.root ?? "out"
      }/NAME.`,
    );
  }
  if (outKind === "dir" && (await runStatus(out)) === null) {
    const entries = [];
    for await (const e of Deno.readDir(out)) entries.push(e.name);
    if (entries.length > 0) {
      throw new OutDirError(
        `${out} holds files that are not a run (no run.json), which a run would replace; choose another --out or empty it.`,
      );
    }
  }
  const lockFile = await acquireLock(lock, out);
  let held = true;
  const releaseSync = () => {
    if (!held) return;
    held = false;
    // A run that ended before it wrote anything (bad data, say) leaves no
    // empty staging folder behind; one that wrote keeps it (not recursive).
    try {
      Deno.removeSync(staging);
    } catch { /* not empty, or gone (swapped in) */ }
    try {
      Deno.removeSync(lock);
    } catch { /* already gone */ }
    lockFile.close(); // drops the lock
  };
  try {
    await recover(out, staging, previous);
    const checkpoint = join(staging, CHECKPOINT_FILE);
    const hasCheckpoint = (await kind(checkpoint)) === "file";
    if (options.resume) {
      if (!hasCheckpoint) {
        throw new OutDirError(
          `${out} has no unfinished run to resume (no ${checkpoint}); start a new run instead.`,
        );
      }
      // What a killed writer left half written is of no use.
      for await (const e of Deno.readDir(staging)) {
        if (/\.(tmp|old)-[0-9a-f-]{36}$/.test(e.name)) {
          await Deno.remove(join(staging, e.name), { recursive: true });
        }
      }
    } else {
      if (hasCheckpoint) {
        throw new OutDirError(
          `${staging}/ holds an unfinished run: continue it with --resume ${out}, or delete ${staging} to start over.`,
        );
      }
      await Deno.remove(staging, { recursive: true }).catch((e) => {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      });
      await Deno.mkdir(staging);
    }
    return {
      out,
      staging,
      checkpoint,
      async commit() {
        if (!held) throw new Error(`the lock on ${out} is not held.`);
        if ((await runStatus(staging)) !== "complete") {
          throw new Error(`${staging} holds no complete run to swap in.`);
        }
        await Deno.remove(checkpoint).catch(() => {});
        await swapIn(out, staging, previous);
      },
      release: () => Promise.resolve(releaseSync()),
      releaseSync,
    };
  } catch (e) {
    releaseSync();
    throw e;
  }
}

/** The swap's steps in order; tests stop a swap before each to mimic a kill. */
export const SWAP_STEPS = [
  "rename the previous run away",
  "rename the new run in",
  "delete the previous run",
] as const;

/** For tests: the swap stops (throws) before this step, as if killed. */
let killBefore: number | null = null;

/**
 * For tests: make the next swap stop before step `step` (an index into
 * {@link SWAP_STEPS}) as a kill there would, or `null` to run whole.
 */
export function stopSwapBefore(step: number | null): void {
  killBefore = step;
}

async function swapIn(out: string, staging: string, previous: string) {
  const step = (i: number) => {
    if (killBefore === i) {
      killBefore = null;
      throw new Error(`swap stopped before: ${SWAP_STEPS[i]}`);
    }
  };
  step(0);
  if ((await kind(out)) !== "none") await Deno.rename(out, previous);
  step(1);
  await Deno.rename(staging, out);
  step(2);
  await Deno.remove(previous, { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
}
