/**
 * A raster picture of a training history: two side-by-side panels, "loss"
 * (loss and val_loss) and "accuracy" (accuracy and val_accuracy), against the
 * epoch — the `plot.png` a user opens in any image viewer. Drawn with the
 * helpers of `raster.ts` and the bitmap font of `font.ts`; encode the result
 * with `encodePng` from `png.ts`.
 *
 * @example
 * ```ts
 * import { renderHistoryChart } from "./chart.ts";
 * import { encodePng } from "./png.ts";
 * const img = renderHistoryChart([
 *   { epoch: 1, loss: 0.6, accuracy: 0.78, val_loss: 0.45, val_accuracy: 0.84,
 *     lr: 0.01, seconds: 60, images_per_second: 900 },
 * ]);
 * const png = encodePng(img);
 * ```
 *
 * @module
 */

import type { EpochRecord, RgbaImage } from "../types.ts";
import { CAP_HEIGHT, drawText, FONT_HEIGHT, textWidth } from "./font.ts";
import {
  createImage,
  drawLine,
  fillCircle,
  fillRect,
  type Rgb,
} from "./raster.ts";

/**
 * Colours of the training and the validation series.
 *
 * @example
 * ```ts
 * import { SERIES_COLORS } from "./chart.ts";
 * console.log(SERIES_COLORS.train); // [31, 119, 180]
 * ```
 */
export const SERIES_COLORS: { readonly train: Rgb; readonly val: Rgb } = {
  train: [31, 119, 180],
  val: [255, 127, 14],
};

/**
 * Size options of {@link renderHistoryChart}.
 *
 * @example
 * ```ts
 * import type { ChartOptions } from "./chart.ts";
 * const opts: ChartOptions = { width: 1200, height: 500 };
 * ```
 */
export interface ChartOptions {
  /** Whole picture width in pixels (default 900). */
  width?: number;
  /** Whole picture height in pixels (default 400). */
  height?: number;
}

const BACKGROUND: Rgb = [255, 255, 255];
const PLOT_BACKGROUND: Rgb = [250, 250, 250];
const GRID: Rgb = [225, 225, 225];
const AXIS: Rgb = [110, 110, 110];
const TEXT: Rgb = [40, 40, 40];

interface Ticks {
  min: number;
  max: number;
  values: number[];
  labels: string[];
}

/** A step of 1, 2 or 5 times a power of ten near `rough`. */
function niceStep(rough: number): number {
  const mag = 10 ** Math.floor(Math.log10(rough));
  const norm = rough / mag;
  return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
}

/**
 * Round-numbered value ticks covering [lo, hi], padded a little so points do
 * not sit on the frame, with about five intervals; padding does not cross the
 * `floor` / `ceiling` the values are known to respect.
 */
function valueTicks(
  lo: number,
  hi: number,
  floor = -Infinity,
  ceiling = Infinity,
): Ticks {
  const pad = hi - lo < 1e-12 ? Math.abs(lo) * 0.05 || 0.05 : (hi - lo) * 0.04;
  lo = lo >= floor ? Math.max(floor, lo - pad) : lo - pad;
  hi = hi <= ceiling ? Math.min(ceiling, hi + pad) : hi + pad;
  const step = niceStep((hi - lo) / 5);
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const values: number[] = [];
  for (let k = first; k <= last; k++) values.push(k * step);
  return {
    min: first * step,
    max: last * step,
    values,
    labels: values.map((v) =>
      (Math.abs(v) < step / 1e6 ? 0 : v).toFixed(decimals)
    ),
  };
}

/** Whole-number epoch ticks between the first and last epoch. */
function epochTicks(first: number, last: number): Ticks {
  if (last <= first) {
    return {
      min: first - 1,
      max: first + 1,
      values: [first],
      labels: [String(first)],
    };
  }
  const step = last - first <= 10
    ? 1
    : Math.max(1, niceStep((last - first) / 6));
  const values: number[] = [];
  for (let e = Math.ceil(first / step) * step; e <= last; e += step) {
    values.push(e);
  }
  if (values.length === 0 || values[0] - first >= step / 2) {
    values.unshift(first);
  }
  return { min: first, max: last, values, labels: values.map(String) };
}

