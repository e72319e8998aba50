import assert from "node:assert/strict";
import {
  type Chart,
  classBalanceChart,
  confusionChart,
  historyChart,
  liveTrainingChart,
  PALETTE,
  pct,
  perClassAccuracyChart,
  pixelHistogramChart,
  topKChart,
} from "../lib/charts.ts";
import { chartPage, escapeHtml, scriptSafe } from "../lib/render/html.ts";
import { plotlyFigure } from "../lib/render/plotly.ts";
import { vegaLiteSpec } from "../lib/render/vega.ts";
import { describeChart } from "../lib/render/text.ts";
import type { EpochRecord } from "../lib/types.ts";

const NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat"];

// Vega-Lite layers, read as loosely typed JSON.
// deno-lint-ignore no-explicit-any
type Layer = Record<string, any>;

// The plotly figures the notebooks draw, of each chart definition.
const historyFigure = (h: EpochRecord[]) => plotlyFigure(historyChart(h));
const confusionFigure = (m: number[][], names: string[]) =>
  plotlyFigure(confusionChart(m, names));
const perClassAccuracyFigure = (acc: number[], names: string[]) =>
  plotlyFigure(perClassAccuracyChart(acc, names));
const classBalanceFigure = (counts: number[], names: string[]) =>
  plotlyFigure(classBalanceChart(counts, names));
const topKFigure = (p: number[], names: string[], k?: number) =>
  plotlyFigure(topKChart(p, names, k));
const pixelHistogramFigure = (h: number[]) =>
  plotlyFigure(pixelHistogramChart(h));

function history(epochs: number, withVal = true): EpochRecord[] {
  return Array.from({ length: epochs }, (_, i) => ({
    epoch: i + 1,
    loss: 1 / (i + 1),
    accuracy: 1 - 0.5 / (i + 1),
    val_loss: withVal ? 1.1 / (i + 1) : NaN,
    val_accuracy: withVal ? 1 - 0.6 / (i + 1) : NaN,
    lr: 0.01,
    seconds: 10,
    images_per_second: 100,
    images_seen: 1000 * (i + 1),
    wall_seconds: 10 * (i + 1),
  }));
}

Deno.test("historyFigure: four traces on two subplots, x = epochs", () => {
  const h = history(5);
  const fig = historyFigure(h);
  assert.equal(fig.data.length, 4);
  assert.deepEqual(
    fig.data.map((t) => t.name),
    ["loss", "val_loss", "accuracy", "val_accuracy"],
  );
  for (const t of fig.data) {
    assert.deepEqual(t.x, [1, 2, 3, 4, 5]);
    assert.equal(t.type, "scatter");
  }
  assert.deepEqual(fig.data[0].y, h.map((r) => r.loss));
  assert.deepEqual(fig.data[3].y, h.map((r) => r.val_accuracy));
  assert.deepEqual(fig.data.map((t) => t.yaxis), ["y", "y", "y2", "y2"]);
  assert.deepEqual(fig.data.map((t) => t.xaxis), ["x", "x", "x2", "x2"]);
  assert.ok(fig.layout.xaxis2 && fig.layout.yaxis2);
  // Plain data: survives JSON.
  assert.deepEqual(JSON.parse(JSON.stringify(fig.data)), fig.data);
});

Deno.test("historyFigure: no validation means two traces; NaN becomes null", () => {
  const fig = historyFigure(history(3, false));
  assert.deepEqual(fig.data.map((t) => t.name), ["loss", "accuracy"]);
  const partial = history(3);
  partial[1].val_loss = NaN;
  const fig2 = historyFigure(partial);
  assert.equal(fig2.data.length, 4);
  assert.deepEqual(fig2.data[1].y, [1.1, null, 1.1 / 3]);
});

Deno.test("confusionFigure: z is the matrix, counts annotated, y reversed", () => {
  const m = [
    [50, 2, 0, 1, 0],
    [0, 55, 0, 0, 0],
    [3, 0, 40, 0, 9],
    [1, 1, 0, 48, 2],
    [0, 0, 7, 3, 41],
  ];
  const fig = confusionFigure(m, NAMES);
  assert.equal(fig.data.length, 1);
  const trace = fig.data[0];
  assert.equal(trace.type, "heatmap");
  assert.deepEqual(trace.z, m);
  assert.deepEqual(trace.x, NAMES);
  assert.deepEqual(trace.y, NAMES);
  const yaxis = fig.layout.yaxis as Record<string, unknown>;
  assert.equal(yaxis.autorange, "reversed");
  const notes = fig.layout.annotations as Array<
    { x: string; y: string; text: string }
  >;
  assert.equal(notes.length, 25);
  const cell = notes.find((a) => a.y === "Pullover" && a.x === "Coat");
  assert.equal(cell?.text, "9");
  assert.throws(() => confusionFigure([[1, 2], [3, 4]], NAMES), RangeError);
});

