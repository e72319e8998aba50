/**
 * Renderer: plain text, for `text/plain` outputs, the console and logs.
 * Tables (`tables.ts`) as aligned columns and a chart (`charts.ts`) as a
 * one-line description. Pure.
 *
 * @example
 * ```ts
 * import { tableText } from "./text.ts";
 * console.log(tableText({ headers: ["class", "n"], rows: [["Bag", 12]] }));
 * ```
 *
 * @module
 */
import type { Chart } from "../charts.ts";
import { alignOf, type Cell, type Table } from "../tables.ts";

const cellText = (v: Cell) => typeof v === "object" ? "" : String(v);

/**
 * A table as aligned plain text (columns padded, a rule under the header);
 * picture cells are left blank.
 *
 * @example
 * ```ts
 * import { tableText } from "./text.ts";
 * console.log(tableText({ headers: ["class", "n"], rows: [["Bag", 12]] }));
 * // class   n
 * // -----  --
 * // Bag    12
 * ```
 */
export function tableText(t: Table): string {
  const cells = [t.headers, ...t.rows.map((r) => r.map(cellText))];
  const widths = t.headers.map((_, c) =>
    Math.max(...cells.map((r) => [...(r[c] ?? "")].length))
  );
  const pad = (v: string, c: number) => {
    const gap = " ".repeat(widths[c] - [...v].length);
    return alignOf(t, c) === "right" ? gap + v : v + gap;
  };
  const line = (r: string[]) => r.map(pad).join("  ").trimEnd();
  return [
    ...(t.caption ? [t.caption] : []),
    ...cells.slice(0, 1).map(line),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...cells.slice(1).map(line),
  ].join("\n");
}

/**
 * One line describing a chart: its title and, per series, the name and
 * number of points (bars, or rows of a heatmap).
 *
 * @example
 * ```ts
 * import { describeChart } from "./text.ts";
 * import { classBalanceChart } from "../charts.ts";
 * describeChart(classBalanceChart([3, 4], ["Bag", "Coat"])); // "Examples per class (count: 2 points)"
 * ```
 */
export function describeChart(chart: Chart): string {
  const series = chart.panels.flatMap((p) =>
    p.series.map((s) => {
      const n = s.kind === "line" ? s.y.length : s.values.length;
      return `${s.name}: ${n} point${n === 1 ? "" : "s"}`;
    })
  );
  return series.length > 0
    ? `${chart.title} (${series.join(", ")})`
    : chart.title;
}

/**
 * The plain text of a picture: its size and caption.
 *
 * @example
 * ```ts
 * import { imageText } from "./text.ts";
 * imageText(404, 404, "montage"); // "[image 404×404] montage"
 * ```
 */
export function imageText(
  width: number,
  height: number,
  caption: string,
): string {
  return `[image ${width}×${height}] ${caption}`;
}
