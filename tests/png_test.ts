import assert from "node:assert/strict";
import { inflateSync } from "node:zlib";
import { crc32, decodePng, encodePng } from "../lib/image/png.ts";
import type { RgbaImage } from "../lib/types.ts";

function fromBase64(b64: string): Uint8Array {
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

/** Pixel formula the external test files were made from. */
function formula(x: number, y: number): number[] {
  return [
    (x * 50 + y * 7) & 255,
    (y * 60 + x * 3) & 255,
    (x * y * 17 + 100) & 255,
    255 - x * 20 - y * 10,
  ];
}

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
    chunk("IDAT", zlibStored(scanlines)),
    chunk("IEND", new Uint8Array(0)),
  );
}

/** A zlib stream of uncompressed ("stored") deflate blocks, built by hand. */
function zlibStored(data: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [new Uint8Array([0x78, 0x01])];
  let at = 0;
  do {
    const block = data.subarray(at, at + 65535);
    at += block.length;
    const n = block.length;
    const last = at >= data.length ? 1 : 0;
    parts.push(
      new Uint8Array([last, n & 255, n >> 8, ~n & 255, (~n >> 8) & 255]),
      block,
    );
  } while (at < data.length);
  let a = 1, b = 0;
  for (const byte of data) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  const adler = new Uint8Array(4);
  new DataView(adler.buffer).setUint32(0, ((b << 16) | a) >>> 0);
  parts.push(adler);
  return concat(...parts);
}

// 6×5 RGBA of `formula`, rows filtered with types 0, 1, 2, 3, 4 in turn,
// with a tEXt chunk and the IDAT split in two; written by a small Python
// script (zlib + struct) and checked against ImageMagick's decoder.
const HAND_RGBA_ALL_FILTERS =
  "iVBORw0KGgoAAAANSUhEUgAAAAYAAAAFCAYAAABmWJ3mAAAADHRFWHRDb21tZW50AGhhbmSofBdqAAAACklEQVR42mNgYEj5b8ScHxk+wwAAAFxJREFU8jqFLeX6NM6Uwyd4Utb/4k+Zzchuk/LViFnwDTpmYrdh+MZuIwjESkBsDMQuQBz6jZmvwihHVkHpo6yCNhAbA7HNx7kKLh9ZwDqYgTqYgTqYgTqYXcAYAIjKKeg3uADQAAAAAElFTkSuQmCC";
// 5×4 RGB (colour type 2) of `formula` without alpha, by ImageMagick 6.9
// (`convert -size 5x4 -depth 8 rgba:… -alpha off PNG24:…`), filters 1 and 4.
const MAGICK_RGB =
  "iVBORw0KGgoAAAANSUhEUgAAAAUAAAAECAIAAADJUWIXAAAAI0lEQVQI12NkYEgxYmaAIxZ2GwZ2ZkE4gvOVIAiZb8zObAwAgIAD234Kx00AAAAASUVORK5CYII=";
// The same picture converted to grey by ImageMagick (colour type 0) ...
const MAGICK_GRAY =
  "iVBORw0KGgoAAAANSUhEUgAAAAUAAAAECAAAAABjWKqcAAAAIElEQVQI12Nk5+Hl5WXR4ePj42PR5efn52fRERAU+AcAEecCcIzD5woAAAAASUVORK5CYII=";
// ... and to grey + alpha (colour type 4), alpha as in `formula`.
const MAGICK_GRAY_ALPHA =
  "iVBORw0KGgoAAAANSUhEUgAAAAUAAAAECAQAAADsOj3LAAAAKklEQVQI12Nk/8/zhvcN7xveNyw63/igkEX3Gz8Usuh8E/gm+E3g279vALrEFYno+8FAAAAAAElFTkSuQmCC";
// The grey levels ImageMagick produced, as its own decoder reports them.
const MAGICK_GRAY_LEVELS = [
  7,
  19,
  32,
  45,
  58,
  51,
  65,
  79,
  93,
  107,
  96,
  111,
  126,
  141,
  156,
  140,
  156,
  173,
  189,
  187,
];

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

Deno.test("crc32 matches the standard check value and PNG's IEND CRC", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  assert.equal(crc32(new TextEncoder().encode("IEND")), 0xae426082);
  assert.equal(crc32(new Uint8Array(0)), 0);
  // Running form: two halves give the same as the whole.
  const whole = new TextEncoder().encode("hello, png");
  assert.equal(
    crc32(whole.subarray(5), crc32(whole.subarray(0, 5))),
    crc32(whole),
  );
});

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

Deno.test("decodes a hand-made RGBA PNG using all five filter types", () => {
  const img = decodePng(fromBase64(HAND_RGBA_ALL_FILTERS));
  assert.equal(img.width, 6);
  assert.equal(img.height, 5);
  const expected: number[] = [];
  for (let y = 0; y < 5; y++) {
    for (let x = 0; x < 6; x++) expected.push(...formula(x, y));
  }
  assert.deepEqual([...img.data], expected);
});

