/**
 * Jupyter display bundles as plain data: a MIME bundle maps MIME types to
 * content (`{"text/plain": "...", "text/html": "...", ...}`), the form a
 * Jupyter frontend picks its richest known type from. Every function here
 * is pure; `jupyter.ts` sends the bundles.
 *
 * Charts carry three forms: the plotly MIME type
 * (`application/vnd.plotly.v1+json`, drawn natively by JupyterLab with
 * plotly support and by VS Code), `text/html` that loads plotly.js from a
 * file next to the notebook ({@link PLOTLY_SRC}: small outputs, never a
 * CDN) and draws, and `text/plain`.
 *
 * @example
 * ```ts
 * import { figureBundle, reportBundle } from "./display.ts";
 * import { classBalanceFigure } from "./plots.ts";
 * const chart = figureBundle(classBalanceFigure([3, 4], ["Bag", "Coat"]), { id: "balance" });
 * console.log(Object.keys(chart)); // ["application/vnd.plotly.v1+json", "text/html", "text/plain"]
 * ```
 *
 * @module
 */
import type { LayerRow } from "./model.ts";
import { formatReport, type Mistake } from "./metrics.ts";
import { escapeHtml, type PlotlyFigure, scriptSafe } from "./plots.ts";
import { encodePng } from "./image/png.ts";
import { fitRgba, grayToRgba } from "./image/resize.ts";
import type { Report, RgbaImage } from "./types.ts";

/**
 * A Jupyter MIME bundle: MIME type → content (strings, or JSON objects for
 * `+json` types).
 *
 * @example
 * ```ts
 * import type { MediaBundle } from "./display.ts";
 * const b: MediaBundle = { "text/plain": "hello", "text/html": "<b>hello</b>" };
 * ```
 */
export type MediaBundle = Record<string, string | object>;

/**
 * The plotly MIME type.
 *
 * @example
 * ```ts
 * import { PLOTLY_MIME } from "./display.ts";
 * console.log(PLOTLY_MIME); // "application/vnd.plotly.v1+json"
 * ```
 */
export const PLOTLY_MIME = "application/vnd.plotly.v1+json";

/**
 * Where a chart's HTML looks for plotly.js, relative to the notebook's
 * folder (the kernel's working folder): the kernel writes the file there
 * (`ensurePlotlyAsset` in `image/plotly_source.ts`) and the Jupyter server
 * serves it, so no output carries the 4.8 MB library. The version is the
 * pinned `plotly.js-dist-min`'s (a test checks they agree).
 *
 * @example
 * ```ts
 * import { PLOTLY_SRC } from "./display.ts";
 * console.log(PLOTLY_SRC); // "_static/plotly-4.1.2.min.js"
 * ```
 */
export const PLOTLY_SRC = "_static/plotly-4.1.2.min.js";

/**
 * A `<script>` that defines plotly.js (`window.Plotly`) from its source,
 * for a standalone page (the notebooks' exported HTML): put it in the
 * `<head>` and every chart draws at once, with nothing fetched. `module`,
 * `exports` and `define` are hidden from the library so it installs itself
 * as a global whatever module loader the page has.
 *
 * @example
 * ```ts
 * import { plotlyPageScript } from "./display.ts";
 * import { plotlyJsSource } from "./image/plotly_source.ts";
 * const head = plotlyPageScript(await plotlyJsSource());
 * ```
 */
export function plotlyPageScript(plotlyJs: string): string {
  return `<script>
(function (define, module, exports) {
${scriptSafe(plotlyJs)}
}).call(window);
</script>`;
}

/**
 * The browser side of a chart: finds its `<div>` (through the script
 * element where the front end runs scripts in place, as JupyterLab does,
 * else by id, as the classic Notebook needs), gets plotly.js once per page
 * and draws. plotly.js is looked for, in order: already on the page; at the
 * address JupyterLab resolves the marker's `src` to (it rewrites relative
 * `src` attributes of outputs into the notebook folder's `/files/` URL);
 * next to the notebook by the classic Notebook's page data; relative to the
 * page. It is fetched and run with `define`/`module` hidden, so a page's
 * RequireJS cannot capture it. Failing all, the `<div>` says why.
 */
