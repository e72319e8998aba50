import assert from "node:assert/strict";
import {
  classBalanceChart,
  confusionChart,
  historyChart,
  liveTrainingChart,
  PALETTE,
  perClassAccuracyChart,
  pixelHistogramChart,
  recipeComparisonChart,
  topKChart,
} from "../lib/charts.ts";
import { montageLayout, montageSvg } from "../lib/image/montage.ts";
import { classGridSvg } from "../lib/image/class_grid.ts";
import { decodePng } from "../lib/image/png.ts";
import { chartPng, svgPng } from "../lib/render/png.ts";
import type { EpochRecord, RgbaImage } from "../lib/types.ts";
import { CLASS_NAMES } from "../lib/data.ts";

function pixel(img: RgbaImage, x: number, y: number): number[] {
  const i = (y * img.width + x) * 4;
  return [img.data[i], img.data[i + 1], img.data[i + 2]];
}

function hex(color: string): number[] {
  return [1, 3, 5].map((i) => parseInt(color.slice(i, i + 2), 16));
}

/** Pixels within `tolerance` of `color` in every channel. */
function near(p: number[], color: string, tolerance = 40): boolean {
  const c = hex(color);
  return p.every((v, i) => Math.abs(v - c[i]) <= tolerance);
}

/** The `y`s of the pixels of column `x` within `y0..y1` near `color`. */
function ysOf(
  img: RgbaImage,
  color: string,
  x: number,
  y0 = 0,
  y1 = img.height,
): number[] {
  const ys: number[] = [];
  for (let y = y0; y < y1; y++) if (near(pixel(img, x, y), color)) ys.push(y);
  return ys;
}

/** Grey (r = g = b), darker than the background: axis and grid lines. */
const isFrame = ([r, g, b]: number[]) =>
  r === g && g === b && r >= 100 && r <= 248;

/**
 * The grey grid and axis lines: rows mostly of line pixels are the top
 * (the grid line of the y range's end) and the bottom (the x axis);
 * columns mostly of line pixels between them are the vertical grid lines
 * (their x, left to right; a line two pixels wide counts once).
 */
function gridLines(img: RgbaImage) {
  const rows: number[] = [];
  for (let y = 0; y < img.height; y++) {
    let n = 0;
    for (let x = 0; x < img.width; x++) if (isFrame(pixel(img, x, y))) n++;
    if (n > img.width / 3) rows.push(y);
  }
  const y0 = Math.min(...rows), y1 = Math.max(...rows);
  const xs: number[] = [];
  for (let x = 0; x < img.width; x++) {
    let n = 0;
    for (let y = y0; y <= y1; y++) if (isFrame(pixel(img, x, y))) n++;
    if (n > (y1 - y0) / 2 && !(xs.length && x - xs[xs.length - 1] <= 2)) {
      xs.push(x);
    }
  }
  return { y0, y1, xs };
}

/** Distinct grey levels of dark text pixels in a region. */
function textGreys(
  img: RgbaImage,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
): { dark: number; levels: number; meanX: number } {
  const levels = new Set<number>();
  let dark = 0;
  let sumX = 0;
  for (let y = Math.max(0, y0); y < Math.min(img.height, y1); y++) {
    for (let x = Math.max(0, x0); x < Math.min(img.width, x1); x++) {
      const [r, g, b] = pixel(img, x, y);
      if (r === g && g === b && r < 235) {
        levels.add(r);
        if (r < 100) {
          dark++;
          sumX += x;
        }
      }
    }
  }
  return { dark, levels: levels.size, meanX: dark ? sumX / dark : NaN };
}

/** loss falls 1 → 0 and accuracy rises 0 → 1 over 5 epochs; val_loss stays at 0.2, val_accuracy at 0.8. */
function straightHistory(): EpochRecord[] {
  return [0, 0.25, 0.5, 0.75, 1].map((f, i) => ({
    epoch: i + 1,
    loss: 1 - f,
    accuracy: f,
    val_loss: 0.2,
    val_accuracy: 0.8,
    lr: 0.01,
    seconds: 60,
    images_per_second: 1000,
    images_seen: 60000 * (i + 1),
    wall_seconds: 60 * (i + 1),
  }));
}

