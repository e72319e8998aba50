/**
 * `deno task bench`: MiniVGGNet speed on the WASM backend — training
 * images/s at batch 32 and 128, inference images/s at batch 256 — as the
 * median of several timed windows after a warm-up, plus where a training
 * step's time goes (top kernels). Prints JSON. Random inputs: speed does not
 * depend on the data.
 *
 * @example
 * ```sh
 * deno task bench --windows 5
 * ```
 *
 * @module
 */
import { tf } from "../tf.ts";
import { initWasmBackend, useKernels } from "../backend/mod.ts";
import { buildMiniVGGNet } from "../model.ts";
import { compileForRecipe } from "../train.ts";
import { SEED_RECIPE } from "../recipes.ts";
import { intFlag, parseFlags, runMain } from "./args.ts";

const HELP = `Benchmark MiniVGGNet on the WASM backend; prints JSON.

Usage: deno task bench [options]

Options:
  --windows N     timed windows per measurement, median reported (default 5)
  --seconds S     minimum length of one window in seconds (default 2)
  --threads N     compute threads for the WASM backend (default: all cores, up to 8)
  -h, --help      show this help`;

/**
 * Median of numbers.
 *
 * @example
 * ```ts
 * import { median } from "./bench.ts";
 * median([3, 1, 2]); // 2
 * ```
 */
export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface Measurement {
  batch: number;
  median: number;
  min: number;
  max: number;
  windows: number[];
}

/** Runs `step` (which processes `batch` images) in timed windows; images/s per window. */
async function measure(
  batch: number,
  windows: number,
  minSeconds: number,
  step: () => Promise<void> | void,
): Promise<Measurement> {
  await step(); // warm-up: operator creation, weight packing, heap growth
  await step();
  const rates: number[] = [];
  for (let w = 0; w < windows; w++) {
    let images = 0;
    const start = performance.now();
    while (performance.now() - start < minSeconds * 1000) {
      await step();
      images += batch;
    }
    rates.push(images / ((performance.now() - start) / 1000));
  }
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    batch,
    median: round(median(rates)),
    min: round(Math.min(...rates)),
    max: round(Math.max(...rates)),
    windows: rates.map(round),
  };
}

function randomBatch(batch: number): { x: tf.Tensor4D; y: tf.Tensor2D } {
  return tf.tidy(() => ({
    x: tf.randomUniform([batch, 28, 28, 1], 0, 1, "float32", 1) as tf.Tensor4D,
    y: tf.oneHot(
      tf.randomUniform([batch], 0, 10, "int32", 2) as tf.Tensor1D,
      10,
    ) as tf.Tensor2D,
  }));
}

async function trainingRate(
  batch: number,
  windows: number,
  seconds: number,
): Promise<Measurement> {
  const model = buildMiniVGGNet({ seed: 1 });
  compileForRecipe(model, SEED_RECIPE);
  const { x, y } = randomBatch(batch);
  const result = await measure(batch, windows, seconds, async () => {
    await model.trainOnBatch(x, y);
  });
  tf.dispose([x, y]);
  model.dispose();
  return result;
}

async function inferenceRate(
  batch: number,
  windows: number,
  seconds: number,
): Promise<Measurement> {
  const model = buildMiniVGGNet({ seed: 1 });
  const { x, y } = randomBatch(batch);
  const result = await measure(batch, windows, seconds, () => {
    const out = model.predict(x, { batchSize: batch }) as tf.Tensor;
    out.dataSync();
    out.dispose();
  });
  tf.dispose([x, y]);
  model.dispose();
  return result;
}

/**
 * Training at `batch` with the baseline kernels (stock tfjs-wasm + naive
 * filter gradient) and with this project's, alternating window by window in
 * this process so both see the same machine load.
 */
async function baselineComparison(
  batch: number,
  windows: number,
  seconds: number,
) {
  const model = buildMiniVGGNet({ seed: 1 });
  compileForRecipe(model, SEED_RECIPE);
  const { x, y } = randomBatch(batch);
  const step = async () => {
    await model.trainOnBatch(x, y);
  };
  const rates = { baseline: [] as number[], project: [] as number[] };
  for (let w = 0; w < windows; w++) {
    for (const set of ["baseline", "project"] as const) {
      useKernels(set);
      rates[set].push((await measure(batch, 1, seconds, step)).median);
    }
  }
  useKernels("project");
  tf.dispose([x, y]);
  model.dispose();
  const b = median(rates.baseline), p = median(rates.project);
  return {
    batch,
    baseline: { median: b, windows: rates.baseline },
    project: { median: p, windows: rates.project },
    speedup: Math.round((p / b) * 100) / 100,
  };
}

/** Share of a training step's kernel time per kernel, largest first. */
async function topKernels(
  batch: number,
  top = 10,
): Promise<{ kernel: string; ms: number; percent: number }[]> {
  const model = buildMiniVGGNet({ seed: 1 });
  compileForRecipe(model, SEED_RECIPE);
  const { x, y } = randomBatch(batch);
  await model.trainOnBatch(x, y);
  const info = await tf.profile(async () => {
    await model.trainOnBatch(x, y);
  });
  const byName = new Map<string, number>();
  for (const k of info.kernels) {
    // Op-level wrappers ("fusedConv2d__op") and custom-gradient ops
    // ("unnamed scope", batch norm's) time the same work as their kernels.
    if (k.name.endsWith("__op") || k.name === "unnamed scope") continue;
    const ms = typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0;
    byName.set(k.name, (byName.get(k.name) ?? 0) + ms);
  }
  const total = [...byName.values()].reduce((a, b) => a + b, 0);
  tf.dispose([x, y]);
  model.dispose();
  return [...byName.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([kernel, ms]) => ({
      kernel,
      ms: Math.round(ms * 10) / 10,
      percent: Math.round((ms / total) * 1000) / 10,
    }));
}

async function main(): Promise<void> {
  const { values } = parseFlags(Deno.args, {
    windows: { type: "string" },
    seconds: { type: "string" },
    threads: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const windows = intFlag("--windows", values.windows, 1) ?? 5;
  const seconds = intFlag("--seconds", values.seconds, 1) ?? 2;
  const threads = intFlag("--threads", values.threads, 1);
  const backend = await initWasmBackend({ threads });
  const log = (m: string) => console.error(`bench: ${m}`);
  log(`training, batch 32 (${windows} windows of ≥ ${seconds}s)…`);
  const train32 = await trainingRate(32, windows, seconds);
  log("training, batch 128…");
  const train128 = await trainingRate(128, windows, seconds);
  log("inference, batch 256…");
  const infer256 = await inferenceRate(256, windows, seconds);
  log("profiling one training step at batch 32…");
  const kernels = await topKernels(32);
  log("baseline vs project kernels, training batch 32, alternating windows…");
  const comparison = await baselineComparison(32, windows, seconds);
  console.log(JSON.stringify(
    {
      model: "MiniVGGNet",
      backend: backend.backend,
      simd: backend.simd,
      threads: backend.threads,
      unit: "images/s",
      training: { batch32: train32, batch128: train128 },
      inference: { batch256: infer256 },
      top_kernels_training_batch32: kernels,
      baseline_comparison: {
        what:
          "stock tfjs-wasm 4.22 kernels + naive filter gradient (the starting point) vs this project's kernels, same process, same threads, alternating windows",
        ...comparison,
      },
      deno: Deno.version.deno,
      tfjs: tf.version.tfjs,
    },
    null,
    2,
  ));
}

if (import.meta.main) {
  await runMain(main);
}