const CHART_SCRIPT = `
  var script = document.currentScript;
  var host = script && script.parentNode && script.parentNode.querySelector ? script.parentNode : null;
  var div = null;
  var mine = host ? host.querySelectorAll("div.fmnist-chart") : [];
  for (var i = 0; i < mine.length; i++) {
    if (mine[i].getAttribute("data-fmnist-chart") === id) div = mine[i];
  }
  div = div || document.getElementById(id);
  if (!div) return;
  var marker = div.parentNode && div.parentNode.querySelector("span.fmnist-plotly-src");
  function say(text) { div.textContent = text; }
  function draw() {
    var started = Date.now();
    (function attached() {
      if (!div.isConnected) {
        if (Date.now() - started < 60000) setTimeout(attached, 50);
        return;
      }
      div.textContent = "";
      window.Plotly.newPlot(div, figure.data, figure.layout, { responsive: true, displaylogo: false });
    })();
  }
  if (window.Plotly) { draw(); return; }
  function classicUrl() {
    var body = document.body;
    var path = body && body.getAttribute("data-notebook-path");
    if (path === null || path === undefined) return null;
    var base = body.getAttribute("data-base-url") || "/";
    var parts = path.split("/").slice(0, -1).concat(src.split("/"));
    return base + "files/" + parts.filter(Boolean).map(encodeURIComponent).join("/");
  }
  function resolvedUrl(wait) {
    return new Promise(function (done) {
      var started = Date.now();
      (function check() {
        var at = marker && marker.getAttribute("src");
        if (at && at !== src) return done(at);
        if (Date.now() - started >= wait) return done(null);
        setTimeout(check, 25);
      })();
    });
  }
  function candidates() {
    var classic = classicUrl();
    return resolvedUrl(classic ? 0 : 1500).then(function (lab) {
      var urls = [];
      if (lab) urls.push(lab);
      if (classic) urls.push(classic);
      urls.push(new URL(src, document.baseURI).href);
      return urls;
    });
  }
  function fetchFirst(urls, tried) {
    if (urls.length === 0) return Promise.reject(new Error(tried.join("; ")));
    var url = urls[0];
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error(url + ": HTTP " + r.status);
      return r.text();
    }).then(function (code) {
      new Function("define", "module", "exports", code).call(window);
      if (!window.Plotly) throw new Error(url + ": not plotly.js");
    }).catch(function (e) {
      return fetchFirst(urls.slice(1), tried.concat([String(e && e.message || e)]));
    });
  }
  if (!window.__fmnistPlotly) {
    window.__fmnistPlotly = candidates().then(function (urls) { return fetchFirst(urls, []); });
    window.__fmnistPlotly.catch(function () { window.__fmnistPlotly = null; });
  }
  window.__fmnistPlotly.then(draw, function (e) {
    say("Chart not drawn: plotly.js did not load from " + src + " next to this notebook (" + e.message + "). The library writes that file when it shows a chart: run this cell again.");
  });`;

/**
 * The HTML of one chart: a `<div>` of the given height, a marker naming
 * where plotly.js is ({@link PLOTLY_SRC}), and a script that draws `figure`
 * into the `<div>` with `Plotly.newPlot` once plotly.js is loaded. Until
 * then the `<div>` says what it waits for.
 *
 * @example
 * ```ts
 * import { figureHtmlFragment } from "./display.ts";
 * const html = figureHtmlFragment({ data: [], layout: {} }, "chart-1");
 * ```
 */
export function figureHtmlFragment(
  figure: PlotlyFigure,
  id: string,
  height = 440,
  src: string = PLOTLY_SRC,
): string {
  const safeId = escapeHtml(id);
  // JSON with "<" escaped cannot close the script element.
  const json = (v: unknown) => JSON.stringify(v).replace(/</g, "\\u003c");
  return `<div class="fmnist-chart" id="${safeId}" data-fmnist-chart="${safeId}" style="width: 100%; max-width: 1000px; height: ${height}px;">Drawing the chart… (it needs plotly.js, from ${
    escapeHtml(src)
  } next to this notebook)</div>
<span class="fmnist-plotly-src" hidden src="${escapeHtml(src)}"></span>
<script>
(function (figure, id, src) {${CHART_SCRIPT}
})(${json(figure)}, ${json(id)}, ${json(src)});
</script>`;
}

