/**
 * Renderer: PNG pictures for files and image outputs. A chart definition
 * (`charts.ts`) goes through its Vega-Lite spec (`vega.ts`) to SVG (`vega`),
 * and any SVG (a chart, the montage, the class grid) to PNG with resvg,
 * its text in the DejaVu Sans font shipped in `node_modules` (no system
 * fonts, so every machine draws the same picture).
 *
 * Needs read permission for `node_modules` (the WebAssembly of resvg and
 * the font); both are read once per process.
 *
 * @example
 * ```ts
 * import { chartPng } from "./png.ts";
 * import { historyChart } from "../charts.ts";
 * const png = await chartPng(historyChart([]));
 * // await Deno.writeFile("out/plot.png", png);
 * ```
 *
 * @module
 */
import type { Chart } from "../charts.ts";
import { readPackageFile } from "./package_file.ts";
import { CHART_FONT, type PanelSize, vegaLiteSpec } from "./vega.ts";

type Resvg = typeof import("@resvg/resvg-wasm");

let engine: Promise<{ resvg: Resvg; font: Uint8Array }> | undefined;

async function loadEngine(): Promise<{ resvg: Resvg; font: Uint8Array }> {
  const why = (what: string, e: unknown) =>
    new Error(`PNG rendering needs ${what}: ${(e as Error).message}`);
  const [wasm, font] = await Promise.all([
    readPackageFile("@resvg/resvg-wasm", "index_bg.wasm").catch((e) => {
      throw why("the resvg WebAssembly", e);
    }),
    readPackageFile("dejavu-fonts-ttf", "ttf/DejaVuSans.ttf").catch((e) => {
      throw why("the DejaVu Sans font", e);
    }),
  ]);
  const resvg = await import("@resvg/resvg-wasm");
  await resvg.initWasm(wasm);
  return { resvg, font };
}

/** resvg and the font, loaded once (a failed load is tried again). */
function loaded(): Promise<{ resvg: Resvg; font: Uint8Array }> {
  engine ??= loadEngine().catch((e) => {
    engine = undefined;
    throw e;
  });
  return engine;
}

/**
 * How large to draw an SVG: `scale` PNG pixels per SVG pixel, or a fixed
 * `width` in PNG pixels (the height in proportion).
 *
 * @example
 * ```ts
 * import type { PngSize } from "./png.ts";
 * const sizes: PngSize[] = [{ scale: 2 }, { width: 1600 }];
 * ```
 */
export type PngSize = { scale: number } | { width: number };

/**
 * An SVG picture as PNG bytes, drawn at `size` (default: one PNG pixel per
 * SVG pixel), text in DejaVu Sans whatever font family the SVG names.
 * Rejects with a sentence saying what to do when the WebAssembly or the
 * font cannot be read.
 *
 * @example
 * ```ts
 * import { svgPng } from "./png.ts";
 * const png = await svgPng('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><text x="2" y="15">Hi</text></svg>');
 * console.log(png[1], png[2], png[3]); // 80 78 71: "PNG"
 * ```
 */
export async function svgPng(
  svg: string,
  size: PngSize = { scale: 1 },
): Promise<Uint8Array> {
  const { resvg, font } = await loaded();
  const picture = new resvg.Resvg(svg, {
    font: {
      fontBuffers: [font],
      defaultFontFamily: CHART_FONT,
      sansSerifFamily: CHART_FONT,
    },
    fitTo: "width" in size
      ? { mode: "width", value: size.width }
      : { mode: "zoom", value: size.scale },
    shapeRendering: 2,
    textRendering: 1,
  });
  try {
    const rendered = picture.render();
    const png = rendered.asPng();
    rendered.free();
    return png;
  } finally {
    picture.free();
  }
}

/**
 * A chart as SVG: its Vega-Lite spec (see `vegaLiteSpec`) compiled and
 * drawn by Vega without a browser.
 *
 * @example
 * ```ts
 * import { chartSvg } from "./png.ts";
 * import { classBalanceChart } from "../charts.ts";
 * const svg = await chartSvg(classBalanceChart([3, 4], ["Bag", "Coat"]));
 * console.log(svg.startsWith("<svg")); // true
 * ```
 */
export async function chartSvg(
  chart: Chart,
  size?: PanelSize,
): Promise<string> {
  const [{ compile }, vega] = await Promise.all([
    import("vega-lite"),
    import("vega"),
  ]);
  const spec = compile(vegaLiteSpec(chart, size) as never).spec;
  const view = new vega.View(vega.parse(spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * The width of a chart's PNG unless told otherwise: sharp on screens and
 * in print, still small.
 *
 * @example
 * ```ts
 * import { CHART_PNG_WIDTH } from "./png.ts";
 * console.log(CHART_PNG_WIDTH); // 1600
 * ```
 */
export const CHART_PNG_WIDTH = 1600;

/**
 * A chart as PNG bytes (see {@link chartSvg} and {@link svgPng}):
 * {@link CHART_PNG_WIDTH} pixels wide unless `png` says otherwise, each
 * panel's plot area `size` (CSS pixels, before scaling).
 *
 * @example
 * ```ts
 * import { chartPng } from "./png.ts";
 * import { historyChart } from "../charts.ts";
 * const png = await chartPng(historyChart([]), { png: { scale: 1 } });
 * ```
 */
export async function chartPng(
  chart: Chart,
  options: { size?: PanelSize; png?: PngSize } = {},
): Promise<Uint8Array> {
  return await svgPng(
    await chartSvg(chart, options.size),
    options.png ?? { width: CHART_PNG_WIDTH },
  );
}
