import assert from "node:assert/strict";
import { join } from "node:path";
import jpeg from "jpeg-js";
import {
  buildMiniVGGNet,
  classifyPixels,
  ImageError,
  initWasmBackend,
  loadFashionMnist,
  predictSplit,
  prepareImage,
  prepareImageFile,
  probabilitiesOf,
  type RgbaImage,
  tf,
} from "../lib/mod.ts";
import { PIXELS } from "../lib/data/fashion_mnist.ts";
import { MAX_IMAGE_PIXELS, readImageHeader } from "../lib/image/header.ts";
import { decodeJpeg, isJpeg } from "../lib/image/jpeg.ts";
import { encodePng } from "../lib/image/png.ts";
import { fitRgba, grayToRgba, resizeArea } from "../lib/image/resize.ts";
import {
  decodeImage,
  distanceFromBackground,
  flattenAlpha,
  MAX_IMAGE_FILE_BYTES,
  readImageFile,
} from "../lib/preprocess.ts";
import { createImage, fillRect, type Rgb } from "./rgba.ts";
import { blackPng, jpegClaiming } from "./fixtures/bombs.ts";
import { ROOT } from "./paths.ts";
import { PNG_KINDS } from "./fixtures/png/pattern.ts";

const SAMPLE = join(ROOT, "notebooks", "images", "ankle-boot.jpg");

// Started once, at module level, as the other test modules do.
await initWasmBackend();

function encodeJpeg(img: RgbaImage, quality = 90): Uint8Array {
  return new Uint8Array(jpeg.encode(img, quality).data);
}

/** A `width`×`height` picture with a filled rectangle on a plain background. */
function photo(
  width: number,
  height: number,
  background: Rgb,
  box: [number, number, number, number],
  color: Rgb,
): RgbaImage {
  const img = createImage(width, height, background);
  fillRect(img, box[0], box[1], box[2], box[3], color);
  return img;
}

