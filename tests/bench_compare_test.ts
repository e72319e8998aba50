/**
 * `deno task bench --compare-pytorch` without PyTorch: the ratio and
 * alternation logic with hand-computed numbers, and the bench end to end
 * against a fake worker (tests/fixtures/fake_pytorch.py) and a Python that
 * cannot import torch.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  alternate,
  compareRates,
  formatComparisonTable,
  median,
} from "../lib/cli/bench_compare.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const FAKE = join(ROOT, "tests/fixtures/fake_pytorch.py");
const NO_TORCH = join(ROOT, "tests/fixtures/python_without_torch.py");
const NO_PYTHON = "/nonexistent/python3";

Deno.test("median of an odd and an even count", () => {
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.throws(() => median([]), RangeError);
});

Deno.test("compareRates: each side's median/min/max and ours ÷ theirs over adjacent windows", () => {
  // Pairs: 600/300 = 2, 450/300 = 1.5, 700/280 = 2.5, 500/250 = 2 → median 2.
  // Medians: ours (500 + 600) / 2 = 550, theirs (280 + 300) / 2 = 290; 550/290 = 1.897.
  const c = compareRates([600, 450, 700, 500], [300, 300, 280, 250]);
  assert.deepEqual(c.ours, {
    median: 550,
    min: 450,
    max: 700,
    windows: [600, 450, 700, 500],
  });
  assert.deepEqual(c.theirs, {
    median: 290,
    min: 250,
    max: 300,
    windows: [300, 300, 280, 250],
  });
  assert.deepEqual(c.ratio, { median: 2, min: 1.5, max: 2.5, of_medians: 1.9 });
  // Odd count; the pairs' median (1/3 → 0.33) differs from the medians' ratio.
  const d = compareRates([10, 1, 3], [30, 1, 1]);
  assert.deepEqual(d.ratio, { median: 1, min: 0.33, max: 3, of_medians: 3 });
  assert.equal(compareRates([123.456], [100]).ours.median, 123.5);
});

Deno.test("compareRates refuses sides with different numbers of windows", () => {
  assert.throws(() => compareRates([1, 2], [1]), /same number of windows/);
  assert.throws(() => compareRates([], []), /same number of windows/);
});

Deno.test("alternate runs ours, theirs, ours, theirs…, each window after the previous one ends", async () => {
  const events: string[] = [];
  let o = 0, t = 0;
  const side = (name: string, next: () => number) => async () => {
    events.push(`${name} starts`);
    await new Promise((r) => setTimeout(r, 5));
    events.push(`${name} ends`);
    return next();
  };
  const rates = await alternate(3, {
    ours: side("ours", () => ++o),
    theirs: side("theirs", () => (++t) * 10),
  });
  assert.deepEqual(rates, { ours: [1, 2, 3], theirs: [10, 20, 30] });
  assert.deepEqual(
    events,
    Array.from({ length: 3 }, () => [
      "ours starts",
      "ours ends",
      "theirs starts",
      "theirs ends",
    ]).flat(),
  );
});

Deno.test("formatComparisonTable: one row per measurement, medians, ranges and the ratio", () => {
  const table = formatComparisonTable({
    "training, batch 32": compareRates([600, 450, 700, 500], [
      300,
      300,
      280,
      250,
    ]),
  });
  const [head, row] = table.split("\n");
  assert.match(head, /ours\s+PyTorch\s+ours ÷ PyTorch$/);
  assert.match(
    row,
    /^training, batch 32\s+550\.0 \(450\.0–700\.0\)\s+290\.0 \(250\.0–300\.0\)\s+2\.00× \(1\.50–2\.50\)$/,
  );
});

/** Runs the bench script with the task's permissions (and `extraPermissions`). */
async function runBench(
  args: string[],
  env: Record<string, string> = {},
  extraPermissions: string[] = [],
) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read=.",
      ...extraPermissions,
      "--allow-env=DEBUG",
      "lib/cli/bench.ts",
      ...args,
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...env },
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return {
    code: out.code,
    stdout: decode(out.stdout),
    stderr: decode(out.stderr).split("\n").filter((l) => l !== ""),
  };
}

/** The bench with `--compare-pytorch`, allowed to run `python` too. */
function bench(
  python: string,
  args: string[],
  env: Record<string, string> = {},
) {
  return runBench(
    ["--compare-pytorch", "--python", python, ...args],
    env,
    [`--allow-run=${python}`],
  );
}

function assertOneSentence(
  r: { code: number; stdout: string; stderr: string[] },
  pattern: RegExp,
) {
  assert.equal(r.code, 1, r.stderr.join("\n"));
  assert.equal(r.stdout, "");
  const errors = r.stderr.filter((l) => !l.startsWith("bench: "));
  assert.equal(errors.length, 1, r.stderr.join("\n"));
  assert.match(errors[0], /^error: /);
  assert.match(errors[0], pattern);
  assert.doesNotMatch(errors[0], /\s+at\s+\S+:\d+/);
}

