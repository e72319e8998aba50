/**
 * Turning any picture into what the model was trained on. Fashion-MNIST
 * images are 28×28 grey, the object light on a black background, trimmed
 * close to the object and scaled so its longer side fills the frame (they
 * were made from catalogue photos on white by inverting them). A photo of
 * a shoe on a table is none of that, so {@link prepareImage}:
 *
 * 1. reads the background colour from the picture's border (transparent
 *    parts first become a backdrop that contrasts with the object);
 * 2. makes the picture grey by how far each pixel's colour is from that
 *    background: the background turns black and the object light, whether
 *    it was dark on light (the picture is in effect inverted), light on
 *    dark, or coloured;
 * 3. stretches the contrast so the brightest part of the object is white;
 * 4. crops to the object and fits it into 28×28 keeping its aspect ratio
 *    (area averaging), centred on black.
 *
 * @example
 * ```ts
 * import { prepareImageFile } from "./preprocess.ts";
 * const prepared = await prepareImageFile("notebooks/images/ankle-boot.jpg");
 * console.log(prepared.pixels.length, prepared.inverted); // 784 true
 * ```
 *
 * @module
 */
import { IMAGE_SIZE, PIXELS } from "./data.ts";
import { readFileAtMost } from "./bounded.ts";
import {
  type ImageHeader,
  MAX_IMAGE_PIXELS,
  readImageHeader,
} from "./image/header.ts";
import { decodeJpeg } from "./image/jpeg.ts";
import { decodePng } from "./image/png.ts";
import { resizeArea } from "./image/resize.ts";
import type { RgbaImage } from "./types.ts";

/**
 * A problem with a user's image (missing, unreadable, not an image, blank).
 * The message is one sentence naming the file.
 *
 * @example
 * ```ts
 * import { ImageError } from "./preprocess.ts";
 * console.log(new ImageError("x.png is blank.").name); // "ImageError"
 * ```
 */
export class ImageError extends Error {
  override name = "ImageError";
}

/**
 * The largest picture file read, 256 MiB: more than a 50-megapixel PNG
 * (the {@link MAX_IMAGE_PIXELS} limit) holds even uncompressed.
 *
 * @example
 * ```ts
 * import { MAX_IMAGE_FILE_BYTES } from "./preprocess.ts";
 * console.log(MAX_IMAGE_FILE_BYTES / 2 ** 20); // 256
 * ```
 */
export const MAX_IMAGE_FILE_BYTES = 256 * 2 ** 20;

/**
 * Decodes PNG or JPEG bytes (recognised by their signature, whatever the
 * file is called) to RGBA. `name` is used in error messages. Before
 * decoding, the header alone decides whether the picture may be decoded:
 * at most {@link MAX_IMAGE_PIXELS} (50 megapixels), and at least as many
 * bytes as a complete picture of that size needs, so a small file whose
 * header claims a huge picture costs no memory.
 *
 * @throws {ImageError} when the bytes are neither, the picture is too large or holds too little for its size, or it cannot be decoded.
 * @example
 * ```ts
 * import { decodeImage } from "./preprocess.ts";
 * const img = decodeImage(await Deno.readFile("photo.jpg"), "photo.jpg");
 * ```
 */