/**
 * One line describing a figure for `text/plain`: its title and, per trace,
 * the name and number of points.
 *
 * @example
 * ```ts
 * import { describeFigure } from "./display.ts";
 * describeFigure({ data: [{ name: "loss", x: [1, 2], y: [1, 0.5] }], layout: { title: { text: "History" } } });
 * // "History (loss: 2 points)"
 * ```
 */
export function describeFigure(figure: PlotlyFigure): string {
  const title = (figure.layout.title as { text?: string } | undefined)?.text ??
    "Chart";
  const traces = figure.data.map((t, i) => {
    const n = Array.isArray(t.y)
      ? t.y.length
      : Array.isArray(t.z)
      ? t.z.length
      : 0;
    return `${
      typeof t.name === "string" ? t.name : `trace ${i + 1}`
    }: ${n} point${n === 1 ? "" : "s"}`;
  });
  return traces.length > 0 ? `${title} (${traces.join(", ")})` : title;
}

/**
 * The display bundle of a chart: plotly JSON, HTML that loads plotly.js
 * from {@link PLOTLY_SRC} and draws (see {@link figureHtmlFragment}), and
 * plain text (`plain`, or {@link describeFigure}).
 *
 * @example
 * ```ts
 * import { figureBundle } from "./display.ts";
 * import { topKFigure } from "./plots.ts";
 * const b = figureBundle(topKFigure([0.1, 0.9], ["Bag", "Coat"], 2), { id: "top" });
 * ```
 */
export function figureBundle(
  figure: PlotlyFigure,
  options: { id: string; plain?: string; height?: number },
): MediaBundle {
  return {
    [PLOTLY_MIME]: figure,
    "text/html": figureHtmlFragment(figure, options.id, options.height),
    "text/plain": options.plain ?? describeFigure(figure),
  };
}

/**
 * How a table column is aligned.
 *
 * @example
 * ```ts
 * import type { Align } from "./display.ts";
 * const align: Align[] = ["left", "right"];
 * ```
 */
export type Align = "left" | "right";

/**
 * Table contents: a header row and body rows of cells (strings or
 * numbers), with an optional caption and per-column alignment (default:
 * numbers right, text left).
 *
 * @example
 * ```ts
 * import type { Table } from "./display.ts";
 * const t: Table = { headers: ["class", "count"], rows: [["Bag", 6000]] };
 * ```
 */
export interface Table {
  headers: string[];
  rows: Array<Array<string | number>>;
  caption?: string;
  align?: Align[];
  /** Cells that are already HTML (by row and column), e.g. images. */
  htmlCells?: boolean;
}

function alignOf(t: Table, col: number): Align {
  if (t.align?.[col]) return t.align[col];
  return t.rows.length > 0 && t.rows.every((r) => typeof r[col] === "number")
    ? "right"
    : "left";
}

/**
 * A table as HTML: the caption as a bold paragraph, then the `<table>`;
 * cells escaped unless `htmlCells` is set.
 *
 * @example
 * ```ts
 * import { tableHtml } from "./display.ts";
 * tableHtml({ headers: ["a"], rows: [["<x>"]] }); // contains "&lt;x&gt;"
 * ```
 */
export function tableHtml(t: Table): string {
  const cell = (tag: string, v: string | number, col: number) =>
    `<${tag} style="text-align: ${alignOf(t, col)}; padding: 2px 10px;">${
      t.htmlCells && tag === "td" ? String(v) : escapeHtml(String(v))
    }</${tag}>`;
  const caption = t.caption
    ? `<p style="margin: 0 0 4px 0;"><strong>${
      escapeHtml(t.caption)
    }</strong></p>\n`
    : "";
  const head = `<tr>${t.headers.map((h, c) => cell("th", h, c)).join("")}</tr>`;
  const body = t.rows.map((r) =>
    `<tr>${r.map((v, c) => cell("td", v, c)).join("")}</tr>`
  ).join("\n");
  return `${caption}<table style="border-collapse: collapse;">
<thead>${head}</thead>
<tbody>
${body}
</tbody>
</table>`;
}

