/**
 * `deno task bench`: MiniVGGNet speed on the WASM backend — training
 * images/s at batch 32 and 128, inference images/s at batch 256 — as the
 * median of several timed windows after a warm-up, plus where a training
 * step's time goes (top kernels). Prints JSON. Random inputs: speed does not
 * depend on the data. With `--compare-pytorch`, the three measurements
 * alternate window by window with the same model in PyTorch
 * (`bench/pytorch_minivggnet.py`, same batch sizes and threads) and the JSON
 * adds PyTorch's figures, the ratios ours ÷ PyTorch and the CPU model.
 * `--scaling` adds the speed-up from one thread to all and batch 128's
 * images/s over batch 32's, for PyTorch too when it is compared.
 *
 * @example
 * ```sh
 * deno task bench --windows 5
 * deno task bench --compare-pytorch --windows 5
 * ```
 *
 * @module
 */
import { tf } from "../tf.ts";
import { initWasmBackend, useKernels } from "../backend/mod.ts";
import { simdPool } from "../backend/simd/mod.ts";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { buildMiniVGGNet, MINIVGGNET_PARAMS } from "../model.ts";
import { compileForRecipe } from "../train.ts";
import { SEED_RECIPE } from "../recipes.ts";
import { intFlag, parseFlags, runMain, UsageError } from "./args.ts";
import {
  alternate,
  compareRates,
  type Comparison,
  formatComparisonTable,
  median,
  summarize,
} from "./bench_compare.ts";
import {
  PYTORCH_WORKER,
  PytorchError,
  type PytorchWorker,
  startPytorchWorker,
} from "./pytorch_worker.ts";

export { median };

const HELP = `Benchmark MiniVGGNet on the WASM backend; prints JSON.

Usage: deno task bench [options]

Options:
  --windows N     timed windows per measurement, median reported (default 5)
  --seconds S     minimum length of one window in seconds (default 2)
  --threads N     compute threads for the WASM backend, and for PyTorch with
                  --compare-pytorch (default: all cores, up to 8)
  --compare-pytorch
                  alternate each measurement's windows with the same model in
                  PyTorch (Debian's python3-torch) and print the ratios
  --python PATH   the Python that runs PyTorch (default /usr/bin/python3; the
                  task may run only that one)
  --scaling       also time training at batch 32 and 128 with this project's
                  kernels on one thread and on all, and batch 128 against
                  batch 32 on all threads, alternating windows in this
                  process, and print the speed-ups; with --compare-pytorch,
                  PyTorch's windows take turns with ours and its speed-ups
                  are printed beside ours
  -h, --help      show this help`;

const DEFAULT_PYTHON = "/usr/bin/python3";

interface Measurement {
  batch: number;
  median: number;
  min: number;
  max: number;
  windows: number[];
}

type Step = () => Promise<void> | void;

/** One timed window of ≥ `minSeconds` running `step` (which processes `batch` images); images/s. */
async function timedWindow(
  batch: number,
  minSeconds: number,
  step: Step,
): Promise<number> {
  let images = 0;
  const start = performance.now();
  while (performance.now() - start < minSeconds * 1000) {
    await step();
    images += batch;
  }
  return images / ((performance.now() - start) / 1000);
}

/** Warm-up: operator creation, weight packing, heap growth. */
async function warmUp(step: Step): Promise<void> {
  await step();
  await step();
}

