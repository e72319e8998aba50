/**
 * `deno task train` survives: SIGKILL after an epoch and --resume ends
 * with the very weights of an uninterrupted run; Ctrl-C saves and says how
 * to resume; a second Ctrl-C quits at once with the checkpoint intact;
 * bad output paths and busy folders are refused before training.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT } from "./paths.ts";
import { loadCheckpoint } from "../lib/checkpoint.ts";
import { openRunFolder } from "../lib/outdir.ts";
import { SAME_PRESS_MS } from "../lib/cli/ctrl_c.ts";

/** A small run: 2 epochs of 14 batches (440 of the first 480 images). */
const SMALL = [
  "--recipe",
  "fast",
  "--limit",
  "480",
  "--epochs",
  "2",
  "--threads",
  "2",
];

/** `deno task train`'s own command line (its permissions), from deno.json. */
const TRAIN_ARGS: string[] = JSON.parse(
  Deno.readTextFileSync(join(ROOT, "deno.json")),
).tasks.train.split(" ").slice(1);

/**
 * Starts the training program as `deno task train` does, but as a direct
 * child, so that the test can signal it as a terminal would.
 */
function trainProcess(...args: string[]) {
  return new Deno.Command(Deno.execPath(), {
    args: [...TRAIN_ARGS, ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
}

/** Collects a stream's text; resolves `seen` when `pattern` appears. */
function watch(stream: ReadableStream<Uint8Array>, pattern: RegExp) {
  let text = "";
  let found: () => void = () => {};
  const seen = new Promise<void>((resolve) => found = resolve);
  const done = (async () => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      if (pattern.test(text)) found();
    }
    return text;
  })();
  return { seen, done };
}

/** Runs to the end; exit code and output. */
async function train(...args: string[]) {
  const out = await trainProcess(...args).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return {
    code: out.code,
    stdout: decode(out.stdout),
    stderr: decode(out.stderr),
  };
}

/** Waits (up to a minute) until `path` exists. */
async function until(path: string): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if ((await Deno.stat(path).catch(() => null)) !== null) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${path} did not appear`);
}

const names = (dir: string) =>
  [...Deno.readDirSync(dir)].map((e) => e.name).sort();

Deno.test("train survives: SIGKILL + --resume and Ctrl-C + --resume end byte-identical to an uninterrupted run", async (t) => {
  const id = crypto.randomUUID().slice(0, 8);
  const outs = ["whole", "killed", "ctrlc", "twice"].map((n) =>
    join("out", `test-${id}-${n}`)
  );
  const [whole, killed, ctrlc, twice] = outs;
  const weights = (out: string) =>
    Deno.readFile(join(ROOT, out, "model", "weights.bin"));
  try {
    const reference = await train(...SMALL, "--out", whole);
    assert.equal(reference.code, 0, reference.stderr);

    await t.step("SIGKILL after epoch 1, then --resume", async () => {
      const child = trainProcess(...SMALL, "--out", killed);
      const out = watch(child.stdout, /^epoch 1\/2 loss/m);
      const err = watch(child.stderr, /$^/);
      await out.seen;
      // The checkpoint of epoch 1 is written right after its line.
      const checkpoint = join(ROOT, `${killed}.partial`, "checkpoint.bin");
      await until(checkpoint);
      child.kill("SIGKILL");
      await child.status;
      await Promise.all([out.done, err.done]);
      assert.equal((await loadCheckpoint(checkpoint)).epochsDone, 1);
      assert.ok(!names(join(ROOT, "out")).includes(`test-${id}-killed`));
      const resumed = await train("--resume", killed);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(resumed.stdout, /resuming .*: 1 of 2 epochs done/);
      assert.deepEqual(await weights(killed), await weights(whole));
      const run = JSON.parse(
        await Deno.readTextFile(join(ROOT, killed, "run.json")),
      );
      assert.equal(run.status, "complete");
      assert.deepEqual(run.resumed_from, { epochs_done: 1, batches: 0 });
      assert.ok(!names(join(ROOT, killed)).includes("checkpoint.bin"));
    });

    await t.step(
      "Ctrl-C mid-epoch saves, says how to resume, exits 130 (one press delivered twice, as deno task can, is one press)",
      async () => {
        const child = trainProcess(...SMALL, "--out", ctrlc);
        const out = watch(child.stdout, /^epoch 1\/2 loss/m);
        const err = watch(child.stderr, /$^/);
        await out.seen;
        await new Promise((r) => setTimeout(r, 300));
        child.kill("SIGINT");
        // Under deno task one press in a terminal can arrive twice.
        await new Promise((r) => setTimeout(r, 20));
        child.kill("SIGINT");
        const status = await child.status;
        const stdout = await out.done;
        await err.done;
        assert.equal(status.code, 130);
        const last = stdout.trim().split("\n").at(-1)!;
        assert.match(
          last,
          /^Stopped on interrupt in epoch 2 after batch \d+ of 14: .* Saved a checkpoint and the outputs .* in out\/.*ctrlc\.partial\/; continue with: deno task train --resume out\/.*ctrlc$/,
        );
        const staging = join(ROOT, `${ctrlc}.partial`);
        const run = JSON.parse(
          await Deno.readTextFile(join(staging, "run.json")),
        );
        assert.equal(run.status, "partial");
        assert.equal(run.stopped.reason, "interrupt");
        assert.equal(run.stopped.epochs_done, 1);
        assert.ok(names(staging).includes("model.zip"));
        const resumed = await train("--resume", ctrlc);
        assert.equal(resumed.code, 0, resumed.stderr);
        assert.deepEqual(await weights(ctrlc), await weights(whole));
      },
    );

    await t.step(
      "a second Ctrl-C quits at once, leaving the last checkpoint whole",
      async () => {
        const child = trainProcess(...SMALL, "--out", twice);
        const out = watch(child.stdout, /^epoch 1\/2 loss/m);
        const err = watch(child.stderr, /Stopping after this batch/);
        await out.seen;
        const checkpoint = join(ROOT, `${twice}.partial`, "checkpoint.bin");
        await until(checkpoint);
        child.kill("SIGINT");
        // A person presses again once the first press has been answered:
        // two signals that arrive before the program reads the first are
        // one (on a loaded machine a batch can outlast any fixed pause).
        await err.seen;
        // Past the time in which a second signal counts as the same press.
        await new Promise((r) => setTimeout(r, SAME_PRESS_MS + 50));
        child.kill("SIGINT");
        const status = await child.status;
        await out.done;
        assert.equal(status.code, 130);
        assert.match(
          await err.done,
          /Quit at once; the last complete checkpoint/,
        );
        assert.ok((await loadCheckpoint(checkpoint)).epochsDone >= 1);
        assert.ok(!names(join(ROOT, "out")).includes(`test-${id}-twice.lock`));
      },
    );
  } finally {
    for (const out of outs) {
      for (const suffix of ["", ".partial", ".previous", ".lock"]) {
        await Deno.remove(join(ROOT, out + suffix), { recursive: true })
          .catch(() => {});
      }
    }
  }
});

Deno.test("train refuses a bad or busy --out before training", async () => {
  const id = crypto.randomUUID().slice(0, 8);
  const out = join("out", `test-${id}`);
  try {
    await Deno.mkdir(join(ROOT, out), { recursive: true });
    await Deno.writeTextFile(join(ROOT, out, "run.json"), "{}");
    const file = await train(...SMALL, "--out", join(out, "run.json"));
    assert.equal(file.code, 1);
    assert.match(file.stderr, /run\.json is a file, not a folder/);
    assert.doesNotMatch(file.stdout, /backend:/, "refused before starting");
    const data = await train(...SMALL, "--out", "data/x");
    assert.notEqual(data.code, 0);
    assert.match(data.stderr, /out\//);
    // A run holding the folder (this test, through the library) makes it busy.
    const holder = await openRunFolder(join(ROOT, out), {
      root: join(ROOT, "out"),
    });
    const busy = await train(...SMALL, "--out", out);
    assert.equal(busy.code, 1);
    assert.match(
      busy.stderr,
      new RegExp(`another run \\(process ${Deno.pid}, since .*\\) is writing`),
    );
    await holder.release();
    const resume = await train("--resume", out, "--seed", "3");
    assert.equal(resume.code, 2);
    assert.match(resume.stderr, /drop --seed/);
  } finally {
    for (const suffix of ["", ".partial", ".lock"]) {
      await Deno.remove(join(ROOT, out + suffix), { recursive: true })
        .catch(() => {});
    }
  }
});
