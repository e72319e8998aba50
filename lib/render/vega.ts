/**
 * Renderer: a chart definition (`charts.ts`) as a Vega-Lite spec, the
 * static form `png.ts` draws for files such as a run's `plot.png`. Pure
 * data in, pure data out; the same definition the notebooks draw with
 * plotly (`plotly.ts`), so both pictures show the same thing.
 *
 * @example
 * ```ts
 * import { vegaLiteSpec } from "./vega.ts";
 * import { historyChart } from "../charts.ts";
 * const spec = vegaLiteSpec(historyChart([]));
 * console.log(spec.title); // "Training history"
 * ```
 *
 * @module
 */
import {
  type Axis,
  type BarSeries,
  type Chart,
  type HeatmapSeries,
  type LineSeries,
  PALETTE,
  type Panel,
} from "../charts.ts";

/**
 * A Vega-Lite specification (JSON), as `vega-lite`'s `compile` takes it.
 *
 * @example
 * ```ts
 * import type { VegaLiteSpec } from "./vega.ts";
 * const spec: VegaLiteSpec = { mark: "point", data: { values: [] } };
 * ```
 */
export type VegaLiteSpec = Record<string, unknown>;

/**
 * Size of one panel's plot area, in CSS pixels.
 *
 * @example
 * ```ts
 * import type { PanelSize } from "./vega.ts";
 * const size: PanelSize = { width: 380, height: 260 };
 * ```
 */
export interface PanelSize {
  width: number;
  height: number;
}

/**
 * The font every static chart is drawn in (shipped with the project, see
 * `png.ts`).
 *
 * @example
 * ```ts
 * import { CHART_FONT } from "./vega.ts";
 * console.log(CHART_FONT); // "DejaVu Sans"
 * ```
 */
export const CHART_FONT = "DejaVu Sans";

function scale(axis: Axis): Record<string, unknown> {
  return {
    ...(axis.log ? { type: "log" } : { zero: axis.zero ?? false }),
    ...(axis.range ? { domain: axis.range, nice: false } : {}),
  };
}

function quantitative(
  field: string,
  axis: Axis,
): Record<string, unknown> {
  return {
    field,
    type: "quantitative",
    title: axis.title,
    scale: scale(axis),
    axis: {
      ...(axis.percent ? { format: ".0%" } : {}),
      ...(axis.wholeTicks ? { tickMinStep: 1, format: "d" } : {}),
    },
  };
}

function nominal(field: string, axis: Axis): Record<string, unknown> {
  return { field, type: "nominal", title: axis.title, sort: null };
}

function linesLayers(panel: Panel, lines: LineSeries[]): VegaLiteSpec[] {
  const groups = [...new Map(lines.map((s) => [s.group, s])).values()];
  const rows = lines.flatMap((s) =>
    s.x.flatMap((x, i) =>
      s.y[i] === null || s.y[i] === undefined ? [] : [{
        x,
        y: s.y[i],
        series: s.name,
        group: s.group,
        markers: s.markers !== false,
      }]
    )
  );
  const color = {
    field: "group",
    type: "nominal",
    title: null,
    scale: {
      domain: groups.map((g) => g.group),
      range: groups.map((g) => g.color),
    },
  };
  const encoding = {
    x: quantitative("x", panel.x),
    y: quantitative("y", panel.y),
    color,
  };
  return [
    {
      data: { values: rows },
      mark: { type: "line", strokeWidth: 2 },
      encoding: {
        ...encoding,
        detail: { field: "series", type: "nominal" },
        strokeDash: {
          field: "group",
          type: "nominal",
          title: null,
          scale: {
            domain: groups.map((g) => g.group),
            range: groups.map((g) => g.dashed ? [6, 4] : [1, 0]),
          },
        },
      },
    },
    {
      data: { values: rows },
      transform: [{ filter: "datum.markers" }],
      mark: { type: "point", filled: true, size: 30, opacity: 1 },
      encoding,
    },
  ];
}

