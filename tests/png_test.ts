import assert from "node:assert/strict";
import { crc32, deflateSync, inflateSync } from "node:zlib";
import { decodePng, encodePng } from "../lib/image/png.ts";
import type { RgbaImage } from "../lib/types.ts";
import {
  expectedRgba,
  HEIGHT,
  PNG_KINDS,
  WIDTH,
} from "./fixtures/png/pattern.ts";

const FIXTURES = new URL("./fixtures/png/", import.meta.url);

/** Splits a PNG into its chunks (after the signature). */
function chunks(
  png: Uint8Array,
): Array<{ type: string; body: Uint8Array; crc: number }> {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out = [];
  for (let pos = 8; pos < png.length;) {
    const length = view.getUint32(pos);
    out.push({
      type: String.fromCharCode(...png.subarray(pos + 4, pos + 8)),
      body: png.subarray(pos + 8, pos + 8 + length),
      crc: view.getUint32(pos + 8 + length),
    });
    pos += 12 + length;
  }
  return out;
}

/** Builds a chunk with a correct CRC. */
function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(body, 8);
  view.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)));
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A PNG made of the given IHDR fields and raw (filtered) scanlines. */
function handMade(
  width: number,
  height: number,
  colorType: number,
  scanlines: Uint8Array,
  { depth = 8, interlace = 0 } = {},
): Uint8Array {
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr[8] = depth;
  ihdr[9] = colorType;
  ihdr[12] = interlace;
  return concat(
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(scanlines)),
    chunk("IEND", new Uint8Array(0)),
  );
}

function testImage(width: number, height: number): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  let seed = 12345;
  for (let i = 0; i < data.length; i++) {
    // Mix smooth gradients (favouring sub/up/paeth) with noise.
    seed = (seed * 1103515245 + 12345) >>> 0;
    const p = i >> 2;
    const x = p % width, y = Math.floor(p / width);
    data[i] = i % 4 === 3
      ? (x * 9 + y * 5) & 255
      : (i % 8 === 0 ? seed >>> 24 : (x * 3 + y * 11 + (i % 4) * 40) & 255);
  }
  return { width, height, data };
}

Deno.test("encode → decode round-trips pixels exactly", () => {
  for (const [w, h] of [[1, 1], [2, 3], [37, 23], [300, 7]]) {
    const img = testImage(w, h);
    const back = decodePng(encodePng(img));
    assert.equal(back.width, w);
    assert.equal(back.height, h);
    assert.deepEqual(back.data, img.data);
  }
});

