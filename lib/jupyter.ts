/**
 * The edge between the library and a Jupyter notebook running the Deno
 * kernel: objects that render themselves (`Deno.jupyter.$display`),
 * embedding plotly.js once per notebook, showing several outputs from one
 * cell, and a training chart that updates in place while training runs.
 * Outside Jupyter (a script, a test) the same calls print plain text.
 *
 * @example
 * ```ts
 * import { LiveTrainingChart, show, View } from "./jupyter.ts";
 * await show(new View({ "text/plain": "hello", "text/html": "<b>hello</b>" }));
 * const live = new LiveTrainingChart({ epochs: 1 });
 * // await trainModel(model, train, test, { epochs: 1, onBatch: live.onBatch, onEpoch: live.onEpoch });
 * await live.close();
 * ```
 *
 * @module
 */
import {
  figureBundle,
  type MediaBundle,
  plotlyLoaderHtml,
  textBundle,
} from "./display.ts";
import { plotlyJsSource } from "./image/plotly_source.ts";
import { liveTrainingFigure, type TrainingPoint } from "./plots.ts";
import {
  formatDuration,
  formatEpochLine,
  formatProgressBar,
} from "./progress.ts";
import type { BatchProgress } from "./train.ts";
import type { EpochRecord } from "./types.ts";

/**
 * The symbol a Jupyter-displayable object's method is keyed by: the same
 * symbol as `Deno.jupyter.$display` (`Symbol.for("Jupyter.display")`), so
 * objects render themselves when they end a cell, and the library loads
 * outside the kernel too.
 *
 * @example
 * ```ts
 * import { DISPLAY } from "./jupyter.ts";
 * const hello = { [DISPLAY]: () => ({ "text/plain": "hello" }) };
 * hello; // as the last line of a cell, shows "hello"
 * ```
 */
export const DISPLAY: unique symbol = Symbol.for("Jupyter.display");

/**
 * True when running in the Deno Jupyter kernel.
 *
 * @example
 * ```ts
 * import { inJupyter } from "./jupyter.ts";
 * if (!inJupyter()) console.log("plain text output");
 * ```
 */
export function inJupyter(): boolean {
  try {
    // Outside the kernel, reading `Deno.jupyter` throws.
    return typeof Deno.jupyter?.display === "function";
  } catch {
    return false;
  }
}

/**
 * Remembers whether plotly.js is on the notebook page yet. The first chart
 * shown carries the library (about 4.8 MB, from the npm package
 * `plotly.js-dist-min`); later charts use it. One per kernel (one per
 * notebook); tests make their own with a stand-in source.
 *
 * @example
 * ```ts
 * import { PlotlyPage } from "./jupyter.ts";
 * const page = new PlotlyPage(() => Promise.resolve("window.Plotly = {};"));
 * console.log(page.embedded); // false
 * ```
 */
export class PlotlyPage {
  /** True once the library has been handed out. */
  embedded = false;

  /** @param source Resolves to the plotly.js source text. */
  constructor(readonly source: () => Promise<string> = plotlyJsSource) {}

  /**
   * The loader HTML the first time it is asked for, then `""`.
   *
   * @example
   * ```ts
   * const html = await new PlotlyPage().takeLoader(); // "<script>…plotly.js…</script>"
   * ```
   */
  async takeLoader(): Promise<string> {
    if (this.embedded) return "";
    const html = plotlyLoaderHtml(await this.source());
    this.embedded = true;
    return html;
  }

  /**
   * `bundle` with the loader put in front of its HTML if plotly.js is not
   * on the page yet.
   *
   * @example
   * ```ts
   * const ready = await page.withLoader(figureBundle(fig, { id: "a" }));
   * ```
   */
  async withLoader(bundle: MediaBundle): Promise<MediaBundle> {
    const loader = await this.takeLoader();
    if (loader === "") return bundle;
    return {
      ...bundle,
      "text/html": `${loader}\n${bundle["text/html"] ?? ""}`,
    };
  }
}

/**
 * The page of this kernel: plotly.js from `node_modules`.
 *
 * @example
 * ```ts
 * import { notebookPage } from "./jupyter.ts";
 * console.log(notebookPage.embedded);
 * ```
 */
export const notebookPage: PlotlyPage = new PlotlyPage();

