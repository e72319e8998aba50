/**
 * A small bitmap font for labelling pictures, and functions to draw and
 * measure single-line text with it.
 *
 * Each glyph is 5 pixels wide on a 9-row cell: rows 0–6 hold capitals,
 * digits and the body of lower-case letters (x-height 5), rows 7–8 hold
 * descenders (g, j, p, q, y, comma, underscore). Glyphs advance by 6 pixels
 * (one blank column between letters). The font covers printable ASCII 32–126;
 * any other character is drawn as a hollow box.
 *
 * @example
 * ```ts
 * import { createImage } from "./raster.ts";
 * import { drawText, textWidth } from "./font.ts";
 * const img = createImage(textWidth("Ankle boot", 2) + 4, 22, [0, 0, 0]);
 * drawText(img, "Ankle boot", 2, 2, [0, 200, 0], 2);
 * ```
 *
 * @module
 */

import type { RgbaImage } from "../types.ts";
import type { Rgb } from "./raster.ts";

/**
 * Width of one glyph in font pixels (before scaling).
 *
 * @example
 * ```ts
 * import { FONT_WIDTH } from "./font.ts";
 * console.log(FONT_WIDTH); // 5
 * ```
 */
export const FONT_WIDTH = 5;

/**
 * Height of a glyph cell in font pixels (before scaling), descenders included:
 * a line of text at scale `s` occupies `FONT_HEIGHT * s` rows.
 *
 * @example
 * ```ts
 * import { FONT_HEIGHT } from "./font.ts";
 * const bandHeight = FONT_HEIGHT * 2 + 4; // text at scale 2 with 2px padding
 * ```
 */
export const FONT_HEIGHT = 9;

/**
 * Height of capitals and digits in font pixels (before scaling); useful to
 * centre text that has no descenders.
 *
 * @example
 * ```ts
 * import { CAP_HEIGHT } from "./font.ts";
 * console.log(CAP_HEIGHT); // 7
 * ```
 */
export const CAP_HEIGHT = 7;

/** Horizontal advance per character in font pixels (glyph + 1 blank column). */
const ADVANCE = FONT_WIDTH + 1;

