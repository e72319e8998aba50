/**
 * PNG files to and from {@link RgbaImage}, through the `pngjs` library.
 *
 * {@link decodePng} reads every kind of PNG — grey, grey + alpha, RGB,
 * RGBA and palette; 1, 2, 4, 8 and 16 bits; transparency from `tRNS`;
 * plain or Adam7-interlaced — and always gives 8-bit RGBA.
 * {@link encodePng} writes 8-bit RGBA.
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
import { Buffer } from "node:buffer";
import { crc32, inflateSync } from "node:zlib";
import pngjs from "pngjs";
import type { RgbaImage } from "../types.ts";
import { MAX_IMAGE_PIXELS, readImageHeader } from "./header.ts";

/** The part of `pngjs` used here (the package ships no types). */
interface PngSync {
  read(png: Buffer): { width: number; height: number; data: Buffer };
  write(
    image: { width: number; height: number; data: Buffer },
    options: { colorType: 6; inputColorType: 6; bitDepth: 8 },
  ): Buffer;
}

const { sync } = (pngjs as unknown as { PNG: { sync: PngSync } }).PNG;

/** Bit depths PNG allows for each colour type. */
const DEPTHS: Readonly<Record<number, readonly number[]>> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};

/** The file ends inside a chunk or before its last chunk. */
const TRUNCATED = "the file is truncated";

/** The image data inflates to fewer bytes than the header's picture needs. */
const SHORT =
  "Corrupt PNG: its image data ends before the picture does, so the file is truncated or damaged.";

/** `pngjs`'s messages that stand for whatever stopped its reader. */
const MASKED = /read requests|unrecognised content at end/;

/**
 * The chunks of `png` after its signature, in order, up to `IEND`; `null`
 * where a chunk runs past the end of the file (the last item then).
 * `checked` is what the chunk's `crc` covers: its type and body.
 */
function* chunksOf(
  png: Uint8Array,
): Generator<
  { type: string; body: Uint8Array; checked: Uint8Array; crc: number } | null
> {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  for (let at = 8; at < png.length;) {
    const length = at + 12 <= png.length ? view.getUint32(at) : Infinity;
    if (at + 12 + length > png.length) {
      yield null;
      return;
    }
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    yield {
      type,
      body: png.subarray(at + 8, at + 8 + length),
      checked: png.subarray(at + 4, at + 8 + length),
      crc: view.getUint32(at + 8 + length),
    };
    if (type === "IEND") return;
    at += 12 + length;
  }
  yield null;
}

/**
 * Why `pngjs` could not read `png`, as a short reason. Its synchronous
 * reader reports most problems as "unrecognised content at end of stream"
 * or "read requests waiting on finished stream", so the file's chunks are
 * looked at here: one that runs past the end, a checksum that does not
 * match, a header PNG does not have, a missing end.
 */
function diagnose(png: Uint8Array, message: string): string {
  const [depth, colorType, interlace] = [png[24], png[25], png[28]];
  if (!DEPTHS[colorType]?.includes(depth) || interlace > 1) {
    return `its header gives colour type ${colorType}, bit depth ${depth} and interlace method ${interlace}, which PNG does not have`;
  }
  for (const chunk of chunksOf(png)) {
    if (chunk === null) return TRUNCATED;
    const { type, checked, crc } = chunk;
    if (crc32(checked) !== crc) {
      return `the checksum of its ${type} chunk does not match, so the file is damaged`;
    }
    if (type === "IEND") {
      return MASKED.test(message)
        ? "its image data is damaged"
        : `its image data is damaged: ${message.replace(/\.$/, "")}`;
    }
  }
  return TRUNCATED;
}

/** Samples per pixel for each colour type. */
const CHANNELS: Readonly<Record<number, number>> = {
  0: 1,
  2: 3,
  3: 1,
  4: 2,
  6: 4,
};

/** Adam7's passes: first column, first row, column step, row step. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

/**
 * How many bytes the image data of a `width`×`height` PNG holds once
 * inflated: each row of each pass is one filter byte and its packed samples.
 */
function rawLength(
  width: number,
  height: number,
  colorType: number,
  depth: number,
  interlaced: boolean,
): number {
  const bits = CHANNELS[colorType] * depth;
  const rows = (w: number, h: number) =>
    w === 0 || h === 0 ? 0 : h * (1 + Math.ceil((w * bits) / 8));
  if (!interlaced) return rows(width, height);
  let total = 0;
  for (const [x0, y0, dx, dy] of ADAM7) {
    total += rows(
      Math.ceil(Math.max(0, width - x0) / dx),
      Math.ceil(Math.max(0, height - y0) / dy),
    );
  }
  return total;
}

