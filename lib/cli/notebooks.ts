/**
 * `deno task notebooks`: executes every notebook top to bottom with the
 * Deno kernel, headless (Jupyter's `nbconvert`), and writes the executed
 * `.ipynb` and a rendered `.html` (offline: nothing fetched) of each to
 * `out/notebooks/`. The kernel spec is installed into the project-local
 * Jupyter folder `out/jupyter/`, not the user's.
 *
 * @example
 * ```sh
 * FMNIST_LIMIT=2000 deno task notebooks            # quick run of all five
 * deno task notebooks --limit 2000 03-train 04-evaluate
 * ```
 *
 * @module
 */
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { NOTEBOOK_DIR, NOTEBOOKS } from "./notebook_tools.ts";
import {
  describeSettings,
  type NotebookSettings,
  notebookSettings,
} from "../settings.ts";
import { formatDuration } from "../progress.ts";
import { plotlyPageScript } from "../render/html.ts";
import { plotlyJsSource } from "../render/plotly_source.ts";
import { pathKind, writeFileAtomic } from "../files.ts";
import { NotebookProgress } from "./notebook_progress.ts";
import { pressCounter } from "./ctrl_c.ts";
import { lines } from "./lines.ts";
import { intFlag, parseFlags, runMain, UsageError } from "./args.ts";
import {
  defaultJupyter,
  installDenoKernel,
  jupyterEnv,
  ROOT,
} from "./jupyter_home.ts";

/** nbconvert add-ons: the offline HTML template, the Deno-aware executor. */
const TEMPLATES = fileURLToPath(new URL("./nbconvert", import.meta.url));

const HELP =
  `Execute the notebooks headless with the Deno kernel and render them.

Usage: deno task notebooks [options] [NOTEBOOK...]

NOTEBOOK: any of ${NOTEBOOKS.join(", ")} (default: all, in that order).
04-evaluate and 05-your-own load the model that 03-train saves.

Options:
  --limit N       quick run: sets FMNIST_LIMIT=N for the notebooks (first N
                  training and test images; the recipe's epochs, 4 for the
                  seed recipe); also read from the environment
  --epochs N      sets FMNIST_EPOCHS=N (epochs to train)
  --recipe NAME   sets FMNIST_RECIPE=NAME (seed, fast or best; default: the
                  notebook's choice, fast); also read from the environment
  --out DIR       where executed notebooks, HTML and model.zip go
                  (default out/notebooks; must be under out/)
  --jupyter PATH  the jupyter command (default /usr/bin/jupyter if present,
                  else jupyter on PATH; deno task notebooks may run only
                  those two, see "Permissions" in README.md)
  -h, --help      show this help

Needs Jupyter's nbconvert and nbclient (Debian: apt-get install
jupyter-nbconvert python3-nbclient).`;

/** The command {@link run} is waiting for, if any (Ctrl-C may need to reach it). */
let running: Deno.ChildProcess | null = null;

/**
 * Runs a command; returns exit code and output. With `progress`, its
 * stderr is read line by line as it comes: progress lines are shown (and
 * left out of the returned stderr), and the shown time moves each second.
 */
async function run(
  cmd: string,
  args: string[],
  env: Record<string, string>,
  progress?: NotebookProgress,
): Promise<{ code: number; stdout: string; stderr: string }> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(cmd, {
      args,
      env,
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new UsageError(
        `${cmd} was not found; install Jupyter's nbconvert (Debian: apt-get install jupyter-nbconvert python3-nbclient) or pass --jupyter PATH.`,
      );
    }
    throw e;
  }
  running = child;
  const kept: string[] = [];
  const stderr = (async () => {
    for await (const line of lines(child.stderr)) {
      if (!progress?.line(line)) kept.push(line);
    }
  })();
  const ticker = progress ? setInterval(() => progress.tick(), 1000) : 0;
  try {
    const stdout = new Response(child.stdout).text();
    const [{ code }, out] = await Promise.all([child.status, stdout, stderr]);
    return { code, stdout: out, stderr: kept.join("\n") };
  } finally {
    running = null;
    clearInterval(ticker);
    progress?.done();
  }
}

