/**
 * The edge between the library and a Jupyter notebook running the Deno
 * kernel: objects that render themselves (`Deno.jupyter.$display`),
 * {@link show} for outputs that land under their own cell even when the
 * front end has queued more cells (Run All), plotly.js written next to the
 * notebook for the charts, and a training chart that updates in place
 * while training runs and says so when Stop ends it early. Outside
 * Jupyter (a script, a test) the same calls print plain text. In the
 * display pipeline (definitions → views → renderers) this is the edge that
 * sends the views' MIME bundles; it decides nothing about their content.
 *
 * @example
 * ```ts
 * import { LiveTrainingChart, show, View } from "./jupyter.ts";
 * import { trainModel } from "./train.ts";
 * import type { tf } from "./tf.ts";
 * declare const model: tf.LayersModel;
 * declare const train: Split;
 * import type { Split } from "./data.ts";
 * declare const test: Split;
 * await show(new View({ "text/plain": "hello", "text/html": "<b>hello</b>" }));
 * const live = new LiveTrainingChart({ epochs: 1 });
 * // await trainModel(model, train, test, { epochs: 1, ...live.callbacks });
 * await live.close();
 * ```
 *
 * @module
 */
import { liveTrainingChart, type TrainingPoint } from "./charts.ts";
import { chartMime, type MimeBundle, textMime } from "./render/mime.ts";
import { PLOTLY_SRC } from "./render/html.ts";
import { ensurePlotlyAsset } from "./render/plotly_source.ts";
import { flushOutputs } from "./iopub.ts";
import { guardKernelInterrupts, inJupyterKernel } from "./interrupt.ts";
import {
  formatDuration,
  formatEpochLine,
  formatProgressBar,
} from "./progress.ts";
import { type BatchProgress, describeStop, type TrainStop } from "./train.ts";
import type { EpochRecord } from "./types.ts";

// In the kernel, Stop (SIGINT) must never end the process: Deno's kernel has
// no handler of its own and would exit, losing the notebook's state.
guardKernelInterrupts();

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
  return inJupyterKernel();
}

/**
 * Makes sure plotly.js is next to the notebook ({@link PLOTLY_SRC}, in the
 * kernel's working folder) for the charts' HTML to load. Once per kernel;
 * a failure is printed once to the cell (a chart then says it could not
 * load plotly.js) and tried again with the next chart.
 *
 * @example
 * ```ts
 * import { preparePlotly } from "./jupyter.ts";
 * await preparePlotly();
 * ```
 */
export async function preparePlotly(): Promise<boolean> {
  if (!inJupyter()) return true;
  try {
    await ensurePlotlyAsset(Deno.cwd(), PLOTLY_SRC);
    return true;
  } catch (e) {
    console.error(`Charts cannot draw: ${(e as Error).message}`);
    return false;
  }
}

/**
 * Options of a {@link View}.
 *
 * @example
 * ```ts
 * import type { ViewOptions } from "./jupyter.ts";
 * const o: ViewOptions = { text: "a chart", usesPlotly: true };
 * ```
 */
export interface ViewOptions {
  /** The plain-text form (default: the MIME bundle's `text/plain`). */
  text?: string;
  /** True for charts: plotly.js must be next to the notebook. */
  usesPlotly?: boolean;
}

/**
 * Something shown in a notebook: its plain text, and its MIME bundle,
 * given or made when first shown (a picture drawn only when displayed).
 * Pass views to {@link show}, which files them under the running cell even
 * on Run All; as the last expression of a cell a view also renders itself,
 * which is fine cell by cell (the Deno kernel may file a cell's value under
 * the next queued cell).
 *
 * @example
 * ```ts
 * import { View } from "./jupyter.ts";
 * const v = new View({ "text/plain": "42 images", "text/html": "<b>42</b> images" });
 * console.log(v.text); // "42 images"
 * const later = new View(() => Promise.resolve({ "text/plain": "drawn" }), { text: "drawn" });
 * console.log((await later.mime())["text/plain"]); // "drawn"
 * ```
 */
export class View {
  /** The plain-text form, for `console.log` and outside Jupyter. */
  readonly text: string;
  /** True for charts: plotly.js must be next to the notebook. */
  readonly usesPlotly: boolean;
  #mime: MimeBundle | (() => Promise<MimeBundle>);

  /**
   * @param mime The bundle, or a function making it when first shown.
   * @param options Its plain text (needed with a function) and whether it draws with plotly.js.
   */
  constructor(
    mime: MimeBundle | (() => Promise<MimeBundle>),
    options: ViewOptions = {},
  ) {
    this.#mime = mime;
    this.usesPlotly = options.usesPlotly ?? false;
    this.text = options.text ??
      (typeof mime === "function" ? "" : String(mime["text/plain"] ?? ""));
  }