export function decodeImage(bytes: Uint8Array, name: string): RgbaImage {
  if (bytes.length === 0) {
    throw new ImageError(
      `${name} is empty (0 bytes); save the picture again as .png or .jpg and try again.`,
    );
  }
  let header: ImageHeader | undefined;
  try {
    header = readImageHeader(bytes);
  } catch (e) {
    const format = bytes[0] === 0x89 ? "PNG" : "JPEG";
    throw new ImageError(
      `${name} cannot be read as ${format} (${
        (e as Error).message
      }); re-save it with an image editor and try again.`,
    );
  }
  if (header === undefined) {
    throw new ImageError(
      `${name} is not a PNG or JPEG image; save the picture as .png or .jpg and try again.`,
    );
  }
  const { format, width, height, minimumBytes } = header;
  const png = format === "png";
  const size = `${width.toLocaleString("en-US")} × ${
    height.toLocaleString("en-US")
  }`;
  if (width * height > MAX_IMAGE_PIXELS) {
    throw new ImageError(
      `${name} is ${size} pixels (${
        Math.round(width * height / 1e6).toLocaleString("en-US")
      } megapixels), more than the ${
        MAX_IMAGE_PIXELS / 1e6
      } megapixels this program reads, so it was not decoded; scale it down (a few hundred pixels across is plenty) and try again.`,
    );
  }
  if (bytes.length < minimumBytes) {
    throw new ImageError(
      `${name} holds ${
        bytes.length.toLocaleString("en-US")
      } bytes, too few for the ${size} pixels its header declares, so it was not decoded (the file is truncated or damaged); re-save it with an image editor and try again.`,
    );
  }
  try {
    return png ? decodePng(bytes) : decodeJpeg(bytes);
  } catch (e) {
    const reason = (e as Error).message.replace(/\.$/, "");
    throw new ImageError(
      `${name} cannot be read as ${
        png ? "PNG" : "JPEG"
      } (${reason}); re-save it with an image editor and try again.`,
    );
  }
}

/**
 * Reads and decodes a PNG or JPEG file.
 *
 * @throws {ImageError} with one sentence when the file is missing, is a folder, cannot be read, is larger than {@link MAX_IMAGE_FILE_BYTES}, or is not a decodable PNG/JPEG within the limits of {@link decodeImage}.
 * @example
 * ```ts
 * import { readImageFile } from "./preprocess.ts";
 * const img = await readImageFile("notebooks/images/ankle-boot.jpg");
 * ```
 */
export async function readImageFile(path: string): Promise<RgbaImage> {
  let bytes: Uint8Array | undefined;
  try {
    bytes = await readFileAtMost(path, MAX_IMAGE_FILE_BYTES);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new ImageError(
        `There is no file at ${path}; check the path (relative paths start in ${Deno.cwd()}).`,
      );
    }
    if (e instanceof Deno.errors.IsADirectory) {
      throw new ImageError(
        `${path} is a folder, not an image file; give the path of a .png or .jpg file.`,
      );
    }
    throw new ImageError(
      `${path} cannot be read (${
        (e as Error).message.split("\n")[0]
      }); check its permissions.`,
    );
  }
  if (bytes === undefined) {
    throw new ImageError(
      `${path} is larger than ${
        MAX_IMAGE_FILE_BYTES / 2 ** 20
      } MiB, more than any picture this program reads, so it was not read; scale it down or save it as .jpg and try again.`,
    );
  }
  return decodeImage(bytes, path);
}

/**
 * The colours of an RGBA image as RGB floats (three per pixel), with
 * transparency flattened: where the image is transparent it is composited
 * over black when its visible part is light on average, and over white when
 * that is dark, so the object keeps its contrast with what was transparent.
 *
 * @example
 * ```ts
 * import { flattenAlpha } from "./preprocess.ts";
 * flattenAlpha({ width: 1, height: 1, data: new Uint8Array([255, 0, 0, 255]) }); // Float32Array [255, 0, 0]
 * ```
 */
export function flattenAlpha(img: RgbaImage): Float32Array {
  const n = img.width * img.height;
  const rgb = new Float32Array(n * 3);
  let weighted = 0, alphaSum = 0, transparent = false;
  for (let i = 0; i < n; i++) {
    const d = i * 4;
    rgb[i * 3] = img.data[d];
    rgb[i * 3 + 1] = img.data[d + 1];
    rgb[i * 3 + 2] = img.data[d + 2];
    const a = img.data[d + 3];
    if (a < 255) transparent = true;
    weighted += luminance(img.data[d], img.data[d + 1], img.data[d + 2]) * a;
    alphaSum += a;
  }
  if (!transparent) return rgb;
  const backdrop = alphaSum > 0 && weighted / alphaSum > 127.5 ? 0 : 255;
  for (let i = 0; i < n; i++) {
    const a = img.data[i * 4 + 3] / 255;
    for (let c = 0; c < 3; c++) {
      rgb[i * 3 + c] = a * rgb[i * 3 + c] + (1 - a) * backdrop;
    }
  }
  return rgb;
}

