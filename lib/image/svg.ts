/**
 * Small pieces of SVG for the pictures composed from images and text (the
 * montage, the class grid), drawn to PNG by `svgPng` in `render/png.ts`.
 * Pure string building; text is escaped here.
 *
 * @example
 * ```ts
 * import { svgDocument, svgText } from "./svg.ts";
 * const picture = svgDocument(60, 20, "#282828", [svgText("Bag", 4, 15, { size: 12, color: "#fff" })]);
 * console.log(picture.width); // 60
 * ```
 *
 * @module
 */
import { escapeHtml, pngDataUri } from "../render/html.ts";
import { encodePng } from "./png.ts";
import { grayToRgba } from "./resize.ts";

const SOURCE = 28;

/**
 * A picture composed as SVG, and its size in pixels.
 *
 * @example
 * ```ts
 * import type { SvgPicture } from "./svg.ts";
 * const p: SvgPicture = { svg: '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>', width: 1, height: 1 };
 * ```
 */
export interface SvgPicture {
  svg: string;
  width: number;
  height: number;
}

/**
 * An SVG `<image>` of a 28×28 grey picture at (`x`, `y`), `size` pixels
 * square, enlarged pixel for pixel (no smoothing).
 *
 * @example
 * ```ts
 * import { svgGrayImage } from "./svg.ts";
 * svgGrayImage(new Uint8Array(784), 0, 0, 56); // '<image href="data:image/png;base64,…" …/>'
 * ```
 */
export function svgGrayImage(
  pixels: Uint8Array,
  x: number,
  y: number,
  size: number,
): string {
  const png = encodePng(grayToRgba(pixels, SOURCE, SOURCE));
  return `<image href="${
    pngDataUri(png)
  }" x="${x}" y="${y}" width="${size}" height="${size}" preserveAspectRatio="none" image-rendering="optimizeSpeed"/>`;
}

/**
 * An SVG `<text>` of `text` (escaped) in `color` at `size` px, anchored at
 * (`x`, `y`) by `anchor`; squeezed to `maxWidth` if it would be wider
 * (DejaVu Sans averages under 0.62 em per character).
 *
 * @example
 * ```ts
 * import { svgText } from "./svg.ts";
 * svgText("Bag", 10, 20, { size: 12, color: "#fff" }); // '<text x="10" y="20" …>Bag</text>'
 * ```
 */
export function svgText(
  text: string,
  x: number,
  y: number,
  o: {
    size: number;
    color: string;
    anchor?: "start" | "middle" | "end";
    maxWidth?: number;
  },
): string {
  const squeeze = o.maxWidth !== undefined &&
      [...text].length * 0.62 * o.size > o.maxWidth
    ? ` textLength="${o.maxWidth}" lengthAdjust="spacingAndGlyphs"`
    : "";
  return `<text x="${x}" y="${y}" font-family="DejaVu Sans, sans-serif" font-size="${o.size}" fill="${o.color}" text-anchor="${
    o.anchor ?? "start"
  }"${squeeze}>${escapeHtml(text)}</text>`;
}

/**
 * A whole SVG picture of `width` × `height` pixels: a `background` rectangle
 * under `parts`.
 *
 * @example
 * ```ts
 * import { svgDocument } from "./svg.ts";
 * svgDocument(2, 2, "black", []).svg; // '<svg xmlns="http://www.w3.org/2000/svg" width="2" …'
 * ```
 */
export function svgDocument(
  width: number,
  height: number,
  background: string,
  parts: string[],
): SvgPicture {
  return {
    width,
    height,
    svg:
      `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><rect width="${width}" height="${height}" fill="${background}"/>${
        parts.join("")
      }</svg>`,
  };
}