  /**
   * The MIME bundle (made once, on the first call).
   *
   * @example
   * ```ts
   * import { View } from "./jupyter.ts";
   * const bundle = await new View({ "text/plain": "hi" }).mime();
   * ```
   */
  async mime(): Promise<MimeBundle> {
    if (typeof this.#mime === "function") this.#mime = await this.#mime();
    return this.#mime;
  }

  /**
   * The bundle Jupyter shows (called by the kernel).
   *
   * @example
   * ```ts
   * import { DISPLAY, View } from "./jupyter.ts";
   * const bundle = await new View({ "text/plain": "hi" })[DISPLAY]();
   * ```
   */
  async [DISPLAY](): Promise<MimeBundle> {
    if (this.usesPlotly) await preparePlotly();
    return await this.mime();
  }

  /** The plain-text form, for `console.log` and string templates. */
  toString(): string {
    return this.text;
  }
}

/**
 * Shows views one after another as outputs of the running cell, and
 * returns once the kernel has published them (see `flushOutputs`), so the
 * front end files every one under this cell even when it has queued the
 * next cells (Run All). Outside Jupyter, prints their plain text.
 *
 * @example
 * ```ts
 * import { show, View } from "./jupyter.ts";
 * await show(new View({ "text/plain": "one" }), new View({ "text/plain": "two" }));
 * ```
 */
export async function show(...views: View[]): Promise<void> {
  if (!inJupyter()) {
    for (const view of views) console.log(view.text);
    return;
  }
  for (const view of views) {
    await Deno.jupyter.display(await view[DISPLAY](), { raw: true });
  }
  await flushOutputs();
}

/**
 * Where a live display sends its MIME bundles: a new output (`update` false)
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
  bundle: MimeBundle,
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
  /** Where MIME bundles go (default: the Jupyter kernel; outside it, the console). */
  sink?: DisplaySink;
  /** Awaited at `close`, after the last update (default: `flushOutputs`). */
  flush?: () => Promise<unknown>;
}

/**
 * A progress line and a loss/accuracy chart that update in place while a
 * model trains: pass {@link LiveTrainingChart.callbacks} (`onBatch`,
 * `onEpoch`, `onStop`) to `trainModel`, then await
 * {@link LiveTrainingChart.close}. The chart is redrawn at most once per
 * `minIntervalMs` and after every epoch; the last redraw, at `close`,
 * shows the whole run, and says where it stopped if Stop ended it early.
 * Outside Jupyter it prints one line per epoch.
 *
 * @example
 * ```ts
 * import { LiveTrainingChart } from "./jupyter.ts";
 * import { trainModel } from "./train.ts";
 * import type { tf } from "./tf.ts";
 * declare const model: tf.LayersModel;
 * declare const train: Split;
 * import type { Split } from "./data.ts";
 * declare const test: Split;
 * const live = new LiveTrainingChart({ epochs: 1 });
 * await trainModel(model, train, test, { epochs: 1, ...live.callbacks });
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
  #stop: TrainStop | null = null;
  #lastSent = -Infinity;
  #started = false;
  #queue: Promise<void> = Promise.resolve();
  #error: unknown = undefined;
  #startTime = performance.now();
  readonly #sink: DisplaySink | null;
  readonly #flush: () => Promise<unknown>;
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
    this.#flush = options.flush ??
      (options.sink ? () => Promise.resolve() : () => flushOutputs());
    this.#interval = options.minIntervalMs ?? 1000;
    this.#maxPoints = options.maxPoints ?? 400;
  }

  /** The training points drawn so far (a copy). */
  get points(): TrainingPoint[] {
    return [...this.#points];
  }

  /** Where training stopped early, once `onStop` has been called. */
  get stopped(): TrainStop | null {
    return this.#stop;
  }

  /**
   * The three callbacks of `trainModel` this chart follows, to spread into
   * its options.
   *
   * @example
   * ```ts
   * import { LiveTrainingChart } from "./jupyter.ts";
   * import { trainModel } from "./train.ts";
   * import type { Split } from "./data.ts";
   * import type { tf } from "./tf.ts";
   * declare const model: tf.LayersModel;
   * declare const train: Split, test: Split;
   * const live = new LiveTrainingChart({ epochs: 2 });
   * await trainModel(model, train, test, { epochs: 2, ...live.callbacks });
   * ```
   */
  get callbacks(): {
    onBatch: (p: BatchProgress) => void;
    onEpoch: (r: EpochRecord) => void;
    onStop: (s: TrainStop) => void;
  } {
    return {
      onBatch: this.onBatch,
      onEpoch: this.onEpoch,
      onStop: this.onStop,
    };
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

  /** Call when training stops early (pass as `onStop` to `trainModel`). */
  readonly onStop = (stop: TrainStop): void => {
    this.#stop = stop;
    if (this.#sink === null) console.log(describeStop(stop));
  };

  /**
   * Draws the final state, and waits until every update has been sent and
   * published under the running cell.
   *
   * @throws the first error a display call raised, if any.
   */
  async close(): Promise<void> {
    this.#send(true);
    await this.#queue;
    if (this.#sink !== null) await this.#flush();
    if (this.#error !== undefined) throw this.#error;
  }

  #progressText(final: boolean): string {
    const lines = this.#history.map((r) => formatEpochLine(r, this.epochs));
    const seconds = (performance.now() - this.#startTime) / 1000;
    if (final && this.#stop !== null) {
      lines.push(describeStop(this.#stop));
    } else if (final) {
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
    if (final && this.#stop !== null) {
      const s = this.#stop;
      return `Training: stopped in epoch ${s.epoch}/${this.epochs}, after batch ${s.batch}/${s.batches}`;
    }
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
    const chart = liveTrainingChart(
      [...this.#points],
      [...this.#history],
      this.epochs,
      this.#title(final),
    );
    const progress = textMime(this.#progressText(final));
    const chartOut = chartMime(chart, {
      id: `${this.chartId}-plot`,
      plain: `${this.#title(final)}\n${progress["text/plain"]}`,
    });
    this.#queue = this.#queue.then(async () => {
      if (this.#error !== undefined) return;
      try {
        const update = this.#started;
        if (!update) {
          await preparePlotly();
          this.#started = true;
        }
        await sink(progress, { id: this.progressId, update });
        await sink(chartOut, { id: this.chartId, update });
      } catch (e) {
        this.#error = e;
      }
    });
  }
}
