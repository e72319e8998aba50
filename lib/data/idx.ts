/**
 * IDX files, the format Fashion-MNIST comes in: parsing, gzip, and the
 * checks every file passes before a model sees it (structure, item count,
 * labels 0–9, SHA-256 of the content). Pure functions over bytes.
 *
 * @example
 * ```ts
 * import { parseIdx } from "./idx.ts";
 * parseIdx(new Uint8Array([0, 0, 8, 1, 0, 0, 0, 1, 7]), "labels", "x").data; // Uint8Array [7]
 * ```
 *
 * @module
 */
import { DataError, type DatasetFile, IMAGE_SIZE } from "./fashion_mnist.ts";

/**
 * The header of an IDX file plus its payload.
 *
 * @example
 * ```ts
 * import { parseIdx } from "./idx.ts";
 * const bytes = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 1, 7]);
 * parseIdx(bytes, "labels", "x").dims; // [1]
 * ```
 */
export interface Idx {
  magic: number;
  dims: number[];
  data: Uint8Array;
}

const MAGIC = { images: 2051, labels: 2049 } as const;

/**
 * Parses an uncompressed IDX file of unsigned bytes and checks its
 * structure: the magic number for its kind (2051 images, 2049 labels),
 * the number of dimensions, 28×28 images, and a payload of exactly the
 * size the header promises. `fileName` is used in error messages.
 *
 * @throws {DataError} when the bytes are not such a file.
 * @example
 * ```ts
 * import { parseIdx } from "./idx.ts";
 * const header = [0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0, 28];
 * const idx = parseIdx(new Uint8Array([...header, ...new Array(784).fill(0)]), "images", "img");
 * console.log(idx.dims); // [1, 28, 28]
 * ```
 */
export function parseIdx(
  bytes: Uint8Array,
  kind: "images" | "labels",
  fileName: string,
): Idx {
  const ndims = kind === "images" ? 3 : 1;
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw new DataError(
      `${fileName} is too short (${bytes.length} bytes) to be an IDX ${kind} file; replace it with a fresh copy.`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (magic !== MAGIC[kind]) {
    throw new DataError(
      `${fileName} has IDX magic number ${magic}, but ${kind} files have ${
        MAGIC[kind]
      }; check that the file is the right one and not damaged.`,
    );
  }
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  if (kind === "images" && (dims[1] !== IMAGE_SIZE || dims[2] !== IMAGE_SIZE)) {
    throw new DataError(
      `${fileName} holds ${dims[1]}×${
        dims[2]
      } images, but Fashion-MNIST images are 28×28; use the official files.`,
    );
  }
  const expected = dims.reduce((a, b) => a * b, 1);
  const payload = bytes.length - headerBytes;
  if (payload !== expected) {
    throw new DataError(
      `${fileName} should hold ${expected} bytes of data after its header but holds ${payload} (truncated or damaged); replace it with a fresh copy.`,
    );
  }
  return { magic, dims, data: bytes.subarray(headerBytes) };
}

/**
 * Decompresses gzip bytes (streaming `DecompressionStream`).
 *
 * @throws {DataError} naming `fileName` when the data is not valid gzip or is truncated.
 * @example
 * ```ts
 * import { gunzip } from "./idx.ts";
 * import { gzipSync } from "node:zlib";
 * const out = await gunzip(gzipSync(new Uint8Array([1, 2, 3])), "x.gz"); // Uint8Array [1, 2, 3]
 * ```
 */
export async function gunzip(
  bytes: Uint8Array,
  fileName: string,
): Promise<Uint8Array> {
  try {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
      .pipeThrough(new DecompressionStream("gzip"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch {
    throw new DataError(
      `${fileName} is not a valid gzip file (corrupt or truncated); delete it and get a fresh copy.`,
    );
  }
}

/**
 * SHA-256 of bytes, as lowercase hex.
 *
 * @example
 * ```ts
 * import { sha256Hex } from "./idx.ts";
 * await sha256Hex(new Uint8Array()); // "e3b0c442..."
 * ```
 */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    bytes as Uint8Array<ArrayBuffer>,
  );
  return Array.from(
    new Uint8Array(digest),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}

/**
 * Checks decompressed file content against its specification: IDX
 * structure, item count, labels in 0–9, and the SHA-256 of the content.
 * Returns the payload (pixels or labels) without the header.
 *
 * @throws {DataError} naming the file and the problem; a content hash
 * mismatch says "checksum mismatch".
 * @example
 * ```ts
 * import { DATASET_FILES } from "./fashion_mnist.ts";
 * import { verifyContent } from "./idx.ts";
 * const raw = await Deno.readFile("data/t10k-labels-idx1-ubyte");
 * const labels = await verifyContent(raw, DATASET_FILES[3], "data/t10k-labels-idx1-ubyte");
 * ```
 */
export async function verifyContent(
  content: Uint8Array,
  spec: DatasetFile,
  fileName: string,
): Promise<Uint8Array> {
  const idx = parseIdx(content, spec.kind, fileName);
  if (idx.dims[0] !== spec.count) {
    throw new DataError(
      `${fileName} holds ${
        idx.dims[0]
      } ${spec.kind} but the official file holds ${spec.count}; use the official Fashion-MNIST files.`,
    );
  }
  if (spec.kind === "labels") {
    const bad = idx.data.findIndex((l) => l > 9);
    if (bad >= 0) {
      throw new DataError(
        `${fileName} has label ${
          idx.data[bad]
        } at item ${bad}, but labels must be 0–9; the file is damaged, get a fresh copy.`,
      );
    }
  }
  const hash = await sha256Hex(content);
  if (hash !== spec.sha256) {
    throw new DataError(
      `${fileName}: checksum mismatch (SHA-256 of content ${hash}, expected ${spec.sha256}); the file is damaged or not the official one, get a fresh copy.`,
    );
  }
  return idx.data;
}
