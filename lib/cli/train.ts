/**
 * `deno task train`: the whole pipeline headless — load and verify
 * Fashion-MNIST, build MiniVGGNet, train it on the WASM-SIMD backend with
 * the seed recipe, evaluate on the test set, and write the output contract.
 *
 * @example
 * ```sh
 * deno task train --epochs 1 --limit 2000 --out out/quick
 * ```
 *
 * @module
 */
import { join } from "node:path";
import {
  CLASS_NAMES,
  DataError,
  loadFashionMnist,
  takeFirst,
} from "../data.ts";
import { buildMiniVGGNet } from "../model.ts";
import { initWasmBackend } from "../backend/mod.ts";
import { type BatchProgress, SEED_RECIPE, trainModel } from "../train.ts";
import { predictSplit } from "../evaluate.ts";
import { OUTPUT_FILES, writeRunOutputs } from "../outputs.ts";
import {
  formatDuration,
  formatEpochLine,
  formatProgressBar,
} from "../progress.ts";
import { intFlag, parseFlags, runMain, UsageError } from "./args.ts";

const HELP =
  `Train MiniVGGNet on Fashion-MNIST on the WASM-SIMD backend (seed recipe by default).

Usage: deno task train [options]

Options:
  --epochs N        epochs (default ${SEED_RECIPE.epochs})
  --batch-size N    batch size (default ${SEED_RECIPE.batchSize})
  --limit N         train on the first N training images only (test set stays whole)
  --data-dir DIR    read the four Fashion-MNIST files from DIR only
  --out DIR         output folder (default out/run-<date>-<time>; must be under out/)
  --seed N          seed for weights, dropout, shuffling and the montage (default 42)
  --threads N       compute threads for the WASM backend (default: all cores, up to 8)
  --no-download     never try the official mirrors
  -h, --help        show this help

Writes to the output folder: ${OUTPUT_FILES.join(", ")}.`;

function defaultOutDir(): string {
  const stamp = new Date().toISOString().slice(0, 19).replace(/:/g, "-")
    .replace("T", "-");
  return join("out", `run-${stamp}`);
}

/** Prints progress to stderr: a bar updated in place on a terminal, sparse lines otherwise. */
function progressPrinter(): {
  batch: (p: BatchProgress) => void;
  end: () => void;
} {
  const tty = Deno.stderr.isTerminal();
  const encoder = new TextEncoder();
  let lastDecile = -1;
  let lastDraw = 0;
  return {
    batch(p) {
      if (tty) {
        const now = performance.now();
        if (now - lastDraw < 100 && p.batch !== p.batches) return;
        lastDraw = now;
        Deno.stderr.writeSync(
          encoder.encode(`\r${formatProgressBar(p)}\x1b[K`),
        );
      } else {
        const decile = Math.floor((p.batch / p.batches) * 10);
        if (decile !== lastDecile && decile > 0) {
          lastDecile = decile;
          console.error(formatProgressBar(p));
        }
      }
    },
    end() {
      lastDecile = -1;
      if (tty) Deno.stderr.writeSync(encoder.encode("\r\x1b[K"));
    },
  };
}

/** Peak resident memory of this process (Linux VmHWM), else current RSS. */
function peakRssBytes(): number {
  try {
    const m = Deno.readTextFileSync("/proc/self/status").match(
      /VmHWM:\s+(\d+) kB/,
    );
    if (m) return Number(m[1]) * 1024;
  } catch { /* not Linux: fall back */ }
  return Deno.memoryUsage().rss;
}

async function main(): Promise<void> {
  const { values } = parseFlags(Deno.args, {
    epochs: { type: "string" },
    "batch-size": { type: "string" },
    limit: { type: "string" },
    "data-dir": { type: "string" },
    out: { type: "string" },
    seed: { type: "string" },
    threads: { type: "string" },
    "no-download": { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const epochs = intFlag("--epochs", values.epochs, 1) ?? SEED_RECIPE.epochs;
  const batchSize = intFlag("--batch-size", values["batch-size"], 1) ??
    SEED_RECIPE.batchSize;
  const limit = intFlag("--limit", values.limit, 1);
  const seed = intFlag("--seed", values.seed, 0) ?? 42;
  const threads = intFlag("--threads", values.threads, 1);
  const outDir = values.out ?? defaultOutDir();
  if (values.out === "") throw new UsageError("--out needs a folder name.");

  const canWrite = await Deno.permissions.query({
    name: "write",
    path: outDir,
  });
  if (canWrite.state !== "granted") {
    throw new UsageError(
      `cannot write to ${outDir}: deno task train may write only under out/; choose --out out/NAME.`,
    );
  }

  const started = performance.now();
  const backend = await initWasmBackend({ threads });
  console.log(
    `backend: ${backend.backend}, SIMD ${
      backend.simd ? "on" : "off"
    }, ${backend.threads} thread(s)`,
  );

  const data = await loadFashionMnist({
    dataDir: values["data-dir"],
    download: !values["no-download"],
    onProgress: (m) => console.log(m),
  });
  const train = limit === undefined ? data.train : takeFirst(data.train, limit);
  console.log(
    `data: ${train.count} training images${
      limit ? ` (first ${train.count})` : ""
    }, ${data.test.count} test images, verified`,
  );

  const model = buildMiniVGGNet({ seed });
  console.log(
    `model: MiniVGGNet, ${
      model.countParams().toLocaleString("en-US")
    } parameters`,
  );
  console.log(
    `recipe: ${SEED_RECIPE.name}; epochs ${epochs}, batch ${batchSize}, lr ${SEED_RECIPE.learningRate} decay ${SEED_RECIPE.decay}/batch, momentum ${SEED_RECIPE.momentum}, seed ${seed}`,
  );

  const printer = progressPrinter();
  const { history, seconds } = await trainModel(model, train, data.test, {
    epochs,
    batchSize,
    seed,
    onBatch: printer.batch,
    onEpoch: (r) => {
      printer.end();
      console.log(formatEpochLine(r, epochs));
    },
  });

  console.log("evaluating on the test set…");
  const predictions = predictSplit(model, data.test);
  const run = {
    recipe: { ...SEED_RECIPE, epochs, batchSize },
    seed,
    epochs,
    batch_size: batchSize,
    limit: limit ?? null,
    train_images: train.count,
    test_images: data.test.count,
    data_source: data.source,
    backend,
    train_seconds: seconds,
    total_seconds: (performance.now() - started) / 1000,
    peak_rss_bytes: peakRssBytes(),
    finished: new Date().toISOString(),
  };
  const { report } = await writeRunOutputs(outDir, {
    model,
    history,
    test: data.test,
    predictions,
    classNames: CLASS_NAMES,
    run,
    seed,
  });
  model.dispose();
  console.log(
    `test accuracy ${(report.accuracy * 100).toFixed(2)}% · ${
      formatDuration((performance.now() - started) / 1000)
    } in all · outputs in ${outDir}/ (${OUTPUT_FILES.join(", ")})`,
  );
}

if (import.meta.main) {
  await runMain(main, (e) => e instanceof DataError);
}