/** Ctrl-C stopped the run; the message says what was finished. */
class Stopped extends Error {
  override name = "Stopped";
}

/** A notebook's cell raised an error: the user's to fix, said in one line. */
class CellFailed extends Error {
  override name = "CellFailed";
}

/**
 * The failing cell's first line and its error (`Name: message`), from
 * nbconvert's report of a CellExecutionError, or null if it has none.
 */
function cellFailure(
  stderr: string,
): { firstLine: string; error: string } | null {
  const report =
    stderr.split("An error occurred while executing the following cell:\n")[1];
  if (report === undefined) return null;
  const rule = "------------------\n";
  const [, source, rest] = report.split(rule);
  if (source === undefined || rest === undefined) return null;
  const firstLine = source.split("\n")[0].trim();
  // The error's own line: the first one that is not blank after the cell.
  const error = rest.split("\n").map((l) => l.trim()).find((l) => l !== "");
  if (error === undefined) return null;
  return {
    firstLine: firstLine.length > 60 ? `${firstLine.slice(0, 59)}…` : firstLine,
    error,
  };
}

/** The last lines of a failed run's output. */
function tail(text: string, lines = 40): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/**
 * Puts plotly.js into the `<head>` of an exported page that has charts, so
 * they draw from the file alone (in Jupyter they load it from the server).
 */
async function embedPlotly(path: string): Promise<void> {
  const html = await Deno.readTextFile(path);
  if (!html.includes('class="fmnist-chart"')) return;
  const at = html.indexOf("</head>");
  if (at < 0) throw new Error(`${path} has no </head>; cannot add plotly.js.`);
  const page = `${html.slice(0, at)}${
    plotlyPageScript(await plotlyJsSource())
  }\n${html.slice(at)}`;
  await writeFileAtomic(path, page);
}

/** What {@link executeOne} needs from the run. */
interface RunContext {
  jupyter: string;
  env: Record<string, string>;
  /** Where the notebook is executed and rendered before it is moved. */
  staging: string;
  outDir: string;
  /** Progress as one status line (stdout is a terminal). */
  terminal: boolean;
  /** Whether Ctrl-C has come. */
  interrupted: () => boolean;
  /** The error that reports Ctrl-C "while …". */
  stopped: (what: string) => Stopped;
}

/**
 * Executes one notebook with nbconvert, showing its progress, renders it
 * to HTML, and moves both into `outDir` once complete.
 *
 * @throws {Stopped} when Ctrl-C came meanwhile; {@link CellFailed} when a
 * cell raised an error.
 */
