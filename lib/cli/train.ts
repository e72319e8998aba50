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
  CheckpointError,
  loadCheckpoint,
  saveCheckpoint,
  type TrainCheckpoint,
} from "../checkpoint.ts";
import { openRunFolder, OutDirError } from "../outdir.ts";
import { describeStop } from "../train.ts";
import {
  formatDuration,
  formatEpochLine,
  formatProgressBar,
} from "../progress.ts";
import { intFlag, parseFlags, runMain, UsageError } from "./args.ts";
import { pressCounter } from "./ctrl_c.ts";

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
  --resume DIR      continue the unfinished run of --out DIR from its last
                    checkpoint (same recipe, seed and images; the same
                    --threads gives the very weights of an uninterrupted run)
  -h, --help        show this help

Writes to the output folder: ${OUTPUT_FILES.join(", ")}.
Until the run is finished it works in DIR.partial/ (a checkpoint after every
epoch) and leaves an earlier run in DIR untouched; Ctrl-C saves a checkpoint
and the outputs so far there (press it twice to quit at once).`;

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

/** Settings a run records in its checkpoints, to resume with them. */
interface RunSettings {
  recipe: string;
  seed: number;
  limit: number | null;
  threads: number;
  dataDir: string | null;
}

/** Flags that --resume takes from the checkpoint instead. */
const FIXED_ON_RESUME = [
  "recipe",
  "epochs",
  "batch-size",
  "limit",
  "seed",
  "out",
] as const;

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
    resume: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const resuming = values.resume !== undefined;
  if (resuming) {
    const fixed = FIXED_ON_RESUME.filter((f) => values[f] !== undefined);
    if (fixed.length > 0) {
      throw new UsageError(
        `--resume continues a run with the settings it was started with; drop ${
          fixed.map((f) => `--${f}`).join(", ")
        }.`,
      );
    }
    if (values.resume === "") throw new UsageError("--resume needs a folder.");
  }
  let recipe: Readonly<Recipe> = SEED_RECIPE;
  if (values.recipe !== undefined) {
    try {
      recipe = recipeNamed(values.recipe);
    } catch (e) {
      throw new UsageError(`--recipe: ${(e as Error).message}`);
    }
  }
  const epochsFlag = intFlag("--epochs", values.epochs, 1);
  const batchFlag = intFlag("--batch-size", values["batch-size"], 1);
  recipe = {
    ...recipe,
    epochs: epochsFlag ?? recipe.epochs,
    batchSize: batchFlag ?? recipe.batchSize,
  };
  let limit = intFlag("--limit", values.limit, 1);
  if (
    limit !== undefined && recipe.validation.kind === "holdout" && limit < 12
  ) {
    throw new UsageError(
      `--limit ${limit} is too few training images to hold some out for validation; use --limit 12 or more.`,
    );
  }
  let seed = intFlag("--seed", values.seed, 0) ?? 42;
  const threadsFlag = intFlag("--threads", values.threads, 1);
  if (values.out === "") throw new UsageError("--out needs a folder name.");
  const outDir = values.resume ?? values.out ?? defaultOutDir();

  const canWrite = await Deno.permissions.query({
    name: "write",
    path: outDir,
  });
  if (canWrite.state !== "granted") {
    throw new UsageError(
      `cannot write to ${outDir}: deno task train may write only under out/; choose --out out/NAME.`,
    );
  }
  // The folder is checked and locked before anything long starts.
  const folder = await openRunFolder(outDir, { resume: resuming });
  const sigint = new AbortController();
  const press = pressCounter();
  const onSigint = () => {
    const n = press();
    if (n === null) return; // the same press, delivered twice
    if (n === 1) {
      console.error(
        "\nStopping after this batch to save a checkpoint and the outputs so far (Ctrl-C again quits at once)…",
      );
      sigint.abort();
      return;
    }
    folder.releaseSync();
    let saved = false;
    try {
      saved = Deno.statSync(folder.checkpoint).isFile;
    } catch { /* none yet */ }
    console.error(
      saved
        ? `\nQuit at once; the last complete checkpoint in ${folder.staging}/ is intact (deno task train --resume ${outDir}).`
        : "\nQuit at once; no checkpoint had been written yet, so there is nothing to resume.",
    );
    Deno.exit(130);
  };
  let listening = false;
  try {
    let checkpoint: TrainCheckpoint | null = null;
    if (resuming) {
      checkpoint = await loadCheckpoint(folder.checkpoint);
      const saved = checkpoint.meta as Partial<RunSettings>;
      recipe = checkpoint.recipe;
      seed = checkpoint.seed;
      limit = saved.limit ?? undefined;
      console.log(
        `resuming ${outDir}: ${checkpoint.epochsDone} of ${recipe.epochs} epochs done${
          checkpoint.batchesDone > 0
            ? ` and ${checkpoint.batchesDone} batches of the next`
            : ""
        }, ${formatDuration(checkpoint.elapsedSeconds)} trained so far`,
      );
    }
    const saved = (checkpoint?.meta ?? {}) as Partial<RunSettings>;
    const threads = threadsFlag ?? saved.threads;
    const started = performance.now();
    const backend = await initWasmBackend({ threads });
    console.log(
      `backend: ${backend.backend}, SIMD ${
        backend.simd ? "on" : "off"
      }, ${backend.threads} thread(s)`,
    );
    if (saved.threads !== undefined && saved.threads !== backend.threads) {
      console.warn(
        `warning: the run was started with ${saved.threads} thread(s), it goes on with ${backend.threads}; the result is as good but not bit-identical to an uninterrupted run (--threads ${saved.threads} to match).`,
      );
    }

    const dataDir = values["data-dir"] ?? saved.dataDir ?? undefined;
    const data = await loadFashionMnist({
      dataDir,
      download: !values["no-download"],
      onProgress: (m) => console.log(m),
    });
    const settings: RunSettings = {
      recipe: recipe.name,
      seed,
      limit: limit ?? null,
      threads: backend.threads,
      dataDir: dataDir ?? null,
    };
    const printer = progressPrinter();
    Deno.addSignalListener("SIGINT", onSigint);
    listening = true;
    const trained = await runRecipe(data, recipe, {
      seed,
      limit,
      signal: sigint.signal,
      stopOnInterrupt: false,
      resume: checkpoint ?? undefined,
      checkpointMeta: { ...settings },
      onCheckpoint: (c) => saveCheckpoint(folder.checkpoint, c),
      onStart: (s) => {
        console.log(
          `data: ${s.train} training images${
            limit === undefined
              ? ""
              : limit < data.train.count
              ? ` (of the first ${limit})`
              : ` (of all ${data.train.count}: --limit ${limit} is more than there are)`
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
        console.log(formatEpochLine(r, recipe.epochs));
      },
      onTest: ({ images }) => {
        printer.end();
        console.log(
          `test: classifying the ${
            images.toLocaleString("en-US")
          } test images, as they are and flipped…`,
        );
      },
    });
    printer.end();
    const { model, history, holdout } = trained;
    // Ctrl-C reaches training as an aborted signal: say it was Ctrl-C.
    const stopped = trained.stopped && sigint.signal.aborted
      ? { ...trained.stopped, reason: "interrupt" as const }
      : trained.stopped;
    const trainSeconds = (checkpoint?.elapsedSeconds ?? 0) + trained.seconds;
    const run = {
      status: stopped === null ? "complete" : "partial",
      stopped: stopped === null ? null : {
        reason: stopped.reason,
        epoch: stopped.epoch,
        batch: stopped.batch,
        batches: stopped.batches,
        epochs_done: stopped.completedEpochs,
        resume: `deno task train --resume ${outDir}`,
      },
      resumed_from: checkpoint === null ? null : {
        epochs_done: checkpoint.epochsDone,
        batches: checkpoint.batchesDone,
      },
      recipe: trained.recipe,
      seed,
      epochs: recipe.epochs,
      batch_size: recipe.batchSize,
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
      train_seconds: trainSeconds,
      total_seconds: (performance.now() - started) / 1000,
      peak_rss_bytes: peakRssBytes(),
      finished: new Date().toISOString(),
    };
    const { report } = await writeRunOutputs(folder.staging, {
      model,
      history,
      test: data.test,
      predictions: trained.predictions,
      classNames: CLASS_NAMES,
      run,
      seed,
    });
    model.dispose();
    const accuracy = `test accuracy ${(report.accuracy * 100).toFixed(2)}% (${
      (trained.testAccuracyWithFlips * 100).toFixed(2)
    }% with flipped copies averaged in)`;
    if (stopped !== null) {
      console.log(
        `${
          describeStop(stopped)
        } Saved a checkpoint and the outputs of the model as it stands (${accuracy}) in ${folder.staging}/; continue with: deno task train --resume ${outDir}`,
      );
      Deno.removeSignalListener("SIGINT", onSigint);
      listening = false;
      folder.releaseSync();
      Deno.exit(130);
    }
    await folder.commit();
    console.log(
      `${accuracy} · ${
        formatDuration((performance.now() - started) / 1000)
      } in all · outputs in ${outDir}/ (${OUTPUT_FILES.join(", ")})`,
    );
  } finally {
    if (listening) Deno.removeSignalListener("SIGINT", onSigint);
    await folder.release();
  }
}

if (import.meta.main) {
  await runMain(
    main,
    (e) =>
      e instanceof DataError || e instanceof OutDirError ||
      e instanceof CheckpointError,
  );
}
