import assert from "node:assert/strict";
import { pixelStatistics } from "../lib/mod.ts";
import { firstOfEachClass } from "../lib/image/class_grid.ts";

Deno.test("pixelStatistics: mean, spread, black share, histogram, class means", () => {
  const s = pixelStatistics(
    {
      images: new Uint8Array([0, 255, 0, 0, 10, 20]),
      labels: new Uint8Array([0, 1, 0]),
      count: 3,
    },
    3,
    2,
  );
  assert.equal(s.images, 3);
  assert.equal(s.pixels, 6);
  assert.equal(s.mean, 285 / 6);
  const variance = [0, 255, 0, 0, 10, 20].reduce(
    (a, v) => a + (v - 285 / 6) ** 2,
    0,
  ) / 6;
  assert.ok(Math.abs(s.std - Math.sqrt(variance)) < 1e-9);
  assert.deepEqual([s.min, s.max], [0, 255]);
  assert.equal(s.zeroFraction, 3 / 6);
  assert.equal(s.histogram.length, 256);
  assert.deepEqual(
    [s.histogram[0], s.histogram[10], s.histogram[20], s.histogram[255]],
    [3, 1, 1, 1],
  );
  assert.equal(s.histogram.reduce((a, b) => a + b, 0), 6);
  // Class 0 holds images 0 and 2 (values 0, 255, 10, 20); class 1 image 1; class 2 none.
  assert.equal(s.classMeans[0], 285 / 4);
  assert.equal(s.classMeans[1], 0);
  assert.ok(Number.isNaN(s.classMeans[2]));
});

Deno.test("pixelStatistics rejects empty or inconsistent splits", () => {
  assert.throws(
    () =>
      pixelStatistics({
        images: new Uint8Array(),
        labels: new Uint8Array(),
        count: 0,
      }),
    RangeError,
  );
  assert.throws(
    () =>
      pixelStatistics({
        images: new Uint8Array(784),
        labels: new Uint8Array(2),
        count: 2,
      }),
    /needs 1568 pixel bytes and 2 labels, got 784 and 2/,
  );
});

Deno.test("firstOfEachClass takes the first items of each class in order", () => {
  assert.deepEqual(
    firstOfEachClass(new Uint8Array([1, 0, 1, 1, 2, 0]), 3, 2),
    [[1, 5], [0, 2], [4]],
  );
});