interface Series {
  name: string;
  color: Rgb;
  points: Array<[number, number]>; // [epoch, value]; value may be NaN
}

function finite(series: Series[]): number[] {
  return series.flatMap((s) => s.points.map((p) => p[1])).filter(
    Number.isFinite,
  );
}

function drawPanel(
  img: RgbaImage,
  box: { x: number; y: number; w: number; h: number },
  title: string,
  series: Series[],
  epochs: number[],
  bounds: [number, number],
): void {
  const titleScale = box.h >= 240 ? 2 : 1;
  const shown = series.filter((s) =>
    s.points.some((p) => Number.isFinite(p[1]))
  );

  // Title, centred.
  const titleY = box.y + 8;
  drawText(
    img,
    title,
    box.x + Math.round((box.w - textWidth(title, titleScale)) / 2),
    titleY,
    TEXT,
    titleScale,
  );

  // Legend under the title: a line sample with a marker, then the name.
  const legendY = titleY + CAP_HEIGHT * titleScale + 8;
  const sample = 18;
  const itemWidths = shown.map((s) => sample + 5 + textWidth(s.name) + 16);
  let lx = box.x +
    Math.round((box.w - itemWidths.reduce((a, b) => a + b, 0) + 16) / 2);
  shown.forEach((s, i) => {
    const cy = legendY + Math.floor(CAP_HEIGHT / 2);
    drawLine(img, lx, cy, lx + sample, cy, s.color, 2);
    fillCircle(img, lx + sample / 2, cy, 2.5, s.color);
    drawText(img, s.name, lx + sample + 5, legendY, TEXT);
    lx += itemWidths[i];
  });

  // Axes geometry.
  const values = finite(series);
  const yt = values.length > 0
    ? valueTicks(Math.min(...values), Math.max(...values), ...bounds)
    : valueTicks(0, 1);
  const xt = epochs.length > 0
    ? epochTicks(Math.min(...epochs), Math.max(...epochs))
    : epochTicks(1, 1);
  const labelWidth = Math.max(...yt.labels.map((l) => textWidth(l)));
  const left = box.x + 10 + labelWidth + 8;
  const right = box.x + box.w - 14;
  const top = legendY + FONT_HEIGHT + 10;
  const bottom = box.y + box.h - (2 * FONT_HEIGHT + 16);
  if (right - left < 20 || bottom - top < 20) return; // too small to plot
  const inset = 8; // keep end markers off the frame
  const sx = (e: number) =>
    left + inset +
    ((e - xt.min) / (xt.max - xt.min)) * (right - left - 2 * inset);
  const sy = (v: number) =>
    bottom - ((v - yt.min) / (yt.max - yt.min)) * (bottom - top);

  fillRect(img, left, top, right - left, bottom - top, PLOT_BACKGROUND);

  // Grid, ticks and their labels.
  yt.values.forEach((v, i) => {
    const y = Math.round(sy(v));
    drawLine(img, left, y, right, y, GRID);
    drawLine(img, left - 4, y, left, y, AXIS);
    const label = yt.labels[i];
    drawText(
      img,
      label,
      left - 7 - textWidth(label),
      y - Math.floor(CAP_HEIGHT / 2),
      TEXT,
    );
  });
  xt.values.forEach((e, i) => {
    const x = Math.round(sx(e));
    drawLine(img, x, top, x, bottom, GRID);
    drawLine(img, x, bottom, x, bottom + 4, AXIS);
    const label = xt.labels[i];
    drawText(
      img,
      label,
      x - Math.floor(textWidth(label) / 2),
      bottom + 7,
      TEXT,
    );
  });
  const xLabel = "epoch";
  drawText(
    img,
    xLabel,
    Math.round((left + right - textWidth(xLabel)) / 2),
    bottom + 7 + FONT_HEIGHT + 2,
    TEXT,
  );

  // Frame.
  drawLine(img, left, top, right, top, AXIS);
  drawLine(img, left, bottom, right, bottom, AXIS);
  drawLine(img, left, top, left, bottom, AXIS);
  drawLine(img, right, top, right, bottom, AXIS);

  // Series: lines between consecutive finite points, then markers on top.
  const markers = epochs.length <= 40;
  const radius = epochs.length <= 3 ? 3.5 : 2.5;
  for (const s of shown) {
    let prev: [number, number] | undefined;
    for (const [e, v] of s.points) {
      if (!Number.isFinite(v) || !Number.isFinite(e)) {
        prev = undefined;
        continue;
      }
      const p: [number, number] = [sx(e), sy(v)];
      if (prev) drawLine(img, prev[0], prev[1], p[0], p[1], s.color, 2);
      prev = p;
    }
    s.points.forEach(([e, v], i) => {
      if (!Number.isFinite(v) || !Number.isFinite(e)) return;
      const isolated = !Number.isFinite(s.points[i - 1]?.[1] ?? NaN) &&
        !Number.isFinite(s.points[i + 1]?.[1] ?? NaN);
      if (markers || isolated) fillCircle(img, sx(e), sy(v), radius, s.color);
    });
  }
}