/** Rec. 601 luminance. */
function luminance(r: number, g: number, b: number): number {
  return 0.299 * r + 0.587 * g + 0.114 * b;
}

/** Indices of the outermost ring of pixels. */
function borderRing(width: number, height: number): number[] {
  const ring: number[] = [];
  for (let x = 0; x < width; x++) {
    ring.push(x);
    if (height > 1) ring.push((height - 1) * width + x);
  }
  for (let y = 1; y < height - 1; y++) {
    ring.push(y * width);
    if (width > 1) ring.push(y * width + width - 1);
  }
  return ring;
}

/** The value below which a share `q` of `values` lie. */
function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/**
 * Grey values (0..255, float): how far each pixel's colour is from the
 * background colour (read from the picture's border), as Euclidean
 * distance in RGB scaled so black-to-white is 255. The background becomes
 * black and the object light; `lightBackground` says whether the
 * background was light (then this amounts to inverting the picture), and
 * `noise` is how far the background itself strays (the 90th percentile of
 * the border's values: shading, grain, JPEG artefacts).
 *
 * @example
 * ```ts
 * import { distanceFromBackground } from "./preprocess.ts";
 * import { createImage, fillRect } from "../tests/rgba.ts";
 * const img = createImage(3, 3, [255, 255, 255]);
 * fillRect(img, 1, 1, 1, 1, [0, 0, 0]);
 * const { gray, lightBackground } = distanceFromBackground(img);
 * console.log(gray[4], gray[0], lightBackground); // 255 0 true
 * ```
 */
export function distanceFromBackground(img: RgbaImage): {
  gray: Float32Array;
  background: [number, number, number];
  lightBackground: boolean;
  noise: number;
} {
  const { width, height } = img;
  const rgb = flattenAlpha(img);
  const ring = borderRing(width, height);
  const channel = (c: number) => ring.map((i) => rgb[i * 3 + c]);
  const background: [number, number, number] = [
    quantile(channel(0), 0.5),
    quantile(channel(1), 0.5),
    quantile(channel(2), 0.5),
  ];
  const gray = new Float32Array(width * height);
  for (let i = 0; i < gray.length; i++) {
    const dr = rgb[i * 3] - background[0];
    const dg = rgb[i * 3 + 1] - background[1];
    const db = rgb[i * 3 + 2] - background[2];
    gray[i] = Math.min(255, Math.sqrt((dr * dr + dg * dg + db * db) / 3));
  }
  return {
    gray,
    background,
    lightBackground: luminance(...background) > 127.5,
    noise: quantile(ring.map((i) => gray[i]), 0.9),
  };
}

/**
 * The part of the picture holding the object, in source pixels.
 *
 * @example
 * ```ts
 * import type { Box } from "./preprocess.ts";
 * const b: Box = { x: 10, y: 4, width: 80, height: 120 };
 * ```
 */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * A picture made ready for the model, and what was done to it.
 *
 * @example
 * ```ts
 * import { prepareImageFile, type PreparedImage } from "./preprocess.ts";
 * const p: PreparedImage = await prepareImageFile("notebooks/images/ankle-boot.jpg");
 * console.log(p.pixels.length); // 784
 * ```
 */
export interface PreparedImage {
  /** 28×28 grey bytes, object light on black: what the model sees. */
  pixels: Uint8Array;
  /** The picture as decoded. */
  source: RgbaImage;
  /** True when the background was light, so the picture was in effect inverted. */
  inverted: boolean;
  /** The object's bounding box in the source picture. */
  box: Box;
}

/** Values above this fraction of full brightness count as object. */
const OBJECT_THRESHOLD = 0.1;
/** Share of the object's brightness a crop may leave out on each side (specks, noise). */
const TRIM = 0.002;