/**
 * Something shown in a notebook: a MIME bundle, and whether its HTML
 * draws with plotly.js. As the last expression of a cell it renders
 * itself; {@link show} displays several from one cell. `text` is its
 * plain-text form.
 *
 * @example
 * ```ts
 * import { View } from "./jupyter.ts";
 * const v = new View({ "text/plain": "42 images", "text/html": "<b>42</b> images" });
 * console.log(v.text); // "42 images"
 * ```
 */
export class View {
  /**
   * @param bundle What to show.
   * @param usesPlotly True for charts: the first one shown carries plotly.js.
   * @param page Where plotly.js is tracked (default: this kernel's page).
   */
  constructor(
    readonly bundle: MediaBundle,
    readonly usesPlotly = false,
    readonly page: PlotlyPage = notebookPage,
  ) {}

  /** The plain-text form. */
  get text(): string {
    return String(this.bundle["text/plain"] ?? "");
  }

  /**
   * The bundle Jupyter shows (called by the kernel).
   *
   * @example
   * ```ts
   * const bundle = await view[DISPLAY]();
   * ```
   */
  [DISPLAY](): Promise<MediaBundle> {
    return this.usesPlotly
      ? this.page.withLoader(this.bundle)
      : Promise.resolve(this.bundle);
  }

  /** The plain-text form, for `console.log` and string templates. */
  toString(): string {
    return this.text;
  }
}

/**
 * Shows views one after another as outputs of the running cell; outside
 * Jupyter, prints their plain text.
 *
 * @example
 * ```ts
 * import { show, View } from "./jupyter.ts";
 * await show(new View({ "text/plain": "one" }), new View({ "text/plain": "two" }));
 * ```
 */
export async function show(...views: View[]): Promise<void> {
  for (const view of views) {
    if (inJupyter()) {
      await Deno.jupyter.display(await view[DISPLAY](), { raw: true });
    } else {
      console.log(view.text);
    }
  }
}

/**
 * Where a live display sends its bundles: a new output (`update` false)
 * or a replacement of the output with the same `id` (`update` true).
 *
 * @example
 * ```ts
 * import type { DisplaySink } from "./jupyter.ts";
 * const sent: unknown[] = [];
 * const sink: DisplaySink = (bundle, o) => { sent.push([bundle, o]); return Promise.resolve(); };
 * ```
 */
export type DisplaySink = (
  bundle: MediaBundle,
  options: { id?: string; update: boolean },
) => Promise<void>;

/**
 * The sink of the Deno Jupyter kernel (`Deno.jupyter.display` with a
 * display id, so outputs can be replaced in place).
 *
 * @example
 * ```ts
 * import { jupyterSink } from "./jupyter.ts";
 * await jupyterSink()({ "text/plain": "hi" }, { id: "greeting", update: false });
 * ```
 */
export function jupyterSink(): DisplaySink {
  return (bundle, { id, update }) =>
    Deno.jupyter.display(bundle, {
      raw: true,
      ...(id === undefined ? {} : { display_id: id, update }),
    });
}

/**
 * Options of {@link LiveTrainingChart}.
 *
 * @example
 * ```ts
 * import type { LiveChartOptions } from "./jupyter.ts";
 * const opts: LiveChartOptions = { epochs: 25, minIntervalMs: 2000 };
 * ```
 */
export interface LiveChartOptions {
  /** Epochs the run will train (the chart's x range). */
  epochs: number;
  /** Least time between two redraws while training (default 1000 ms). */
  minIntervalMs?: number;
  /** Most training points kept on the chart (default 400). */
  maxPoints?: number;
  /** Where bundles go (default: the Jupyter kernel; outside it, the console). */
  sink?: DisplaySink;
  /** Where plotly.js is tracked (default: this kernel's page). */
  page?: PlotlyPage;
}

/**
 * A progress line and a loss/accuracy chart that update in place while a
 * model trains: pass {@link LiveTrainingChart.onBatch} and
 * {@link LiveTrainingChart.onEpoch} to `trainModel`, then await
 * {@link LiveTrainingChart.close}. The chart is redrawn at most once per
 * `minIntervalMs` and after every epoch; the last redraw, at `close`,
 * shows the whole run. Outside Jupyter it prints one line per epoch.
 *
 * @example
 * ```ts
 * import { LiveTrainingChart } from "./jupyter.ts";
 * const live = new LiveTrainingChart({ epochs: 1 });
 * await trainModel(model, train, test, { epochs: 1, onBatch: live.onBatch, onEpoch: live.onEpoch });
 * await live.close();
 * ```
 */
