/**
 * JPEG decoding with the pure-JavaScript decoder of the npm package
 * `jpeg-js` (baseline and progressive, grey, RGB and CMYK/YCCK).
 *
 * @example
 * ```ts
 * import { decodeJpeg } from "./jpeg.ts";
 * const img = decodeJpeg(await Deno.readFile("photo.jpg"));
 * console.log(img.width, img.height);
 * ```
 *
 * @module
 */
import jpeg from "jpeg-js";
import type { RgbaImage } from "../types.ts";
import { MAX_IMAGE_PIXELS } from "./header.ts";

/** Largest image decoded, in megapixels (a 50 MP photo is 8660 × 5773). */
const MAX_MEGAPIXELS = MAX_IMAGE_PIXELS / 1e6;

/**
 * The memory jpeg-js may count for that largest image, in MB: for each of
 * up to four components (CMYK) 256 bytes of coefficients per 8×8 block and
 * one byte per pixel of output, one byte per pixel and component when they
 * are interleaved, and the 4-byte RGBA result — 28 bytes a pixel — with a
 * tenth more for blocks padding the edges.
 */
const MAX_MEMORY_MB = Math.ceil((MAX_IMAGE_PIXELS * 28 * 1.1) / 2 ** 20);

/**
 * True when `bytes` start with a JPEG start-of-image marker (`FF D8 FF`).
 *
 * @example
 * ```ts
 * import { isJpeg } from "./jpeg.ts";
 * isJpeg(new Uint8Array([0xff, 0xd8, 0xff, 0xe0])); // true
 * ```
 */
export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 &&
    bytes[2] === 0xff;
}

/**
 * Decodes a JPEG file to RGBA pixels (alpha 255). Throws an Error with a
 * one-sentence message when the bytes are not a JPEG, are damaged, or the
 * image is larger than 50 megapixels.
 *
 * @example
 * ```ts
 * import { decodeJpeg } from "./jpeg.ts";
 * const { width, height, data } = decodeJpeg(await Deno.readFile("photo.jpg"));
 * ```
 */
export function decodeJpeg(bytes: Uint8Array): RgbaImage {
  if (!isJpeg(bytes)) {
    throw new Error(
      "Not a JPEG file: the JPEG start-of-image marker is missing.",
    );
  }
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: MAX_MEGAPIXELS,
      maxMemoryUsageInMB: MAX_MEMORY_MB,
    });
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new Error(
      /limit exceeded/.test(reason)
        ? `Unsupported JPEG: larger than ${MAX_MEGAPIXELS} megapixels.`
        : `Corrupt or unsupported JPEG (${reason}).`,
    );
  }
  const { width, height, data } = decoded;
  if (!(width > 0 && height > 0) || data.length !== width * height * 4) {
    throw new Error("Corrupt JPEG: the file holds no complete image.");
  }
  return {
    width,
    height,
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}
