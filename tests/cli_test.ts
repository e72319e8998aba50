/**
 * `deno task train` end to end, run as a user runs it: flags, user errors
 * (one sentence, exit code ≠ 0, no stack trace, nothing written), and one
 * short real run whose every output file is checked.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync, gzipSync } from "node:zlib";
import {
  CLASS_NAMES,
  classificationReport,
  FAST_RECIPE,
  formatReport,
  initWasmBackend,
  loadFashionMnist,
  loadModelZip,
  predictSplit,
  takeFirst,
} from "../lib/mod.ts";
import { DEBIAN_DIR } from "../lib/data/load.ts";
import { decodePng } from "../lib/image/png.ts";
import { loadModelDir } from "../lib/model_zip.ts";
import { OUTPUT_FILES } from "../lib/outputs.ts";
import {
  intFlag,
  joinNegativeValues,
  parseFlags,
  permissionHint,
  UsageError,
} from "../lib/cli/args.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Runs `deno task NAME ARGS…` as a user would; stdout, stderr lines, code. */
async function task(name: string, ...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", name, ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  // `deno task` echoes the command it runs; that line is not the program's.
  const stderr = decode(out.stderr).split("\n").filter((l) =>
    l !== "" && !l.startsWith(`Task ${name}`)
  );
  return { code: out.code, stdout: decode(out.stdout), stderr };
}

function train(...args: string[]) {
  return task("train", ...args);
}

function assertOneSentenceError(
  r: { code: number; stderr: string[] },
  code: number,
  pattern: RegExp,
) {
  assert.equal(r.code, code, `exit code; stderr: ${r.stderr.join("\n")}`);
  assert.equal(
    r.stderr.length,
    1,
    `one line expected, got:\n${r.stderr.join("\n")}`,
  );
  assert.match(r.stderr[0], /^error: /);
  assert.match(r.stderr[0], pattern);
  assert.doesNotMatch(r.stderr[0], /\s+at\s+\S+:\d+/);
}

async function missing(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => false, () => true);
}

Deno.test("train --help lists every flag", async () => {
  const r = await train("--help");
  assert.equal(r.code, 0);
  for (
    const flag of [
      "--recipe",
      "--epochs",
      "--batch-size",
      "--limit",
      "--data-dir",
      "--out",
      "--seed",
      "--threads",
    ]
  ) {
    assert.ok(r.stdout.includes(flag), `${flag} missing from --help`);
  }
});

Deno.test("train rejects bad flags with one sentence and exit code 2", async () => {
  assertOneSentenceError(
    await train("--epochs", "0"),
    2,
    /--epochs must be an integer of at least 1, got "0"/,
  );
  assertOneSentenceError(
    await train("--limit", "lots"),
    2,
    /--limit must be an integer/,
  );
  assertOneSentenceError(await train("--bogus"), 2, /bogus/);
  assertOneSentenceError(
    await train("--recipe", "turbo"),
    2,
    /^error: --recipe: there is no recipe "turbo"; choose one of seed, fast, best\.$/,
  );
  assertOneSentenceError(
    await train("--recipe", "fast", "--limit", "11"),
    2,
    /--limit 11 is too few training images to hold some out for validation/,
  );
  assertOneSentenceError(
    await train("--out", "/tmp/elsewhere"),
    2,
    /may write only under out\//,
  );
});

Deno.test("a negative number after a flag is that flag's value (parseArgs would call it an option)", () => {
  const options = {
    epochs: { type: "string" as const },
    limit: { type: "string" as const, short: "l" },
    help: { type: "boolean" as const, short: "h" },
  };
  assert.deepEqual(
    joinNegativeValues(
      ["--epochs", "-1", "-l", "-2", "--limit", "-0.5", "--help", "-3"],
      options,
    ),
    ["--epochs=-1", "-l-2", "--limit=-0.5", "--help", "-3"],
  );
  // Not a number, or after "--": left for parseArgs to judge.
  assert.deepEqual(
    joinNegativeValues(["--epochs", "-x", "--", "--limit", "-1"], options),
    ["--epochs", "-x", "--", "--limit", "-1"],
  );
  assert.deepEqual(
    { ...parseFlags(["--epochs", "-1", "-l", "-7"], options).values },
    { epochs: "-1", limit: "-7" },
  );
  assert.throws(
    () => intFlag("--epochs", "-1", 1),
    new UsageError('--epochs must be an integer of at least 1, got "-1".'),
  );
});