/** Runs `step` (which processes `batch` images) in timed windows after a warm-up. */
async function measure(
  batch: number,
  windows: number,
  minSeconds: number,
  step: Step,
): Promise<Measurement> {
  await warmUp(step);
  const rates: number[] = [];
  for (let w = 0; w < windows; w++) {
    rates.push(await timedWindow(batch, minSeconds, step));
  }
  return { batch, ...summarize(rates) };
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

/** A model and a batch to time: one training or inference step on it, and cleaning up. */
interface Workload {
  step: Step;
  dispose(): void;
}

/** A training step of the seed recipe at `batch`. */
function trainingWorkload(batch: number): Workload {
  const model = buildMiniVGGNet({ seed: 1 });
  compileForRecipe(model, SEED_RECIPE);
  const { x, y } = randomBatch(batch);
  return {
    step: async () => {
      await model.trainOnBatch(x, y);
    },
    dispose: () => {
      tf.dispose([x, y]);
      model.dispose();
    },
  };
}

/** Inference at `batch`, the probabilities read back. */
function inferenceWorkload(batch: number): Workload {
  const model = buildMiniVGGNet({ seed: 1 });
  const { x, y } = randomBatch(batch);
  return {
    step: () => {
      const out = model.predict(x, { batchSize: batch }) as tf.Tensor;
      out.dataSync();
      out.dispose();
    },
    dispose: () => {
      tf.dispose([x, y]);
      model.dispose();
    },
  };
}

async function measureWorkload(
  workload: Workload,
  batch: number,
  windows: number,
  seconds: number,
): Promise<Measurement> {
  try {
    return await measure(batch, windows, seconds, workload.step);
  } finally {
    workload.dispose();
  }
}

/** The three measurements of the bench: what, batch, and our workload. */
const MEASUREMENTS = [
  {
    key: "training_batch32",
    op: "train",
    batch: 32,
    label: "training, batch 32",
  },
  {
    key: "training_batch128",
    op: "train",
    batch: 128,
    label: "training, batch 128",
  },
  {
    key: "inference_batch256",
    op: "infer",
    batch: 256,
    label: "inference, batch 256",
  },
] as const;

function workloadFor(op: "train" | "infer", batch: number): Workload {
  return op === "train" ? trainingWorkload(batch) : inferenceWorkload(batch);
}

/**
 * Each measurement in alternating windows, ours then PyTorch's, after both
 * have warmed up (the worker warms up on its first window of an op and batch).
 */
async function compareWithPytorch(
  worker: PytorchWorker,
  windows: number,
  seconds: number,
  log: (m: string) => void,
): Promise<Record<(typeof MEASUREMENTS)[number]["key"], Comparison>> {
  const out = {} as Record<(typeof MEASUREMENTS)[number]["key"], Comparison>;
  for (const { key, op, batch, label } of MEASUREMENTS) {
    log(
      `${label}, alternating with PyTorch (${windows} windows each of ≥ ${seconds}s)…`,
    );
    const ours = workloadFor(op, batch);
    try {
      await warmUp(ours.step);
      const rates = await alternate(windows, {
        ours: () => timedWindow(batch, seconds, ours.step),
        theirs: () => worker.window(op, batch, seconds),
      });
      out[key] = compareRates(rates.ours, rates.theirs);
    } finally {
      ours.dispose();
    }
  }
  return out;
}

/** Starts the worker and checks it runs the same model on the same threads. */
async function startCheckedWorker(
  python: string,
  threads: number,
): Promise<PytorchWorker> {
  const worker = await startPytorchWorker({ python, threads });
  const { params, threads: theirThreads } = worker.hello;
  if (params !== MINIVGGNET_PARAMS || theirThreads !== threads) {
    await worker.close();
    throw new PytorchError(
      params !== MINIVGGNET_PARAMS
        ? `The PyTorch model (${PYTORCH_WORKER}) has ${params} parameters where ours has ${MINIVGGNET_PARAMS}, so they are not the same model and the bench does not compare them; make its layers match lib/model.ts.`
        : `PyTorch runs on ${theirThreads} threads where ours runs on ${threads}, so the bench does not compare them; choose a count both can use with --threads.`,
    );
  }
  return worker;
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

/** A speed-up of ours and, with `--compare-pytorch`, the same of PyTorch's. */
interface Scaling {
  ours: Comparison;
  pytorch?: Comparison;
}

/**
 * Training at `batch` with the kernel pool on all its threads ("ours") and
 * on the calling thread alone ("theirs"), alternating windows in this
 * process so both see the same machine load: `ratio` is the speed-up of
 * the extra threads. tfjs-wasm's own kernels (a few small ops) keep all
 * threads either way. With a `worker`, PyTorch's windows on all threads
 * and on one take turns with ours, and its speed-up comes too.
 */
async function threadScaling(
  batch: number,
  windows: number,
  seconds: number,
  worker?: PytorchWorker,
): Promise<Scaling> {
  const pool = simdPool(tf.backend() as BackendWasm);
  const workload = trainingWorkload(batch);
  try {
    await warmUp(workload.step);
    const on = (threads: number) => () => {
      pool.activeThreads = threads;
      return timedWindow(batch, seconds, workload.step);
    };
    const all = pool.threads;
    const sides: Record<string, () => Promise<number>> = {
      ours: on(all),
      theirs: on(1),
    };
    if (worker) {
      sides.torchAll = () => worker.window("train", batch, seconds, all);
      sides.torchOne = () => worker.window("train", batch, seconds, 1);
    }
    const rates = await alternate(windows, sides);
    return {
      ours: compareRates(rates.ours, rates.theirs),
      ...(worker
        ? { pytorch: compareRates(rates.torchAll, rates.torchOne) }
        : {}),
    };
  } finally {
    pool.activeThreads = pool.threads;
    workload.dispose();
  }
}

/**
 * Training at batch 128 ("ours") and at batch 32 ("theirs"), all threads,
 * alternating windows in this process so both see the same machine load:
 * `ratio` is how many more images a second batch 128 trains than batch 32.
 * With a `worker`, PyTorch's windows at both batch sizes take turns with
 * ours, and its ratio comes too.
 */
async function batchScaling(
  windows: number,
  seconds: number,
  worker?: PytorchWorker,
): Promise<Scaling> {
  const large = trainingWorkload(128), small = trainingWorkload(32);
  try {
    await warmUp(large.step);
    await warmUp(small.step);
    const sides: Record<string, () => Promise<number>> = {
      ours: () => timedWindow(128, seconds, large.step),
      theirs: () => timedWindow(32, seconds, small.step),
    };
    if (worker) {
      sides.torchLarge = () => worker.window("train", 128, seconds);
      sides.torchSmall = () => worker.window("train", 32, seconds);
    }
    const rates = await alternate(windows, sides);
    return {
      ours: compareRates(rates.ours, rates.theirs),
      ...(worker
        ? { pytorch: compareRates(rates.torchLarge, rates.torchSmall) }
        : {}),
    };
  } finally {
    large.dispose();
    small.dispose();
  }
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
    "compare-pytorch": { type: "boolean" },
    python: { type: "string" },
    scaling: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const windows = intFlag("--windows", values.windows, 1) ?? 5;
  const seconds = intFlag("--seconds", values.seconds, 1) ?? 2;
  const threads = intFlag("--threads", values.threads, 1);
  const compare = values["compare-pytorch"] ?? false;
  if (values.python !== undefined && !compare) {
    throw new UsageError("--python is for --compare-pytorch (see --help).");
  }
  const backend = await initWasmBackend({ threads });
  if (values.scaling && backend.threads < 2) {
    throw new UsageError(
      "--scaling compares one thread with several: run it with --threads 2 or more (or on a machine with more than one core).",
    );
  }
  const worker = compare
    ? await startCheckedWorker(values.python ?? DEFAULT_PYTHON, backend.threads)
    : undefined;
  try {
    await benchmark(backend, values.scaling ?? false, windows, seconds, worker);
  } finally {
    await worker?.close();
  }
}

/** The measurements, the JSON on stdout and the tables on stderr. */
async function benchmark(
  backend: Awaited<ReturnType<typeof initWasmBackend>>,
  withScaling: boolean,
  windows: number,
  seconds: number,
  worker: PytorchWorker | undefined,
): Promise<void> {
  const log = (m: string) => console.error(`bench: ${m}`);
  let pytorch: Awaited<ReturnType<typeof compareWithPytorch>> | undefined;
  let train32: Measurement, train128: Measurement, infer256: Measurement;
  if (worker) {
    pytorch = await compareWithPytorch(worker, windows, seconds, log);
    train32 = { batch: 32, ...pytorch.training_batch32.ours };
    train128 = { batch: 128, ...pytorch.training_batch128.ours };
    infer256 = { batch: 256, ...pytorch.inference_batch256.ours };
  } else {
    log(`training, batch 32 (${windows} windows of ≥ ${seconds}s)…`);
    train32 = await measureWorkload(trainingWorkload(32), 32, windows, seconds);
    log("training, batch 128…");
    train128 = await measureWorkload(
      trainingWorkload(128),
      128,
      windows,
      seconds,
    );
    log("inference, batch 256…");
    infer256 = await measureWorkload(
      inferenceWorkload(256),
      256,
      windows,
      seconds,
    );
  }
  let scaling:
    | Record<"training_batch32" | "training_batch128", Scaling>
    | undefined;
  let batches: Scaling | undefined;
  if (withScaling) {
    const alsoTorch = worker ? ", and the same with PyTorch" : "";
    const s = {} as Record<"training_batch32" | "training_batch128", Scaling>;
    for (const batch of [32, 128] as const) {
      log(
        `training, batch ${batch}, ${backend.threads} threads vs 1${alsoTorch}, alternating windows…`,
      );
      s[`training_batch${batch}`] = await threadScaling(
        batch,
        windows,
        seconds,
        worker,
      );
    }
    scaling = s;
    log(
      `training, batch 128 vs 32, all threads${alsoTorch}, alternating windows…`,
    );
    batches = await batchScaling(windows, seconds, worker);
  }
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
      ...(scaling
        ? {
          thread_scaling: {
            what:
              `training with this project's kernels on ${backend.threads} threads ("ours") vs 1 ("theirs"), same process, alternating windows; ratio = speed-up${
                worker
                  ? `; "pytorch": the same for PyTorch (intra-op threads ${backend.threads} vs 1), its windows taking turns with ours`
                  : ""
              }`,
            training_batch32: scaling.training_batch32.ours,
            training_batch128: scaling.training_batch128.ours,
            ...(worker
              ? {
                pytorch: {
                  training_batch32: scaling.training_batch32.pytorch,
                  training_batch128: scaling.training_batch128.pytorch,
                },
              }
              : {}),
          },
        }
        : {}),
      ...(batches
        ? {
          batch_scaling: {
            what:
              `training at batch 128 ("ours") vs batch 32 ("theirs"), ${backend.threads} threads, same process, alternating windows; ratio = images/s at 128 ÷ images/s at 32${
                worker
                  ? `; "pytorch": the same for PyTorch, its windows taking turns with ours`
                  : ""
              }`,
            training: batches.ours,
            ...(batches.pytorch
              ? { pytorch: { training: batches.pytorch } }
              : {}),
          },
        }
        : {}),
      deno: Deno.version.deno,
      tfjs: tf.version.tfjs,
      ...(worker && pytorch
        ? pytorchSection(worker, pytorch, windows, seconds)
        : {}),
    },
    null,
    2,
  ));
  if (scaling && batches) {
    const rows = (
      named: Record<string, Scaling>,
    ): Record<string, Comparison> =>
      Object.fromEntries(
        Object.entries(named).flatMap(([name, { ours, pytorch }]) =>
          pytorch
            ? [[`${name}, ours`, ours], [`${name}, PyTorch`, pytorch]]
            : [[name, ours]]
        ),
      );
    const torch = worker ? ` and PyTorch ${worker.hello.torch}'s` : "";
    console.error(
      `\nThread scaling, training, ${backend.threads} threads ÷ 1 (this project's kernels${torch}, alternating windows of ≥ ${seconds}s, ${windows} each):\n` +
        formatComparisonTable(
          rows({
            "training, batch 32": scaling.training_batch32,
            "training, batch 128": scaling.training_batch128,
          }),
          "1 thread",
          `${backend.threads} threads`,
        ) +
        `\n\nBatch scaling, training, ${backend.threads} threads, batch 128 ÷ batch 32 per image (alternating windows of ≥ ${seconds}s, ${windows} each):\n` +
        formatComparisonTable(
          rows({ training: batches }),
          "batch 32",
          "batch 128",
        ),
    );
  }
  if (worker && pytorch) {
    console.error(
      `\nMiniVGGNet, ours (tfjs-wasm ${tf.version.tfjs}) vs PyTorch ${worker.hello.torch}, ${backend.threads} threads each, on ${worker.hello.cpu}; alternating windows of ≥ ${seconds}s, ${windows} each:\n` +
        formatComparisonTable({
          "training, batch 32": pytorch.training_batch32,
          "training, batch 128": pytorch.training_batch128,
          "inference, batch 256": pytorch.inference_batch256,
        }),
    );
  }
}

