import assert from "node:assert/strict";
import { renderHistoryChart, SERIES_COLORS } from "../lib/image/chart.ts";
import {
  drawText,
  FONT_HEIGHT,
  hasGlyph,
  textWidth,
} from "../lib/image/font.ts";
import {
  montageLayout,
  renderMontage,
  RIGHT_COLOR,
  WRONG_COLOR,
} from "../lib/image/montage.ts";
import {
  createImage,
  drawLine,
  fillRect,
  getPixel,
  type Rgb,
} from "../lib/image/raster.ts";
import type { EpochRecord, RgbaImage } from "../lib/types.ts";
import { CLASS_NAMES } from "../lib/data.ts";

/** Counts pixels of exactly `color` inside the rectangle (whole image by default). */
function countColor(
  img: RgbaImage,
  color: Rgb,
  x0 = 0,
  y0 = 0,
  x1 = img.width,
  y1 = img.height,
): number {
  let n = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const i = (y * img.width + x) * 4;
      if (
        img.data[i] === color[0] && img.data[i + 1] === color[1] &&
        img.data[i + 2] === color[2]
      ) n++;
    }
  }
  return n;
}

/** Reddish / greenish pixels, loosely: a channel clearly above the others. */
function countHue(
  img: RgbaImage,
  hue: "red" | "green",
  x0: number,
  y0: number,
  x1: number,
  y1: number,
): number {
  let n = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const [r, g, b] = getPixel(img, x, y);
      if (hue === "red" && r > 150 && g < 100 && b < 100) n++;
      if (hue === "green" && g > 150 && r < 100 && b < 100) n++;
    }
  }
  return n;
}

function fakeImages(count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, k) => {
    const im = new Uint8Array(784);
    for (let i = 0; i < 784; i++) im[i] = (i * (k + 3) + k * 17) & 255;
    return im;
  });
}

function history(epochs: number, withVal = true): EpochRecord[] {
  return Array.from({ length: epochs }, (_, i) => ({
    epoch: i + 1,
    loss: 0.3 + 0.5 * Math.exp(-i / 4),
    accuracy: 0.9 - 0.15 * Math.exp(-i / 4),
    val_loss: withVal ? 0.35 + 0.4 * Math.exp(-i / 5) : NaN,
    val_accuracy: withVal ? 0.88 - 0.12 * Math.exp(-i / 5) : NaN,
    lr: 0.01,
    seconds: 60,
    images_per_second: 1000,
    images_seen: 60000 * (i + 1),
    wall_seconds: 60 * (i + 1),
  }));
}

Deno.test("raster: createImage fills, fillRect clips, drawLine hits both ends", () => {
  const img = createImage(10, 8, [1, 2, 3]);
  assert.equal(img.data.length, 10 * 8 * 4);
  assert.deepEqual(getPixel(img, 9, 7), [1, 2, 3, 255]);
  fillRect(img, -5, -5, 8, 7, [9, 9, 9]); // clipped to x 0..2, y 0..1
  assert.equal(countColor(img, [9, 9, 9]), 3 * 2);
  for (
    const [x0, y0, x1, y1] of [[0, 7, 9, 0], [9, 0, 0, 7], [3, 7, 3, 0], [
      9,
      4,
      0,
      4,
    ]]
  ) {
    const c = createImage(10, 8, [0, 0, 0]);
    drawLine(c, x0, y0, x1, y1, [255, 255, 255]);
    assert.deepEqual(getPixel(c, x0, y0), [255, 255, 255, 255]);
    assert.deepEqual(getPixel(c, x1, y1), [255, 255, 255, 255]);
    // A one-pixel line has one pixel per step of its longer axis.
    const steps = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0)) + 1;
    assert.equal(countColor(c, [255, 255, 255]), steps);
  }
  const thick = createImage(20, 20, [0, 0, 0]);
  drawLine(thick, 2, 10, 17, 10, [255, 255, 255], 3);
  assert.deepEqual(getPixel(thick, 10, 9), [255, 255, 255, 255]);
  assert.deepEqual(getPixel(thick, 10, 11), [255, 255, 255, 255]);
  assert.deepEqual(getPixel(thick, 10, 13), [0, 0, 0, 255]);
  assert.throws(() => getPixel(thick, 20, 0), RangeError);
});

Deno.test("font covers printable ASCII", () => {
  for (let c = 32; c <= 126; c++) {
    assert.ok(hasGlyph(String.fromCharCode(c)), `glyph for ${c}`);
  }
  assert.equal(hasGlyph("é"), false);
});

Deno.test("drawText changes pixels inside textWidth and nothing outside", () => {
  const text = "T-shirt/top (0.93%): Ankle boot, a_b";
  for (const scale of [1, 2, 3]) {
    const x = 7, y = 5;
    const w = textWidth(text, scale);
    assert.equal(w, (text.length * 6 - 1) * scale);
    const img = createImage(w + 20, FONT_HEIGHT * scale + 12, [0, 0, 0]);
    const before = img.data.slice();
    drawText(img, text, x, y, [255, 255, 0], scale);
    let inside = 0, outside = 0;
    let firstColumn = false, lastColumn = false;
    for (let py = 0; py < img.height; py++) {
      for (let px = 0; px < img.width; px++) {
        const i = (py * img.width + px) * 4;
        if (img.data[i] === before[i] && img.data[i + 2] === before[i + 2]) {
          continue;
        }
        const within = px >= x && px < x + w && py >= y &&
          py < y + FONT_HEIGHT * scale;
        if (within) inside++;
        else outside++;
        if (px === x) firstColumn = true;
        if (px === x + w - 1) lastColumn = true;
      }
    }
    assert.ok(inside > 50 * scale * scale, `ink at scale ${scale}`);
    assert.equal(outside, 0, `no ink outside at scale ${scale}`);
    // The width is tight: ink reaches the first and the last column.
    assert.ok(firstColumn && lastColumn, `tight width at scale ${scale}`);
  }
  assert.equal(textWidth(""), 0);
});