Deno.test("a refused permission says what to do: outputs under out/, else the task may not", () => {
  assert.equal(
    permissionHint(
      'Requires write access to "/etc/x", run again with the --allow-write flag',
    ),
    'Requires write access to "/etc/x", run again with the --allow-write flag; write outputs under out/ (the task\'s permission) or run the script with wider --allow-write.',
  );
  assert.equal(
    permissionHint(
      'Requires run access to "/opt/jupyter", run again with the --allow-run flag',
    ),
    'Requires run access to "/opt/jupyter", run again with the --allow-run flag; the task may not (see "Permissions" in README), so run the script with deno run and that permission.',
  );
});

Deno.test("every integer flag of every task refuses a negative number as it refuses 0", async () => {
  const cases: [string, string, number][] = [
    ["train", "--epochs", 1],
    ["train", "--batch-size", 1],
    ["train", "--limit", 1],
    ["train", "--seed", 0],
    ["train", "--threads", 1],
    ["bench", "--windows", 1],
    ["bench", "--seconds", 1],
    ["bench", "--threads", 1],
    ["notebooks", "--limit", 1],
    ["notebooks", "--epochs", 1],
  ];
  for (const [name, flag, min] of cases) {
    for (const args of [[flag, "-1"], [`${flag}=-1`]]) {
      assertOneSentenceError(
        await task(name, ...args),
        2,
        new RegExp(
          `^error: ${flag} must be an integer of at least ${min}, got "-1"\\.$`,
        ),
      );
    }
  }
});

