import assert from "node:assert/strict";
import { join } from "node:path";
import {
  CHECKPOINT_FILE,
  openRunFolder,
  OutDirError,
  stopSwapBefore,
  SWAP_STEPS,
} from "../lib/outdir.ts";
import { writeDirAtomic } from "../lib/files.ts";

/** A temporary project folder with `out/` in it; `cwd`-free paths. */
async function withRoot(
  body: (root: string, out: (name: string) => string) => Promise<void>,
) {
  const root = await Deno.makeTempDir();
  try {
    await body(join(root, "out"), (name) => join(root, "out", name));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** Writes a finished run (run.json last) that says which run it is. */
async function writeRun(dir: string, which: string, status = "complete") {
  await Deno.mkdir(join(dir, "model"), { recursive: true });
  await Deno.writeTextFile(join(dir, "model", "weights.bin"), which);
  await Deno.writeTextFile(join(dir, "history.json"), which);
  await Deno.writeTextFile(
    join(dir, "run.json"),
    JSON.stringify({ which, status }),
  );
}

/** Which run a folder holds, checking that all its files agree. */
async function whichRun(dir: string): Promise<string | null> {
  try {
    const run = JSON.parse(await Deno.readTextFile(join(dir, "run.json")));
    const parts = [
      await Deno.readTextFile(join(dir, "model", "weights.bin")),
      await Deno.readTextFile(join(dir, "history.json")),
    ];
    assert.ok(parts.every((p) => p === run.which), `${dir} mixes runs`);
    return run.which;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

async function names(dir: string): Promise<string[]> {
  const all = [];
  for await (const e of Deno.readDir(dir)) all.push(e.name);
  return all.sort();
}

Deno.test("a new run swaps in whole, and the earlier run stays whole until then", async () => {
  await withRoot(async (root, out) => {
    await writeRun(out("a"), "old");
    const folder = await openRunFolder(out("a"), { root });
    assert.equal(folder.staging, `${out("a")}.partial`);
    assert.equal(await whichRun(out("a")), "old");
    await writeRun(folder.staging, "new");
    await folder.commit();
    await folder.release();
    assert.equal(await whichRun(out("a")), "new");
    assert.deepEqual(await names(root), ["a"]);
  });
});

for (let step = 0; step < SWAP_STEPS.length; step++) {
  Deno.test(`killed before "${SWAP_STEPS[step]}": one whole run in place or put back, and the next run finishes the swap`, async () => {
    await withRoot(async (root, out) => {
      await writeRun(out("a"), "old");
      const folder = await openRunFolder(out("a"), { root });
      await writeRun(folder.staging, "new");
      stopSwapBefore(step);
      await assert.rejects(() => folder.commit(), /swap stopped/);
      folder.releaseSync(); // the process dies: its lock goes stale anyway
      // What a reader sees right after the kill.
      const now = await whichRun(out("a"));
      if (step === 1) {
        assert.equal(now, null, "between the renames --out is moved away");
        assert.equal(await whichRun(`${out("a")}.previous`), "old");
      } else {
        assert.equal(now, step === 0 ? "old" : "new");
      }
      // The next run on the folder repairs first.
      const next = await openRunFolder(out("a"), { root });
      assert.equal(await whichRun(out("a")), "new");
      assert.deepEqual(await names(root), ["a", "a.lock", "a.partial"]);
      await next.release();
    });
  });
}

Deno.test("a second run on the same folder refuses up front; a dead run's lock is taken over", async () => {
  await withRoot(async (root, out) => {
    const first = await openRunFolder(out("a"), { root });
    await assert.rejects(
      () => openRunFolder(out("a"), { root }),
      (e: Error) =>
        e instanceof OutDirError &&
        e.message.includes(`process ${Deno.pid}`) &&
        e.message.includes("choose another --out"),
    );
    await first.release();
    // A killed run leaves its lock file, but the system dropped its lock.
    await Deno.writeTextFile(
      `${out("a")}.lock`,
      JSON.stringify({ pid: 4194305, since: "earlier" }),
    );
    const second = await openRunFolder(out("a"), { root });
    await second.release();
    assert.ok(!(await names(root)).includes("a.lock"));
  });
});

Deno.test("an unfinished run is kept: a new run refuses, --resume finds its checkpoint", async () => {
  await withRoot(async (root, out) => {
    const first = await openRunFolder(out("a"), { root });
    await Deno.writeTextFile(join(first.staging, CHECKPOINT_FILE), "x");
    await writeRun(first.staging, "partial", "partial");
    first.releaseSync(); // killed or stopped
    await assert.rejects(
      () => openRunFolder(out("a"), { root }),
      /holds an unfinished run: continue it with --resume .*a, or delete/,
    );
    const torn = `${CHECKPOINT_FILE}.tmp-${crypto.randomUUID()}`;
    await Deno.writeTextFile(join(first.staging, torn), "half");
    const resumed = await openRunFolder(out("a"), { root, resume: true });
    assert.ok(!(await names(resumed.staging)).includes(torn), "torn file");
    assert.equal(
      await Deno.readTextFile(resumed.checkpoint),
      "x",
      "the checkpoint is kept",
    );
    await writeRun(resumed.staging, "resumed");
    await resumed.commit();
    await resumed.release();
    assert.equal(await whichRun(out("a")), "resumed");
    await assert.rejects(
      () => openRunFolder(out("a"), { root, resume: true }),
      /has no unfinished run to resume/,
    );
  });
});

Deno.test("a run that ends before writing anything leaves nothing beside its folder; one that wrote keeps its work", async () => {
  await withRoot(async (root, out) => {
    const failed = await openRunFolder(out("a"), { root });
    assert.deepEqual(await names(root), ["a.lock", "a.partial"]);
    await failed.release(); // the data was missing, say
    assert.deepEqual(await names(root), []);
    const stopped = await openRunFolder(out("a"), { root });
    await Deno.writeTextFile(join(stopped.staging, CHECKPOINT_FILE), "x");
    stopped.releaseSync();
    assert.deepEqual(await names(root), ["a.partial"]);
    assert.deepEqual(await names(out("a.partial")), [CHECKPOINT_FILE]);
  });
});

Deno.test("output paths are checked before anything runs", async () => {
  await withRoot(async (root, out) => {
    await writeRun(out("a"), "old");
    const cases: [string, RegExp][] = [
      [join(out("a"), "run.json"), /run\.json is a file, not a folder/],
      [join(root, "..", "data", "x"), /is not inside .*: choose --out/],
      [root, /is not inside/],
      [
        out("b.partial"),
        /b\.partial is a name the run on .*b keeps for itself; choose another --out\.$/,
      ],
      [out(".lock"), /a name runs keep for themselves/],
      [out(".hidden"), /a name runs keep for themselves/],
    ];
    for (const [path, message] of cases) {
      await assert.rejects(() => openRunFolder(path, { root }), message, path);
    }
    // Resuming the work folder the interrupt message named: the run's name.
    await assert.rejects(
      () => openRunFolder(out("b.partial"), { root, resume: true }),
      (e: Error) =>
        e.message ===
          `${out("b.partial")} is where the run on ${
            out("b")
          } keeps its work; resume it with --resume ${out("b")}.`,
    );
    await Deno.mkdir(out("mine"));
    await Deno.writeTextFile(join(out("mine"), "notes.txt"), "my notes");
    await assert.rejects(
      () => openRunFolder(out("mine"), { root }),
      /holds files that are not a run \(no run\.json\)/,
    );
    assert.equal(
      await Deno.readTextFile(join(out("mine"), "notes.txt")),
      "my notes",
    );
  });
});

Deno.test("writeDirAtomic: concurrent writers all succeed, leftovers of killed ones are cleaned", async () => {
  await withRoot(async (root, out) => {
    await Deno.mkdir(root, { recursive: true });
    for (let round = 0; round < 10; round++) {
      await Promise.all(
        [1, 2, 3].map((w) =>
          writeDirAtomic(out("model"), async (tmp) => {
            await Deno.writeTextFile(join(tmp, "w.txt"), String(w));
          })
        ),
      );
      const w = await Deno.readTextFile(join(out("model"), "w.txt"));
      assert.ok(["1", "2", "3"].includes(w));
    }
    assert.deepEqual(await names(root), ["model"]);
    // A writer killed between its renames left `model` missing and the
    // previous one under `.old-…`, plus a half-written `.tmp-…`.
    await Deno.rename(out("model"), `${out("model")}.old-dead`);
    await Deno.mkdir(`${out("model")}.tmp-dead`);
    const longAgo = new Date(Date.now() - 3600_000);
    await Deno.utime(`${out("model")}.tmp-dead`, longAgo, longAgo);
    await writeDirAtomic(out("other"), () => Promise.resolve());
    await writeDirAtomic(out("model"), async (tmp) => {
      await Deno.writeTextFile(join(tmp, "w.txt"), "4");
    });
    assert.deepEqual(await names(root), ["model", "other"]);
    assert.equal(await Deno.readTextFile(join(out("model"), "w.txt")), "4");
  });
});
