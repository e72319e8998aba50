/**
 * The size of a PNG or JPEG picture read from its header alone — the PNG
 * `IHDR` chunk, the JPEG start-of-frame (`SOFn`) segment — without
 * decoding it, so that a file whose header promises more pixels than a
 * real photo has, or more than its few bytes could hold, is refused before
 * any decoder allocates memory for it. Independent of the decoders in
 * `png.ts` and `jpeg.ts`.
 *
 * @example
 * ```ts
 * import { MAX_IMAGE_PIXELS, readImageHeader } from "./header.ts";
 * const header = readImageHeader(await Deno.readFile("photo.jpg"));
 * if (header && header.width * header.height > MAX_IMAGE_PIXELS) {
 *   console.log("too large");
 * }
 * ```
 *
 * @module
 */

/**
 * The most pixels (width × height) a picture may have, PNG or JPEG alike:
 * 50 megapixels, the size of the largest camera photos (8660 × 5773).
 *
 * @example
 * ```ts
 * import { MAX_IMAGE_PIXELS } from "./header.ts";
 * console.log(MAX_IMAGE_PIXELS / 1e6); // 50
 * ```
 */
export const MAX_IMAGE_PIXELS = 50_000_000;

/**
 * What a picture's header says.
 *
 * @example
 * ```ts
 * import type { ImageHeader } from "./header.ts";
 * const h: ImageHeader = { format: "png", width: 28, height: 28, minimumBytes: 1 };
 * ```
 */
export interface ImageHeader {
  /** Which of the two formats the signature says. */
  format: "png" | "jpeg";
  /** Width in pixels, as the header declares it. */
  width: number;
  /** Height in pixels, as the header declares it. */
  height: number;
  /**
   * The fewest bytes a complete file of this size can have: for PNG the
   * uncompressed image data divided by 1032 (the most deflate can compress),
   * for a Huffman-coded JPEG one bit per 8×8 block (the shortest code for a
   * block's DC value; 0 for arithmetic coding). A smaller file is truncated
   * or built to make a decoder allocate memory for pixels it does not hold.
   */
  minimumBytes: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Samples per pixel by PNG colour type (palette indices count as one). */
const PNG_SAMPLES: Readonly<Record<number, number>> = {
  0: 1,
  2: 3,
  3: 1,
  4: 2,
  6: 4,
};

/** Deflate's largest compression ratio: a 258-byte match in 2 bits. */
const DEFLATE_MAX_RATIO = 1032;

function pngHeader(bytes: Uint8Array): ImageHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = String.fromCharCode(...bytes.subarray(12, 16));
  if (bytes.length < 29 || view.getUint32(8) !== 13 || type !== "IHDR") {
    throw new Error("the IHDR chunk is missing");
  }
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const depth = bytes[24], samples = PNG_SAMPLES[bytes[25]];
  if (width === 0 || height === 0) {
    throw new Error(`its header gives an empty size, ${width} × ${height}`);
  }
  // Unknown colour types or depths are the decoder's to refuse; one bit per
  // pixel is the least any PNG uses.
  const bits = samples && depth ? samples * depth : 1;
  const raw = height * (1 + Math.ceil((width * bits) / 8));
  return {
    format: "png",
    width,
    height,
    minimumBytes: Math.floor(raw / DEFLATE_MAX_RATIO),
  };
}

/** Markers that stand alone, without a length: TEM, RST0–7, SOI, EOI. */
function standalone(marker: number): boolean {
  return marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9);
}

/** Start-of-frame markers: C0–CF except DHT (C4), JPG (C8) and DAC (CC). */
function startOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 &&
    marker !== 0xc8 && marker !== 0xcc;
}

function jpegHeader(bytes: Uint8Array): ImageHeader {
  let pos = 2;
  while (pos < bytes.length) {
    if (bytes[pos] !== 0xff) {
      throw new Error(`there is no segment marker at byte ${pos}`);
    }
    while (bytes[pos] === 0xff) pos++; // fill bytes
    if (pos >= bytes.length) break;
    const marker = bytes[pos++];
    if (standalone(marker)) {
      if (marker === 0xd9) break;
      continue;
    }
    if (pos + 2 > bytes.length) break;
    const length = (bytes[pos] << 8) | bytes[pos + 1];
    if (length < 2) {
      throw new Error(`segment 0xFF${marker.toString(16)} has no valid length`);
    }
    if (startOfFrame(marker)) {
      if (pos + 7 > bytes.length) break;
      const height = (bytes[pos + 3] << 8) | bytes[pos + 4];
      const width = (bytes[pos + 5] << 8) | bytes[pos + 6];
      if (width === 0 || height === 0) {
        throw new Error(`its header gives an empty size, ${width} × ${height}`);
      }
      // Huffman coding spends at least a bit on each block; arithmetic
      // coding (SOF9 and up, which the decoder does not read) can spend less.
      const blocks = Math.ceil(width / 8) * Math.ceil(height / 8);
      return {
        format: "jpeg",
        width,
        height,
        minimumBytes: marker < 0xc9 ? Math.floor(blocks / 8) : 0,
      };
    }
    if (marker === 0xda) {
      throw new Error("the image data starts before any frame header (SOF)");
    }
    pos += length;
  }
  throw new Error("the file ends before its frame header (SOF)");
}

/**
 * Reads the width and height of a PNG or JPEG from its first bytes
 * (recognised by signature). Returns `undefined` for anything that is
 * neither; throws an Error with a short reason (no full stop, to be
 * embedded in a sentence) when the signature is there but the header is
 * missing or broken. Reads only the header: nothing is decoded, so it is
 * safe on any input.
 *
 * @example
 * ```ts
 * import { readImageHeader } from "./header.ts";
 * const h = readImageHeader(await Deno.readFile("notebooks/images/ankle-boot.jpg"));
 * console.log(h?.format, h?.width, h?.height);
 * ```
 */
export function readImageHeader(bytes: Uint8Array): ImageHeader | undefined {
  if (PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return pngHeader(bytes);
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    return jpegHeader(bytes);
  }
  return undefined;
}