Deno.test("plot.png: two framed panels, the curves where the history puts them, anti-aliased title, axis titles and legend", async () => {
  const png = await chartPng(historyChart(straightHistory()));
  const img = decodePng(png);
  assert.equal(img.width, 1600);
  // Five epochs: a vertical grid line at each, in each panel, evenly spaced;
  // the first and last are the ends of the panel's x range.
  const { y0, y1, xs } = gridLines(img);
  assert.equal(xs.length, 10, JSON.stringify(xs));
  const [loss, acc] = [xs.slice(0, 5), xs.slice(5)].map((lines) => {
    const steps = lines.slice(1).map((x, i) => x - lines[i]);
    assert.ok(Math.max(...steps) - Math.min(...steps) <= 2, `${steps}`);
    return { x0: lines[0], x1: lines[4], y0, y1 };
  });
  assert.ok(loss.x1 < acc.x0, "side by side");
  assert.ok(loss.x1 - loss.x0 > 300 && loss.y1 - loss.y0 > 200);

  // At a quarter, half and three quarters of each panel's width: training
  // on the diagonal (loss 1 → 0 falls from the top-left corner, accuracy
  // 0 → 1 rises from the bottom-left), validation at a fifth of the height
  // from the bottom (val_loss 0.2) or from the top (val_accuracy 0.8).
  for (const f of [0.25, 0.5, 0.75]) {
    for (const [area, falling] of [[loss, true], [acc, false]] as const) {
      const x = Math.round(area.x0 + f * (area.x1 - area.x0));
      const h = area.y1 - area.y0;
      const trainY = area.y0 + (falling ? f : 1 - f) * h;
      const blue = ysOf(img, PALETTE.train, x, area.y0, area.y1 + 1);
      assert.ok(blue.length > 0, `training curve at x=${x}`);
      const mean = blue.reduce((a, b) => a + b, 0) / blue.length;
      assert.ok(
        Math.abs(mean - trainY) <= 4,
        `train at ${mean}, want ${trainY}`,
      );
      // The dashed validation line: near x, some column has it at mid height.
      const orange = [-6, -3, 0, 3, 6].flatMap((dx) =>
        ysOf(img, PALETTE.validation, x + dx, area.y0, area.y1 + 1)
      );
      assert.ok(orange.length > 0, `validation near x=${x}`);
      const valY = area.y0 + (falling ? 0.8 : 0.2) * h;
      const valMean = orange.reduce((a, b) => a + b, 0) / orange.length;
      assert.ok(
        Math.abs(valMean - valY) <= 3,
        `val at ${valMean}, not ${valY}`,
      );
      assert.ok(orange.every((y) => Math.abs(y - valY) <= 8));
    }
  }

  // Title: dark text above the panels, centred on the picture, drawn with
  // anti-aliasing (many grey levels, not just black and white).
  const title = textGreys(img, 0, 0, img.width, loss.y0 - 4);
  assert.ok(title.dark > 100, `${title.dark} title pixels`);
  assert.ok(title.levels > 20, `${title.levels} grey levels`);
  assert.ok(Math.abs(title.meanX - (loss.x0 + acc.x1) / 2) < img.width / 8);
  // x axis titles and tick labels under each panel; y axis title left of it.
  for (const area of [loss, acc]) {
    assert.ok(
      textGreys(img, area.x0, area.y1 + 2, area.x1, img.height).dark > 150,
    );
    assert.ok(
      textGreys(img, area.x0 - 80, area.y0, area.x0 - 2, area.y1).dark > 100,
    );
  }
  // The legend right of the panels: a blue and an orange sample, and text.
  let legendBlue = 0, legendOrange = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = acc.x1 + 8; x < img.width; x++) {
      if (near(pixel(img, x, y), PALETTE.train, 20)) legendBlue++;
      if (near(pixel(img, x, y), PALETTE.validation, 20)) legendOrange++;
    }
  }
  assert.ok(
    legendBlue > 10 && legendOrange > 5,
    `${legendBlue} ${legendOrange}`,
  );
  assert.ok(textGreys(img, acc.x1 + 8, 0, img.width, img.height).dark > 80);
});

