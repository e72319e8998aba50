/**
 * Tables as plain data: a header row, body rows of cells (text, numbers or
 * small pictures), a caption and column alignment. Views (`views.ts`) build
 * them; the HTML and text renderers (`render/html.ts`, `render/text.ts`)
 * draw them. A new table is built in its view from these types.
 *
 * @example
 * ```ts
 * import type { Table } from "./tables.ts";
 * const t: Table = { headers: ["class", "count"], rows: [["Bag", 6000]] };
 * ```
 *
 * @module
 */
import type { RgbaImage } from "./types.ts";

/**
 * How a table column is aligned.
 *
 * @example
 * ```ts
 * import type { Align } from "./tables.ts";
 * const align: Align[] = ["left", "right"];
 * ```
 */
export type Align = "left" | "right";

/**
 * A picture in a table cell, drawn at its own size (so enlarge it first,
 * e.g. with `grayToRgba(pixels, 28, 28, 3)`); plain text shows nothing.
 *
 * @example
 * ```ts
 * import type { PictureCell } from "./tables.ts";
 * const cell: PictureCell = { image: { width: 1, height: 1, data: new Uint8Array(4) }, alt: "a dot" };
 * ```
 */
export interface PictureCell {
  image: RgbaImage;
  alt: string;
}

/**
 * One table cell.
 *
 * @example
 * ```ts
 * import type { Cell } from "./tables.ts";
 * const cells: Cell[] = ["Bag", 6000];
 * ```
 */
export type Cell = string | number | PictureCell;

/**
 * Table contents: a header row and body rows, with an optional caption and
 * per-column alignment (default: numbers right, anything else left).
 *
 * @example
 * ```ts
 * import type { Table } from "./tables.ts";
 * const t: Table = { caption: "Sizes", headers: ["class", "count"], rows: [["Bag", 6000]] };
 * ```
 */
export interface Table {
  headers: string[];
  rows: Cell[][];
  caption?: string;
  align?: Align[];
}

/**
 * The alignment of column `col` of `t`: the one given, else right when
 * every body cell of the column is a number, else left.
 *
 * @example
 * ```ts
 * import { alignOf } from "./tables.ts";
 * alignOf({ headers: ["a", "n"], rows: [["x", 1]] }, 1); // "right"
 * ```
 */
export function alignOf(t: Table, col: number): Align {
  if (t.align?.[col]) return t.align[col];
  return t.rows.length > 0 && t.rows.every((r) => typeof r[col] === "number")
    ? "right"
    : "left";
}
