/**
 * The renderers of the display pipeline, one module per output form:
 * `mime.ts` (Jupyter MIME bundles), `html.ts`, `text.ts`, `plotly.ts`
 * (plotly figures), `vega.ts` (Vega-Lite specs) and `png.ts` (PNG files),
 * plus `plotly_source.ts` (plotly.js for the notebooks and pages). They
 * take definitions (`charts.ts`, `tables.ts`, the SVG pictures of
 * `image/`) and never decide what is shown.
 *
 * @example
 * ```ts
 * import { chartMime } from "./mod.ts";
 * import { historyChart } from "../charts.ts";
 * const out = chartMime(historyChart([]), { id: "history" });
 * ```
 *
 * @module
 */
export * from "./mime.ts";
export * from "./html.ts";
export * from "./text.ts";
export * from "./plotly.ts";
export * from "./vega.ts";
export * from "./png.ts";
export * from "./plotly_source.ts";
