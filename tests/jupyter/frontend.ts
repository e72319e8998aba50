/**
 * Test helper (not a test): the notebooks in a real Jupyter front end.
 * Starts Debian's classic Notebook server (`jupyter-notebook`, 6.4) on
 * 127.0.0.1 with the Deno kernel, on a copy of the notebooks, and drives it
 * with Chromium (playwright-core) as a learner does:
 *
 * - per notebook and loop: Run All (the Cell menu), then Cell → All Output
 *   → Clear and Run All again in the same kernel; after each, every code
 *   cell's outputs as the front end filed them, and whether each chart drew;
 *   then File → Save, the saved file's size, a reload of the page and the
 *   charts drawn again from the saved outputs;
 * - once, in 03-train: the cells up to the training cell, Stop (the
 *   toolbar's interrupt button) while it trains, how long until the cell
 *   ends, a new cell that predicts with `model`, and the rest of the
 *   notebook.
 *
 * Prints a {@link FrontendReport} as JSON (also written to `--out` as
 * report.json). Screenshots go to `--out`.
 * Runs as its own process with all permissions (playwright-core needs
 * them, see browser.ts):
 *
 *     deno run -A tests/jupyter/frontend.ts --out out/frontend-test --loops 1 [--stop] [--stall-seconds 120] [NOTEBOOK...]
 *
 * A Run All that shows no progress (no cell done, no new output, no change
 * of the kernel's state) for `--stall-seconds` fails at once, with every
 * cell's prompt, the kernel's connection and its last events, and the end
 * of the server's log.
 *
 * The kernels inherit FMNIST_LIMIT, FMNIST_EPOCHS and FMNIST_OUT from the
 * server's environment, which this sets from its own.
 */
import type { Page } from "playwright-core";
import { parseArgs } from "node:util";
import { join, resolve } from "node:path";
import { launchChromium } from "../browser.ts";
import { jupyterHome } from "./kernel.ts";
import { ROOT } from "../paths.ts";

/** One output as the front end holds it: its type and its MIME types. */
export type OutputShape = string;

/** What one Run All left in the page. */
export interface RunReport {
  /** Per code cell (in order): the shapes of its outputs, in order. */
  cells: OutputShape[][];
  /** Per code cell: its `text/plain` (or stream text) outputs, cut short. */
  texts: string[][];
  /** Charts on the page, and how many of them drew (a plotly SVG inside). */
  charts: number;
  drawn: number;
  /** Chart `<div>`s that said why they did not draw. */
  notDrawn: string[];
  /** Pictures in the outputs, and how many of them failed to load. */
  images: number;
  brokenImages: number;
  /**
   * 03-train's live chart, looked at twice while it trains: the charts in
   * the training cell's output, and the points they hold (null where the
   * notebook has no live chart or it was not watched).
   */
  live: { charts: number; points: number }[] | null;
  /** Seconds from the click on Run All until every cell had run. */
  seconds: number;
}

/** One notebook in one loop. */
export interface NotebookReport {
  name: string;
  loop: number;
  first: RunReport;
  second: RunReport;
  /** After File → Save: the file's size in bytes. */
  savedBytes: number;
  /** After a reload of the saved notebook. */
  reloaded: RunReport;
  /**
   * After the first cell with a chart is run again alone (null if the
   * notebook has no chart): every cell's outputs, and the charts drawn.
   */
  rerun: RunReport | null;
  pageErrors: string[];
}

/** The Stop scenario in 03-train. */
export interface StopReport {
  /** Batches the progress line showed when Stop was pressed. */
  trainedBefore: string;
  /** Seconds from the click on Stop until the training cell ended. */
  secondsToStop: number;
  /** The training cell's final progress text. */
  progress: string;
  /** The output of a new cell that predicts with `model` afterwards. */
  predicted: string;
  /** Outputs of the cells after training, run after the stop. */
  after: string[][];
  kernelAlive: boolean;
  pageErrors: string[];
}