Deno.test("encoded PNG has the signature, a correct IHDR and valid chunks", () => {
  const img = testImage(37, 23);
  const png = encodePng(img);
  assert.deepEqual(
    [...png.subarray(0, 8)],
    [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
  );
  const list = chunks(png);
  assert.deepEqual(list.map((c) => c.type), ["IHDR", "IDAT", "IEND"]);
  const ihdr = list[0].body;
  assert.equal(ihdr.length, 13);
  const v = new DataView(ihdr.buffer, ihdr.byteOffset, 13);
  assert.equal(v.getUint32(0), 37); // width
  assert.equal(v.getUint32(4), 23); // height
  assert.deepEqual([...ihdr.subarray(8)], [8, 6, 0, 0, 0]); // depth, RGBA, deflate, filter 0, no interlace
  for (const c of list) {
    const typed = concat(new TextEncoder().encode(c.type), c.body);
    assert.equal(c.crc, crc32(typed), `CRC of ${c.type}`);
  }
  assert.equal(list[2].body.length, 0);
  // The IDAT inflates to one filter byte (0..4) plus 37*4 bytes per row.
  const raw = inflateSync(list[1].body);
  assert.equal(raw.length, 23 * (1 + 37 * 4));
  for (let y = 0; y < 23; y++) assert.ok(raw[y * (1 + 37 * 4)] <= 4);
});

Deno.test("encodePng rejects a wrong data length and an empty image", () => {
  assert.throws(
    () => encodePng({ width: 2, height: 2, data: new Uint8Array(15) }),
    RangeError,
  );
  assert.throws(
    () => encodePng({ width: 0, height: 2, data: new Uint8Array(0) }),
    RangeError,
  );
});

Deno.test("decodes every kind of PNG to the 8-bit RGBA of its picture", async () => {
  for (const kind of PNG_KINDS) {
    const png = await Deno.readFile(new URL(kind.file, FIXTURES));
    // The file is of the kind its name says (colour type, depth, interlace, tRNS).
    const types = chunks(png).map((c) => c.type);
    assert.deepEqual(
      [png[25], png[24], png[28] === 1, types.includes("tRNS")],
      [kind.colorType, kind.depth, kind.interlaced, kind.trns],
      kind.file,
    );
    const img = decodePng(png);
    assert.deepEqual([img.width, img.height], [WIDTH, HEIGHT], kind.file);
    assert.equal(img.data.length, WIDTH * HEIGHT * 4, kind.file);
    for (let y = 0; y < HEIGHT; y++) {
      for (let x = 0; x < WIDTH; x++) {
        const at = (y * WIDTH + x) * 4;
        const got = [...img.data.subarray(at, at + 4)];
        const want = expectedRgba(kind, x, y);
        // A fully transparent pixel has no colour to compare.
        const compared = want[3] === 0 ? [got[3]] : got;
        assert.deepEqual(
          compared,
          want[3] === 0 ? [0] : want,
          `${kind.file} at (${x}, ${y})`,
        );
      }
    }
  }
});

Deno.test("a few pixels of the fixtures, worked out by hand", async () => {
  const pixel = async (file: string, x: number, y: number) => {
    const img = decodePng(await Deno.readFile(new URL(file, FIXTURES)));
    const at = (y * WIDTH + x) * 4;
    return [...img.data.subarray(at, at + 4)];
  };
  // Inside the border, palette entry 1 + (x + 3y) mod 15 = 14 at (1, 4):
  // (67·14 + 20, 131·14 + 50, 29·14 + 200) = (958, 1884, 606), mod 256.
  assert.deepEqual(await pixel("palette-4-adam7.png", 1, 4), [
    190,
    92,
    94,
    255,
  ]);
  // Entry 1 + (1 + 3) mod 3 = 2 of a tRNS palette is half transparent; the
  // border's entry 0 fully.
  assert.deepEqual(await pixel("palette-2-trns.png", 1, 1), [154, 56, 2, 128]);
  assert.equal((await pixel("palette-2-trns.png", 0, 0))[3], 0);
  // 2-bit grey: level 1 + (5x + 3y) mod 3 inside, 0 on the border; levels
  // 1, 2, 3 are 85, 170, 255.
  assert.deepEqual(await pixel("grey-2-adam7.png", 3, 1), [85, 85, 85, 255]);
  assert.deepEqual(await pixel("grey-2.png", 2, 1), [170, 170, 170, 255]);
  assert.deepEqual(await pixel("grey-2.png", 1, 1), [255, 255, 255, 255]);
  assert.deepEqual(await pixel("grey-2.png", 0, 1), [0, 0, 0, 255]);
  // 16-bit grey at (1, 6): 221·257 + 90 = 56887, and 56887 / 257 = 221.35
  // → 221 (its high byte alone would say 222).
  assert.deepEqual(await pixel("grey-16.png", 1, 6), [221, 221, 221, 255]);
  // Grey tRNS marks the border's grey transparent, nothing else.
  assert.equal((await pixel("grey-8-trns.png", 0, 0))[3], 0);
  assert.deepEqual(await pixel("grey-8-trns.png", 1, 1), [76, 76, 76, 255]);
});

Deno.test("corrupt input throws one sentence saying what is wrong", () => {
  const good = encodePng(testImage(8, 8));
  const fails = (bytes: Uint8Array, reason: RegExp) =>
    assert.throws(() => decodePng(bytes), (e) => {
      assert.ok(e instanceof Error);
      assert.match(e.message, /^[A-Z][^\n]*\.$/);
      assert.doesNotMatch(e.message.slice(0, -1), /\.\s/);
      assert.match(e.message, reason);
      return true;
    });
  fails(new TextEncoder().encode("GIF89a...."), /^Not a PNG file/);
  fails(new Uint8Array(0), /^Not a PNG file/);
  fails(good.subarray(0, 8), /IHDR chunk is missing/);
  fails(good.subarray(0, good.length >> 1), /the file is truncated/);
  fails(good.subarray(0, good.length - 12), /the file is truncated/);
  const flipped = good.slice();
  flipped[8 + 25 + 10] ^= 0x04; // inside IDAT
  fails(flipped, /checksum of its IDAT chunk does not match/);
  const garbage = concat(
    good.subarray(0, 8),
    chunk("IHDR", chunks(good)[0].body),
    chunk("IDAT", new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])),
    chunk("IEND", new Uint8Array(0)),
  );
  fails(garbage, /^Corrupt PNG: its image data is damaged\.$/);
  fails(handMade(1, 1, 0, new Uint8Array([5, 0])), /filter type - 5/);
  fails(
    handMade(1, 1, 0, new Uint8Array([0, 0]), { depth: 3 }),
    /colour type 0, bit depth 3 and interlace method 0, which PNG does not have/,
  );
  fails(
    handMade(1, 1, 5, new Uint8Array([0, 0])),
    /colour type 5, bit depth 8/,
  );
  // Image data a row short (3×2 grey: 2 rows of filter byte + 3 samples):
  // refused, not filled with zeros.
  const short = /its image data ends before the picture does/;
  assert.equal(decodePng(handMade(3, 2, 0, new Uint8Array(8))).width, 3);
  fails(handMade(3, 2, 0, new Uint8Array(4)), short);
  fails(handMade(3, 2, 0, new Uint8Array(7)), short);
  // Adam7, 3×2 grey: passes 1, 4 and 6 hold one row of 1, 1 and 1 samples,
  // pass 7 one row of 3: 2 + 2 + 2 + 4 = 10 bytes.
  assert.equal(
    decodePng(handMade(3, 2, 0, new Uint8Array(10), { interlace: 1 })).height,
    2,
  );
  fails(handMade(3, 2, 0, new Uint8Array(9), { interlace: 1 }), short);
  // Refused from the header: no memory for 11,500 × 11,500 pixels.
  fails(
    handMade(11_500, 11_500, 0, new Uint8Array(1)),
    /larger than 50 megapixels/,
  );
});
