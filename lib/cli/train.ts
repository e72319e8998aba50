/**
 * `deno task train`: the whole pipeline headless — load and verify
 * Fashion-MNIST, build MiniVGGNet, train it on the WASM-SIMD backend with
 * a recipe (`--recipe seed|fast|best`, default the seed recipe), evaluate
 * on the test set once, and write the output contract.
 *
 * @example
 * ```sh
 * deno task train --epochs 1 --limit 2000 --out out/quick
 * ```
 *
 * @module
 */
import { join } from "node:path";
import { CLASS_NAMES, DataError, loadFashionMnist } from "../data.ts";
import { MINIVGGNET_PARAMS } from "../model.ts";
import { initWasmBackend } from "../backend/mod.ts";
import type { BatchProgress } from "../train.ts";
import { runRecipe } from "../run.ts";
import {
  describeRecipe,
  type Recipe,
  recipeNamed,
  RECIPES,
  SEED_RECIPE,
} from "../recipes.ts";
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
  --recipe NAME     ${
    Object.values(RECIPES).map((r) => `${r.name} (${r.epochs} epochs)`).join(
      ", ",
    )
  }; default seed, the
                    original tutorial's (it validates on the test set; fast
                    and best hold out 5,000 training images instead)
  --epochs N        epochs (default: the recipe's)
  --batch-size N    batch size (default: the recipe's)
  --limit N         train on the first N training images only (test set stays
                    whole; fast and best hold out a twelfth of them)
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
    recipe: { type: "string" },
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
  let recipe: Readonly<Recipe> = SEED_RECIPE;
  if (values.recipe !== undefined) {
    try {
      recipe = recipeNamed(values.recipe);
    } catch (e) {
      throw new UsageError(`--recipe: ${(e as Error).message}`);
    }
  }
  const epochs = intFlag("--epochs", values.epochs, 1) ?? recipe.epochs;
  const batchSize = intFlag("--batch-size", values["batch-size"], 1) ??
    recipe.batchSize;
  recipe = { ...recipe, epochs, batchSize };
  const limit = intFlag("--limit", values.limit, 1);
  if (
    limit !== undefined && recipe.validation.kind === "holdout" && limit < 12
  ) {
    throw new UsageError(
      `--limit ${limit} is too few training images to hold some out for validation; use --limit 12 or more.`,
    );
  }
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
  const printer = progressPrinter();
  const trained = await runRecipe(data, recipe, {
    seed,
    limit,
    onStart: (s) => {
      console.log(
        `data: ${s.train} training images${
          limit ? ` (of the first ${limit})` : ""
        }, validation on ${
          s.holdout
            ? `${s.validation} held-out training images`
            : `the ${s.validation} test images (as the original)`
        }, ${data.test.count} test images (classified once, after training)`,
      );
      console.log(
        `model: MiniVGGNet, ${
          MINIVGGNET_PARAMS.toLocaleString("en-US")
        } parameters`,
      );
      console.log(`recipe: ${describeRecipe(s.recipe)}; seed ${seed}`);
    },
    onBatch: printer.batch,
    onEpoch: (r) => {
      printer.end();
      console.log(formatEpochLine(r, epochs));
    },
  });
  const { model, history, holdout } = trained;
  const run = {
    recipe: trained.recipe,
    seed,
    epochs,
    batch_size: batchSize,
    limit: limit ?? null,
    train_images: trained.train.count,
    validation: holdout ? { kind: "holdout", ...holdout } : {
      kind: "test",
      images: trained.validation.count,
      how:
        "the test set, after every epoch, as the original tutorial does (the seed recipe chooses nothing by it)",
    },
    test_images: data.test.count,
    test_accuracy: trained.testAccuracy,
    test_accuracy_with_flips: trained.testAccuracyWithFlips,
    images_seen: history.at(-1)?.images_seen ?? 0,
    data_source: data.source,
    backend,
    train_seconds: trained.seconds,
    total_seconds: (performance.now() - started) / 1000,
    peak_rss_bytes: peakRssBytes(),
    finished: new Date().toISOString(),
  };
  const { report } = await writeRunOutputs(outDir, {
    model,
    history,
    test: data.test,
    predictions: trained.predictions,
    classNames: CLASS_NAMES,
    run,
    seed,
  });
  model.dispose();
  console.log(
    `test accuracy ${(report.accuracy * 100).toFixed(2)}% (${
      (trained.testAccuracyWithFlips * 100).toFixed(2)
    }% with flipped copies averaged in) · ${
      formatDuration((performance.now() - started) / 1000)
    } in all · outputs in ${outDir}/ (${OUTPUT_FILES.join(", ")})`,
  );
}

if (import.meta.main) {
  await runMain(main, (e) => e instanceof DataError);
}
