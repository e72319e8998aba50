/**
 * Test helper (not a test): a chart's HTML (`chartMime`) put into a page
 * the way each front end puts an output there, in headless Chromium, with
 * plotly.js served only where a Jupyter server would serve the file next
 * to the notebook:
 *
 * - "lab": JupyterLab's way — the HTML set as `innerHTML` of a host not yet
 *   in the document, its scripts re-created to run, then (a moment later)
 *   every relative `src` rewritten to the notebook folder's `/files/` URL
 *   with a cache-busting query, and the host attached;
 * - "classic": the classic Notebook's way — the HTML inserted into the page
 *   (whose `<body>` carries `data-base-url` and `data-notebook-path`), its
 *   scripts run from a temporary script in `<head>`, as jQuery does;
 * - "missing": as "classic", but the notebook is in a folder without the
 *   file: the chart must say why it is not drawn.
 *
 * Each page shows two charts; plotly.js must be fetched once per page.
 * Prints JSON: per page, the charts drawn, their texts, the requests for
 * plotly.js and page errors.
 *
 *     deno run -A tests/jupyter/chart_loader.ts
 */
import { join } from "node:path";
import { chartMime } from "../../lib/render/mime.ts";
import { PLOTLY_SRC } from "../../lib/render/html.ts";
import { classBalanceChart, topKChart } from "../../lib/charts.ts";
import { launchChromium } from "../browser.ts";
import { ROOT } from "../paths.ts";

export interface LoaderPageReport {
  drawn: number;
  texts: string[];
  plotlyRequests: string[];
  errors: string[];
}

const plotly = await Deno.readFile(
  join(ROOT, "node_modules", "plotly.js-dist-min", "plotly.min.js"),
);
const charts = [
  chartMime(classBalanceChart([5, 7], ["Bag", "Coat"]), { id: "c-1" }),
  chartMime(topKChart([0.2, 0.8], ["Bag", "Coat"], 2), { id: "c-2" }),
].map((b) => b["text/html"] as string);

/** JupyterLab's renderHTML, reduced to what matters for scripts and src. */
const LAB = `
function render(html) {
  var host = document.createElement("div");
  host.innerHTML = html;
  Array.from(host.getElementsByTagName("script")).forEach(function (s) {
    var clone = document.createElement("script");
    for (var i = 0; i < s.attributes.length; i++) clone.setAttribute(s.attributes[i].name, s.attributes[i].value);
    clone.textContent = s.textContent;
    s.parentNode.replaceChild(clone, s);
  });
  setTimeout(function () {
    host.querySelectorAll("*[src]").forEach(function (n) {
      var src = n.getAttribute("src");
      n.setAttribute("src", "");
      setTimeout(function () { n.setAttribute("src", "/files/nb/" + src + "?" + Date.now()); }, 30);
    });
  }, 20);
  setTimeout(function () { document.body.appendChild(host); }, 150);
}`;

/** The classic Notebook's insertion: jQuery's html() and globalEval. */
const CLASSIC = `
function render(html) {
  var host = document.createElement("div");
  document.body.appendChild(host);
  host.innerHTML = html;
  Array.from(host.getElementsByTagName("script")).forEach(function (s) {
    var run = document.createElement("script");
    run.text = s.textContent;
    document.head.appendChild(run).parentNode.removeChild(run);
  });
}`;

function page(kind: string): string {
  const body = kind === "lab"
    ? "<body>"
    : `<body data-base-url="/" data-notebook-path="${
      kind === "missing" ? "elsewhere" : "nb"
    }/03-train.ipynb">`;
  return `<!DOCTYPE html><html><head><meta charset="utf-8"></head>${body}
<script>${kind === "lab" ? LAB : CLASSIC}
var charts = ${JSON.stringify(charts).replace(/</g, "\\u003c")};
charts.forEach(function (html, i) { setTimeout(function () { render(html); }, 10 * i); });
</script></body></html>`;
}

const requests: string[] = [];
const server = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen: () => {} },
  (req) => {
    const url = new URL(req.url);
    if (url.pathname.endsWith(".js")) requests.push(url.pathname + url.search);
    if (url.pathname === `/files/nb/${PLOTLY_SRC}`) {
      return new Response(plotly, {
        headers: { "content-type": "application/javascript" },
      });
    }
    const kind = /^\/page\/(\w+)$/.exec(url.pathname)?.[1];
    if (kind) {
      return new Response(page(kind), {
        headers: { "content-type": "text/html" },
      });
    }
    return new Response("not found", { status: 404 });
  },
);
const base = `http://127.0.0.1:${server.addr.port}`;

const browser = await launchChromium();
const report: Record<string, LoaderPageReport> = {};
try {
  for (const kind of ["lab", "classic", "missing"]) {
    const p = await browser.newPage();
    const errors: string[] = [];
    p.on("pageerror", (e) => errors.push(e.message));
    requests.length = 0;
    await p.goto(`${base}/page/${kind}`);
    await p.waitForFunction(
      () =>
        // deno-lint-ignore no-explicit-any
        [...(globalThis as any).document.querySelectorAll("div.fmnist-chart")]
          // deno-lint-ignore no-explicit-any
          .filter((d: any) =>
            d.querySelector("svg.main-svg") ||
            d.textContent.startsWith("Chart not drawn")
          ).length === 2,
      null,
      { timeout: 30_000 },
    ).catch(() => {});
    const seen = await p.evaluate(() => {
      // deno-lint-ignore no-explicit-any
      const divs = [...(globalThis as any).document.querySelectorAll(
        "div.fmnist-chart",
      )];
      return {
        // deno-lint-ignore no-explicit-any
        drawn: divs.filter((d: any) => d.querySelector("svg.main-svg")).length,
        // deno-lint-ignore no-explicit-any
        texts: divs.map((d: any) => String(d.textContent).slice(0, 400)),
      };
    });
    report[kind] = { ...seen, plotlyRequests: [...requests], errors };
    await p.close();
  }
} finally {
  await browser.close();
  await server.shutdown();
}
console.log(JSON.stringify(report));