Deno.test("train --threads above the core count uses the cores, with a one-line warning", async () => {
  const cores = navigator.hardwareConcurrency;
  const asked = cores + 97;
  const dir = await Deno.makeTempDir(); // no data: stops after the backend
  const out = join("out", `test-${crypto.randomUUID()}`);
  try {
    const r = await train("--threads", String(asked), "--data-dir", dir);
    assert.equal(r.code, 1, r.stderr.join("\n"));
    assert.match(
      r.stdout,
      new RegExp(`^backend: wasm, SIMD on, ${cores} thread\\(s\\)$`, "m"),
    );
    assert.equal(r.stderr.length, 2, r.stderr.join("\n"));
    assert.equal(
      r.stderr[0],
      `warning: ${asked} threads asked for, but this machine has ${cores} core${
        cores === 1 ? "" : "s"
      }; using ${cores} thread${
        cores === 1 ? "" : "s"
      } (threads beyond one per core only take turns on the cores and slow every step down).`,
    );
    assert.match(r.stderr[1], /^error: .*is missing/);
    assert.ok(await missing(join(ROOT, out)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("train with missing or damaged data stops with one sentence and writes nothing", async () => {
  const dir = await Deno.makeTempDir();
  const out = join("out", `test-${crypto.randomUUID()}`);
  try {
    assertOneSentenceError(
      await train("--data-dir", dir, "--out", out),
      1,
      /train-images-idx3-ubyte\(\.gz\) is missing; put all four Fashion-MNIST files in/,
    );
    for (
      const name of [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
      ]
    ) {
      await Deno.copyFile(join(DEBIAN_DIR, name), join(dir, name));
    }
    const labels = gunzipSync(
      await Deno.readFile(join(DEBIAN_DIR, "t10k-labels-idx1-ubyte.gz")),
    );
    labels[100] = (labels[100] + 1) % 10; // still a valid label, wrong content
    await Deno.writeFile(
      join(dir, "t10k-labels-idx1-ubyte.gz"),
      gzipSync(labels),
    );
    assertOneSentenceError(
      await train("--data-dir", dir, "--out", out),
      1,
      /t10k-labels-idx1-ubyte\.gz: checksum mismatch/,
    );
    for (const left of [out, `${out}.partial`, `${out}.lock`]) {
      assert.ok(
        await missing(join(ROOT, left)),
        `${left} after a data error`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("build:wasm and notebooks:clean refuse arguments they do not take, and print --help", async () => {
  for (const name of ["build:wasm", "notebooks:clean"]) {
    assertOneSentenceError(
      await task(name, "--bogus"),
      2,
      /^error: Unknown option '--bogus' \(see --help\)\.$/,
    );
    const help = await task(name, "--help");
    assert.equal(help.code, 0, help.stderr.join("\n"));
    assert.match(help.stdout, new RegExp(`^deno task ${name}: `));
    assert.match(help.stdout, /Takes no arguments\./);
  }
});

Deno.test("notebooks: a cell's error is one line naming the notebook, the cell and the error (04-evaluate with no model)", async () => {
  const out = join("out", `test-${crypto.randomUUID()}`);
  try {
    assertOneSentenceError(
      await task("notebooks", "--limit", "100", "--out", out, "04-evaluate"),
      1,
      /^error: 04-evaluate\.ipynb stopped at an error in the cell that starts "[^"]+": ModelZipError: \S+model\.zip does not exist; train a model first \(notebook 03-train saves one where 04-evaluate looks/,
    );
  } finally {
    await Deno.remove(join(ROOT, out), { recursive: true }).catch(() => {});
  }
});

Deno.test("notebooks refuses a bad --out, an unknown flag and a bad --recipe with one sentence, before running anything", async () => {
  const file = join("out", `test-${crypto.randomUUID()}`);
  await Deno.writeTextFile(join(ROOT, file), "not a folder");
  try {
    assertOneSentenceError(
      await task("notebooks", "--out", file, "01-data"),
      2,
      new RegExp(
        `^error: ${file} is a file, not a folder; choose --out out/NAME\\.$`,
      ),
    );
    assertOneSentenceError(
      await task("notebooks", "--out", `${file}/sub`, "01-data"),
      2,
      new RegExp(
        `^error: cannot make the folder ${file}/sub \\(.*\\); choose --out out/NAME\\.$`,
      ),
    );
  } finally {
    await Deno.remove(join(ROOT, file));
  }
  assertOneSentenceError(
    await task("notebooks", "--lmit", "5"),
    2,
    /^error: Unknown option '--lmit' \(see --help\)\.$/,
  );
  assertOneSentenceError(
    await task("notebooks", "--recipe", "fastest", "01-data"),
    2,
    /^error: --recipe: there is no recipe "fastest"; choose one of seed, fast, best\.$/,
  );
});

Deno.test("train --epochs 1 --limit 2000 writes every output file, correct and consistent", async () => {
  const out = join("out", `test-${crypto.randomUUID()}`);
  const abs = join(ROOT, out);
  try {
    const r = await train(
      "--epochs",
      "1",
      "--limit",
      "2000",
      "--seed",
      "42",
      "--out",
      out,
    );
    assert.equal(r.code, 0, r.stderr.join("\n"));
    assert.match(r.stdout, /backend: wasm, SIMD on/);
    // The test set's classification, which takes a while, is announced.
    assert.match(
      r.stdout,
      /^test: classifying the 10,000 test images, as they are and flipped…$/m,
    );
    assert.match(
      r.stdout,
      /epoch 1\/1 loss \d\.\d{4} acc \d\.\d{4} val_loss \d\.\d{4} val_acc \d\.\d{4} lr 0\.\d{6}/,
    );
    assert.ok(
      r.stderr.some((l) => /epoch 1\/1 \[#+\] 63\/63 loss/.test(l)),
      "progress bar printed",
    );

    const names = [...Deno.readDirSync(abs)].map((e) => e.name).sort();
    assert.deepEqual(
      names,
      [...OUTPUT_FILES].sort(),
      "exactly the contract's files, no temporaries",
    );
    const read = (name: string) => Deno.readTextFileSync(join(abs, name));
    const json = (name: string) => JSON.parse(read(name));

    // predictions.csv: one row per test image, in order, with the true labels.
    const data = await loadFashionMnist({ download: false });
    const rows = read("predictions.csv").trimEnd().split("\n");
    assert.equal(rows[0], "index,label,predicted,confidence");
    assert.equal(rows.length, 10001);
    const predicted = rows.slice(1).map((row, i) => {
      const [index, label, pred, conf] = row.split(",");
      assert.equal(Number(index), i);
      assert.equal(Number(label), data.test.labels[i]);
      assert.ok(Number(conf) > 0 && Number(conf) <= 1);
      return Number(pred);
    });

    // report.json / report.txt / confusion.json agree with the predictions.
    const report = json("report.json");
    assert.deepEqual(
      report,
      classificationReport(data.test.labels, predicted, CLASS_NAMES),
    );
    assert.equal(read("report.txt"), formatReport(report));
    const confusion: number[][] = json("confusion.json");
    assert.equal(confusion.length, 10);
    confusion.forEach((row) =>
      assert.equal(row.reduce((a, b) => a + b, 0), 1000)
    );
    const correct = confusion.reduce((s, row, i) => s + row[i], 0);
    assert.equal(correct / 10000, report.accuracy);
    // After 63 steps the model has learnt (training accuracy ~0.6), but
    // batch norm's moving statistics (momentum 0.99) still hold about half
    // of their initial values, so the test accuracy is low and moves a lot
    // with rounding (0.22–0.31 seen): only require it to beat chance.
    const history = json("history.json");
    assert.ok(
      history[0].accuracy > 0.45,
      `training accuracy ${history[0].accuracy} should be well above chance`,
    );
    assert.ok(
      report.accuracy > 0.15,
      `test accuracy ${report.accuracy} should beat chance (0.10)`,
    );
    assert.equal(history.length, 1);
    assert.equal(
      history[0].val_accuracy.toFixed(4),
      report.accuracy.toFixed(4),
    );
    for (
      const key of [
        "loss",
        "accuracy",
        "val_loss",
        "lr",
        "seconds",
        "images_per_second",
      ]
    ) {
      assert.ok(Number.isFinite(history[0][key]), key);
    }
    const run = json("run.json");
    assert.equal(run.epochs, 1);
    assert.equal(run.limit, 2000);
    assert.equal(run.seed, 42);
    assert.equal(run.backend.backend, "wasm");
    assert.equal(run.metrics.test_accuracy, report.accuracy);
    // The seed recipe validates on the test set: the same loss, computed
    // by Keras's evaluation and by crossEntropyOf.
    assert.ok(
      Math.abs(run.metrics.test_loss - history[0].val_loss) < 1e-3,
      `${run.metrics.test_loss} vs ${history[0].val_loss}`,
    );
    assert.ok(run.total_seconds > 0 && run.peak_rss_bytes > 0);

    // Pictures decode and have the promised sizes.
    const montage = decodePng(Deno.readFileSync(join(abs, "montage.png")));
    assert.deepEqual([montage.width, montage.height], [404, 404]);
    const plot = decodePng(Deno.readFileSync(join(abs, "plot.png")));
    assert.equal(plot.width, 1600);
    assert.ok(plot.height > 400 && plot.height < 800, `${plot.height} px high`);
    const html = read("plot.html");
    assert.doesNotMatch(html, /<script[^>]+src=/);
    assert.ok(html.length > 1_000_000, "plotly.js embedded");

    // Both model forms load and reproduce the written predictions.
    await initWasmBackend();
    const first = takeFirst(data.test, 200);
    const fromDir = await loadModelDir(join(abs, "model"));
    const { model: fromZip, metadata } = await loadModelZip(
      join(abs, "model.zip"),
    );
    assert.deepEqual(metadata.classNames, [...CLASS_NAMES]);
    assert.equal(
      (metadata.metrics as { test_accuracy: number }).test_accuracy,
      report.accuracy,
    );
    for (const model of [fromDir, fromZip]) {
      const p = predictSplit(model, first);
      let same = 0;
      for (let i = 0; i < first.count; i++) {
        same += p.predicted[i] === predicted[i] ? 1 : 0;
      }
      assert.ok(
        same >= first.count - 1,
        `reloaded model agrees on ${same}/${first.count}`,
      );
      model.dispose();
    }
  } finally {
    await Deno.remove(abs, { recursive: true }).catch(() => {});
  }
});

Deno.test("train --recipe fast holds out its validation, reads the test set once, and records the whole recipe", async () => {
  const out = join("out", `test-${crypto.randomUUID()}`);
  const abs = join(ROOT, out);
  try {
    const r = await train(
      "--recipe",
      "fast",
      "--epochs",
      "1",
      "--limit",
      "1200",
      "--out",
      out,
    );
    assert.equal(r.code, 0, r.stderr.join("\n"));
    assert.match(
      r.stdout,
      /data: 1100 training images \(of the first 1200\), validation on 100 held-out training images, 10000 test images \(classified once, after training\)/,
    );
    assert.match(r.stdout, /recipe: fast: 1 epoch, batch 32, .*; seed 42/);
    assert.match(
      r.stdout,
      /test accuracy \d+\.\d\d% \(\d+\.\d\d% with flipped copies averaged in\)/,
    );
    const json = (name: string) =>
      JSON.parse(Deno.readTextFileSync(join(abs, name)));
    const run = json("run.json");
    assert.deepEqual(run.recipe, {
      ...FAST_RECIPE,
      epochs: 1,
      validation: { kind: "holdout", size: 100 },
    });
    assert.equal(run.validation.kind, "holdout");
    assert.deepEqual(
      [run.validation.from, run.validation.train, run.validation.validation],
      [1200, 1100, 100],
    );
    assert.match(run.validation.how, /seeded shuffle .* never trained on/);
    assert.equal(run.train_images, 1100);
    assert.equal(run.images_seen, 1100);
    assert.ok(run.test_accuracy_with_flips >= 0 && run.test_accuracy > 0.1);
    const [epoch] = json("history.json");
    assert.equal(epoch.images_seen, 1100);
    // The test loss is the test set's, not the held-out images'.
    assert.ok(Number.isFinite(run.metrics.test_loss));
    assert.notEqual(run.metrics.test_loss, epoch.val_loss);
    assert.ok(epoch.wall_seconds >= epoch.seconds);
    // The model zip's metadata carries the same recipe.
    const { model, metadata } = await loadModelZip(join(abs, "model.zip"));
    model.dispose();
    assert.deepEqual(metadata.recipe, run.recipe);
  } finally {
    await Deno.remove(abs, { recursive: true }).catch(() => {});
  }
});

Deno.test("bench prints its JSON: rates, threads, top kernels without wrappers, the speed-up over the starting point", async () => {
  const out = await task("bench", "--windows", "1", "--seconds", "1");
  assert.equal(out.code, 0, out.stderr.join("\n"));
  const r = JSON.parse(out.stdout);
  const { threads } = await initWasmBackend();
  assert.equal(r.threads, threads);
  assert.equal(r.simd, true);
  for (
    const m of [r.training.batch32, r.training.batch128, r.inference.batch256]
  ) {
    assert.equal(m.windows.length, 1);
    assert.ok(m.median > 0 && m.min <= m.median && m.median <= m.max);
  }
  const names = r.top_kernels_training_batch32.map(
    (k: { kernel: string }) => k.kernel,
  );
  assert.equal(names.length, 10);
  assert.ok(names.includes("Conv2DBackpropFilter"), names.join());
  assert.ok(
    names.every((n: string) => !n.endsWith("__op") && n !== "unnamed scope"),
    names.join(),
  );
  // The project's kernels are some 25× the starting point's; 5× is safe.
  assert.ok(r.baseline_comparison.speedup > 5, String(r.baseline_comparison));
});