/** Bounding box of pixels above `threshold` in a 28×28 image. */
function inkBox(pixels: Uint8Array, threshold = 127) {
  let x0 = 28, y0 = 28, x1 = -1, y1 = -1;
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      if (pixels[y * 28 + x] > threshold) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
    }
  }
  return { x0, y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

function assertOneSentence(e: unknown, pattern: RegExp): true {
  assert.ok(e instanceof ImageError, `ImageError expected, got ${e}`);
  assert.match(e.message, pattern);
  assert.doesNotMatch(e.message, /\n/);
  assert.match(e.message, /\.$/);
  return true;
}

Deno.test("resizeArea averages areas, keeps the mean, and enlarges by repeating", () => {
  assert.deepEqual(
    Array.from(resizeArea(new Float32Array([0, 2, 4, 6]), 4, 1, 1, 2, 1)),
    [1, 5],
  );
  // 3 → 2: the middle pixel is split between the two outputs.
  assert.deepEqual(
    Array.from(resizeArea([0, 3, 6], 3, 1, 1, 2, 1)),
    [1, 5],
  );
  const src = Float32Array.from(
    { length: 37 * 23 },
    (_, i) => (i * 7919) % 256,
  );
  const out = resizeArea(src, 37, 23, 1, 10, 6);
  const mean = (a: ArrayLike<number>) =>
    Array.from(a).reduce((s, v) => s + v, 0) / a.length;
  assert.ok(Math.abs(mean(out) - mean(src)) < 1e-3);
  assert.deepEqual(
    Array.from(resizeArea([10, 20], 2, 1, 1, 4, 1)),
    [10, 10, 20, 20],
  );
  // Channels stay apart.
  assert.deepEqual(
    Array.from(resizeArea([255, 0, 255, 0], 2, 1, 2, 1, 1)),
    [255, 0],
  );
  assert.throws(() => resizeArea([1, 2], 2, 1, 1, 0, 1), RangeError);
  assert.throws(() => resizeArea([1, 2, 3], 2, 1, 1, 1, 1), RangeError);
});

Deno.test("grayToRgba enlarges pixels into blocks; fitRgba shrinks to fit", () => {
  const img = grayToRgba(new Uint8Array([0, 255]), 2, 1, 3);
  assert.deepEqual([img.width, img.height], [6, 3]);
  assert.deepEqual(Array.from(img.data.subarray(0, 4)), [0, 0, 0, 255]);
  assert.deepEqual(
    Array.from(img.data.subarray(5 * 4, 6 * 4)),
    [255, 255, 255, 255],
  );
  const big = createImage(1000, 400, [10, 20, 30]);
  const small = fitRgba(big, 200);
  assert.deepEqual([small.width, small.height], [200, 80]);
  assert.deepEqual(Array.from(small.data.subarray(0, 4)), [10, 20, 30, 255]);
  assert.equal(fitRgba(small, 500), small);
});

Deno.test("decodeImage reads PNG and JPEG by their signature, whatever the name", () => {
  const img = photo(40, 30, [250, 250, 250], [10, 5, 20, 20], [20, 40, 200]);
  const png = decodeImage(encodePng(img), "picture.jpg");
  assert.deepEqual(png, img);
  const jpg = encodeJpeg(img, 95);
  assert.ok(isJpeg(jpg));
  const decoded = decodeImage(jpg, "picture.png");
  assert.deepEqual([decoded.width, decoded.height], [40, 30]);
  // Lossy, but close: the centre of the rectangle and a background corner.
  const at = (x: number, y: number) =>
    Array.from(decoded.data.subarray((y * 40 + x) * 4, (y * 40 + x) * 4 + 4));
  const near = (a: number[], b: number[]) =>
    a.every((v, i) => Math.abs(v - b[i]) <= 12);
  assert.ok(near(at(20, 15), [20, 40, 200, 255]), `${at(20, 15)}`);
  assert.ok(near(at(1, 1), [250, 250, 250, 255]), `${at(1, 1)}`);
  assert.deepEqual(decodeJpeg(jpg).width, 40);
});

Deno.test("decodeImage: anything else is one sentence naming the file", () => {
  assert.throws(
    () => decodeImage(new TextEncoder().encode("hello"), "notes.txt"),
    (e) => assertOneSentence(e, /^notes\.txt is not a PNG or JPEG image;/),
  );
  assert.throws(
    () => decodeImage(new Uint8Array(0), "blank.png"),
    (e) => assertOneSentence(e, /^blank\.png is empty \(0 bytes\);/),
  );
  const jpg = encodeJpeg(
    photo(64, 64, [0, 0, 0], [8, 8, 40, 40], [255, 255, 255]),
  );
  assert.throws(
    () => decodeImage(jpg.subarray(0, 200), "cut.jpg"),
    (e) => assertOneSentence(e, /^cut\.jpg cannot be read as JPEG \(/),
  );
  const png = encodePng(createImage(8, 8));
  png[png.length - 20] ^= 0xff; // break a CRC
  assert.throws(
    () => decodeImage(png, "bad.png"),
    (e) => assertOneSentence(e, /^bad\.png cannot be read as PNG \(/),
  );
});

Deno.test("readImageHeader reads the size of PNG and JPEG without decoding", async () => {
  const img = photo(40, 30, [250, 250, 250], [10, 5, 20, 20], [20, 40, 200]);
  const png = encodePng(img);
  const jpg = encodeJpeg(img);
  const sample = await Deno.readFile(SAMPLE);
  for (const [bytes, format] of [[png, "png"], [jpg, "jpeg"]] as const) {
    const h = readImageHeader(bytes)!;
    assert.deepEqual([h.format, h.width, h.height], [format, 40, 30]);
    assert.ok(h.minimumBytes <= bytes.length);
  }
  const h = readImageHeader(sample)!;
  assert.equal(h.format, "jpeg");
  assert.deepEqual([h.width, h.height], [
    decodeJpeg(sample).width,
    decodeJpeg(sample).height,
  ]);
  assert.ok(h.minimumBytes <= sample.length);
  assert.equal(readImageHeader(new TextEncoder().encode("GIF89a")), undefined);
  // The same limit for both formats, from the header alone.
  assert.equal(MAX_IMAGE_PIXELS, 50_000_000);
  assert.deepEqual(
    readImageHeader(jpegClaiming(60_000, 60_000))?.width,
    60_000,
  );
});

Deno.test("decodeImage refuses from the header pictures too large or too small for their size", () => {
  const tooLarge =
    "more than the 50 megapixels this program reads, so it was not decoded; scale it down";
  assert.throws(
    () => decodeImage(blackPng(11_500, 11_500), "huge.png"),
    (e) =>
      assertOneSentence(
        e,
        new RegExp(
          `^huge\\.png is 11,500 × 11,500 pixels \\(132 megapixels\\), ${tooLarge}`,
        ),
      ),
  );
  assert.throws(
    () => decodeImage(jpegClaiming(10_000, 6_000), "huge.jpg"),
    (e) =>
      assertOneSentence(
        e,
        new RegExp(
          `^huge\\.jpg is 10,000 × 6,000 pixels \\(60 megapixels\\), ${tooLarge}`,
        ),
      ),
  );
  const tooFew =
    /too few for the 7,000 × 7,000 pixels its header declares, so it was not decoded \(the file is truncated or damaged\); re-save it/;
  assert.throws(
    () => decodeImage(jpegClaiming(7000, 7000), "liar.jpg"),
    (e) =>
      assertOneSentence(e, /^liar\.jpg holds \d+ bytes, /) &&
      assertOneSentence(e, tooFew),
  );
  assert.throws(
    () => decodeImage(blackPng(8, 8, [7000, 7000]), "liar.png"),
    (e) =>
      assertOneSentence(e, /^liar\.png holds \d+ bytes, /) &&
      assertOneSentence(e, tooFew),
  );
  const broken: [Uint8Array, string, RegExp][] = [
    [
      new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2]),
      "nohead.png",
      /^nohead\.png cannot be read as PNG \(the IHDR chunk is missing\);/,
    ],
    [
      new Uint8Array([0xff, 0xd8, 0xff, 0xda, 0, 2, 0, 0]),
      "noframe.jpg",
      /^noframe\.jpg cannot be read as JPEG \(the image data starts before any frame header \(SOF\)\);/,
    ],
    [
      new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16, 1]),
      "cut.jpg",
      /^cut\.jpg cannot be read as JPEG \(the file ends before its frame header \(SOF\)\);/,
    ],
  ];
  for (const [bytes, name, pattern] of broken) {
    assert.throws(
      () => decodeImage(bytes, name),
      (e) => assertOneSentence(e, pattern),
    );
  }
});