Deno.test("drawText clips at the image edges", () => {
  const img = createImage(12, 6, [0, 0, 0]);
  drawText(img, "Ankle boot", -8, -3, [255, 255, 255], 2);
  drawText(img, "WWW", 10, 4, [255, 255, 255]);
  assert.equal(img.data.length, 12 * 6 * 4);
  assert.ok(countColor(img, [255, 255, 255]) > 0);
});

Deno.test("montage of 16 images is a 4×4 grid of 96px tiles", () => {
  const images = fakeImages(16);
  const labels = images.map((_, i) => i % 10);
  const predicted = labels.map((l, i) => (i % 3 === 0 ? (l + 1) % 10 : l));
  const img = renderMontage({
    images,
    labels,
    predicted,
    classNames: CLASS_NAMES,
  });
  const gap = 4;
  assert.equal(img.width, 4 * 96 + 5 * gap);
  assert.equal(img.height, img.width);
  assert.equal(img.data.length, img.width * img.height * 4);
  const layout = montageLayout(16, 96, 4, gap);
  assert.equal(layout.width, img.width);

  for (let i = 0; i < 16; i++) {
    const [ox, oy] = layout.tileOrigin(i);
    const green = countHue(img, "green", ox, oy, ox + 96, oy + 96);
    const red = countHue(img, "red", ox, oy, ox + 96, oy + 96);
    if (predicted[i] === labels[i]) {
      assert.ok(green > 20, `tile ${i} has green text`);
      assert.equal(red, 0, `tile ${i} has no red`);
      assert.ok(countColor(img, RIGHT_COLOR, ox, oy, ox + 96, oy + 96) > 20);
    } else {
      assert.ok(red > 20, `tile ${i} has red text`);
      assert.equal(green, 0, `tile ${i} has no green`);
      assert.ok(countColor(img, WRONG_COLOR, ox, oy, ox + 96, oy + 96) > 20);
    }
    // Upscaling: the tile centre shows source pixel (14, 14) and the
    // top-left corner source pixel (0, 0).
    const centre = images[i][14 * 28 + 14];
    assert.deepEqual(getPixel(img, ox + 48, oy + 48), [
      centre,
      centre,
      centre,
      255,
    ]);
    const corner = images[i][0];
    assert.deepEqual(getPixel(img, ox, oy), [corner, corner, corner, 255]);
  }
});

Deno.test("montage honours tile, columns and gap, and checks its input", () => {
  const images = fakeImages(5);
  const labels = [0, 1, 2, 3, 4];
  const img = renderMontage({
    images,
    labels,
    predicted: labels,
    classNames: CLASS_NAMES,
    tile: 56,
    columns: 3,
    gap: 0,
  });
  assert.equal(img.width, 3 * 56);
  assert.equal(img.height, 2 * 56);
  assert.throws(() =>
    renderMontage({
      images,
      labels: [0],
      predicted: labels,
      classNames: CLASS_NAMES,
    }), RangeError);
  assert.throws(() =>
    renderMontage({
      images: [new Uint8Array(10)],
      labels: [0],
      predicted: [0],
      classNames: CLASS_NAMES,
    }), RangeError);
});

Deno.test("history chart: size, both panels drawn, train and val colours", () => {
  const img = renderHistoryChart(history(25));
  assert.equal(img.width, 900);
  assert.equal(img.height, 400);
  const half = img.width / 2;
  for (const [x0, x1] of [[0, half], [half, img.width]]) {
    assert.ok(
      countColor(img, SERIES_COLORS.train, x0, 0, x1, img.height) > 200,
    );
    assert.ok(countColor(img, SERIES_COLORS.val, x0, 0, x1, img.height) > 200);
    // Tick labels and title text (dark pixels) in each panel.
    let dark = 0;
    for (let y = 0; y < img.height; y++) {
      for (let x = x0; x < x1; x++) {
        const [r, g, b] = getPixel(img, x, y);
        if (r < 80 && g < 80 && b < 80) dark++;
      }
    }
    assert.ok(dark > 300);
  }
  const sized = renderHistoryChart(history(25), { width: 640, height: 300 });
  assert.deepEqual([sized.width, sized.height], [640, 300]);
});

Deno.test("history chart works for 1 epoch and without validation", () => {
  const one = renderHistoryChart(history(1));
  assert.equal(one.width, 900);
  const half = one.width / 2;
  for (const [x0, x1] of [[0, half], [half, one.width]]) {
    // Legend sample plus the epoch's marker, in each colour and panel.
    assert.ok(countColor(one, SERIES_COLORS.train, x0, 0, x1, one.height) > 40);
    assert.ok(countColor(one, SERIES_COLORS.val, x0, 0, x1, one.height) > 40);
  }
  const noVal = renderHistoryChart(history(6, false));
  assert.equal(countColor(noVal, SERIES_COLORS.val), 0);
  assert.ok(countColor(noVal, SERIES_COLORS.train) > 200);
  const empty = renderHistoryChart([]);
  assert.equal(empty.width, 900);
  assert.throws(
    () => renderHistoryChart([], { width: 10, height: 10 }),
    RangeError,
  );
});
