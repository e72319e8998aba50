/**
 * Counting Ctrl-C presses from SIGINT signals, for the tasks that do
 * something on the first press and quit at once on the second.
 *
 * Under `deno task`, one press in a terminal can arrive twice, a
 * millisecond apart: the terminal signals the whole foreground process
 * group, which includes the task's program, and `deno task` passes the
 * signal on to its child as well (measured on Deno 2.9.6: two signals for
 * one press in about one run of four). Counted naively, one press would
 * be taken for two and skip what the first press does (train's checkpoint,
 * the notebooks task's report). Signals within {@link SAME_PRESS_MS} of
 * the last counted press therefore count as that press.
 *
 * @example
 * ```ts
 * import { pressCounter } from "./ctrl_c.ts";
 * let t = 0;
 * const press = pressCounter(() => t);
 * press(); // 1
 * t = 1;
 * press(); // null: the same press, delivered twice
 * t = 2000;
 * press(); // 2
 * ```
 *
 * @module
 */

/**
 * Signals this close (ms) to the last counted press are that press again.
 *
 * @example
 * ```ts
 * import { SAME_PRESS_MS } from "./ctrl_c.ts";
 * SAME_PRESS_MS; // 100
 * ```
 */
export const SAME_PRESS_MS = 100;

/**
 * A counter of presses: call it on every SIGINT; it returns the press's
 * number (1, 2, …), or null for a signal that repeats the last press.
 *
 * @param now Milliseconds now (default `performance.now`).
 * @example
 * ```ts
 * import { pressCounter } from "./ctrl_c.ts";
 * const press = pressCounter();
 * Deno.addSignalListener("SIGINT", () => {
 *   const n = press();
 *   if (n === 1) console.error("stopping…");
 *   else if (n !== null) Deno.exit(130);
 * });
 * ```
 */
export function pressCounter(
  now: () => number = () => performance.now(),
): () => number | null {
  let presses = 0;
  let last = -Infinity;
  return () => {
    const t = now();
    if (t - last < SAME_PRESS_MS) return null;
    last = t;
    return ++presses;
  };
}