// Glyph rows, top first; "#" is ink. Missing trailing rows are blank.
const GLYPHS: Record<string, readonly string[]> = {
  " ": [],
  "!": ["..#..", "..#..", "..#..", "..#..", "..#..", ".....", "..#.."],
  '"': [".#.#.", ".#.#.", ".#.#."],
  "#": [".#.#.", ".#.#.", "#####", ".#.#.", "#####", ".#.#.", ".#.#."],
  "$": ["..#..", ".####", "#.#..", ".###.", "..#.#", "####.", "..#.."],
  "%": ["##...", "##..#", "...#.", "..#..", ".#...", "#..##", "...##"],
  "&": [".##..", "#..#.", "#.#..", ".#...", "#.#.#", "#..#.", ".##.#"],
  "'": ["..#..", "..#..", ".#..."],
  "(": ["...#.", "..#..", ".#...", ".#...", ".#...", "..#..", "...#."],
  ")": [".#...", "..#..", "...#.", "...#.", "...#.", "..#..", ".#..."],
  "*": [".....", "..#..", "#.#.#", ".###.", "#.#.#", "..#.."],
  "+": [".....", "..#..", "..#..", "#####", "..#..", "..#.."],
  ",": [".....", ".....", ".....", ".....", ".....", ".##..", "..#..", ".#..."],
  "-": [".....", ".....", ".....", ".###."],
  ".": [".....", ".....", ".....", ".....", ".....", ".##..", ".##.."],
  "/": [".....", "....#", "...#.", "..#..", ".#...", "#...."],
  "0": [".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."],
  "1": ["..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."],
  "2": [".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"],
  "3": ["#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."],
  "4": ["...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."],
  "5": ["#####", "#....", "####.", "....#", "....#", "#...#", ".###."],
  "6": ["..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."],
  "7": ["#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."],
  "8": [".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."],
  "9": [".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."],
  ":": [".....", ".##..", ".##..", ".....", ".##..", ".##.."],
  ";": [".....", ".##..", ".##..", ".....", ".##..", "..#..", ".#..."],
  "<": ["...#.", "..#..", ".#...", "#....", ".#...", "..#..", "...#."],
  "=": [".....", ".....", "#####", ".....", "#####"],
  ">": [".#...", "..#..", "...#.", "....#", "...#.", "..#..", ".#..."],
  "?": [".###.", "#...#", "....#", "...#.", "..#..", ".....", "..#.."],
  "@": [".###.", "#...#", "....#", ".##.#", "#.#.#", "#.#.#", ".###."],
  "A": [".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"],
  "B": ["####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."],
  "C": [".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."],
  "D": ["###..", "#..#.", "#...#", "#...#", "#...#", "#..#.", "###.."],
  "E": ["#####", "#....", "#....", "####.", "#....", "#....", "#####"],
  "F": ["#####", "#....", "#....", "####.", "#....", "#....", "#...."],
  "G": [".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####"],
  "H": ["#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"],
  "I": [".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."],
  "J": ["..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."],
  "K": ["#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"],
  "L": ["#....", "#....", "#....", "#....", "#....", "#....", "#####"],
  "M": ["#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"],
  "N": ["#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#"],
  "O": [".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."],
  "P": ["####.", "#...#", "#...#", "####.", "#....", "#....", "#...."],
  "Q": [".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"],
  "R": ["####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"],
  "S": [".####", "#....", "#....", ".###.", "....#", "....#", "####."],
  "T": ["#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."],
  "U": ["#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."],
  "V": ["#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."],
  "W": ["#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#."],
  "X": ["#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"],
  "Y": ["#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."],
  "Z": ["#####", "....#", "...#.", "..#..", ".#...", "#....", "#####"],
  "[": [".###.", ".#...", ".#...", ".#...", ".#...", ".#...", ".###."],
  "\\": [".....", "#....", ".#...", "..#..", "...#.", "....#"],
  "]": [".###.", "...#.", "...#.", "...#.", "...#.", "...#.", ".###."],
  "^": ["..#..", ".#.#.", "#...#"],
  "_": [".....", ".....", ".....", ".....", ".....", ".....", ".....", "#####"],
  "`": [".#...", "..#..", "...#."],
  "a": [".....", ".....", ".###.", "....#", ".####", "#...#", ".####"],
  "b": ["#....", "#....", "#.##.", "##..#", "#...#", "#...#", "####."],
  "c": [".....", ".....", ".###.", "#....", "#....", "#...#", ".###."],
  "d": ["....#", "....#", ".##.#", "#..##", "#...#", "#...#", ".####"],
  "e": [".....", ".....", ".###.", "#...#", "#####", "#....", ".###."],
  "f": ["..##.", ".#..#", ".#...", "###..", ".#...", ".#...", ".#..."],
  "g": [
    ".....",
    ".....",
    ".####",
    "#...#",
    "#...#",
    "#...#",
    ".####",
    "....#",
    ".###.",
  ],
  "h": ["#....", "#....", "#.##.", "##..#", "#...#", "#...#", "#...#"],
  "i": ["..#..", ".....", ".##..", "..#..", "..#..", "..#..", ".###."],
  "j": [
    "...#.",
    ".....",
    "..##.",
    "...#.",
    "...#.",
    "...#.",
    "...#.",
    "#..#.",
    ".##..",
  ],
  "k": ["#....", "#....", "#..#.", "#.#..", "##...", "#.#..", "#..#."],
  "l": [".##..", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."],
  "m": [".....", ".....", "##.#.", "#.#.#", "#.#.#", "#.#.#", "#.#.#"],
  "n": [".....", ".....", "#.##.", "##..#", "#...#", "#...#", "#...#"],
  "o": [".....", ".....", ".###.", "#...#", "#...#", "#...#", ".###."],
  "p": [
    ".....",
    ".....",
    "####.",
    "#...#",
    "#...#",
    "#...#",
    "####.",
    "#....",
    "#....",
  ],
  "q": [
    ".....",
    ".....",
    ".####",
    "#...#",
    "#...#",
    "#...#",
    ".####",
    "....#",
    "....#",
  ],
  "r": [".....", ".....", "#.##.", "##..#", "#....", "#....", "#...."],
  "s": [".....", ".....", ".####", "#....", ".###.", "....#", "####."],
  "t": [".#...", ".#...", "###..", ".#...", ".#...", ".#..#", "..##."],
  "u": [".....", ".....", "#...#", "#...#", "#...#", "#..##", ".##.#"],
  "v": [".....", ".....", "#...#", "#...#", "#...#", ".#.#.", "..#.."],
  "w": [".....", ".....", "#...#", "#...#", "#.#.#", "#.#.#", ".#.#."],
  "x": [".....", ".....", "#...#", ".#.#.", "..#..", ".#.#.", "#...#"],
  "y": [
    ".....",
    ".....",
    "#...#",
    "#...#",
    "#...#",
    "#...#",
    ".####",
    "....#",
    ".###.",
  ],
  "z": [".....", ".....", "#####", "...#.", "..#..", ".#...", "#####"],
  "{": ["...#.", "..#..", "..#..", ".#...", "..#..", "..#..", "...#."],
  "|": ["..#..", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."],
  "}": [".#...", "..#..", "..#..", "...#.", "..#..", "..#..", ".#..."],
  "~": [".....", ".....", ".#...", "#.#.#", "...#."],
};

/** Drawn for characters the font lacks. */
const MISSING: readonly string[] = [
  "#####",
  "#...#",
  "#...#",
  "#...#",
  "#...#",
  "#...#",
  "#####",
];

/** Each glyph as a list of ink positions [column, row], built once. */
const INK: Map<string, ReadonlyArray<readonly [number, number]>> = new Map();

function inkOf(ch: string): ReadonlyArray<readonly [number, number]> {
  let ink = INK.get(ch);
  if (ink) return ink;
  const rows = GLYPHS[ch] ?? MISSING;
  const points: Array<readonly [number, number]> = [];
  rows.forEach((row, r) => {
    for (let c = 0; c < row.length; c++) {
      if (row[c] === "#") points.push([c, r]);
    }
  });
  ink = points;
  INK.set(ch, ink);
  return ink;
}

function wholeScale(scale: number): number {
  return Number.isFinite(scale) ? Math.max(1, Math.floor(scale)) : 1;
}

/**
 * Width in pixels of `text` drawn at `scale` (scale is floored to a whole
 * number, at least 1): `6 * scale` per character minus the trailing blank
 * column, or 0 for the empty string. Characters are counted by code point.
 *
 * @example
 * ```ts
 * import { textWidth } from "./font.ts";
 * console.log(textWidth("0.93"));    // 23
 * console.log(textWidth("0.93", 2)); // 46
 * ```
 */
export function textWidth(text: string, scale = 1): number {
  const n = [...text].length;
  const s = wholeScale(scale);
  return n === 0 ? 0 : (n * ADVANCE - 1) * s;
}

/**
 * Draws one line of `text` with its top-left corner at (`x`, `y`) in the
 * opaque colour `color`, each font pixel as a `scale` × `scale` block (scale
 * floored to a whole number, at least 1). Only ink pixels are written; the
 * background is left alone. Mutates `img`; anything outside the image is
 * clipped. Ink stays within `textWidth(text, scale)` columns and
 * `FONT_HEIGHT * scale` rows from (`x`, `y`).
 *
 * @example
 * ```ts
 * import { createImage } from "./raster.ts";
 * import { drawText } from "./font.ts";
 * const img = createImage(80, 12, [0, 0, 0]);
 * drawText(img, "T-shirt/top", 1, 1, [0, 200, 0]);
 * ```
 */
export function drawText(
  img: RgbaImage,
  text: string,
  x: number,
  y: number,
  color: Rgb,
  scale = 1,
): void {
  const s = wholeScale(scale);
  const x0 = Math.round(x);
  const y0 = Math.round(y);
  const [r, g, b] = color;
  const { width, height, data } = img;
  let cx = x0;
  for (const ch of text) {
    if (cx >= width) break;
    for (const [c, row] of inkOf(ch)) {
      const px0 = cx + c * s;
      const py0 = y0 + row * s;
      for (let py = Math.max(0, py0); py < Math.min(height, py0 + s); py++) {
        for (let px = Math.max(0, px0); px < Math.min(width, px0 + s); px++) {
          const i = (py * width + px) * 4;
          data[i] = r;
          data[i + 1] = g;
          data[i + 2] = b;
          data[i + 3] = 255;
        }
      }
    }
    cx += ADVANCE * s;
  }
}

/**
 * Whether the font has a glyph of its own for `ch` (one character); others
 * are drawn as a hollow box.
 *
 * @example
 * ```ts
 * import { hasGlyph } from "./font.ts";
 * console.log(hasGlyph("%"), hasGlyph("é")); // true false
 * ```
 */
export function hasGlyph(ch: string): boolean {
  return Object.hasOwn(GLYPHS, ch);
}