export class LiveTrainingChart {
  readonly epochs: number;
  readonly chartId: string = `live-chart-${crypto.randomUUID()}`;
  readonly progressId: string = `live-progress-${crypto.randomUUID()}`;
  #points: TrainingPoint[] = [];
  #history: EpochRecord[] = [];
  #last: BatchProgress | null = null;
  #lastSent = -Infinity;
  #started = false;
  #queue: Promise<void> = Promise.resolve();
  #error: unknown = undefined;
  #startTime = performance.now();
  readonly #sink: DisplaySink | null;
  readonly #page: PlotlyPage;
  readonly #interval: number;
  readonly #maxPoints: number;

  constructor(options: LiveChartOptions) {
    if (!(Number.isInteger(options.epochs) && options.epochs >= 1)) {
      throw new RangeError(
        `epochs must be a positive integer, got ${options.epochs}.`,
      );
    }
    this.epochs = options.epochs;
    this.#sink = options.sink ?? (inJupyter() ? jupyterSink() : null);
    this.#page = options.page ?? notebookPage;
    this.#interval = options.minIntervalMs ?? 1000;
    this.#maxPoints = options.maxPoints ?? 400;
  }

  /** The training points drawn so far (a copy). */
  get points(): TrainingPoint[] {
    return [...this.#points];
  }

  /** Call after every batch (pass as `onBatch` to `trainModel`). */
  readonly onBatch = (p: BatchProgress): void => {
    if (this.#last === null) this.#startTime = performance.now();
    this.#last = p;
    const total = p.batches * this.epochs;
    const stride = Math.max(1, Math.ceil(total / this.#maxPoints));
    const done = (p.epoch - 1) * p.batches + p.batch;
    if (done % stride === 0 || p.batch === p.batches || done === 1) {
      this.#points.push({
        x: p.epoch - 1 + p.batch / p.batches,
        loss: p.loss,
        accuracy: p.accuracy,
      });
    }
    if (performance.now() - this.#lastSent >= this.#interval) this.#send();
  };

  /** Call after every epoch (pass as `onEpoch` to `trainModel`). */
  readonly onEpoch = (record: EpochRecord): void => {
    this.#history.push(record);
    if (this.#sink === null) {
      console.log(formatEpochLine(record, this.epochs));
      return;
    }
    this.#send();
  };

  /**
   * Draws the final state and waits until every update has been sent.
   *
   * @throws the first error a display call raised, if any.
   */
  async close(): Promise<void> {
    this.#send(true);
    await this.#queue;
    if (this.#error !== undefined) throw this.#error;
  }

  #progressText(final: boolean): string {
    const lines = this.#history.map((r) => formatEpochLine(r, this.epochs));
    const seconds = (performance.now() - this.#startTime) / 1000;
    if (final) {
      lines.push(
        `done: ${this.#history.length} epoch(s) in ${formatDuration(seconds)}`,
      );
    } else if (this.#last !== null && this.#last.batch < this.#last.batches) {
      lines.push(formatProgressBar(this.#last));
    } else if (this.#last === null) {
      lines.push("starting…");
    }
    return lines.join("\n");
  }

  #title(final: boolean): string {
    const p = this.#last;
    if (final || p === null) {
      return `Training: ${this.#history.length}/${this.epochs} epoch(s)${
        final ? " done" : ""
      }`;
    }
    return `Training: epoch ${p.epoch}/${this.epochs}, batch ${p.batch}/${p.batches}`;
  }

  #send(final = false): void {
    const sink = this.#sink;
    if (sink === null) return;
    this.#lastSent = performance.now();
    // Snapshot now; send in order.
    const figure = liveTrainingFigure(
      [...this.#points],
      [...this.#history],
      this.epochs,
      this.#title(final),
    );
    const progress = textBundle(this.#progressText(final));
    const chart = figureBundle(figure, {
      id: `${this.chartId}-plot`,
      plain: `${this.#title(final)}\n${progress["text/plain"]}`,
    });
    this.#queue = this.#queue.then(async () => {
      if (this.#error !== undefined) return;
      try {
        const update = this.#started;
        if (!update) {
          const loader = await this.#page.takeLoader();
          if (loader !== "") {
            await sink({
              "text/html": loader,
              "text/plain":
                "(plotly.js, embedded for the charts of this notebook)",
            }, { update: false });
          }
          this.#started = true;
        }
        await sink(progress, { id: this.progressId, update });
        await sink(chart, { id: this.chartId, update });
      } catch (e) {
        this.#error = e;
      }
    });
  }
}