Deno.test("perClassAccuracyFigure and classBalanceFigure are bars of the input", () => {
  const acc = [0.9, 0.99, 0.85, 0.91, 0.8];
  const a = perClassAccuracyFigure(acc, NAMES);
  assert.equal(a.data.length, 1);
  assert.equal(a.data[0].type, "bar");
  assert.deepEqual(a.data[0].x, NAMES);
  assert.deepEqual(a.data[0].y, acc);
  assert.deepEqual(a.data[0].text, [
    "90.0%",
    "99.0%",
    "85.0%",
    "91.0%",
    "80.0%",
  ]);
  const counts = [6000, 5999, 6001, 6000, 6000];
  const b = classBalanceFigure(counts, NAMES);
  assert.equal(b.data[0].type, "bar");
  assert.deepEqual(b.data[0].x, NAMES);
  assert.deepEqual(b.data[0].y, counts);
  assert.throws(() => perClassAccuracyFigure([0.5], NAMES), RangeError);
  assert.throws(() => classBalanceFigure([1, 2], NAMES), RangeError);
});

Deno.test("topKFigure picks the k most probable classes in order", () => {
  const p = [0.05, 0.5, 0.1, 0.3, 0.05];
  const fig = topKFigure(p, NAMES);
  const t = fig.data[0];
  assert.equal(t.type, "bar");
  assert.equal(t.orientation, "h");
  assert.deepEqual(t.y, ["Trouser", "Dress", "Pullover"]);
  assert.deepEqual(t.x, [0.5, 0.3, 0.1]);
  assert.deepEqual(topKFigure(p, NAMES, 1).data[0].y, ["Trouser"]);
  // Ties keep class order; k is capped at the number of classes.
  assert.deepEqual(topKFigure(p, NAMES, 99).data[0].y, [
    "Trouser",
    "Dress",
    "Pullover",
    "T-shirt/top",
    "Coat",
  ]);
  // Largest at the top of a horizontal bar chart.
  const yaxis = fig.layout.yaxis as Record<string, unknown>;
  assert.equal(yaxis.autorange, "reversed");
});