/** The JSON fields `--compare-pytorch` adds: the CPU, PyTorch's figures and the ratios. */
function pytorchSection(
  worker: PytorchWorker,
  c: Awaited<ReturnType<typeof compareWithPytorch>>,
  windows: number,
  seconds: number,
) {
  const { hello } = worker;
  const side = (batch: number, s: Comparison["theirs"]) => ({ batch, ...s });
  const ratio = (batch: number, x: Comparison) => {
    const brief = ({ median, min, max }: Comparison["ours"]) => ({
      median,
      min,
      max,
    });
    return { batch, ...x.ratio, ours: brief(x.ours), pytorch: brief(x.theirs) };
  };
  return {
    cpu: hello.cpu,
    pytorch: {
      torch: hello.torch,
      python: hello.python,
      threads: hello.threads,
      interop_threads: hello.interop_threads,
      params: hello.params,
      malloc: hello.malloc,
      training: {
        batch32: side(32, c.training_batch32.theirs),
        batch128: side(128, c.training_batch128.theirs),
      },
      inference: { batch256: side(256, c.inference_batch256.theirs) },
    },
    ours_vs_pytorch: {
      what:
        `images/s ours ÷ PyTorch's, same model, batch sizes and threads; ${windows} windows of ≥ ${seconds}s each side, alternating ours/PyTorch's; median, min and max of the ratios of adjacent windows, and the ratio of the two medians`,
      training_batch32: ratio(32, c.training_batch32),
      training_batch128: ratio(128, c.training_batch128),
      inference_batch256: ratio(256, c.inference_batch256),
    },
  };
}

if (import.meta.main) {
  await runMain(main, (e) => e instanceof PytorchError);
}
