/**
 * Renderer: Jupyter MIME bundles. A Jupyter output is a MIME bundle, MIME
 * type → content (`{"text/plain": "...", "text/html": "...", ...}`), from
 * which the front end shows the richest type it knows. Each function
 * assembles one from the HTML, text, plotly and PNG renderers; pure data in,
 * pure data out (`jupyter.ts` sends the bundles).
 *
 * Charts carry three forms: the plotly MIME type ({@link PLOTLY_MIME},
 * drawn natively by JupyterLab with plotly support and by VS Code), HTML
 * that loads plotly.js from a file next to the notebook and draws, and
 * plain text.
 *
 * @example
 * ```ts
 * import { chartMime } from "./mime.ts";
 * import { classBalanceChart } from "../charts.ts";
 * const out = chartMime(classBalanceChart([3, 4], ["Bag", "Coat"]), { id: "balance" });
 * console.log(Object.keys(out)); // ["application/vnd.plotly.v1+json", "text/html", "text/plain"]
 * ```
 *
 * @module
 */
import type { Chart } from "../charts.ts";
import type { Table } from "../tables.ts";
import type { RgbaImage } from "../types.ts";
import { encodePng } from "../image/png.ts";
import {
  base64,
  chartFragment,
  escapeHtml,
  figureTag,
  imgTag,
  preHtml,
  tableHtml,
} from "./html.ts";
import { plotlyFigure } from "./plotly.ts";
import { describeChart, imageText, tableText } from "./text.ts";

/**
 * A Jupyter MIME bundle: MIME type → content (strings, or JSON objects for
 * `+json` types).
 *
 * @example
 * ```ts
 * import type { MimeBundle } from "./mime.ts";
 * const b: MimeBundle = { "text/plain": "hello", "text/html": "<b>hello</b>" };
 * ```
 */
export type MimeBundle = Record<string, string | object>;

/**
 * The plotly MIME type.
 *
 * @example
 * ```ts
 * import { PLOTLY_MIME } from "./mime.ts";
 * console.log(PLOTLY_MIME); // "application/vnd.plotly.v1+json"
 * ```
 */
export const PLOTLY_MIME = "application/vnd.plotly.v1+json";

/**
 * The MIME bundle of a chart: its plotly figure, HTML that loads plotly.js
 * from next to the notebook and draws it (see `chartFragment`), and plain
 * text (`plain`, or `describeChart`).
 *
 * @example
 * ```ts
 * import { chartMime } from "./mime.ts";
 * import { topKChart } from "../charts.ts";
 * const out = chartMime(topKChart([0.1, 0.9], ["Bag", "Coat"], 2), { id: "top" });
 * ```
 */
export function chartMime(
  chart: Chart,
  options: { id: string; plain?: string; height?: number },
): MimeBundle {
  return {
    [PLOTLY_MIME]: plotlyFigure(chart),
    "text/html": chartFragment(chart, options.id, options.height),
    "text/plain": options.plain ?? describeChart(chart),
  };
}

/**
 * The MIME bundle of one or more tables (HTML, and aligned plain text),
 * one under the other.
 *
 * @example
 * ```ts
 * import { tableMime } from "./mime.ts";
 * const out = tableMime({ headers: ["setting", "value"], rows: [["SIMD", "on"]] });
 * ```
 */
export function tableMime(...tables: Table[]): MimeBundle {
  return {
    "text/html": tables.map(tableHtml).join("\n<br>\n"),
    "text/plain": tables.map(tableText).join("\n\n"),
  };
}

/**
 * The MIME bundle of a PNG picture of `width` × `height` pixels:
 * `image/png`, HTML with the caption under the picture, and
 * `[image W×H] caption` as plain text.
 *
 * @example
 * ```ts
 * import { imageMime } from "./mime.ts";
 * import { encodePng } from "../image/png.ts";
 * const dot = { width: 1, height: 1, data: new Uint8Array([0, 0, 0, 255]) };
 * const out = imageMime(encodePng(dot), 1, 1, "a black dot");
 * console.log(out["text/plain"]); // "[image 1×1] a black dot"
 * ```
 */
export function imageMime(
  png: Uint8Array,
  width: number,
  height: number,
  caption: string,
): MimeBundle {
  const data = base64(png);
  return {
    "image/png": data,
    "text/html":
      `<figure style="margin: 0;"><img src="data:image/png;base64,${data}" alt="${
        escapeHtml(caption)
      }" width="${width}" height="${height}"><figcaption>${
        escapeHtml(caption)
      }</figcaption></figure>`,
    "text/plain": imageText(width, height, caption),
  };
}

/**
 * A captioned picture of {@link picturesMime}.
 *
 * @example
 * ```ts
 * import type { CaptionedPicture } from "./mime.ts";
 * const p: CaptionedPicture = { image: { width: 1, height: 1, data: new Uint8Array(4) }, caption: "a dot" };
 * ```
 */
export interface CaptionedPicture {
  image: RgbaImage;
  caption: string;
  /** Keep enlarged pixels sharp (default true). */
  pixelated?: boolean;
}

/**
 * The MIME bundle of pictures side by side, each with its caption, and a
 * note under them; `image/png` is the last picture (for front ends without
 * HTML), plain text is `plain`.
 *
 * @example
 * ```ts
 * import { picturesMime } from "./mime.ts";
 * const dot = { width: 1, height: 1, data: new Uint8Array([0, 0, 0, 255]) };
 * const out = picturesMime([{ image: dot, caption: "before" }, { image: dot, caption: "after" }], "nothing changed", "dot: nothing changed");
 * ```
 */
export function picturesMime(
  pictures: CaptionedPicture[],
  note: string,
  plain: string,
): MimeBundle {
  const last = pictures.at(-1);
  return {
    "text/html": `<div>${
      pictures.map((p) =>
        figureTag(imgTag(p.image, p.caption, p.pixelated ?? true), p.caption)
      ).join("")
    }</div><p>${escapeHtml(note)}</p>`,
    ...(last ? { "image/png": base64(encodePng(last.image)) } : {}),
    "text/plain": plain,
  };
}

/**
 * The MIME bundle of preformatted text (e.g. a progress line), as `<pre>`
 * HTML and plain text.
 *
 * @example
 * ```ts
 * import { textMime } from "./mime.ts";
 * textMime("epoch 1/1 [####] 63/63"); // { "text/html": "<pre …>epoch 1/1 …</pre>", "text/plain": "epoch 1/1 …" }
 * ```
 */
export function textMime(text: string): MimeBundle {
  return { "text/html": preHtml(text), "text/plain": text };
}