/**
 * A table as aligned plain text (columns padded, a rule under the header).
 * HTML cells are shown as their text with tags removed.
 *
 * @example
 * ```ts
 * import { tableText } from "./display.ts";
 * console.log(tableText({ headers: ["class", "n"], rows: [["Bag", 12]] }));
 * // class   n
 * // -----  --
 * // Bag     12
 * ```
 */
export function tableText(t: Table): string {
  const text = (v: string | number) =>
    t.htmlCells ? String(v).replace(/<[^>]*>/g, "").trim() : String(v);
  const cells = [t.headers, ...t.rows.map((r) => r.map(text))];
  const widths = t.headers.map((_, c) =>
    Math.max(...cells.map((r) => [...String(r[c] ?? "")].length))
  );
  const pad = (v: string, c: number) => {
    const gap = " ".repeat(widths[c] - [...v].length);
    return alignOf(t, c) === "right" ? gap + v : v + gap;
  };
  const line = (r: Array<string | number>) =>
    r.map((v, c) => pad(String(v), c)).join("  ").trimEnd();
  const lines = [
    ...(t.caption ? [t.caption] : []),
    line(t.headers),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...t.rows.map((r) => line(r.map(text))),
  ];
  return lines.join("\n");
}

/**
 * The display bundle of a table (HTML and plain text).
 *
 * @example
 * ```ts
 * import { tableBundle } from "./display.ts";
 * const b = tableBundle({ headers: ["setting", "value"], rows: [["SIMD", "on"]] });
 * ```
 */
export function tableBundle(t: Table): MediaBundle {
  return { "text/html": tableHtml(t), "text/plain": tableText(t) };
}

/**
 * Base64 of bytes (standard alphabet, padded).
 *
 * @example
 * ```ts
 * import { base64 } from "./display.ts";
 * base64(new Uint8Array([104, 105])); // "aGk="
 * ```
 */
export function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/**
 * An `<img>` element showing `img` as an embedded PNG (a `data:` URI, no
 * file or network). `pixelated` keeps enlarged pixels sharp.
 *
 * @example
 * ```ts
 * import { imgTag } from "./display.ts";
 * import { createImage } from "./image/raster.ts";
 * imgTag(createImage(2, 2), "blank"); // '<img src="data:image/png;base64,…" alt="blank" …>'
 * ```
 */
export function imgTag(img: RgbaImage, alt: string, pixelated = true): string {
  return `<img src="data:image/png;base64,${base64(encodePng(img))}" alt="${
    escapeHtml(alt)
  }" width="${img.width}" height="${img.height}"${
    pixelated ? ' style="image-rendering: pixelated;"' : ""
  }>`;
}

/**
 * The display bundle of a picture: `image/png` (base64), HTML with the
 * caption under the picture, and the caption as plain text.
 *
 * @example
 * ```ts
 * import { imageBundle } from "./display.ts";
 * import { createImage } from "./image/raster.ts";
 * const b = imageBundle(createImage(4, 4), "a white square");
 * console.log(typeof b["image/png"]); // "string"
 * ```
 */
export function imageBundle(img: RgbaImage, caption: string): MediaBundle {
  const png = base64(encodePng(img));
  return {
    "image/png": png,
    "text/html":
      `<figure style="margin: 0;"><img src="data:image/png;base64,${png}" alt="${
        escapeHtml(caption)
      }" width="${img.width}" height="${img.height}"><figcaption>${
        escapeHtml(caption)
      }</figcaption></figure>`,
    "text/plain": `[image ${img.width}×${img.height}] ${caption}`,
  };
}

const pct = (v: number, digits = 2) => `${(v * 100).toFixed(digits)}%`;
const fixed = (v: number) => v.toFixed(2);