function barLayers(panel: Panel, s: BarSeries): VegaLiteSpec[] {
  const rows = s.categories.map((category, i) => ({
    category,
    end: typeof category === "number" ? category + 1 : null,
    value: s.values[i],
    label: s.labels?.[i] ?? "",
  }));
  const [catAxis, valAxis] = s.horizontal
    ? [panel.y, panel.x]
    : [panel.x, panel.y];
  const [catChannel, valChannel] = s.horizontal ? ["y", "x"] : ["x", "y"];
  const category = s.touching
    ? quantitative("category", catAxis)
    : nominal("category", catAxis);
  const encoding: Record<string, unknown> = {
    [catChannel]: category,
    ...(s.touching ? { [`${catChannel}2`]: { field: "end" } } : {}),
    [valChannel]: quantitative("value", { zero: !valAxis.log, ...valAxis }),
    // On a log scale, bars rise from 1 (there is no zero).
    ...(valAxis.log ? { [`${valChannel}2`]: { datum: 1 } } : {}),
  };
  const layers: VegaLiteSpec[] = [{
    data: { values: rows },
    mark: { type: "bar", color: s.color },
    encoding,
  }];
  if (s.labels) {
    layers.push({
      data: { values: rows },
      mark: s.horizontal
        ? { type: "text", align: "left", dx: 4, color: PALETTE.text }
        : { type: "text", baseline: "bottom", dy: -3, color: PALETTE.text },
      encoding: { ...encoding, text: { field: "label" } },
    });
  }
  return layers;
}

function heatmapLayers(panel: Panel, s: HeatmapSeries): VegaLiteSpec[] {
  const max = Math.max(1, ...s.values.flat().filter((v) => v !== null));
  const rows = s.values.flatMap((row, i) =>
    row.map((value, j) => ({
      row: s.rows[i],
      column: s.columns[j],
      value,
      ink: value !== null && value > max / 2 ? "white" : PALETTE.text,
    }))
  );
  const encoding = {
    x: { ...nominal("column", panel.x), axis: { orient: "bottom" } },
    y: nominal("row", panel.y),
  };
  return [
    {
      data: { values: rows },
      mark: "rect",
      encoding: {
        ...encoding,
        color: {
          field: "value",
          type: "quantitative",
          title: s.name,
          scale: { range: [...PALETTE.heat] },
        },
      },
    },
    {
      data: { values: rows },
      mark: { type: "text", fontSize: 10 },
      encoding: {
        ...encoding,
        text: { field: "value" },
        // Each cell's ink, as a condition: a colour field here would share
        // the rectangles' colour scale.
        color: {
          condition: { test: "datum.ink === 'white'", value: "white" },
          value: PALETTE.text,
        },
      },
    },
  ];
}

function panelSpec(panel: Panel, size: PanelSize): VegaLiteSpec {
  const lines = panel.series.filter((s): s is LineSeries => s.kind === "line");
  const layer = [
    ...(lines.length > 0 ? linesLayers(panel, lines) : []),
    ...panel.series.flatMap((s) =>
      s.kind === "bar"
        ? barLayers(panel, s)
        : s.kind === "heatmap"
        ? heatmapLayers(panel, s)
        : []
    ),
  ];
  return { width: size.width, height: size.height, layer };
}

/**
 * The Vega-Lite spec of a chart: its title over the panels side by side
 * (each with its axis titles and ticks), lines with a shared legend of
 * their groups (colour and dash), bars with their labels, a heatmap with
 * each cell's value (white on dark cells); every colour from the chart,
 * text in {@link CHART_FONT} on white.
 *
 * @example
 * ```ts
 * import { vegaLiteSpec } from "./vega.ts";
 * import { topKChart } from "../charts.ts";
 * const spec = vegaLiteSpec(topKChart([0.2, 0.8], ["Bag", "Coat"]), { width: 300, height: 120 });
 * console.log(Array.isArray(spec.hconcat)); // true
 * ```
 */
export function vegaLiteSpec(
  chart: Chart,
  size: PanelSize = { width: 380, height: 260 },
): VegaLiteSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: chart.title, anchor: "middle" },
    background: "white",
    padding: 12,
    hconcat: chart.panels.map((p) => panelSpec(p, size)),
    resolve: { scale: { color: "shared", strokeDash: "shared" } },
    config: {
      font: CHART_FONT,
      title: { fontSize: 16, fontWeight: "normal", color: PALETTE.text },
      axis: {
        labelFontSize: 11,
        titleFontSize: 12,
        titleFontWeight: "normal",
        labelColor: PALETTE.text,
        titleColor: PALETTE.text,
        gridColor: "#e6e6e6",
      },
      legend: {
        labelFontSize: 12,
        labelColor: PALETTE.text,
        symbolStrokeWidth: 2,
        symbolType: "stroke",
        symbolSize: 300,
      },
      view: { stroke: "#bbbbbb" },
    },
  };
}