/**
 * Renders a training history as two side-by-side panels: "loss" with the
 * `loss` and `val_loss` lines, "accuracy" with `accuracy` and `val_accuracy`.
 * Each panel has a title, a legend, a light grid, value ticks on the y axis
 * (range fitted to the data, rounded to nice numbers) and epoch ticks on the
 * x axis. Training is drawn in {@link SERIES_COLORS}.train, validation in
 * {@link SERIES_COLORS}.val; NaN values (no validation) are skipped, and a
 * series with no finite value is left out of the legend. Points get markers
 * (up to 40 epochs; isolated points always), so a 1-epoch history shows dots.
 * Throws a RangeError for a size below 200 × 120.
 *
 * @example
 * ```ts
 * import { renderHistoryChart } from "./chart.ts";
 * const history = [1, 2, 3].map((epoch) => ({
 *   epoch, loss: 1 / epoch, accuracy: 1 - 0.2 / epoch, val_loss: NaN,
 *   val_accuracy: NaN, lr: 0.01, seconds: 1, images_per_second: 1000,
 * }));
 * const img = renderHistoryChart(history, { width: 600, height: 300 });
 * console.log(img.width, img.height); // 600 300
 * ```
 */
export function renderHistoryChart(
  history: EpochRecord[],
  { width = 900, height = 400 }: ChartOptions = {},
): RgbaImage {
  if (
    !Number.isInteger(width) || !Number.isInteger(height) || width < 200 ||
    height < 120
  ) {
    throw new RangeError(
      `Chart size must be whole numbers of at least 200×120, got ${width}×${height}.`,
    );
  }
  const img = createImage(width, height, BACKGROUND);
  const epochs = history.map((r) => r.epoch).filter(Number.isFinite);
  const of = (key: keyof EpochRecord) =>
    history.map((r): [number, number] => [r.epoch, r[key]]);
  const half = Math.floor(width / 2);
  drawPanel(
    img,
    { x: 0, y: 0, w: half, h: height },
    "loss",
    [
      { name: "loss", color: SERIES_COLORS.train, points: of("loss") },
      { name: "val_loss", color: SERIES_COLORS.val, points: of("val_loss") },
    ],
    epochs,
    [0, Infinity],
  );
  drawPanel(
    img,
    { x: half, y: 0, w: width - half, h: height },
    "accuracy",
    [
      { name: "accuracy", color: SERIES_COLORS.train, points: of("accuracy") },
      {
        name: "val_accuracy",
        color: SERIES_COLORS.val,
        points: of("val_accuracy"),
      },
    ],
    epochs,
    [0, 1],
  );
  return img;
}