/** First and last index of a profile, leaving out at most TRIM of its mass at each end. */
function massRange(profile: Float64Array): [number, number] {
  let total = 0;
  for (const v of profile) total += v;
  const cut = total * TRIM;
  let lo = 0, hi = profile.length - 1, acc = profile[0];
  while (lo < hi && acc <= cut) acc += profile[++lo];
  acc = profile[hi];
  while (hi > lo && acc <= cut) acc += profile[--hi];
  return [lo, hi];
}

/**
 * Prepares a picture of any size, colour or grey, light or dark
 * background, the way Fashion-MNIST images look (see the module
 * documentation for the steps).
 *
 * @throws {ImageError} when the picture is one flat colour (nothing to classify).
 * @example
 * ```ts
 * import { prepareImage } from "./preprocess.ts";
 * import { createImage, fillRect } from "../tests/rgba.ts";
 * const photo = createImage(300, 200, [250, 250, 250]); // white
 * fillRect(photo, 100, 20, 100, 160, [30, 30, 30]); // a dark, tall object
 * const { pixels, inverted, box } = prepareImage(photo);
 * console.log(inverted, box); // true { x: 100, y: 20, width: 100, height: 160 }
 * ```
 */
export function prepareImage(
  img: RgbaImage,
  name = "the image",
): PreparedImage {
  const { width, height } = img;
  const { gray, lightBackground, noise } = distanceFromBackground(img);
  // Below the background's own variation counts as background.
  const background = noise;
  let peak = -Infinity;
  for (const v of gray) if (v > peak) peak = v;
  if (peak - background < 8) {
    throw new ImageError(
      `${name} is a single flat colour with no object to classify; use a picture of one clothing item.`,
    );
  }
  // Background to black, brightest object pixel to white; keep a profile
  // of object brightness per column and row to find the object.
  const span = peak - background;
  const threshold = OBJECT_THRESHOLD * 255;
  const cols = new Float64Array(width), rows = new Float64Array(height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const v = Math.min(
        255,
        Math.max(0, ((gray[i] - background) / span) * 255),
      );
      gray[i] = v;
      if (v > threshold) {
        cols[x] += v;
        rows[y] += v;
      }
    }
  }
  const [x0, x1] = massRange(cols);
  const [y0, y1] = massRange(rows);
  const box: Box = { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };

  // Crop, fit the longer side to 28, centre on black.
  const crop = new Float32Array(box.width * box.height);
  for (let y = 0; y < box.height; y++) {
    const row = (box.y + y) * width + box.x;
    crop.set(gray.subarray(row, row + box.width), y * box.width);
  }
  const scale = IMAGE_SIZE / Math.max(box.width, box.height);
  const w = Math.max(1, Math.min(IMAGE_SIZE, Math.round(box.width * scale)));
  const h = Math.max(1, Math.min(IMAGE_SIZE, Math.round(box.height * scale)));
  const fitted = resizeArea(crop, box.width, box.height, 1, w, h);
  const pixels = new Uint8Array(PIXELS);
  const ox = Math.floor((IMAGE_SIZE - w) / 2),
    oy = Math.floor((IMAGE_SIZE - h) / 2);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      pixels[(oy + y) * IMAGE_SIZE + ox + x] = Math.round(fitted[y * w + x]);
    }
  }
  return { pixels, source: img, inverted: lightBackground, box };
}

/**
 * Reads a PNG or JPEG file and prepares it for the model
 * ({@link readImageFile}, then {@link prepareImage}).
 *
 * @throws {ImageError} with one sentence naming the file when it cannot be used.
 * @example
 * ```ts
 * import { prepareImageFile } from "./preprocess.ts";
 * const { pixels } = await prepareImageFile("notebooks/images/ankle-boot.jpg");
 * ```
 */
export async function prepareImageFile(path: string): Promise<PreparedImage> {
  return prepareImage(await readImageFile(path), path);
}