/**
 * The display bundle of a classification report: an HTML table (precision,
 * recall, F1, support per class; accuracy; macro and weighted averages) and,
 * as plain text, scikit-learn's layout from `formatReport`.
 *
 * @example
 * ```ts
 * import { reportBundle } from "./display.ts";
 * import { classificationReport } from "./metrics.ts";
 * const b = reportBundle(classificationReport([0, 1], [0, 0], ["a", "b"]));
 * ```
 */
export function reportBundle(report: Report): MediaBundle {
  const total = report.macro_avg.support;
  const table: Table = {
    caption: `Classification report (${total.toLocaleString("en-US")} images)`,
    headers: ["class", "precision", "recall", "f1-score", "support"],
    align: ["left", "right", "right", "right", "right"],
    rows: [
      ...report.classes.map((c) => [
        c.name,
        fixed(c.precision),
        fixed(c.recall),
        fixed(c.f1),
        c.support,
      ]),
      ["accuracy", "", "", fixed(report.accuracy), total],
      ...([["macro avg", report.macro_avg], [
        "weighted avg",
        report.weighted_avg,
      ]] as const).map(([name, s]) => [
        name,
        fixed(s.precision),
        fixed(s.recall),
        fixed(s.f1),
        s.support,
      ]),
    ],
  };
  return { "text/html": tableHtml(table), "text/plain": formatReport(report) };
}

/**
 * The confusion matrix as a plain-text table (rows = true class, columns =
 * predicted, headed by class numbers), for `text/plain`.
 *
 * @example
 * ```ts
 * import { confusionText } from "./display.ts";
 * console.log(confusionText([[5, 1], [0, 6]], ["Bag", "Coat"]));
 * ```
 */
export function confusionText(
  confusion: number[][],
  classNames: readonly string[],
): string {
  return tableText({
    caption: "Confusion matrix (rows: true class, columns: predicted 0–" +
      `${classNames.length - 1})`,
    headers: ["true \\ predicted", ...classNames.map((_, i) => String(i))],
    rows: confusion.map((row, i) => [`${i} ${classNames[i]}`, ...row]),
  });
}

/**
 * Totals shown under a model's layer table.
 *
 * @example
 * ```ts
 * import type { ModelTotals } from "./display.ts";
 * const t: ModelTotals = { params: 1679082, trainable: 1677674, forwardFlops: 39.8e6 };
 * ```
 */
export interface ModelTotals {
  params: number;
  trainable: number;
  /** FLOPs of one forward pass of one image. */
  forwardFlops: number;
}

/**
 * The display bundle of a model summary: a table of layers (name, type,
 * output shape, parameters) and the totals (parameters, trainable and not,
 * cost per image forward and for a training step, about 3× forward).
 *
 * @example
 * ```ts
 * import { modelSummaryBundle } from "./display.ts";
 * const b = modelSummaryBundle(
 *   [{ name: "dense", type: "Dense", outputShape: [null, 10], params: 7850 }],
 *   { params: 7850, trainable: 7850, forwardFlops: 15680 },
 * );
 * ```
 */
export function modelSummaryBundle(
  rows: LayerRow[],
  totals: ModelTotals,
  name = "MiniVGGNet",
): MediaBundle {
  const n = (v: number) => v.toLocaleString("en-US");
  const table: Table = {
    caption: `${name}: ${rows.length} layers`,
    headers: ["#", "layer", "type", "output shape", "parameters"],
    align: ["right", "left", "left", "left", "right"],
    rows: rows.map((r, i) => [
      i + 1,
      r.name,
      r.type,
      `(${r.outputShape.map((d) => d ?? "batch").join(", ")})`,
      n(r.params),
    ]),
  };
  const mflop = (v: number) => `${(v / 1e6).toFixed(1)} MFLOP`;
  const facts: Table = {
    headers: ["total", "value"],
    align: ["left", "right"],
    rows: [
      ["parameters", n(totals.params)],
      ["trainable", n(totals.trainable)],
      [
        "not trainable (BatchNorm moving mean/variance)",
        n(totals.params - totals.trainable),
      ],
      ["forward pass, one image", mflop(totals.forwardFlops)],
      [
        "training step, one image (≈ 3 × forward)",
        mflop(3 * totals.forwardFlops),
      ],
    ],
  };
  return {
    "text/html": `${tableHtml(table)}\n<br>\n${tableHtml(facts)}`,
    "text/plain": `${tableText(table)}\n\n${tableText(facts)}`,
  };
}