Deno.test("plot.png without validation has no validation colour; an empty history still renders", async () => {
  const h = straightHistory().map((r) => ({
    ...r,
    val_loss: NaN,
    val_accuracy: NaN,
  }));
  const img = decodePng(await chartPng(historyChart(h), { png: { scale: 1 } }));
  let orange = 0;
  for (let i = 0; i < img.data.length; i += 4) {
    if (
      near(
        [img.data[i], img.data[i + 1], img.data[i + 2]],
        PALETTE.validation,
        20,
      )
    ) orange++;
  }
  assert.equal(orange, 0);
  const empty = decodePng(
    await chartPng(historyChart([]), { png: { scale: 1 } }),
  );
  assert.ok(empty.width > 100 && empty.height > 100);
});

function flatImages(count: number): Uint8Array[] {
  // Image k: a flat grey of 10 + 15·k with one white pixel at (0, 0).
  return Array.from({ length: count }, (_, k) => {
    const im = new Uint8Array(784).fill(10 + 15 * k);
    im[0] = 255;
    return im;
  });
}

/** Counts green and red label pixels inside a tile. */
function labelInk(img: RgbaImage, ox: number, oy: number, tile: number) {
  let green = 0, red = 0;
  for (let y = oy; y < oy + tile; y++) {
    for (let x = ox; x < ox + tile; x++) {
      const [r, g, b] = pixel(img, x, y);
      if (g > 150 && r < 120 && b < 120) green++;
      if (r > 180 && g < 120 && b < 120) red++;
    }
  }
  return { green, red };
}

Deno.test("montage: a 4×4 grid of 96 px tiles, each image enlarged pixel for pixel, green names where right and red where wrong", async () => {
  const images = flatImages(16);
  const labels = images.map((_, i) => i % 10);
  // Wrong at tiles 2, 7 and 11 only.
  const predicted = labels.map((
    l,
    i,
  ) => ([2, 7, 11].includes(i) ? (l + 1) % 10 : l));
  const picture = montageSvg({
    images,
    labels,
    predicted,
    classNames: CLASS_NAMES,
  });
  const img = decodePng(await svgPng(picture.svg));
  assert.deepEqual([img.width, img.height], [404, 404]);
  const wrong: number[] = [];
  for (let i = 0; i < 16; i++) {
    const ox = 4 + (i % 4) * 100;
    const oy = 4 + Math.floor(i / 4) * 100;
    const ink = labelInk(img, ox, oy, 96);
    if (ink.red > ink.green) wrong.push(i);
    assert.ok(ink.red + ink.green > 20, `tile ${i} has a label`);
    assert.ok(Math.min(ink.red, ink.green) === 0, `tile ${i}: one colour only`);
    // Source pixel (0, 0) is white and covers the tile's first 96/28 ≈ 3.4
    // pixels: (0, 0) and (2, 2) white, (4, 4) the image's grey.
    assert.deepEqual(pixel(img, ox, oy), [255, 255, 255]);
    assert.deepEqual(pixel(img, ox + 2, oy + 2), [255, 255, 255]);
    const grey = 10 + 15 * i;
    assert.deepEqual(pixel(img, ox + 4, oy + 4), [grey, grey, grey]);
    assert.deepEqual(pixel(img, ox + 48, oy + 30), [grey, grey, grey]);
  }
  assert.deepEqual(wrong, [2, 7, 11]);
  // The gaps are the dark background.
  assert.ok(near(pixel(img, 2, 200), PALETTE.dark, 2));
});

