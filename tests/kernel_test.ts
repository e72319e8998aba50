/**
 * The library in Deno's own Jupyter kernel, driven by a Jupyter client
 * (Debian's python3-jupyter-client) that queues every cell at once, as a
 * front end's Run All does:
 *
 * - every output `show` sends, and every update of the live chart, comes
 *   back with its own request's header and before that request is reported
 *   idle — also when each is a megabyte — so a front end files it under
 *   its own cell; and no `busy` status comes after a request's idle, so a
 *   front end shows the kernel idle once the last cell is done;
 * - the first chart writes plotly.js next to the notebook, once;
 * - an interrupt (Jupyter's Stop: SIGINT) does not end the kernel, and
 *   during training stops it after the current batch, leaving a model that
 *   predicts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { PLOTLY_SRC } from "../lib/render/html.ts";
import { jupyterHome, type QueuedReport, runQueued } from "./jupyter/kernel.ts";
import { ROOT, toFileUrl } from "./paths.ts";

const OUT = join(ROOT, "out", "kernel-test");
const MOD = JSON.stringify(toFileUrl(join(ROOT, "lib", "mod.ts")));

/** A fresh working folder (inside the project, so deno.json is found). */
async function freshFolder(name: string): Promise<string> {
  const dir = join(OUT, name);
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(dir, { recursive: true });
  return dir;
}

/** The outputs of each cell as `type text`, updates left out. */
function filed(report: QueuedReport): string[][] {
  return report.cells.map((c) =>
    c.outputs.filter((o) => o.type !== "update_display_data").map((o) =>
      `${o.type} ${o.text.split("\n")[0].slice(0, 60)}`
    )
  );
}

function assertAllOnTime(report: QueuedReport): void {
  assert.deepEqual(report.strays, [], "outputs with no request's header");
  for (const [i, c] of report.cells.entries()) {
    assert.equal(c.status, "ok", `cell ${i} status`);
    assert.deepEqual(
      c.outputs.filter((o) => o.late),
      [],
      `cell ${i}: outputs after its idle`,
    );
    // A `busy` after the idle (a flush probe sent late) would leave a front
    // end showing the kernel busy after the last cell.
    assert.equal(c.busy_after_idle, 0, `cell ${i}: busy after its idle`);
  }
  assert.equal(report.last_state, "idle", "the kernel's state at the end");
}

const env = await jupyterHome(join(OUT, "jupyter"));

Deno.test("queued cells: every output comes back under its own request, before its idle", async () => {
  const dir = await freshFolder("queued");
  const cells = [
    `const { chartView, classBalanceChart, LiveTrainingChart, show, textView } = await import(${MOD});`,
  ];
  const expected: string[][] = [[]];
  for (let i = 0; i < 8; i++) {
    cells.push(
      `await show(textView("big ${i}\\n" + "x".repeat(1_000_000)));`,
      `await show(textView("small ${i}"));`,
      `await show(chartView(classBalanceChart([${i}, 2], ["a", "b"]), "chart ${i}"));`,
    );
    expected.push(
      [`display_data big ${i}`],
      [`display_data small ${i}`],
      [`display_data chart ${i}`],
    );
  }
  cells.push(
    `await show(textView("first of two"), textView("second of two"));`,
    [
      "const live = new LiveTrainingChart({ epochs: 1, minIntervalMs: 0 });",
      "for (let b = 1; b <= 20; b++) {",
      "  live.onBatch({ epoch: 1, epochs: 1, batch: b, batches: 20, loss: 1 / b, accuracy: b / 20, imagesPerSecond: 100, secondsLeft: 1, lr: 0.01 });",
      "}",
      "live.onEpoch({ epoch: 1, loss: 0.1, accuracy: 0.9, val_loss: 0.2, val_accuracy: 0.8, lr: 0.01, seconds: 1, images_per_second: 100 });",
      "await live.close();",
    ].join("\n"),
  );
  expected.push(
    ["display_data first of two", "display_data second of two"],
    [
      "display_data epoch 1/1 [#.......................]  1/20 loss 1.0000 acc 0",
      "display_data Training: epoch 1/1, batch 1/20",
    ],
  );
  const report = await runQueued({ cells, cwd: dir, env });
  assertAllOnTime(report);
  assert.deepEqual(filed(report), expected);
  const updates = report.cells.at(-1)!.outputs.filter((o) =>
    o.type === "update_display_data"
  );
  assert.ok(updates.length >= 4, `${updates.length} live updates`);
  assert.match(
    updates.at(-1)!.text,
    /^Training: 1\/1 epoch\(s\) done\nepoch 1\/1 .*\ndone: 1 epoch\(s\) in /,
  );
  // plotly.js was written next to the "notebook", whole.
  const asset = await Deno.readTextFile(join(dir, PLOTLY_SRC));
  const source = await Deno.readTextFile(
    join(ROOT, "node_modules", "plotly.js-dist-min", "plotly.min.js"),
  );
  assert.equal(asset.length, source.length);
  assert.equal(asset, source);
  const leftovers = [];
  for await (const e of Deno.readDir(join(dir, "_static"))) {
    leftovers.push(e.name);
  }
  assert.deepEqual(leftovers, ["plotly-4.1.2.min.js"]);
});

Deno.test("Stop: the kernel lives on, and training stops after the current batch", async () => {
  const dir = await freshFolder("stop");
  const cells = [
    `const { buildMiniVGGNet, initWasmBackend, show, textView, tf, trainModel, describeStop } = await import(${MOD});`,
    // An interrupt outside training: nothing happens, the cell ends as usual.
    'await new Promise((r) => setTimeout(r, 1500));\nawait show(textView("slept through"));',
    [
      "await initWasmBackend();",
      "const model = buildMiniVGGNet({ seed: 1 });",
      "const split = { images: new Uint8Array(64 * 784).fill(9), labels: new Uint8Array(64).fill(3), count: 64 };",
      "const batchesSeen: number[] = [];",
      "const result = await trainModel(model, split, null, { epochs: 200, batchSize: 16, onBatch: (p) => batchesSeen.push(p.batch) });",
      'await show(textView(result.stopped ? describeStop(result.stopped) : "ran to the end"));',
    ].join("\n"),
    [
      "const y = tf.tidy(() => model.predict(tf.zeros([3, 28, 28, 1])));",
      "await show(textView(`predicts ${y.shape} after ${batchesSeen.length} batches`));",
      "y.dispose();",
    ].join("\n"),
  ];
  const report = await runQueued({
    cells,
    cwd: dir,
    env,
    interrupts: [{ cell: 1, after: 0.5 }, { cell: 2, after: 4 }],
  });
  assertAllOnTime(report);
  assert.equal(report.alive, true, "the kernel is alive");
  const texts = filed(report);
  assert.deepEqual(texts[1], ["display_data slept through"]);
  assert.match(
    texts[2][0],
    /^display_data Stopped on interrupt in epoch \d+ after batch \d of 4/,
  );
  assert.match(texts[3][0], /^display_data predicts 3,10 after \d+ batches/);
  // The training cell ended within a few seconds of the interrupt.
  const stopAt = report.interrupted_at[1];
  const idleAt = report.cells[2].idle_at!;
  assert.ok(
    idleAt - stopAt < 5,
    `training ended ${(idleAt - stopAt).toFixed(2)} s after Stop`,
  );
});