/**
 * A model's mistakes with their pictures.
 *
 * @example
 * ```ts
 * import type { MistakeItem } from "./display.ts";
 * const m: MistakeItem = { index: 3, label: 6, predicted: 0, confidence: 0.97, image: new Uint8Array(784) };
 * ```
 */
export type MistakeItem = Mistake & { image: Uint8Array };

/**
 * The display bundle of the most confident mistakes: a table with each
 * image (enlarged 3×), its test index, true class, predicted class and the
 * model's confidence.
 *
 * @example
 * ```ts
 * import { mistakesBundle } from "./display.ts";
 * const b = mistakesBundle(
 *   [{ index: 3, label: 1, predicted: 0, confidence: 0.97, image: new Uint8Array(784) }],
 *   ["Bag", "Coat"],
 * );
 * ```
 */
export function mistakesBundle(
  items: MistakeItem[],
  classNames: readonly string[],
): MediaBundle {
  const table = (html: boolean): Table => ({
    caption: `The ${items.length} most confident mistakes`,
    headers: ["image", "test index", "true class", "predicted", "confidence"],
    align: ["left", "right", "left", "left", "right"],
    htmlCells: html,
    rows: items.map((m) => [
      html
        ? imgTag(grayToRgba(m.image, 28, 28, 3), `test image ${m.index}`)
        : "",
      m.index,
      html ? escapeHtml(classNames[m.label]) : classNames[m.label],
      html ? escapeHtml(classNames[m.predicted]) : classNames[m.predicted],
      pct(m.confidence, 1),
    ]),
  });
  return {
    "text/html": tableHtml(table(true)),
    "text/plain": tableText(table(false)),
  };
}

/**
 * The display bundle of a picture prepared for the model: the original
 * (shrunk to fit 224 px) next to the 28×28 input enlarged 8×, with what was
 * done (size, inverted or not, crop).
 *
 * @example
 * ```ts
 * import { preparedImageBundle } from "./display.ts";
 * const b = preparedImageBundle(prepareImage(photo), "photo.jpg");
 * ```
 */
export function preparedImageBundle(
  prepared: {
    pixels: Uint8Array;
    source: RgbaImage;
    inverted: boolean;
    box: { x: number; y: number; width: number; height: number };
  },
  name: string,
): MediaBundle {
  const { source, box } = prepared;
  const steps = `${source.width}×${source.height} picture; ${
    prepared.inverted
      ? "light background, so inverted"
      : "dark background, not inverted"
  }; object cropped at ${box.width}×${box.height} from (${box.x}, ${box.y}) and fitted into 28×28`;
  const figure = (img: string, caption: string) =>
    `<figure style="display: inline-block; margin: 0 24px 0 0; vertical-align: top;">${img}<figcaption>${
      escapeHtml(caption)
    }</figcaption></figure>`;
  return {
    "text/html": `<div>${
      figure(imgTag(fitRgba(source, 224), name, false), `${name} (original)`)
    }${
      figure(
        imgTag(grayToRgba(prepared.pixels, 28, 28, 8), "model input"),
        "what the model sees: 28×28, shown 8×",
      )
    }</div><p>${escapeHtml(steps)}</p>`,
    "image/png": base64(encodePng(grayToRgba(prepared.pixels, 28, 28, 8))),
    "text/plain": `${name}: ${steps}`,
  };
}

/**
 * The display bundle of a block of preformatted text (e.g. a progress
 * line), as `<pre>` HTML and plain text.
 *
 * @example
 * ```ts
 * import { textBundle } from "./display.ts";
 * textBundle("epoch 1/1 [####] 63/63"); // { "text/html": "<pre>…</pre>", "text/plain": "epoch 1/1 …" }
 * ```
 */
export function textBundle(text: string): MediaBundle {
  return {
    "text/html": `<pre style="margin: 0;">${escapeHtml(text)}</pre>`,
    "text/plain": text,
  };
}
