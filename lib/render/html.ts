/**
 * Renderer: HTML. Tables (`tables.ts`), pictures and charts (`charts.ts`,
 * drawn by plotly.js in the browser from their plotly figure, `plotly.ts`)
 * as HTML text, with every piece of data escaped here. Pure: the plotly.js
 * source or its address is passed in.
 *
 * @example
 * ```ts
 * import { tableHtml } from "./html.ts";
 * console.log(tableHtml({ headers: ["a"], rows: [["<x>"]] }).includes("&lt;x&gt;")); // true
 * ```
 *
 * @module
 */
import type { Chart } from "../charts.ts";
import { alignOf, type Cell, type Table } from "../tables.ts";
import { encodePng } from "../image/png.ts";
import type { RgbaImage } from "../types.ts";
import { plotlyFigure } from "./plotly.ts";

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Escapes `&`, `<`, `>`, `"` and `'` so `text` can stand in HTML text or in
 * a quoted attribute.
 *
 * @example
 * ```ts
 * import { escapeHtml } from "./html.ts";
 * escapeHtml('<b title="x">'); // "&lt;b title=&quot;x&quot;&gt;"
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/**
 * Makes `source` safe to place between `<script>` and `</script>`: a
 * `</script`, `<script` or `<!--` inside it could end the element early or
 * change how the HTML parser reads it. They can only occur inside strings,
 * regular expressions or comments, where `\x3C` is the same `<`.
 *
 * @example
 * ```ts
 * import { scriptSafe } from "./html.ts";
 * scriptSafe('var s = "</script>";'); // 'var s = "\\x3C/script>";'
 * ```
 */
export function scriptSafe(source: string): string {
  return source.replace(/<(?=\/?script|!--)/gi, "\\x3C");
}

/**
 * Where a chart's HTML looks for plotly.js, relative to the notebook's
 * folder (the kernel's working folder): the kernel writes the file there
 * (`ensurePlotlyAsset` in `plotly_source.ts`) and the Jupyter server
 * serves it, so no output carries the 4.8 MB library. The version is the
 * pinned `plotly.js-dist-min`'s (a test checks they agree).
 *
 * @example
 * ```ts
 * import { PLOTLY_SRC } from "./html.ts";
 * console.log(PLOTLY_SRC); // "_static/plotly-4.1.2.min.js"
 * ```
 */
export const PLOTLY_SRC = "_static/plotly-4.1.2.min.js";

/**
 * Base64 of bytes (standard alphabet, padded).
 *
 * @example
 * ```ts
 * import { base64 } from "./html.ts";
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
 * A `data:` URI of PNG bytes (no file, no network).
 *
 * @example
 * ```ts
 * import { pngDataUri } from "./html.ts";
 * pngDataUri(new Uint8Array([137, 80])); // "data:image/png;base64,iVA="
 * ```
 */
export function pngDataUri(png: Uint8Array): string {
  return `data:image/png;base64,${base64(png)}`;
}

/**
 * An `<img>` element showing `img` as an embedded PNG at its own size.
 * `pixelated` keeps enlarged pixels sharp.
 *
 * @example
 * ```ts
 * import { imgTag } from "./html.ts";
 * const dot = { width: 1, height: 1, data: new Uint8Array([255, 0, 0, 255]) };
 * imgTag(dot, "a red dot"); // '<img src="data:image/png;base64,…" alt="a red dot" …>'
 * ```
 */
export function imgTag(img: RgbaImage, alt: string, pixelated = true): string {
  return `<img src="${pngDataUri(encodePng(img))}" alt="${
    escapeHtml(alt)
  }" width="${img.width}" height="${img.height}"${
    pixelated ? ' style="image-rendering: pixelated;"' : ""
  }>`;
}

/**
 * A picture with its caption under it (`<figure>`), side by side with
 * other figures.
 *
 * @example
 * ```ts
 * import { figureTag } from "./html.ts";
 * figureTag('<img src="a.png" alt="a">', "the letter a");
 * ```
 */
export function figureTag(imgHtml: string, caption: string): string {
  return `<figure style="display: inline-block; margin: 0 24px 0 0; vertical-align: top;">${imgHtml}<figcaption>${
    escapeHtml(caption)
  }</figcaption></figure>`;
}

