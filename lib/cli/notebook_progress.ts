/**
 * Progress of `deno task notebooks` while a notebook runs: nbconvert's
 * executor (`nbconvert/deno_execute.py`, with `progress` on) reports on
 * stderr when each code cell starts and the last line of the running
 * cell's text output (the training progress line among them); this module
 * reads those lines and shows them. On a terminal, one status line
 * rewritten in place; in a log, a line when a cell has run for a while and
 * then its latest output line every half minute.
 *
 * @example
 * ```ts
 * import { NotebookProgress } from "./notebook_progress.ts";
 * const shown: string[] = [];
 * const p = new NotebookProgress("03-train", { write: (s) => shown.push(s), terminal: false });
 * p.line('@@notebook-progress {"cell": 6, "cells": 10, "source": "await fit();"}'); // true
 * p.line("some other stderr line"); // false: not progress
 * p.done();
 * ```
 *
 * @module
 */
import { formatDuration } from "../progress.ts";

/** What the executor's progress lines start with (`PROGRESS_PREFIX` there). */
export const PROGRESS_PREFIX = "@@notebook-progress ";

/**
 * One progress report: a code cell started (`cell` of `cells`, its first
 * line), or the running cell's latest text output line.
 *
 * @example
 * ```ts
 * import type { ProgressEvent } from "./notebook_progress.ts";
 * const e: ProgressEvent = { cell: 1, cells: 9, source: "import …" };
 * ```
 */
export type ProgressEvent =
  | { cell: number; cells: number; source: string }
  | { text: string };

/**
 * The event a stderr line carries, or null when it is not a progress line
 * (or one this version does not understand).
 *
 * @example
 * ```ts
 * import { parseProgressLine } from "./notebook_progress.ts";
 * parseProgressLine('@@notebook-progress {"text": "epoch 1/5"}'); // { text: "epoch 1/5" }
 * parseProgressLine("Traceback (most recent call last):"); // null
 * ```
 */
export function parseProgressLine(line: string): ProgressEvent | null {
  if (!line.startsWith(PROGRESS_PREFIX)) return null;
  let v: unknown;
  try {
    v = JSON.parse(line.slice(PROGRESS_PREFIX.length));
  } catch {
    return null;
  }
  if (typeof v !== "object" || v === null) return null;
  const o = v as Record<string, unknown>;
  if (
    typeof o.cell === "number" && typeof o.cells === "number" &&
    typeof o.source === "string"
  ) {
    return { cell: o.cell, cells: o.cells, source: o.source };
  }
  if (typeof o.text === "string") return { text: o.text };
  return null;
}

/**
 * Where and how {@link NotebookProgress} shows progress.
 *
 * @example
 * ```ts
 * import type { ProgressOptions } from "./notebook_progress.ts";
 * const o: ProgressOptions = { write: (s) => console.error(s), terminal: false };
 * ```
 */
export interface ProgressOptions {
  /** Writes text as it is (no newline added). */
  write: (text: string) => void;
  /** A terminal: one status line rewritten in place. */
  terminal: boolean;
  /** The terminal's width (default, or when 0: 80); the status line is cut to fit. */
  columns?: number;
  /** Milliseconds now (default `performance.now`). */
  now?: () => number;
  /** In a log, a cell is announced once it has run this long (default 10 s). */
  announceAfterMs?: number;
  /** In a log, least time between two output lines of a cell (default 30 s). */
  logEveryMs?: number;
}

/**
 * Shows one notebook's progress from the executor's stderr lines: feed
 * every line to {@link NotebookProgress.line}, call
 * {@link NotebookProgress.tick} now and then (a second apart) so the time
 * moves, and {@link NotebookProgress.done} at the end, which clears the
 * status line.
 *
 * @example
 * ```ts
 * import { NotebookProgress } from "./notebook_progress.ts";
 * let t = 0;
 * const out: string[] = [];
 * const p = new NotebookProgress("01-data", { write: (s) => out.push(s), terminal: true, now: () => t });
 * p.line('@@notebook-progress {"cell": 2, "cells": 5, "source": "const data = await loadFashionMnist();"}');
 * t = 3000;
 * p.tick();
 * out.at(-1); // "\r\x1b[K01-data · cell 2 of 5 · 0:03 · const data = await loadFashionMnist();"
 * p.done();
 * ```
 */
export class NotebookProgress {
  readonly #name: string;
  readonly #write: (text: string) => void;
  readonly #terminal: boolean;
  readonly #columns: number;
  readonly #now: () => number;
  readonly #announceAfter: number;
  readonly #logEvery: number;
  #cell: { cell: number; cells: number; source: string } | null = null;
  #cellStart = 0;
  #text: string | null = null;
  #announced = false;
  #lastLogged = 0;
  #loggedText: string | null = null;
  #shown = "";
  #lastDrawn = -Infinity;

  constructor(name: string, options: ProgressOptions) {
    this.#name = name;
    this.#write = options.write;
    this.#terminal = options.terminal;
    this.#columns = Math.max(20, options.columns || 80);
    this.#now = options.now ?? (() => performance.now());
    this.#announceAfter = options.announceAfterMs ?? 10_000;
    this.#logEvery = options.logEveryMs ?? 30_000;
  }

  /** The code cell running last, as `{ cell, cells }`, or null before the first. */
  get cell(): { cell: number; cells: number } | null {
    return this.#cell && { cell: this.#cell.cell, cells: this.#cell.cells };
  }

  /** Takes one stderr line; true when it was a progress line (shown, not kept). */
  line(line: string): boolean {
    const event = parseProgressLine(line);
    if (event === null) return false;
    if ("cell" in event) {
      this.#cell = event;
      this.#cellStart = this.#now();
      this.#text = null;
      this.#announced = false;
      this.#loggedText = null;
    } else {
      this.#text = event.text;
    }
    this.#show(false);
    return true;
  }

  /** Moves the shown time on (call about once a second). */
  tick(): void {
    this.#show(true);
  }

  /** Clears the status line (on a terminal); the notebook has finished. */
  done(): void {
    if (this.#terminal && this.#shown !== "") this.#write("\r\x1b[K");
    this.#shown = "";
  }

  #show(fromTick: boolean): void {
    if (this.#cell === null) return;
    const now = this.#now();
    const ran = now - this.#cellStart;
    const { cell, cells, source } = this.#cell;
    const where = `${this.#name} · cell ${cell} of ${cells}`;
    if (this.#terminal) {
      // At most four redraws a second, except when a new cell starts.
      if (!fromTick && this.#text !== null && now - this.#lastDrawn < 250) {
        return;
      }
      const status = `${where} · ${formatDuration(ran / 1000)} · ${
        this.#text ?? source
      }`;
      const cut = [...status].length > this.#columns - 1
        ? [...status].slice(0, this.#columns - 2).join("") + "…"
        : status;
      if (cut === this.#shown) return;
      this.#shown = cut;
      this.#lastDrawn = now;
      this.#write(`\r\x1b[K${cut}`);
      return;
    }
    if (!this.#announced) {
      if (ran < this.#announceAfter) return;
      this.#announced = true;
      this.#lastLogged = now;
      this.#write(`${where} is running: ${source}\n`);
    }
    if (
      this.#text !== null && this.#text !== this.#loggedText &&
      now - this.#lastLogged >= this.#logEvery
    ) {
      this.#lastLogged = now;
      this.#loggedText = this.#text;
      this.#write(
        `${where}, ${formatDuration(ran / 1000)}: ${this.#text}\n`,
      );
    }
  }
}