Deno.test("bench --compare-pytorch alternates windows with the worker and prints its figures and the ratios", async () => {
  const dir = await Deno.makeTempDir();
  const log = join(dir, "requests.jsonl");
  try {
    const r = await bench(FAKE, ["--windows", "2", "--seconds", "1"], {
      FAKE_PYTORCH_LOG: log,
    });
    assert.equal(r.code, 0, r.stderr.join("\n"));
    const requests = (await Deno.readTextFile(log)).trim().split("\n").map((
      l,
    ) => JSON.parse(l));
    assert.deepEqual(
      requests.map((q) => q.op === "quit" ? "quit" : `${q.op} ${q.batch}`),
      [
        "train 32",
        "train 32",
        "train 128",
        "train 128",
        "infer 256",
        "infer 256",
        "quit",
      ],
    );
    // Ours ran a window of ≥ 1 s before each of PyTorch's windows.
    for (const q of requests.slice(0, -1)) {
      assert.equal(q.seconds, 1);
      assert.ok(q.gap >= 1, JSON.stringify(q));
    }
    const j = JSON.parse(r.stdout);
    assert.equal(j.cpu, "Fake CPU 9000");
    assert.equal(j.pytorch.torch, "0.0-fake");
    assert.equal(j.pytorch.params, 1679082);
    assert.equal(j.pytorch.threads, j.threads);
    assert.deepEqual(j.pytorch.training.batch32, {
      batch: 32,
      median: 75,
      min: 50,
      max: 100,
      windows: [100, 50],
    });
    assert.deepEqual(j.pytorch.training.batch128.windows, [200, 400]);
    assert.deepEqual(j.pytorch.inference.batch256.windows, [1000, 800]);
    // Ours: two windows each, in the fields plain `deno task bench` prints.
    const ours = j.training.batch32.windows;
    assert.equal(ours.length, 2);
    assert.equal(j.inference.batch256.windows.length, 2);
    // Ratios of adjacent windows: ours[0] ÷ 100 and ours[1] ÷ 50.
    const t32 = j.ours_vs_pytorch.training_batch32;
    const pairs = [ours[0] / 100, ours[1] / 50];
    assert.ok(Math.abs(t32.min - Math.min(...pairs)) < 0.011, String(pairs));
    assert.ok(Math.abs(t32.max - Math.max(...pairs)) < 0.011, String(pairs));
    assert.ok(Math.abs(t32.median - (pairs[0] + pairs[1]) / 2) < 0.011);
    assert.ok(
      Math.abs(t32.of_medians - (ours[0] + ours[1]) / 2 / 75) < 0.011,
    );
    assert.deepEqual(t32.pytorch, { median: 75, min: 50, max: 100 });
    assert.equal(t32.ours.median, j.training.batch32.median);
    // Today's fields are still there.
    assert.ok(j.baseline_comparison.speedup > 0);
    assert.equal(j.top_kernels_training_batch32.length, 10);
    // The table on stderr names the CPU and has a row per measurement.
    const text = r.stderr.join("\n");
    assert.match(
      text,
      /vs PyTorch 0\.0-fake, \d+ threads each, on Fake CPU 9000/,
    );
    assert.match(
      text,
      /training, batch 32\s+[\d.]+ \([\d.]+–[\d.]+\)\s+75\.0 \(50\.0–100\.0\)\s+[\d.]+× /,
    );
    assert.match(text, /inference, batch 256\s+.*900\.0 \(800\.0–1000\.0\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** `--scaling` on two threads, two short windows per measurement. */
const SCALING = [
  "--scaling",
  "--threads",
  "2",
  "--windows",
  "2",
  "--seconds",
  "1",
];

Deno.test("bench --scaling times training on all threads and on one, and batch 128 against 32, alternating, and prints the speed-ups", async () => {
  const r = await runBench(SCALING);
  const stderr = r.stderr.join("\n");
  if ((navigator.hardwareConcurrency ?? 1) < 2) {
    assert.equal(r.code, 1);
    assert.match(stderr, /--scaling compares one thread with several/);
    return;
  }
  assert.equal(r.code, 0, stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.threads, 2);
  for (const key of ["training_batch32", "training_batch128"]) {
    const c = j.thread_scaling[key];
    assert.equal(c.ours.windows.length, 2, key);
    assert.equal(c.theirs.windows.length, 2, key);
    assert.ok(c.ratio.median > 0 && c.ratio.min <= c.ratio.max, key);
  }
  const b = j.batch_scaling.training;
  assert.equal(b.ours.windows.length, 2);
  assert.equal(b.theirs.windows.length, 2);
  assert.ok(b.ratio.median > 0 && b.ratio.min <= b.ratio.max);
  assert.match(stderr, /2 threads ÷ 1 thread/);
  assert.match(stderr, /training, batch 128\s+[\d.]+ \([\d.]+–[\d.]+\)/);
  assert.match(stderr, /batch 128 ÷ batch 32\n/);
});

Deno.test("bench --compare-pytorch refuses a PyTorch model with another parameter count", async () => {
  const r = await bench(FAKE, ["--windows", "1", "--seconds", "1"], {
    FAKE_PYTORCH_MODE: "params",
  });
  assertOneSentence(
    r,
    /has 1679081 parameters where ours has 1679082, so they are not the same model/,
  );
});

Deno.test("bench --compare-pytorch: a worker that dies says so in one sentence with its last stderr line", async () => {
  const r = await bench(FAKE, ["--windows", "1", "--seconds", "1"], {
    FAKE_PYTORCH_MODE: "die",
  });
  assertOneSentence(
    r,
    /stopped during training at batch 32 \(exit code 1\); its last message: RuntimeError: fake out of memory\.$/,
  );
});

Deno.test("bench --compare-pytorch without torch or without Python: one sentence saying how to install it", async () => {
  for (
    const [python, why] of [
      [NO_TORCH, /cannot import torch \(import of torch halted/],
      [NO_PYTHON, /there is no Python at \/nonexistent\/python3/],
    ] as const
  ) {
    const r = await bench(python, ["--windows", "1", "--seconds", "1"]);
    assertOneSentence(r, /^error: --compare-pytorch needs Debian's PyTorch, /);
    assertOneSentence(r, why);
    assertOneSentence(r, /install it with `apt-get install python3-torch`/);
  }
});

Deno.test("bench --python without --compare-pytorch is a usage error", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read=.",
      "--allow-env=DEBUG",
      "lib/cli/bench.ts",
      "--python",
      FAKE,
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 2);
  assert.equal(
    new TextDecoder().decode(out.stderr).trim(),
    "error: --python is for --compare-pytorch (see --help).",
  );
});

Deno.test("bench --scaling --compare-pytorch measures PyTorch's speed-ups beside ours, its windows taking turns with ours", async () => {
  if ((navigator.hardwareConcurrency ?? 1) < 2) return; // --scaling needs 2 threads
  const dir = await Deno.makeTempDir();
  const log = join(dir, "requests.jsonl");
  try {
    const r = await bench(FAKE, SCALING, { FAKE_PYTORCH_LOG: log });
    const stderr = r.stderr.join("\n");
    assert.equal(r.code, 0, stderr);
    const requests = (await Deno.readTextFile(log)).trim().split("\n").map((
      l,
    ) => JSON.parse(l));
    const asked = (q: { op: string; batch?: number; threads?: number }) =>
      q.op === "quit"
        ? "quit"
        : `${q.op} ${q.batch}${q.threads ? ` on ${q.threads}` : ""}`;
    // After the comparison's six windows: per thread-scaling round all
    // threads then one, per batch-scaling round 128 then 32; ours ran a
    // window (≥ 1 s) between each round's PyTorch pairs.
    assert.deepEqual(requests.slice(6).map(asked), [
      "train 32 on 2",
      "train 32 on 1",
      "train 32 on 2",
      "train 32 on 1",
      "train 128 on 2",
      "train 128 on 1",
      "train 128 on 2",
      "train 128 on 1",
      "train 128",
      "train 32",
      "train 128",
      "train 32",
      "quit",
    ]);
    for (const i of [6, 8, 10, 12, 14, 16]) {
      assert.ok(requests[i].gap >= 1, JSON.stringify(requests[i]));
    }
    const j = JSON.parse(r.stdout);
    // The fake runs at half speed on one thread: a speed-up of exactly 2.
    const t = j.thread_scaling.pytorch.training_batch32;
    assert.deepEqual(t.ours.windows, [100, 50]);
    assert.deepEqual(t.theirs.windows, [50, 25]);
    assert.deepEqual(t.ratio, { median: 2, min: 2, max: 2, of_medians: 2 });
    assert.deepEqual(
      j.thread_scaling.pytorch.training_batch128.theirs.windows,
      [100, 200],
    );
    // Ours is still where it was.
    assert.equal(j.thread_scaling.training_batch32.ours.windows.length, 2);
    // Batch scaling: the fake's 128 windows over its 32 windows.
    const b = j.batch_scaling.pytorch.training;
    assert.deepEqual(b.ours.windows, [200, 400]);
    assert.deepEqual(b.theirs.windows, [100, 50]);
    assert.deepEqual(b.ratio, { median: 5, min: 2, max: 8, of_medians: 4 });
    assert.equal(j.batch_scaling.training.ours.windows.length, 2);
    assert.match(stderr, /training, batch 128, ours\s+[\d.]+ \(/);
    assert.match(
      stderr,
      /training, batch 32, PyTorch\s+75\.0 \(50\.0–100\.0\)\s+37\.5 \(25\.0–50\.0\)\s+2\.00× \(2\.00–2\.00\)/,
    );
    assert.match(stderr, /training, PyTorch\s+300\.0 \(200\.0–400\.0\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bench --scaling --compare-pytorch: a worker that ignores a window's thread count is refused in one sentence", async () => {
  if ((navigator.hardwareConcurrency ?? 1) < 2) return;
  const r = await bench(FAKE, [
    "--scaling",
    "--threads",
    "2",
    "--windows",
    "1",
    "--seconds",
    "1",
  ], { FAKE_PYTORCH_MODE: "stuck" });
  assertOneSentence(
    r,
    /ran on 2 threads during training at batch 32 on 1 thread; it is an older script/,
  );
});