/**
 * Whether the file's image data inflates to fewer bytes than its header
 * needs (a reader would fill the rest with zeros). Inflating stops one byte
 * past the size needed, so a file cannot make this use more memory than the
 * picture itself.
 */
function imageDataShort(png: Uint8Array): boolean {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const parts: Uint8Array[] = [];
  for (const chunk of chunksOf(png)) {
    if (chunk === null || chunk.type === "IEND") break;
    if (chunk.type === "IDAT") parts.push(chunk.body);
  }
  const needed = rawLength(
    view.getUint32(16),
    view.getUint32(20),
    png[25],
    png[24],
    png[28] === 1,
  );
  try {
    const raw = inflateSync(Buffer.concat(parts), {
      maxOutputLength: needed + 1,
    });
    return raw.length < needed;
  } catch {
    return false; // not a stream that merely ends early: damaged
  }
}

/** A plain Uint8Array over the same bytes as `buffer` (no copy). */
function bytesOf(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/**
 * Encodes an RGBA image as a PNG file (colour type 6, 8 bits per channel,
 * each row filtered the way that compresses best). Throws a RangeError
 * when the image is empty, larger than {@link MAX_IMAGE_PIXELS} or its
 * `data` length is not `width * height * 4`.
 *
 * @example
 * ```ts
 * import { encodePng } from "./png.ts";
 * const bytes = encodePng({ width: 2, height: 1, data: new Uint8Array(8).fill(255) });
 * bytes[25]; // 6, the colour type RGBA
 * ```
 */
export function encodePng(img: RgbaImage): Uint8Array {
  const { width, height, data } = img;
  if (
    !Number.isInteger(width) || !Number.isInteger(height) || width < 1 ||
    height < 1 || width * height > MAX_IMAGE_PIXELS
  ) {
    throw new RangeError(`Cannot encode a ${width}×${height} image as PNG.`);
  }
  if (data.length !== width * height * 4) {
    throw new RangeError(
      `RGBA data for ${width}×${height} must be ${
        width * height * 4
      } bytes, not ${data.length}.`,
    );
  }
  const pixels = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return bytesOf(
    sync.write({ width, height, data: pixels }, {
      colorType: 6,
      inputColorType: 6,
      bitDepth: 8,
    }),
  );
}

/**
 * Decodes a PNG file of any kind to 8-bit RGBA: grey is copied to red,
 * green and blue, palette entries looked up, 16-bit and 1/2/4-bit samples
 * rescaled to 0–255, alpha 255 where the file has none and 0 where `tRNS`
 * marks a colour transparent. Pictures over {@link MAX_IMAGE_PIXELS} are
 * refused from the header, before anything is decoded. Throws an Error
 * with a one-sentence message when the bytes are not a PNG, are damaged or
 * the picture is too large.
 *
 * @example
 * ```ts
 * import { decodePng } from "./png.ts";
 * const { width, height, data } = decodePng(await Deno.readFile("tests/fixtures/png/palette-4-trns.png"));
 * console.log(width, height, data.length); // 10 9 360
 * ```
 */
export function decodePng(bytes: Uint8Array): RgbaImage {
  let header;
  try {
    header = readImageHeader(bytes);
  } catch (e) {
    throw new Error(`Corrupt PNG: ${(e as Error).message}.`);
  }
  if (header?.format !== "png") {
    throw new Error("Not a PNG file: the 8-byte PNG signature is missing.");
  }
  if (header.width * header.height > MAX_IMAGE_PIXELS) {
    throw new Error(
      `Unsupported PNG: larger than ${MAX_IMAGE_PIXELS / 1e6} megapixels.`,
    );
  }
  let image;
  try {
    image = sync.read(
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    );
  } catch (e) {
    const message = String((e as Error)?.message ?? e).split("\n")[0];
    const reason = diagnose(bytes, message);
    throw new Error(
      reason.startsWith("its image data is damaged") && imageDataShort(bytes)
        ? SHORT
        : `Corrupt PNG: ${reason}.`,
    );
  }
  const { width, height, data } = image;
  if (imageDataShort(bytes)) {
    throw new Error(SHORT);
  }
  if (data.length !== width * height * 4) {
    throw new Error("Corrupt PNG: the file holds no complete image.");
  }
  return { width, height, data: bytesOf(data) };
}