Deno.test("chartPage embeds the source inline and loads nothing remote", () => {
  const charts: Chart[] = [
    historyChart(history(3)),
    classBalanceChart([1, 2, 3, 4, 5], NAMES),
  ];
  const source =
    "window.Plotly = { newPlot: function () {} }; // FAKE-PLOTLY-7f3a";
  const html = chartPage(charts, source, "Run <1> & co");
  assert.match(html, /^<!DOCTYPE html>/);
  assert.ok(html.includes(source), "source embedded verbatim");
  assert.ok(html.includes("<title>Run &lt;1&gt; &amp; co</title>"));
  assert.doesNotMatch(html, /<script[^>]*\ssrc\s*=/i);
  assert.doesNotMatch(html, /src\s*=\s*["']?https?:\/\//i);
  assert.doesNotMatch(html, /<link[^>]*href\s*=\s*["']?https?:/i);
  // One div per figure, and the figure data parses back.
  assert.equal(html.match(/<div class="figure" id="figure-\d+">/g)?.length, 2);
  const json = html.match(/var figures = (.*);\n/)?.[1];
  assert.ok(json);
  assert.deepEqual(
    JSON.parse(json),
    JSON.parse(JSON.stringify(charts.map(plotlyFigure))),
  );
});

Deno.test("chartPage keeps a </script> inside the source from closing the element", () => {
  const source = 'var s = "</script><script>alert(1)</script>"; /* <!-- */';
  const html = chartPage([], source, "t");
  // Exactly the page's own two script elements.
  assert.equal(html.match(/<script>/g)?.length, 2);
  assert.equal(html.match(/<\/script>/gi)?.length, 2);
  assert.ok(!html.includes("<!--"));
  assert.ok(
    html.includes('var s = "\\x3C/script>\\x3Cscript>alert(1)\\x3C/script>"'),
  );
});

Deno.test("pixelHistogramFigure: one bar per value, log scale", () => {
  const h = new Array(256).fill(0);
  h[0] = 100;
  h[255] = 3;
  const fig = pixelHistogramFigure(h);
  assert.equal(fig.data.length, 1);
  assert.equal((fig.data[0].x as number[]).length, 256);
  assert.deepEqual((fig.data[0].y as number[])[255], 3);
  assert.equal((fig.layout.yaxis as { type: string }).type, "log");
  assert.throws(() => pixelHistogramFigure([1, 2]), RangeError);
});

Deno.test("liveTrainingChart: running curves over fractional epochs, validation per epoch", () => {
  const points = [
    { x: 0.5, loss: 1.5, accuracy: 0.5 },
    { x: 1, loss: 1, accuracy: 0.7 },
  ];
  const fig = plotlyFigure(
    liveTrainingChart(points, history(1), 3, "Training: epoch 1/3"),
  );
  assert.deepEqual(fig.data.map((t) => t.name), [
    "loss",
    "val_loss",
    "accuracy",
    "val_accuracy",
  ]);
  assert.deepEqual(fig.data[0].x, [0.5, 1]);
  assert.deepEqual(fig.data[2].y, [0.5, 0.7]);
  assert.deepEqual(fig.data[1].x, [1]);
  assert.deepEqual(fig.data[3].y, [1 - 0.6]);
  assert.deepEqual((fig.layout.xaxis as { range: number[] }).range, [0, 3]);
  assert.deepEqual(fig.layout.title, { text: "Training: epoch 1/3" });
  // Before anything happened: still four (empty) traces to update later.
  const empty = plotlyFigure(liveTrainingChart([], [], 25));
  assert.equal(empty.data.length, 4);
  assert.ok(empty.data.every((t) => (t.x as unknown[]).length === 0));
});

Deno.test("escapeHtml and scriptSafe make text safe for HTML and scripts", () => {
  assert.equal(
    escapeHtml(`<a href="x">'&'</a>`),
    "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;",
  );
  assert.equal(
    scriptSafe('a = "</script>"; b = "<!--";'),
    'a = "\\x3C/script>"; b = "\\x3C!--";',
  );
});

Deno.test("every colour comes from the one palette: training solid, validation dashed", () => {
  const fig = historyFigure(history(2));
  const lines = fig.data.map((t) => t.line as { color: string; dash: string });
  assert.deepEqual(lines.map((l) => l.color), [
    "#1f77b4",
    "#ff7f0e",
    "#1f77b4",
    "#ff7f0e",
  ]);
  assert.deepEqual(lines.map((l) => l.dash), [
    "solid",
    "dash",
    "solid",
    "dash",
  ]);
  assert.equal(PALETTE.train, "#1f77b4");
  // The confusion matrix: white text on the cells above half the largest
  // count (55): 50, 55, 40, 48 and 41.
  const m = [
    [50, 2, 0, 1, 0],
    [0, 55, 0, 0, 0],
    [3, 0, 40, 0, 9],
    [1, 1, 0, 48, 2],
    [0, 0, 7, 3, 41],
  ];
  const notes = confusionFigure(m, NAMES).layout.annotations as Array<
    { font: { color: string } }
  >;
  assert.equal(notes.filter((n) => n.font.color === "white").length, 5);
});

Deno.test("vegaLiteSpec: the history as two panels with titled axes, a legend of train and validation, gaps left out", () => {
  const h = history(3);
  h[1].val_loss = NaN;
  const spec = vegaLiteSpec(historyChart(h), { width: 200, height: 100 });
  assert.deepEqual(spec.title, { text: "Training history", anchor: "middle" });
  const panels = spec.hconcat as Array<
    { width: number; layer: Array<Layer> }
  >;
  assert.equal(panels.length, 2);
  assert.equal(panels[0].width, 200);
  const line = panels[0].layer[0];
  assert.equal(line.mark.type, "line");
  assert.equal(line.encoding.x.title, "epoch");
  assert.equal(line.encoding.y.title, "loss");
  assert.equal(panels[1].layer[0].encoding.y.title, "accuracy");
  assert.deepEqual(line.encoding.color.scale, {
    domain: ["train", "validation"],
    range: ["#1f77b4", "#ff7f0e"],
  });
  assert.deepEqual(line.encoding.strokeDash.scale.range, [[1, 0], [6, 4]]);
  // 3 loss points and 2 val_loss points: the NaN one is a gap.
  const rows = line.data.values as Array<{ series: string; y: number }>;
  assert.deepEqual(rows.map((r) => r.series), [
    "loss",
    "loss",
    "loss",
    "val_loss",
    "val_loss",
  ]);
  assert.deepEqual(rows.map((r) => r.y), [1, 0.5, 1 / 3, 1.1, 1.1 / 3]);
});

Deno.test("vegaLiteSpec: bars keep their order and labels; the heatmap inks dark cells white", () => {
  const bars = vegaLiteSpec(perClassAccuracyChart([0.5, 0.25], ["B", "A"]));
  const layer = (bars.hconcat as Array<{ layer: Array<Layer> }>)[
    0
  ].layer;
  assert.equal(layer[0].encoding.x.sort, null);
  assert.deepEqual(
    layer[1].data.values.map((r: { label: string }) => r.label),
    [
      "50.0%",
      "25.0%",
    ],
  );
  assert.equal(layer[0].encoding.y.axis.format, ".0%");
  const heat = vegaLiteSpec(confusionChart([[9, 1], [4, 6]], ["a", "b"]));
  const cells = (heat.hconcat as Array<{ layer: Array<Layer> }>)[
    0
  ].layer[1].data.values as Array<{ value: number; ink: string }>;
  // Half of the largest count (9) is 4.5: 9 and 6 are white, 1 and 4 dark.
  assert.deepEqual(cells.map((c) => c.ink === "white"), [
    true,
    false,
    false,
    true,
  ]);
});

Deno.test("pct and describeChart", () => {
  assert.equal(pct(0.5), "50.0%");
  assert.equal(pct(0.03125, 2), "3.13%");
  assert.equal(
    describeChart(classBalanceChart([3, 4, 5], ["a", "b", "c"])),
    "Examples per class (count: 3 points)",
  );
  assert.equal(
    describeChart(historyChart(history(2, false))),
    "Training history (loss: 2 points, accuracy: 2 points)",
  );
});