function cellHtml(v: Cell): string {
  return typeof v === "object" ? imgTag(v.image, v.alt) : escapeHtml(String(v));
}

/**
 * A table as HTML: the caption as a bold paragraph, then the `<table>`;
 * text escaped, picture cells as embedded PNGs.
 *
 * @example
 * ```ts
 * import { tableHtml } from "./html.ts";
 * tableHtml({ headers: ["a"], rows: [["<x>"]] }); // contains "&lt;x&gt;"
 * ```
 */
export function tableHtml(t: Table): string {
  const cell = (tag: string, v: Cell, col: number) =>
    `<${tag} style="text-align: ${alignOf(t, col)}; padding: 2px 10px;">${
      cellHtml(v)
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
 * Preformatted text as `<pre>`.
 *
 * @example
 * ```ts
 * import { preHtml } from "./html.ts";
 * preHtml("a < b"); // '<pre style="margin: 0;">a &lt; b</pre>'
 * ```
 */
export function preHtml(text: string): string {
  return `<pre style="margin: 0;">${escapeHtml(text)}</pre>`;
}

/**
 * A `<script>` that defines plotly.js (`window.Plotly`) from its source,
 * for a standalone page (the notebooks' exported HTML): put it in the
 * `<head>` and every chart draws at once, with nothing fetched. `module`,
 * `exports` and `define` are hidden from the library so it installs itself
 * as a global whatever module loader the page has.
 *
 * @example
 * ```ts
 * import { plotlyPageScript } from "./html.ts";
 * import { plotlyJsSource } from "./plotly_source.ts";
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
 * where plotly.js is ({@link PLOTLY_SRC}), and a script that draws the
 * chart's plotly figure into the `<div>` once plotly.js is loaded. Until
 * then the `<div>` says what it waits for.
 *
 * @example
 * ```ts
 * import { chartFragment } from "./html.ts";
 * import { classBalanceChart } from "../charts.ts";
 * const html = chartFragment(classBalanceChart([1, 2], ["Bag", "Coat"]), "chart-1");
 * ```
 */
export function chartFragment(
  chart: Chart,
  id: string,
  height = 440,
  src: string = PLOTLY_SRC,
): string {
  const safeId = escapeHtml(id);
  return `<div class="fmnist-chart" id="${safeId}" data-fmnist-chart="${safeId}" style="width: 100%; max-width: 1000px; height: ${height}px;">Drawing the chart… (it needs plotly.js, from ${
    escapeHtml(src)
  } next to this notebook)</div>
<span class="fmnist-plotly-src" hidden src="${escapeHtml(src)}"></span>
<script>
(function (figure, id, src) {${CHART_SCRIPT}
})(${scriptJson(plotlyFigure(chart))}, ${scriptJson(id)}, ${scriptJson(src)});
</script>`;
}

/** JSON that cannot close a script element ("<" escaped). */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, "\\u003c");
}

/**
 * A complete standalone HTML page: `title` as heading and page title, then
 * each chart in its own `<div>`, drawn by plotly.js whose source
 * (`plotlyJs`, e.g. from `plotlyJsSource()`) is embedded inline — the page
 * loads nothing from the network and works from a local file.
 *
 * @example
 * ```ts
 * import { chartPage } from "./html.ts";
 * import { historyChart } from "../charts.ts";
 * import { plotlyJsSource } from "./plotly_source.ts";
 * const html = chartPage([historyChart([])], await plotlyJsSource(), "Run 1");
 * ```
 */
export function chartPage(
  charts: Chart[],
  plotlyJs: string,
  title: string,
): string {
  const divs = charts
    .map((_, i) => `<div class="figure" id="figure-${i}"></div>`)
    .join("\n");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
.figure { max-width: 1100px; height: 460px; margin: 0 auto 2rem; }
</style>
<script>
${scriptSafe(plotlyJs)}
</script>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${divs}
<script>
(function () {
  var figures = ${scriptJson(charts.map(plotlyFigure))};
  figures.forEach(function (fig, i) {
    Plotly.newPlot("figure-" + i, fig.data, fig.layout, {
      responsive: true,
      displaylogo: false,
    });
  });
})();
</script>
</body>
</html>
`;
}
