/**
 * PNG encoding and decoding for {@link RgbaImage}, on top of `node:zlib`.
 *
 * {@link encodePng} writes 8-bit RGBA, non-interlaced, choosing for each row
 * the filter (none, sub, up, average or Paeth) whose output has the smallest
 * sum of absolute values. {@link decodePng} reads 8-bit non-interlaced PNGs of
 * colour types 0, 2, 4 and 6 (grey, RGB, grey + alpha, RGBA) with any of the
 * five filters, honours `tRNS` for grey and RGB, checks every chunk's CRC and
 * skips ancillary chunks.
 *
 * @example
 * ```ts
 * import { decodePng, encodePng } from "./png.ts";
 * const img = { width: 1, height: 1, data: new Uint8Array([255, 0, 0, 255]) };
 * const back = decodePng(encodePng(img));
 * console.log(back.data); // Uint8Array [255, 0, 0, 255]
 * ```
 *
 * @module
 */

import { deflateSync, inflateSync } from "node:zlib";
import type { RgbaImage } from "../types.ts";

/** The eight bytes every PNG file starts with. */
const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Largest picture, in pixels, either direction accepts (512 MiB of RGBA). */
const MAX_PIXELS = 2 ** 27;

/** Bytes per pixel by colour type, for the types this module reads. */
const CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 4: 2, 6: 4 };

let crcTable: Uint32Array | undefined;

function makeCrcTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) {
      c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    }
    table[n] = c >>> 0;
  }
  return table;
}

/**
 * CRC-32 (ISO 3309 / ITU-T V.42, the one PNG and zlib's `crc32` use) of
 * `bytes`, as an unsigned 32-bit number. Pass a previous result as `crc` to
 * continue a running checksum over several buffers.
 *
 * @example
 * ```ts
 * import { crc32 } from "./png.ts";
 * console.log(crc32(new TextEncoder().encode("IEND")).toString(16)); // "ae426082"
 * ```
 */
export function crc32(bytes: Uint8Array, crc = 0): number {
  const table = crcTable ??= makeCrcTable();
  let c = (crc ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    c = table[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

/** Predictor of filter `type` from left `a`, above `b`, upper-left `c`. */
function predict(type: number, a: number, b: number, c: number): number {
  switch (type) {
    case 1:
      return a;
    case 2:
      return b;
    case 3:
      return (a + b) >>> 1;
    case 4:
      return paeth(a, b, c);
    default:
      return 0;
  }
}

function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(body, 8);
  view.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)));
  return out;
}

/**
 * Encodes an RGBA image as a PNG file (colour type 6, 8 bits per channel,
 * non-interlaced, adaptive per-row filtering, zlib-compressed). Throws a
 * RangeError when the image is empty, too large or its `data` length is not
 * `width * height * 4`.
 *
 * @example
 * ```ts
 * import { encodePng } from "./png.ts";
 * const bytes = encodePng({ width: 2, height: 1, data: new Uint8Array(8).fill(255) });
 * // await Deno.writeFile("white.png", bytes);
 * ```
 */