async function executeOne(name: string, context: RunContext): Promise<void> {
  const { jupyter, env, staging, outDir, terminal, interrupted, stopped } =
    context;
  const encoder = new TextEncoder();
  const progress = new NotebookProgress(name, {
    write: (text) => Deno.stdout.writeSync(encoder.encode(text)),
    terminal,
    columns: terminal ? Deno.consoleSize().columns : undefined,
  });
  const executed = await run(
    jupyter,
    [
      "nbconvert",
      "--to",
      "notebook",
      // nbconvert's executor, made to wait for outputs the Deno kernel
      // sends late (see nbconvert/deno_execute.py).
      "--NotebookExporter.preprocessors=deno_execute.DenoExecutePreprocessor",
      "--DenoExecutePreprocessor.enabled=True",
      "--ExecutePreprocessor.kernel_name=deno",
      "--ExecutePreprocessor.timeout=-1",
      "--ExecutePreprocessor.startup_timeout=120",
      "--DenoExecutePreprocessor.progress=True",
      "--output-dir",
      staging,
      "--output",
      name,
      join(NOTEBOOK_DIR, `${name}.ipynb`),
    ],
    env,
    progress,
  );
  if (interrupted()) {
    const at = progress.cell;
    throw stopped(
      `${name} ran${at ? ` (cell ${at.cell} of ${at.cells})` : ""}`,
    );
  }
  if (executed.code !== 0) {
    const failure = cellFailure(executed.stderr);
    if (failure === null || Deno.env.get("DEBUG")) {
      console.error(tail(executed.stderr));
    }
    if (failure === null) {
      throw new Error(
        `${name}.ipynb failed to execute (nbconvert's output is above); fix it and run again.`,
      );
    }
    throw new CellFailed(
      `${name}.ipynb stopped at an error in the cell that starts "${failure.firstLine}": ${failure.error}`,
    );
  }
  const html = await run(jupyter, [
    "nbconvert",
    "--to",
    "html",
    `--TemplateExporter.extra_template_basedirs=${TEMPLATES}`,
    "--template",
    "offline",
    "--output-dir",
    staging,
    join(staging, `${name}.ipynb`),
  ], env);
  if (interrupted()) throw stopped(`${name}.html was rendered`);
  if (html.code !== 0) {
    console.error(tail(html.stderr));
    throw new Error(`rendering ${name}.ipynb to HTML failed (see above).`);
  }
  await embedPlotly(join(staging, `${name}.html`));
  for (const file of [`${name}.ipynb`, `${name}.html`]) {
    await Deno.rename(join(staging, file), join(outDir, file));
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseFlags(Deno.args, {
    limit: { type: "string" },
    epochs: { type: "string" },
    recipe: { type: "string" },
    out: { type: "string" },
    jupyter: { type: "string" },
    help: { type: "boolean", short: "h" },
  }, true);
  if (values.help) {
    console.log(HELP);
    return;
  }
  const names = positionals.map((p) =>
    p.replace(/\.ipynb$/, "").replace(/^.*\//, "")
  );
  for (const name of names) {
    if (!NOTEBOOKS.includes(name)) {
      throw new UsageError(
        `there is no notebook ${name}; choose from ${NOTEBOOKS.join(", ")}.`,
      );
    }
  }
  const selected = names.length > 0
    ? NOTEBOOKS.filter((n) => names.includes(n))
    : [...NOTEBOOKS];
  const limit = intFlag("--limit", values.limit, 1);
  const epochs = intFlag("--epochs", values.epochs, 1);
  const outDir = resolve(ROOT, values.out ?? join("out", "notebooks"));
  const canWrite = await Deno.permissions.query({
    name: "write",
    path: outDir,
  });
  if (canWrite.state !== "granted") {
    throw new UsageError(
      `cannot write to ${outDir}: deno task notebooks may write only under out/; choose --out out/NAME.`,
    );
  }
  const shown = values.out ?? join("out", "notebooks");
  if ((await pathKind(outDir)) === "file") {
    throw new UsageError(
      `${shown} is a file, not a folder; choose --out out/NAME.`,
    );
  }
  await Deno.mkdir(outDir, { recursive: true }).catch((e) => {
    throw new UsageError(
      `cannot make the folder ${shown} (${
        (e as Error).message
      }); choose --out out/NAME.`,
    );
  });
  const jupyter = values.jupyter ?? defaultJupyter();

  // The kernels inherit this environment: the quick-run knob, where the
  // model goes, and a project-local Jupyter (kernel spec, runtime, config).
  const env: Record<string, string> = {
    ...jupyterEnv(),
    FMNIST_OUT: outDir,
    PYTHONPATH: TEMPLATES,
  };
  if (limit !== undefined) env.FMNIST_LIMIT = String(limit);
  if (values.recipe !== undefined) env.FMNIST_RECIPE = values.recipe;
  if (epochs !== undefined) env.FMNIST_EPOCHS = String(epochs);
  // What the kernels will read, checked here so a bad value stops at once.
  let settings: NotebookSettings;
  try {
    settings = notebookSettings(
      {},
      (name) => env[name] ?? Deno.env.get(name),
    );
  } catch (e) {
    // A value given as a flag is named as the flag, not as its variable.
    const message = (e as Error).message;
    throw new UsageError(
      values.recipe !== undefined && message.startsWith("FMNIST_RECIPE")
        ? message.replace(/^FMNIST_RECIPE/, "--recipe")
        : message,
    );
  }
  console.log(
    settings.quick
      ? describeSettings(settings)
      : `${
        describeSettings(settings)
      } (set FMNIST_LIMIT=2000 or pass --limit 2000 for a quick run)`,
  );

  const version = await run(jupyter, ["nbconvert", "--version"], env);
  if (version.code !== 0) {
    throw new UsageError(
      `${jupyter} nbconvert does not run (${
        tail(version.stderr, 1)
      }); install jupyter-nbconvert and python3-nbclient, or pass --jupyter PATH.`,
    );
  }
  const kernelDir = await installDenoKernel(env);
  console.log(
    `kernel: Deno ${Deno.version.deno} (spec in ${kernelDir}), nbconvert ${version.stdout.trim()}`,
  );

  // Each notebook is executed and rendered here, then moved into outDir:
  // a run stopped at any moment leaves each file as it was or complete.
  // What a stopped run left here goes first.
  const staging = join(outDir, ".executing");
  await Deno.remove(staging, { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  await Deno.mkdir(staging);
  // Ctrl-C: a terminal sends it to nbconvert too, which stops its kernel
  // and exits; sent to this process alone, it is passed on after 2 s. The
  // notebook that was running is reported as stopped, with what finished;
  // a second Ctrl-C leaves at once.
  let interrupted = false;
  const press = pressCounter();
  const onSigint = () => {
    const n = press();
    if (n === null) return; // the same press, delivered twice
    if (n > 1) Deno.exit(130);
    interrupted = true;
    const child = running;
    if (child === null) return;
    setTimeout(() => {
      if (running !== child) return;
      try {
        child.kill("SIGINT");
      } catch {
        // It has just ended.
      }
    }, 2000);
  };
  Deno.addSignalListener("SIGINT", onSigint);
  const finished: string[] = [];
  let stopped: string | null = null;
  try {
    // Progress goes where the task's other lines go; on a terminal, as one
    // status line rewritten in place.
    const terminal = Deno.stdout.isTerminal();
    const started = performance.now();
    for (const name of selected) {
      if (interrupted) {
        throw new Stopped(
          `stopped by Ctrl-C before ${name}; finished: ${
            finished.join(", ")
          } (in ${shown}/).`,
        );
      }
      const t0 = performance.now();
      await executeOne(name, {
        jupyter,
        env,
        staging,
        outDir,
        terminal,
        interrupted: () => interrupted,
        stopped: (what) =>
          new Stopped(
            `stopped by Ctrl-C while ${what}; ${name}'s outputs were not written${
              finished.length > 0
                ? `. Finished before it: ${finished.join(", ")} (in ${shown}/)`
                : ""
            }.`,
          ),
      });
      finished.push(name);
      console.log(
        `${name}: executed in ${
          formatDuration((performance.now() - t0) / 1000)
        } → ${join(outDir, `${name}.ipynb`)}, ${name}.html`,
      );
    }
    console.log(
      `${selected.length} notebook(s) in ${
        formatDuration((performance.now() - started) / 1000)
      } · outputs in ${outDir}/`,
    );
  } catch (e) {
    if (!(e instanceof Stopped)) throw e;
    stopped = e.message;
  } finally {
    Deno.removeSignalListener("SIGINT", onSigint);
    await Deno.remove(staging, { recursive: true }).catch(() => {});
  }
  if (stopped !== null) {
    console.error(stopped);
    Deno.exit(130);
  }
}

if (import.meta.main) {
  await runMain(main, (e) => e instanceof CellFailed);
}