Deno.test("decodes ImageMagick's RGB, grey and grey+alpha PNGs", () => {
  const rgb = decodePng(fromBase64(MAGICK_RGB));
  const gray = decodePng(fromBase64(MAGICK_GRAY));
  const grayAlpha = decodePng(fromBase64(MAGICK_GRAY_ALPHA));
  for (const img of [rgb, gray, grayAlpha]) {
    assert.equal(img.width, 5);
    assert.equal(img.height, 4);
  }
  const expectRgb: number[] = [];
  const expectGray: number[] = [];
  const expectGrayAlpha: number[] = [];
  for (let y = 0; y < 4; y++) {
    for (let x = 0; x < 5; x++) {
      const [r, g, b, a] = formula(x, y);
      const level = MAGICK_GRAY_LEVELS[y * 5 + x];
      expectRgb.push(r, g, b, 255);
      expectGray.push(level, level, level, 255);
      expectGrayAlpha.push(level, level, level, a);
    }
  }
  assert.deepEqual([...rgb.data], expectRgb);
  assert.deepEqual([...gray.data], expectGray);
  assert.deepEqual([...grayAlpha.data], expectGrayAlpha);
});

Deno.test("tRNS makes the marked grey level transparent", () => {
  const png = fromBase64(MAGICK_GRAY);
  const list = chunks(png);
  const withTrns = concat(
    png.subarray(0, 8),
    chunk("IHDR", list[0].body),
    chunk("tRNS", new Uint8Array([0, 7])), // grey level 7, the first pixel
    ...list.slice(1).map((c) => chunk(c.type, c.body)),
  );
  const img = decodePng(withTrns);
  assert.deepEqual([...img.data.subarray(0, 8)], [7, 7, 7, 0, 19, 19, 19, 255]);
});

Deno.test("decodes stored-deflate scanlines of every colour type", () => {
  // 2×1 pixels, filter 0, built without any PNG library.
  const cases: Array<[number, number[], number[]]> = [
    [0, [0, 10, 200], [10, 10, 10, 255, 200, 200, 200, 255]],
    [2, [0, 1, 2, 3, 4, 5, 6], [1, 2, 3, 255, 4, 5, 6, 255]],
    [4, [0, 9, 100, 8, 50], [9, 9, 9, 100, 8, 8, 8, 50]],
    [6, [0, 1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 3, 4, 5, 6, 7, 8]],
  ];
  for (const [colorType, scanline, rgba] of cases) {
    const img = decodePng(handMade(2, 1, colorType, new Uint8Array(scanline)));
    assert.deepEqual([...img.data], rgba, `colour type ${colorType}`);
  }
});

Deno.test("corrupt or unsupported input throws a one-sentence Error", () => {
  const good = encodePng(testImage(8, 8));
  const oneSentence = (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.match(e.message, /^[A-Z][^\n]*\.$/);
    assert.doesNotMatch(e.message.slice(0, -1), /\.\s/);
    return true;
  };
  // Not a PNG at all.
  assert.throws(
    () => decodePng(new TextEncoder().encode("GIF89a....")),
    oneSentence,
  );
  assert.throws(() => decodePng(new Uint8Array(0)), oneSentence);
  // Truncated in the middle and just before IEND.
  assert.throws(
    () => decodePng(good.subarray(0, good.length >> 1)),
    oneSentence,
  );
  assert.throws(
    () => decodePng(good.subarray(0, good.length - 12)),
    oneSentence,
  );
  // One flipped bit inside IDAT: CRC mismatch.
  const flipped = good.slice();
  flipped[8 + 25 + 10] ^= 0x04;
  assert.throws(() => decodePng(flipped), /CRC/);
  // IDAT whose zlib stream is garbage but whose CRC is right.
  const ihdr = chunks(good)[0].body;
  const garbage = concat(
    good.subarray(0, 8),
    chunk("IHDR", ihdr),
    chunk("IDAT", new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])),
    chunk("IEND", new Uint8Array(0)),
  );
  assert.throws(() => decodePng(garbage), oneSentence);
  // Too little image data for the header's size.
  assert.throws(
    () => decodePng(handMade(3, 3, 6, new Uint8Array(5))),
    oneSentence,
  );
  // A filter type byte of 5.
  assert.throws(
    () => decodePng(handMade(1, 1, 0, new Uint8Array([5, 0]))),
    /filter type 5/,
  );
  // Palette, 16-bit and interlaced images are not supported.
  assert.throws(
    () => decodePng(handMade(1, 1, 3, new Uint8Array([0, 0]))),
    /colour type 3/,
  );
  assert.throws(
    () =>
      decodePng(handMade(1, 1, 0, new Uint8Array([0, 0, 0]), { depth: 16 })),
    /bit depth 16/,
  );
  assert.throws(
    () =>
      decodePng(handMade(1, 1, 0, new Uint8Array([0, 0]), { interlace: 1 })),
    /interlaced/,
  );
});