export function encodePng(img: RgbaImage): Uint8Array {
  const { width, height, data } = img;
  if (
    !Number.isInteger(width) || !Number.isInteger(height) || width < 1 ||
    height < 1 || width * height > MAX_PIXELS
  ) {
    throw new RangeError(
      `Cannot encode a ${width}×${height} image as PNG: each side must be a positive integer and the area at most ${MAX_PIXELS} pixels.`,
    );
  }
  if (data.length !== width * height * 4) {
    throw new RangeError(
      `Image data holds ${data.length} bytes but ${width}×${height} RGBA needs ${
        width * height * 4
      }.`,
    );
  }
  const stride = width * 4;
  const raw = new Uint8Array(height * (stride + 1));
  const candidate = new Uint8Array(stride);
  const best = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    let bestType = 0;
    let bestScore = Infinity;
    for (let type = 0; type <= 4; type++) {
      let score = 0;
      for (let i = 0; i < stride; i++) {
        const a = i >= 4 ? data[row + i - 4] : 0;
        const b = y > 0 ? data[row - stride + i] : 0;
        const c = i >= 4 && y > 0 ? data[row - stride + i - 4] : 0;
        const v = (data[row + i] - predict(type, a, b, c)) & 0xff;
        candidate[i] = v;
        score += v < 128 ? v : 256 - v;
      }
      if (score < bestScore) {
        bestScore = score;
        bestType = type;
        best.set(candidate);
      }
    }
    const at = y * (stride + 1);
    raw[at] = bestType;
    raw.set(best, at + 1);
  }

  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type: RGBA
  // compression 0, filter method 0, interlace 0 are already zero.

  const parts = [
    new Uint8Array(SIGNATURE),
    chunk("IHDR", ihdr),
    chunk("IDAT", new Uint8Array(deflateSync(raw))),
    chunk("IEND", new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

interface Header {
  width: number;
  height: number;
  colorType: number;
}

function readHeader(body: Uint8Array): Header {
  if (body.length !== 13) {
    throw new Error("Corrupt PNG: the IHDR chunk is not 13 bytes long.");
  }
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const width = view.getUint32(0);
  const height = view.getUint32(4);
  const [depth, colorType, compression, filter, interlace] = body.subarray(8);
  if (
    width === 0 || height === 0 || width > 2 ** 31 - 1 || height > 2 ** 31 - 1
  ) {
    throw new Error(`Corrupt PNG: invalid dimensions ${width}×${height}.`);
  }
  if (width * height > MAX_PIXELS) {
    throw new Error(
      `Unsupported PNG: ${width}×${height} exceeds the ${MAX_PIXELS}-pixel limit.`,
    );
  }
  if (!(colorType in CHANNELS)) {
    throw new Error(
      `Unsupported PNG: colour type ${colorType} (only 0, 2, 4 and 6 are read).`,
    );
  }
  if (depth !== 8) {
    throw new Error(`Unsupported PNG: bit depth ${depth} (only 8 is read).`);
  }
  if (compression !== 0 || filter !== 0) {
    throw new Error(
      `Corrupt PNG: unknown compression method ${compression} or filter method ${filter}.`,
    );
  }
  if (interlace !== 0) {
    throw new Error("Unsupported PNG: interlaced images are not read.");
  }
  return { width, height, colorType };
}

/**
 * Decodes a PNG file: 8-bit, non-interlaced, colour type 0 (grey), 2 (RGB),
 * 4 (grey + alpha) or 6 (RGBA), any filter types. Returns RGBA pixels; grey
 * is copied to R, G and B, missing alpha becomes 255 (or 0 for the colour a
 * `tRNS` chunk marks transparent). Throws an Error with a one-sentence message
 * for anything else: not a PNG, truncated data, bad CRC, broken zlib stream,
 * bad filter byte, palette/16-bit/sub-byte/interlaced images.
 *
 * @example
 * ```ts
 * import { decodePng } from "./png.ts";
 * const img = decodePng(await Deno.readFile("out/plot.png"));
 * console.log(img.width, img.height);
 * ```
 */
export function decodePng(bytes: Uint8Array): RgbaImage {
  if (
    bytes.length < SIGNATURE.length ||
    SIGNATURE.some((b, i) => bytes[i] !== b)
  ) {
    throw new Error("Not a PNG file: the 8-byte PNG signature is missing.");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let header: Header | undefined;
  let transparent: number[] | undefined;
  const idat: Uint8Array[] = [];
  let ended = false;
  let pos = SIGNATURE.length;
  while (pos < bytes.length && !ended) {
    if (pos + 12 > bytes.length) {
      throw new Error("Corrupt PNG: the file ends inside a chunk header.");
    }
    const length = view.getUint32(pos);
    const typeBytes = bytes.subarray(pos + 4, pos + 8);
    const type = String.fromCharCode(...typeBytes);
    if (!/^[A-Za-z]{4}$/.test(type)) {
      throw new Error("Corrupt PNG: a chunk has an invalid type code.");
    }
    if (length > 2 ** 31 - 1 || pos + 12 + length > bytes.length) {
      throw new Error(`Corrupt PNG: chunk ${type} is truncated.`);
    }
    const body = bytes.subarray(pos + 8, pos + 8 + length);
    const stored = view.getUint32(pos + 8 + length);
    if (crc32(bytes.subarray(pos + 4, pos + 8 + length)) !== stored) {
      throw new Error(`Corrupt PNG: CRC mismatch in chunk ${type}.`);
    }
    pos += 12 + length;

    if (!header && type !== "IHDR") {
      throw new Error("Corrupt PNG: the first chunk is not IHDR.");
    }
    switch (type) {
      case "IHDR":
        if (header) throw new Error("Corrupt PNG: more than one IHDR chunk.");
        header = readHeader(body);
        break;
      case "IDAT":
        idat.push(body);
        break;
      case "IEND":
        ended = true;
        break;
      case "PLTE": // a suggested palette for colour types 2 and 6: not needed
        break;
      case "tRNS": {
        const colorType = header?.colorType;
        const at = body.byteOffset - bytes.byteOffset;
        if (colorType === 0 && length === 2) {
          transparent = [view.getUint16(at)];
        } else if (colorType === 2 && length === 6) {
          transparent = [0, 2, 4].map((k) => view.getUint16(at + k));
        } else {
          throw new Error(
            `Corrupt PNG: a ${length}-byte tRNS chunk does not fit colour type ${colorType}.`,
          );
        }
        break;
      }
      default:
        // Bit 5 of the first byte clear means critical: we must understand it.
        if ((typeBytes[0] & 0x20) === 0) {
          throw new Error(`Unsupported PNG: unknown critical chunk ${type}.`);
        }
    }
  }
  if (!header) throw new Error("Corrupt PNG: the IHDR chunk is missing.");
  if (!ended) throw new Error("Corrupt PNG: the file ends before IEND.");
  if (idat.length === 0) {
    throw new Error("Corrupt PNG: there is no IDAT chunk.");
  }

  const { width, height, colorType } = header;
  const bpp = CHANNELS[colorType];
  const stride = width * bpp;
  const expected = height * (stride + 1);

  const compressed = new Uint8Array(idat.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of idat) {
    compressed.set(c, offset);
    offset += c.length;
  }
  let raw: Uint8Array;
  try {
    raw = inflateSync(compressed, { maxOutputLength: expected });
  } catch {
    throw new Error(
      "Corrupt PNG: the image data is not a valid zlib stream of the expected size.",
    );
  }
  if (raw.length < expected) {
    throw new Error(
      `Corrupt PNG: the image data holds ${raw.length} bytes but ${expected} are needed.`,
    );
  }

  // Undo the filters in place: row y's bytes start at y * (stride + 1) + 1.
  for (let y = 0; y < height; y++) {
    const at = y * (stride + 1);
    const type = raw[at];
    if (type > 4) {
      throw new Error(`Corrupt PNG: row ${y} has unknown filter type ${type}.`);
    }
    if (type === 0) continue;
    const row = at + 1;
    const prev = row - (stride + 1);
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? raw[row + i - bpp] : 0;
      const b = y > 0 ? raw[prev + i] : 0;
      const c = i >= bpp && y > 0 ? raw[prev + i - bpp] : 0;
      raw[row + i] = (raw[row + i] + predict(type, a, b, c)) & 0xff;
    }
  }

  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    let s = y * (stride + 1) + 1;
    let d = y * width * 4;
    for (let x = 0; x < width; x++, s += bpp, d += 4) {
      switch (colorType) {
        case 0: {
          const v = raw[s];
          data[d] = data[d + 1] = data[d + 2] = v;
          data[d + 3] = transparent && transparent[0] === v ? 0 : 255;
          break;
        }
        case 2: {
          const r = raw[s], g = raw[s + 1], b = raw[s + 2];
          data[d] = r;
          data[d + 1] = g;
          data[d + 2] = b;
          data[d + 3] = transparent && transparent[0] === r &&
              transparent[1] === g && transparent[2] === b
            ? 0
            : 255;
          break;
        }
        case 4:
          data[d] = data[d + 1] = data[d + 2] = raw[s];
          data[d + 3] = raw[s + 1];
          break;
        default:
          data[d] = raw[s];
          data[d + 1] = raw[s + 1];
          data[d + 2] = raw[s + 2];
          data[d + 3] = raw[s + 3];
      }
    }
  }
  return { width, height, data };
}