Deno.test("montage honours tile, columns and gap, and checks its input", () => {
  const images = flatImages(5);
  const labels = [0, 1, 2, 3, 4];
  const p = montageSvg({
    images,
    labels,
    predicted: labels,
    classNames: CLASS_NAMES,
    tile: 56,
    columns: 3,
    gap: 0,
  });
  assert.deepEqual([p.width, p.height], [3 * 56, 2 * 56]);
  assert.deepEqual(montageLayout(5, 56, 3, 0).tileOrigin(4), [56, 56]);
  assert.throws(
    () =>
      montageSvg({
        images,
        labels: [0],
        predicted: labels,
        classNames: CLASS_NAMES,
      }),
    RangeError,
  );
  assert.throws(() =>
    montageSvg({
      images: [new Uint8Array(10)],
      labels: [0],
      predicted: [0],
      classNames: CLASS_NAMES,
    }), RangeError);
  // Names are escaped: a class name cannot inject markup.
  const odd = montageSvg({
    images: [images[0]],
    labels: [0],
    predicted: [0],
    classNames: ["<b>&"],
  });
  assert.ok(odd.svg.includes("&lt;b&gt;&amp;"));
});

Deno.test("class grid: one row per class, the class's images in it, names in light anti-aliased text on the left", async () => {
  const count = 6;
  const images = new Uint8Array(count * 784);
  const labels = new Uint8Array([0, 1, 0, 1, 0, 1]);
  for (let i = 0; i < count; i++) {
    images.fill(40 * (i + 1), i * 784, (i + 1) * 784);
  }
  const picture = classGridSvg({ images, labels, count }, ["Coat", "Bag"], {
    perClass: 2,
    scale: 2,
    gap: 2,
  });
  const img = decodePng(await svgPng(picture.svg));
  assert.equal(img.height, 2 * (56 + 2) + 2);
  const left = img.width - 2 * (56 + 2) - 2;
  // Row 0 (Coat): images 0 and 2; row 1 (Bag): images 1 and 3.
  const centre = (row: number, k: number) =>
    pixel(img, left + k * 58 + 28, 2 + row * 58 + 28)[0];
  assert.deepEqual(
    [centre(0, 0), centre(0, 1), centre(1, 0), centre(1, 1)],
    [40, 120, 80, 160],
  );
  const levels = new Set<number>();
  let light = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < left; x++) {
      const v = pixel(img, x, y)[0];
      levels.add(v);
      if (v > 200) light++;
    }
  }
  assert.ok(light > 30, `${light} text pixels`);
  assert.ok(levels.size > 10, `${levels.size} grey levels`);
  assert.throws(
    () => classGridSvg({ images, labels, count: 5 }, ["a", "b"]),
    RangeError,
  );
});

Deno.test("every chart renders to PNG in its colours", async () => {
  const names = ["Bag", "Coat", "Dress"];
  const count = (img: RgbaImage, color: string) => {
    let n = 0;
    for (let i = 0; i < img.data.length; i += 4) {
      if (near([img.data[i], img.data[i + 1], img.data[i + 2]], color, 8)) n++;
    }
    return n;
  };
  const cases = [
    // The diagonal (9, 8, 7) is above half of 9: the darkest heat colour.
    [confusionChart([[9, 0, 1], [0, 8, 1], [2, 0, 7]], names), PALETTE.heat[4]],
    [perClassAccuracyChart([0.9, 0.5, 0.7], names), PALETTE.train],
    [classBalanceChart([30, 20, 10], names), PALETTE.train],
    [topKChart([0.2, 0.5, 0.3], names, 2), PALETTE.train],
    [pixelHistogramChart(new Array(256).fill(5)), PALETTE.train],
    [
      liveTrainingChart(
        [0.5, 1, 1.5].map((x) => ({ x, loss: 2 - x, accuracy: x / 2 })),
        [],
        2,
      ),
      PALETTE.train,
    ],
    [
      recipeComparisonChart([{ label: "a", history: straightHistory() }]),
      PALETTE.runs[0],
    ],
  ] as const;
  for (const [chart, color] of cases) {
    const img = decodePng(await chartPng(chart, { png: { scale: 1 } }));
    assert.ok(count(img, color) > 50, `${chart.title}: ${count(img, color)}`);
  }
});