Deno.test("readImageFile: a file larger than any picture is not read", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "big.jpg");
    await Deno.writeFile(path, jpegClaiming(100, 100));
    await Deno.truncate(path, MAX_IMAGE_FILE_BYTES + 1); // sparse
    await assert.rejects(
      readImageFile(path),
      (e) =>
        assertOneSentence(
          e,
          /big\.jpg is larger than 256 MiB, more than any picture this program reads/,
        ),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readImageFile: missing file, folder, not an image", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      readImageFile(join(dir, "nope.png")),
      (e) =>
        assertOneSentence(
          e,
          /^There is no file at .*nope\.png; check the path/,
        ),
    );
    await assert.rejects(
      readImageFile(dir),
      (e) => assertOneSentence(e, /is a folder, not an image file/),
    );
    await Deno.writeTextFile(join(dir, "x.jpg"), "not really");
    await assert.rejects(
      prepareImageFile(join(dir, "x.jpg")),
      (e) => assertOneSentence(e, /x\.jpg is not a PNG or JPEG image/),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("distanceFromBackground: background black, object light, whatever the colours", () => {
  const dark = photo(5, 5, [255, 255, 255], [2, 2, 1, 1], [0, 0, 0]);
  const d = distanceFromBackground(dark);
  assert.deepEqual([d.gray[12], d.gray[0], d.lightBackground], [255, 0, true]);
  assert.deepEqual(d.background, [255, 255, 255]);
  const light = distanceFromBackground(
    photo(5, 5, [0, 0, 0], [2, 2, 1, 1], [200, 200, 200]),
  );
  assert.deepEqual([Math.round(light.gray[12]), light.lightBackground], [
    200,
    false,
  ]);
  // Same brightness, different colour: still apart.
  const colour = distanceFromBackground(
    photo(5, 5, [200, 30, 30], [2, 2, 1, 1], [20, 120, 20]),
  );
  assert.ok(colour.gray[12] > 100, `${colour.gray[12]}`);
});

Deno.test("flattenAlpha: transparency becomes a backdrop that contrasts with the object", () => {
  assert.deepEqual(
    Array.from(
      flattenAlpha({
        width: 1,
        height: 1,
        data: new Uint8Array([255, 0, 0, 255]),
      }),
    ),
    [255, 0, 0],
  );
  // Dark ink on transparency: composited over white.
  const dark = createImage(4, 1, [0, 0, 0, 0]);
  dark.data.set([20, 20, 20, 255], 0);
  assert.deepEqual(Array.from(flattenAlpha(dark).subarray(9)), [255, 255, 255]);
  // Light ink on transparency: composited over black.
  const light = createImage(4, 1, [0, 0, 0, 0]);
  light.data.set([240, 240, 240, 255], 0);
  assert.deepEqual(Array.from(flattenAlpha(light).subarray(9)), [0, 0, 0]);
});

Deno.test("prepareImage: a dark item on a light background is inverted to light on black", () => {
  const img = photo(300, 200, [245, 240, 230], [100, 20, 100, 160], [
    40,
    30,
    20,
  ]);
  const p = prepareImage(img);
  assert.equal(p.inverted, true);
  assert.deepEqual(p.box, { x: 100, y: 20, width: 100, height: 160 });
  assert.equal(p.pixels.length, PIXELS);
  assert.equal(p.pixels[0], 0); // background is black
  assert.equal(Math.max(...p.pixels), 255); // the item is white
  // Taller than wide: the height fills 28 rows, the width keeps the 100:160
  // proportion (17.5 → 18 columns), centred.
  const box = inkBox(p.pixels);
  assert.equal(box.height, 28);
  assert.ok(Math.abs(box.width - 17.5) <= 1, `width ${box.width}`);
  assert.ok(Math.abs(box.x0 + box.width / 2 - 14) <= 1, `x0 ${box.x0}`);
  assert.equal(p.source, img);
});

Deno.test("prepareImage: a light item on a dark background is kept; wide items fill the width", () => {
  const p = prepareImage(
    photo(120, 90, [12, 12, 12], [10, 30, 100, 40], [200, 200, 200]),
  );
  assert.equal(p.inverted, false);
  const box = inkBox(p.pixels);
  assert.equal(box.width, 28);
  assert.ok(Math.abs(box.height - 11.2) <= 1, `height ${box.height}`);
  assert.ok(Math.abs(box.y0 + box.height / 2 - 14) <= 1);
  // Colour works the same: green item on a red background.
  const c = prepareImage(
    photo(50, 50, [200, 30, 30], [10, 10, 30, 30], [20, 120, 20]),
  );
  assert.equal(inkBox(c.pixels).width, 28);
});

Deno.test("prepareImage: specks and JPEG noise do not move the crop", () => {
  const img = photo(400, 300, [250, 250, 250], [150, 50, 100, 200], [
    30,
    30,
    30,
  ]);
  fillRect(img, 5, 5, 2, 2, [0, 0, 0]); // a speck of dust in a corner
  const p = prepareImage(decodeImage(encodeJpeg(img, 80), "noisy.jpg"));
  assert.ok(
    Math.abs(p.box.x - 150) <= 2 && Math.abs(p.box.width - 100) <= 4,
    JSON.stringify(p.box),
  );
  assert.ok(
    Math.abs(p.box.y - 50) <= 2 && Math.abs(p.box.height - 200) <= 4,
    JSON.stringify(p.box),
  );
});

Deno.test("prepareImage: a transparent PNG of a dark item is inverted like one on white", () => {
  const img = createImage(60, 60, [0, 0, 0, 0]);
  fillRect(img, 20, 10, 20, 40, [30, 30, 30]);
  const p = prepareImage(decodeImage(encodePng(img), "cutout.png"));
  assert.equal(p.inverted, true);
  assert.equal(inkBox(p.pixels).height, 28);
});

Deno.test("prepareImage: a flat picture has nothing to classify", () => {
  assert.throws(
    () => prepareImage(createImage(30, 30, [128, 128, 128]), "grey.png"),
    (e) => assertOneSentence(e, /^grey\.png is a single flat colour/),
  );
});

Deno.test("prepareImage: a large photo is handled quickly", () => {
  const img = photo(3000, 2000, [240, 240, 240], [1000, 300, 900, 1400], [
    50,
    50,
    60,
  ]);
  const t0 = performance.now();
  const p = prepareImage(img);
  assert.ok(performance.now() - t0 < 5000);
  assert.equal(inkBox(p.pixels).height, 28);
});

Deno.test("the shipped sample prepares into the Fashion-MNIST test image it was made from", async () => {
  const p = await prepareImageFile(SAMPLE);
  assert.equal(p.inverted, true);
  assert.ok(p.source.width > 28 && p.source.height > 28);
  const { test } = await loadFashionMnist({ download: false });
  assert.equal(test.labels[0], 9); // Ankle boot
  const original = test.images.subarray(0, PIXELS);
  // Pearson correlation of the prepared picture with the original.
  const mean = (a: Uint8Array) => a.reduce((s, v) => s + v, 0) / a.length;
  const ma = mean(original), mb = mean(p.pixels);
  let num = 0, va = 0, vb = 0;
  for (let i = 0; i < PIXELS; i++) {
    num += (original[i] - ma) * (p.pixels[i] - mb);
    va += (original[i] - ma) ** 2;
    vb += (p.pixels[i] - mb) ** 2;
  }
  const r = num / Math.sqrt(va * vb);
  assert.ok(r > 0.7, `correlation ${r}`);
});

Deno.test("classifyPixels gives ten probabilities and leaves no tensors behind", () => {
  const model = buildMiniVGGNet({ seed: 1 });
  try {
    const pixels = new Uint8Array(PIXELS).fill(100);
    const before = tf.memory().numTensors;
    const probs = classifyPixels(model, pixels);
    assert.equal(tf.memory().numTensors, before);
    assert.equal(probs.length, 10);
    assert.ok(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 1e-4);
    const viaSplit = probabilitiesOf(
      predictSplit(model, { images: pixels, count: 1 }),
      0,
    );
    assert.deepEqual(probs, viaSplit);
    assert.throws(() => classifyPixels(model, new Uint8Array(10)), RangeError);
    assert.throws(
      () =>
        probabilitiesOf(predictSplit(model, { images: pixels, count: 1 }), 1),
      RangeError,
    );
  } finally {
    model.dispose();
  }
});

Deno.test("prepareImageFile, 05-your-own's way in, takes every kind of PNG", async () => {
  const prepared = new Map<string, number[]>();
  for (const kind of PNG_KINDS) {
    const path = join(ROOT, "tests", "fixtures", "png", kind.file);
    const { pixels } = await prepareImageFile(path);
    assert.equal(pixels.length, PIXELS, kind.file);
    assert.ok(pixels.some((v) => v > 0), `${kind.file} came out blank`);
    prepared.set(kind.file, Array.from(pixels));
  }
  // Interlacing changes how the file is stored, not the picture.
  for (const kind of PNG_KINDS.filter((k) => k.interlaced)) {
    assert.deepEqual(
      prepared.get(kind.file),
      prepared.get(kind.file.replace("-adam7", "")),
      kind.file,
    );
  }
});