export interface FrontendReport {
  notebooks: NotebookReport[];
  stop: StopReport | null;
  server: string;
  /** What went wrong in the driving itself (a timeout, say), if anything. */
  failure: string | null;
}

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: {
    out: { type: "string", default: "out/frontend-test" },
    loops: { type: "string", default: "1" },
    stop: { type: "boolean", default: false },
    "stall-seconds": { type: "string", default: "120" },
  },
  allowPositionals: true,
});
const OUT = resolve(ROOT, values.out!);
const LOOPS = Number(values.loops);
/** A run that shows no progress for this long has hung: fail, say where. */
const STALL_MS = Number(values["stall-seconds"]) * 1000;
const NAMES = positionals.length > 0
  ? positionals
  : ["01-data", "02-model", "03-train", "04-evaluate", "05-your-own"];

const log = (msg: string) => console.error(`[frontend] ${msg}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A copy of the notebooks the server may save into, next to `lib/`. */
async function prepareFolder(): Promise<string> {
  const dir = join(OUT, "project");
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(join(dir, "notebooks", "images"), { recursive: true });
  for await (const e of Deno.readDir(join(ROOT, "notebooks"))) {
    if (!e.name.endsWith(".ipynb")) continue;
    await Deno.copyFile(
      join(ROOT, "notebooks", e.name),
      join(dir, "notebooks", e.name),
    );
  }
  for await (const e of Deno.readDir(join(ROOT, "notebooks", "images"))) {
    await Deno.copyFile(
      join(ROOT, "notebooks", "images", e.name),
      join(dir, "notebooks", "images", e.name),
    );
  }
  // The notebooks import "../lib/mod.ts".
  await Deno.symlink(join(ROOT, "lib"), join(dir, "lib"));
  return dir;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

interface Server {
  url: string;
  token: string;
  dir: string;
  stop(): Promise<void>;
}

async function startServer(): Promise<Server> {
  const dir = await prepareFolder();
  const env: Record<string, string> = {
    ...Deno.env.toObject(),
    ...await jupyterHome(join(OUT, "jupyter")),
    FMNIST_OUT: join(OUT, "model"),
  };
  const port = freePort();
  const token = crypto.randomUUID();
  const child = new Deno.Command("/usr/bin/python3", {
    args: [
      "-m",
      "notebook",
      "--no-browser",
      "--ip=127.0.0.1",
      `--port=${port}`,
      "--port-retries=0",
      `--NotebookApp.token=${token}`,
      `--notebook-dir=${dir}`,
      "--allow-root",
    ],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // The server's log, kept as it comes. Both pipes must be read to the end:
  // a server whose stderr pipe fills up (64 KiB) blocks on its next log line.
  const logFile = await Deno.open(join(OUT, "server.log"), {
    write: true,
    create: true,
    truncate: true,
  });
  let writing = Promise.resolve();
  const copy = async (from: ReadableStream<Uint8Array>) => {
    for await (const chunk of from) {
      writing = writing.then(async () => {
        for (let n = 0; n < chunk.length;) {
          n += await logFile.write(chunk.subarray(n));
        }
      });
    }
  };
  const copying = Promise.all([copy(child.stdout), copy(child.stderr)])
    .then(() => writing)
    .catch(() => {})
    .finally(() => logFile.close());
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  for (;;) {
    try {
      const r = await fetch(`${url}/api/status?token=${token}`);
      await r.body?.cancel();
      if (r.ok) break;
    } catch {
      // not up yet
    }
    if (performance.now() - started > 60_000) {
      child.kill("SIGKILL");
      throw new Error(
        `the notebook server did not start: see ${OUT}/server.log`,
      );
    }
    await sleep(200);
  }
  return {
    url,
    token,
    dir,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // gone already
      }
      const done = child.status;
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // gone
        }
      }, 10_000);
      await done;
      clearTimeout(timer);
      await copying;
    },
  };
}

async function api(server: Server, method: string, path: string) {
  const r = await fetch(`${server.url}${path}?token=${server.token}`, {
    method,
  });
  const text = await r.text();
  return text ? JSON.parse(text) : null;
}

/** Shuts down every kernel of the server, so the next page starts afresh. */
async function shutdownSessions(server: Server): Promise<void> {
  const sessions = await api(server, "GET", "/api/sessions") as Array<
    { id: string }
  >;
  for (const s of sessions) {
    await api(server, "DELETE", `/api/sessions/${s.id}`);
  }
}

// The callbacks passed to page.evaluate run in the page, where these exist.
// deno-lint-ignore no-explicit-any
declare const window: any;
// deno-lint-ignore no-explicit-any
declare const document: any;

async function openNotebook(
  server: Server,
  page: Page,
  name: string,
): Promise<void> {
  await page.goto(
    `${server.url}/notebooks/notebooks/${name}.ipynb?token=${server.token}`,
  );
  await page.waitForFunction(
    () => {
      const nb = window.Jupyter?.notebook;
      return nb?.kernel?.is_connected?.() &&
        nb.kernel.info_reply?.status === "ok";
    },
    null,
    { timeout: 120_000 },
  );
  await recordKernelEvents(page);
}

/**
 * Keeps the last kernel and cell events the front end saw (time, event,
 * cell), so a Run All that stops moving can say where it stopped.
 */
async function recordKernelEvents(page: Page): Promise<void> {
  await page.evaluate(() => {
    const nb = window.Jupyter.notebook;
    const seen: string[] = [];
    window.__fmnistEvents = seen;
    window.__fmnistExecuted = 0;
    const t0 = Date.now();
    const names = [
      "execute.CodeCell",
      "finished_execute.CodeCell",
      "kernel_busy.Kernel",
      "kernel_idle.Kernel",
      "kernel_connected.Kernel",
      "kernel_disconnected.Kernel",
      "kernel_reconnecting.Kernel",
      "kernel_connection_failed.Kernel",
      "kernel_restarting.Kernel",
      "kernel_dead.Kernel",
    ];
    nb.events.on(
      names.join(" "),
      // deno-lint-ignore no-explicit-any
      (e: any, data: any) => {
        const cell = data?.cell ? nb.find_cell_index(data.cell) : "";
        seen.push(`${Date.now() - t0} ms ${e.type}.${e.namespace} ${cell}`);
        if (`${e.type}.${e.namespace}` === "execute.CodeCell") {
          window.__fmnistExecuted++;
        }
        if (seen.length > 40) seen.shift();
      },
    );
  });
}

/**
 * Where a Run All stands: per code cell its prompt (a number once it ran,
 * `*` while queued or running), the kernel's state and the recent events.
 */
function runState(page: Page): Promise<string> {
  return page.evaluate(() => {
    const nb = window.Jupyter.notebook;
    const k = nb.kernel;
    const cells = nb.get_cells()
      // deno-lint-ignore no-explicit-any
      .map((c: any, i: number) =>
        c.cell_type === "code"
          ? `${i}:[${
            c.input_prompt_number ?? " "
          }]${c.output_area.outputs.length}`
          : null
      )
      .filter((s: string | null) => s !== null)
      .join(" ");
    const pending = Object.keys(k?._msg_callbacks ?? {}).length;
    return `cells (index:[prompt]outputs) ${cells}; kernel busy ${nb.kernel_busy}, connected ${k?.is_connected?.()}, websocket state ${k?.ws?.readyState}, requests awaiting replies ${pending}; last events: ${
      (window.__fmnistEvents ?? []).join(" | ")
    }`;
  });
}

/**
 * Waits until every code cell has run and the kernel is idle. Fails as soon
 * as nothing has moved (no cell ran, no output came, the kernel's state
 * did not change) for `stallMs`, or after `timeoutMs` in all, saying where
 * the run stands.
 */
async function waitAllRun(
  page: Page,
  timeoutMs = 900_000,
  stallMs = STALL_MS,
): Promise<void> {
  const started = Date.now();
  let last = "", movedAt = started;
  for (;;) {
    const now = await page.evaluate(() => {
      const nb = window.Jupyter.notebook;
      // deno-lint-ignore no-explicit-any
      const code = nb.get_cells().filter((c: any) => c.cell_type === "code");
      return {
        done: !nb.kernel_busy &&
          // deno-lint-ignore no-explicit-any
          code.every((c: any) => typeof c.input_prompt_number === "number"),
        progress: JSON.stringify([
          nb.kernel_busy,
          // deno-lint-ignore no-explicit-any
          code.map((c: any) => [
            c.input_prompt_number ?? null,
            c.output_area.outputs.length,
            // the last output's text grows while training reports progress
            String(
              c.output_area.outputs.at(-1)?.data?.["text/plain"] ?? "",
            ).slice(-80),
          ]),
        ]),
      };
    });
    if (now.done) break;
    const t = Date.now();
    if (now.progress !== last) {
      last = now.progress;
      movedAt = t;
    }
    if (t - movedAt > stallMs || t - started > timeoutMs) {
      const why = t - movedAt > stallMs
        ? `nothing moved for ${Math.round((t - movedAt) / 1000)} s`
        : `not done after ${Math.round((t - started) / 1000)} s`;
      throw new Error(
        `${await page.evaluate(() =>
          window.Jupyter.notebook.notebook_name
        )}: the run did not finish (${why}): ${await runState(page)}`,
      );
    }
    await sleep(200);
  }
  // The last cell's reply (shell channel) can reach the page before its
  // outputs (IOPub, relayed separately by the server): wait until the
  // page's outputs have stayed the same for a second (at most 15 s).
  let count = -1, stableSince = Date.now();
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && Date.now() - stableSince < 1000) {
    const now = await page.evaluate(() =>
      document.querySelectorAll(".output_area").length
    );
    if (now !== count) {
      count = now;
      stableSince = Date.now();
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until every chart on the page has drawn or said why not. */
async function waitCharts(page: Page, timeoutMs = 30_000): Promise<void> {
  try {
    await page.waitForFunction(
      () =>
        // deno-lint-ignore no-explicit-any
        [...document.querySelectorAll("div.fmnist-chart")].every((d: any) =>
          d.querySelector("svg.main-svg") !== null ||
          d.textContent.startsWith("Chart not drawn")
        ),
      null,
      { timeout: timeoutMs, polling: 200 },
    );
  } catch {
    // reported as not drawn
  }
}

async function readRun(page: Page, seconds: number): Promise<RunReport> {
  await waitCharts(page);
  return await page.evaluate((secs: number) => {
    const nb = window.Jupyter.notebook;
    // deno-lint-ignore no-explicit-any
    const code = nb.get_cells().filter((c: any) => c.cell_type === "code");
    // deno-lint-ignore no-explicit-any
    const shape = (o: any) =>
      `${o.output_type}${o.name ? `:${o.name}` : ""}${
        o.data ? `[${Object.keys(o.data).sort().join(",")}]` : ""
      }`;
    // deno-lint-ignore no-explicit-any
    const text = (o: any) =>
      String(
        (o.data && o.data["text/plain"]) ?? o.text ?? o.evalue ?? "",
      ).slice(0, 300);
    const charts = [...document.querySelectorAll("div.fmnist-chart")];
    return {
      // deno-lint-ignore no-explicit-any
      cells: code.map((c: any) => c.output_area.outputs.map(shape)),
      // deno-lint-ignore no-explicit-any
      texts: code.map((c: any) => c.output_area.outputs.map(text)),
      charts: charts.length,
      // deno-lint-ignore no-explicit-any
      drawn: charts.filter((d: any) => d.querySelector("svg.main-svg")).length,
      notDrawn: charts
        // deno-lint-ignore no-explicit-any
        .filter((d: any) => !d.querySelector("svg.main-svg"))
        // deno-lint-ignore no-explicit-any
        .map((d: any) => String(d.textContent).slice(0, 300)),
      images: document.querySelectorAll(".output_area img").length,
      brokenImages: [...document.querySelectorAll(".output_area img")]
        // deno-lint-ignore no-explicit-any
        .filter((i: any) => !(i.complete && i.naturalWidth > 0)).length,
      live: null,
      seconds: secs,
    };
  }, seconds);
}

async function menu(
  page: Page,
  top: string,
  item: string,
  submenu?: string,
): Promise<void> {
  await page.click(top);
  if (submenu) await page.hover(submenu);
  await page.click(item);
}

/** The live training chart's cell now: its charts and their points. */
function lookAtLiveChart(
  page: Page,
): Promise<{ charts: number; points: number } | null> {
  return page.evaluate(() => {
    const cell = window.Jupyter.notebook.get_cells().find((
      c: { get_text(): string },
    ) => c.get_text().includes("new LiveTrainingChart"));
    if (!cell) return null;
    const charts = [
      ...cell.element[0].querySelectorAll("div.fmnist-chart"),
    ] as { data?: { x?: unknown[] }[] }[];
    const points = charts.reduce(
      (n, d) => n + (d.data ?? []).reduce((m, t) => m + (t.x?.length ?? 0), 0),
      0,
    );
    return { charts: charts.length, points };
  });
}

/**
 * Run All; with `watchLive`, also looks at the live training chart twice
 * while it trains (once it has points, then once it has more).
 */
async function runAll(page: Page, watchLive = false): Promise<RunReport> {
  const t0 = performance.now();
  // Run All queues every cell at once (each one an execute event). A click
  // that missed the menu would queue nothing and leave the page waiting:
  // click again, at most twice more. A kernel that does not answer cannot
  // pass for this: the front end queues cells without it.
  const executed = () => page.evaluate(() => window.__fmnistExecuted);
  const before = await executed();
  for (let attempt = 1;; attempt++) {
    await menu(page, "#celllink", "#run_all_cells");
    const clicked = Date.now();
    while (Date.now() - clicked < 5000 && await executed() === before) {
      await sleep(100);
    }
    if (await executed() > before) break;
    if (attempt === 3) {
      throw new Error(
        `Run All queued no cell after 3 clicks: ${await runState(page)}`,
      );
    }
    log(`Run All queued no cell; clicking again`);
  }
  // Wait until the last cell has run.
  await sleep(500);
  let live: RunReport["live"] = null;
  if (watchLive && (await lookAtLiveChart(page)) !== null) {
    const looks: { charts: number; points: number }[] = [];
    for (let i = 0; i < 2; i++) {
      const before = looks.at(-1)?.points ?? 0;
      const deadline = Date.now() + 600_000;
      while (Date.now() < deadline) {
        const look = await lookAtLiveChart(page);
        if (look !== null && look.points > before) {
          looks.push(look);
          break;
        }
        await sleep(100);
      }
    }
    live = looks;
  }
  await waitAllRun(page);
  return { ...(await readRun(page, (performance.now() - t0) / 1000)), live };
}

async function screenshot(page: Page, path: string): Promise<void> {
  // The classic Notebook scrolls inside #site: grow the page to show all.
  const height = await page.evaluate(() =>
    document.getElementById("notebook-container")?.scrollHeight ?? 900
  );
  await page.setViewportSize({
    width: 1280,
    height: Math.min(height + 200, 30000),
  });
  await page.screenshot({ path });
  await page.setViewportSize({ width: 1280, height: 900 });
}

/**
 * Runs `work` on the page, collecting the page's errors, and shuts the
 * server's kernels down after it, so the next round starts afresh.
 */
async function session<T>(
  server: Server,
  page: Page,
  work: () => Promise<T>,
): Promise<T & { pageErrors: string[] }> {
  const errors: string[] = [];
  const onError = (e: Error) => errors.push(e.message);
  page.on("pageerror", onError);
  try {
    return { ...(await work()), pageErrors: errors };
  } finally {
    page.off("pageerror", onError);
    await shutdownSessions(server);
  }
}

async function notebookRound(
  server: Server,
  page: Page,
  name: string,
  loop: number,
): Promise<NotebookReport> {
  return await session(server, page, async () => {
    await openNotebook(server, page, name);
    const first = await runAll(page, true);
    log(`${name} loop ${loop}: first Run All in ${first.seconds.toFixed(1)} s`);
    await menu(page, "#celllink", "#clear_all_output", "#all_outputs");
    await page.waitForFunction(() =>
      window.Jupyter.notebook.get_cells().every((
        c: { output_area?: { outputs: unknown[] } },
      ) => !c.output_area || c.output_area.outputs.length === 0)
    );
    const second = await runAll(page);
    log(
      `${name} loop ${loop}: second Run All in ${second.seconds.toFixed(1)} s`,
    );
    await screenshot(page, join(OUT, `${name}-loop${loop}.png`));
    // File → Save, then the file on disk.
    await page.evaluate(() => {
      window.__saved = false;
      window.Jupyter.notebook.events.one("notebook_saved.Notebook", () => {
        window.__saved = true;
      });
    });
    await menu(page, "#filelink", "#save_checkpoint");
    await page.waitForFunction(() => window.__saved === true, null, {
      timeout: 60_000,
    });
    const savedBytes =
      (await Deno.stat(join(server.dir, "notebooks", `${name}.ipynb`))).size;
    // A reload shows the saved outputs; the charts must draw again.
    await page.reload();
    await page.waitForFunction(() => window.Jupyter?.notebook?._fully_loaded);
    await recordKernelEvents(page);
    const reloaded = await readRun(page, 0);
    await screenshot(page, join(OUT, `${name}-loop${loop}-reloaded.png`));
    // One cell with a chart, run again on its own (Shift-Enter's request);
    // not one that uses `model`, which the notebook's last cell freed.
    const chartCell = await page.evaluate(() =>
      window.Jupyter.notebook.get_cells().findIndex((
        c: {
          get_text(): string;
          output_area?: { element: { find(s: string): { length: number } } };
        },
      ) =>
        c.output_area &&
        c.output_area.element.find("div.fmnist-chart").length > 0 &&
        !/\bmodel\b/.test(c.get_text())
      )
    );
    let rerun: RunReport | null = null;
    if (chartCell >= 0) {
      const t0 = performance.now();
      await page.evaluate((i: number) => {
        const nb = window.Jupyter.notebook;
        nb.get_cell(i).execute();
      }, chartCell);
      await sleep(300);
      await waitAllRun(page, 120_000);
      rerun = await readRun(page, (performance.now() - t0) / 1000);
    }
    return {
      name,
      loop,
      first,
      second,
      savedBytes,
      reloaded,
      rerun,
    };
  });
}

async function stopScenario(server: Server, page: Page): Promise<StopReport> {
  return await session(server, page, async () => {
    await openNotebook(server, page, "03-train");
    const trainIndex = await page.evaluate(() =>
      window.Jupyter.notebook.get_cells().findIndex((
        c: { get_text(): string },
      ) => c.get_text().includes("new LiveTrainingChart"))
    );
    // The cells up to training, queued at once as the Cell menu's commands
    // queue them.
    await page.evaluate(
      (i: number) => window.Jupyter.notebook.execute_cell_range(0, i + 1),
      trainIndex,
    );
    // Training runs once the progress line shows a batch of the first epoch.
    const progressText = () =>
      page.evaluate((i: number) => {
        const cell = window.Jupyter.notebook.get_cell(i);
        return cell.output_area.outputs
          .map((o: { data?: Record<string, string> }) =>
            o.data?.["text/plain"] ?? ""
          )
          .join("\n");
      }, trainIndex);
    await page.waitForFunction(
      (i: number) => {
        const cell = window.Jupyter.notebook.get_cell(i);
        return cell.output_area.outputs.some((
          o: { data?: Record<string, string> },
        ) => /\] *([2-9]|\d\d+)\/\d+ loss/.test(o.data?.["text/plain"] ?? ""));
      },
      trainIndex,
      { timeout: 300_000, polling: 100 },
    );
    const trainedBefore = (await progressText()).split("\n").find((l: string) =>
      /\] *\d+\/\d+ loss/.test(l)
    ) ?? "";
    const t0 = performance.now();
    await page.click(
      'button[data-jupyter-action="jupyter-notebook:interrupt-kernel"]',
    );
    await page.waitForFunction(
      (i: number) =>
        typeof window.Jupyter.notebook.get_cell(i).input_prompt_number ===
          "number" && !window.Jupyter.notebook.kernel_busy,
      trainIndex,
      { timeout: 300_000, polling: 50 },
    );
    const secondsToStop = (performance.now() - t0) / 1000;
    await sleep(500);
    const progress = await progressText();
    // A new cell right below uses the model.
    await page.evaluate((i: number) => {
      const cell = window.Jupyter.notebook.insert_cell_below("code", i);
      cell.set_text(
        'const { predictSplit, takeFirst, textView } = await import("../lib/mod.ts");\n' +
          "const check = predictSplit(model, takeFirst(validation, 4));\n" +
          'await show(textView(`predicted ${Array.from(check.predicted).join(",")}`));',
      );
      cell.execute();
    }, trainIndex);
    await page.waitForFunction(
      (i: number) =>
        typeof window.Jupyter.notebook.get_cell(i + 1).input_prompt_number ===
          "number" && !window.Jupyter.notebook.kernel_busy,
      trainIndex,
      { timeout: 120_000, polling: 100 },
    );
    const predicted = await page.evaluate((i: number) =>
      window.Jupyter.notebook.get_cell(i + 1).output_area.outputs
        .map((
          o: { data?: Record<string, string>; text?: string; evalue?: string },
        ) =>
          o.data?.["text/plain"] ?? o.text ?? o.evalue ?? ""
        ).join("\n"), trainIndex);
    // The rest of the notebook goes on from there.
    await page.evaluate((i: number) => {
      const nb = window.Jupyter.notebook;
      nb.execute_cell_range(i + 2, nb.ncells());
    }, trainIndex);
    await sleep(500);
    await waitAllRun(page, 300_000);
    const after = await page.evaluate((i: number) =>
      window.Jupyter.notebook.get_cells().slice(i + 2)
        .filter((c: { cell_type: string }) =>
          c.cell_type === "code"
        )
        .map((
          c: {
            output_area: {
              outputs: Array<
                {
                  output_type: string;
                  data?: Record<string, string>;
                  text?: string;
                  evalue?: string;
                }
              >;
            };
          },
        ) =>
          c.output_area.outputs.map((o) =>
            `${o.output_type}: ${
              (o.data?.["text/plain"] ?? o.text ?? o.evalue ?? "").slice(0, 200)
            }`
          )
        ), trainIndex);
    await screenshot(page, join(OUT, "03-train-stopped.png"));
    const kernelAlive = await page.evaluate(() =>
      window.Jupyter.notebook.kernel.is_connected()
    );
    return {
      trainedBefore,
      secondsToStop,
      progress,
      predicted,
      after,
      kernelAlive,
    };
  });
}

async function main(): Promise<void> {
  await Deno.mkdir(OUT, { recursive: true });
  const server = await startServer();
  log(`server ${server.url} on ${server.dir}`);
  const browser = await launchChromium();
  const report: FrontendReport = {
    notebooks: [],
    stop: null,
    server: server.url,
    failure: null,
  };
  try {
    const page = await browser.newPage({
      viewport: { width: 1280, height: 900 },
    });
    // Nothing but the server (and data: URLs) may be reached.
    await page.route("**/*", (route) => {
      const u = route.request().url();
      if (u.startsWith(server.url) || u.startsWith("data:")) {
        return route.continue();
      }
      return route.abort();
    });
    for (let loop = 1; loop <= LOOPS; loop++) {
      for (const name of NAMES) {
        report.notebooks.push(await notebookRound(server, page, name, loop));
      }
    }
    if (values.stop) report.stop = await stopScenario(server, page);
  } catch (e) {
    report.failure = (e as Error).stack ?? String(e);
  } finally {
    await browser.close();
    await server.stop();
  }
  if (report.failure !== null) {
    // The server's last words (kernel starts, restarts, websocket errors).
    const serverLog = await Deno.readTextFile(join(OUT, "server.log"))
      .catch(() => "");
    report.failure += `\nthe server's log ends:\n${serverLog.slice(-1500)}`;
  }
  const json = JSON.stringify(report);
  await Deno.writeTextFile(join(OUT, "report.json"), json);
  console.log(json);
}

await main();
