/**
 * Renderer: a chart definition (`charts.ts`) as a plotly figure, the
 * interactive form the notebooks draw. Pure data in, pure data out; the
 * HTML around it is `html.ts`'s, the Jupyter MIME bundle `mime.ts`'s.
 *
 * @example
 * ```ts
 * import { plotlyFigure } from "./plotly.ts";
 * import { classBalanceChart } from "../charts.ts";
 * const fig = plotlyFigure(classBalanceChart([3, 4], ["Bag", "Coat"]));
 * console.log(fig.data[0].type); // "bar"
 * ```
 *
 * @module
 */
import { type Axis, type Chart, PALETTE, type Series } from "../charts.ts";

/**
 * One plotly trace (`{ type: "scatter", x: [...], y: [...], ... }`): plain
 * JSON-compatible data.
 *
 * @example
 * ```ts
 * import type { PlotlyTrace } from "./plotly.ts";
 * const t: PlotlyTrace = { type: "bar", x: ["a", "b"], y: [1, 2] };
 * ```
 */
export type PlotlyTrace = Record<string, unknown>;

/**
 * A plotly figure: what `Plotly.newPlot(div, figure.data, figure.layout)`
 * takes. Plain JSON-compatible data.
 *
 * @example
 * ```ts
 * import type { PlotlyFigure } from "./plotly.ts";
 * const fig: PlotlyFigure = { data: [], layout: { title: { text: "demo" } } };
 * ```
 */
export interface PlotlyFigure {
  data: PlotlyTrace[];
  layout: Record<string, unknown>;
}

function axisLayout(axis: Axis): Record<string, unknown> {
  return {
    title: { text: axis.title },
    ...(axis.range ? { range: axis.range } : {}),
    ...(axis.zero ? { rangemode: "tozero" } : {}),
    ...(axis.log ? { type: "log" } : {}),
    ...(axis.percent ? { tickformat: ".0%" } : {}),
    ...(axis.wholeTicks ? { dtick: 1 } : {}),
  };
}

/** The white or dark text that reads on a heatmap cell of `v` of `max`. */
function cellTextColor(v: number | null, max: number): string {
  return v !== null && v > max / 2 ? "white" : PALETTE.text;
}

function traces(
  s: Series,
  axis: string,
  x: Axis,
  y: Axis,
  seen: Set<string>,
): { traces: PlotlyTrace[]; annotations: unknown[] } {
  const axes = { xaxis: `x${axis}`, yaxis: `y${axis}` };
  if (s.kind === "line") {
    const first = !seen.has(s.name);
    seen.add(s.name);
    return {
      traces: [{
        type: "scatter",
        mode: s.markers === false ? "lines" : "lines+markers",
        name: s.name,
        x: s.x,
        y: s.y,
        ...axes,
        line: { color: s.color, dash: s.dashed ? "dash" : "solid" },
        marker: { color: s.color, size: 6 },
        legendgroup: s.group,
        showlegend: first,
      }],
      annotations: [],
    };
  }
  if (s.kind === "bar") {
    const [along, across] = s.horizontal ? ["y", "x"] : ["x", "y"];
    return {
      traces: [{
        type: "bar",
        name: s.name,
        ...(s.horizontal ? { orientation: "h" } : {}),
        [along]: s.categories,
        [across]: s.values,
        ...(s.labels ? { text: s.labels, textposition: "auto" } : {}),
        ...axes,
        marker: { color: s.color },
      }],
      annotations: [],
    };
  }
  const max = Math.max(1, ...s.values.flat().filter((v) => v !== null));
  return {
    traces: [{
      type: "heatmap",
      name: s.name,
      z: s.values,
      x: s.columns,
      y: s.rows,
      ...axes,
      colorscale: PALETTE.heat.map((
        c,
        i,
      ) => [i / (PALETTE.heat.length - 1), c]),
      hovertemplate:
        `${y.title} %{y}<br>${x.title} %{x}<br>${s.name} %{z}<extra></extra>`,
    }],
    annotations: s.values.flatMap((row, i) =>
      row.map((v, j) => ({
        x: s.columns[j],
        y: s.rows[i],
        xref: `x${axis}`,
        yref: `y${axis}`,
        text: v === null ? "" : String(v),
        showarrow: false,
        font: { color: cellTextColor(v, max), size: 11 },
      }))
    ),
  };
}

/**
 * The plotly figure of a chart: one subplot per panel side by side,
 * one trace per series (lines as `scatter`, dashed where the series is;
 * bars; a heatmap with each cell's value as an annotation, white on dark
 * cells), every colour from the chart.
 *
 * @example
 * ```ts
 * import { plotlyFigure } from "./plotly.ts";
 * import { historyChart } from "../charts.ts";
 * const fig = plotlyFigure(historyChart([]));
 * console.log(fig.layout.xaxis2 !== undefined); // true: two panels
 * ```
 */
export function plotlyFigure(chart: Chart): PlotlyFigure {
  const data: PlotlyTrace[] = [];
  const annotations: unknown[] = [];
  const layout: Record<string, unknown> = { title: { text: chart.title } };
  const seen = new Set<string>();
  chart.panels.forEach((panel, i) => {
    const axis = i === 0 ? "" : String(i + 1);
    const x = axisLayout(panel.x);
    const y = axisLayout(panel.y);
    for (const s of panel.series) {
      const t = traces(s, axis, panel.x, panel.y, seen);
      data.push(...t.traces);
      annotations.push(...t.annotations);
      if (s.kind === "heatmap") {
        x.side = "bottom";
        y.autorange = "reversed";
      }
      if (s.kind === "bar" && s.horizontal) y.autorange = "reversed";
      if (s.kind === "bar" && s.touching) layout.bargap = 0;
      if (s.kind === "line") layout.hovermode = "x unified";
    }
    layout[`xaxis${axis}`] = x;
    layout[`yaxis${axis}`] = y;
  });
  if (chart.panels.length > 1) {
    layout.grid = {
      rows: 1,
      columns: chart.panels.length,
      pattern: "independent",
    };
  }
  if (annotations.length > 0) layout.annotations = annotations;
  return { data, layout };
}
