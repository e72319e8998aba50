import assert from "node:assert/strict";
import {
  classBalanceFigure,
  confusionFigure,
  escapeHtml,
  figureHtml,
  historyFigure,
  liveTrainingFigure,
  perClassAccuracyFigure,
  pixelHistogramFigure,
  type PlotlyFigure,
  scriptSafe,
  topKFigure,
} from "../lib/plots.ts";
import type { EpochRecord } from "../lib/types.ts";

const NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat"];

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

Deno.test("figureHtml embeds the source inline and loads nothing remote", () => {
  const figures: PlotlyFigure[] = [
    historyFigure(history(3)),
    classBalanceFigure([1, 2, 3, 4, 5], NAMES),
  ];
  const source =
    "window.Plotly = { newPlot: function () {} }; // FAKE-PLOTLY-7f3a";
  const html = figureHtml(figures, source, "Run <1> & co");
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
  assert.deepEqual(JSON.parse(json), JSON.parse(JSON.stringify(figures)));
});

Deno.test("figureHtml keeps a </script> inside the source from closing the element", () => {
  const source = 'var s = "</script><script>alert(1)</script>"; /* <!-- */';
  const html = figureHtml([], source, "t");
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

Deno.test("liveTrainingFigure: running curves over fractional epochs, validation per epoch", () => {
  const points = [
    { x: 0.5, loss: 1.5, accuracy: 0.5 },
    { x: 1, loss: 1, accuracy: 0.7 },
  ];
  const fig = liveTrainingFigure(points, history(1), 3, "Training: epoch 1/3");
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
  const empty = liveTrainingFigure([], [], 25);
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
