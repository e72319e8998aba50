/**
 * Saving and loading models: the tfjs Layers format in a directory
 * (`model.json` + `weights.bin`), and a single `model.zip` (jszip)
 * that adds `metadata.json` — class names, input spec, preprocessing,
 * recipe, metrics, versions.
 *
 * Loading is safe on any file a user hands over: sizes are checked against
 * {@link MODEL_LIMITS} before anything is read or inflated (a zip's
 * directory is read by hand, every member is inflated with a ceiling at the
 * size its header declares), and every problem — too large, damaged,
 * not a model, weights that do not fit `model.json` — is a
 * {@link ModelZipError} with one sentence naming the file.
 *
 * @example
 * ```ts
 * import { buildMiniVGGNet } from "./model.ts";
 * import { loadModelZip, modelMetadata, saveModelZip } from "./model_zip.ts";
 * await saveModelZip(buildMiniVGGNet(), "out/model.zip", modelMetadata({}));
 * const { model: again, metadata } = await loadModelZip("out/model.zip");
 * ```
 *
 * @module
 */
import JSZip from "jszip";
import { isAbsolute, join, normalize } from "node:path";
import { crc32, inflateRawSync } from "node:zlib";
import { tf, tfWasm } from "./tf.ts";
import { CLASS_NAMES, IMAGE_SIZE } from "./data.ts";
import { writeDirAtomic, writeFileAtomic } from "./files.ts";
import { readFileAtMost } from "./bounded.ts";

/**
 * What `metadata.json` in a model zip says about the model.
 *
 * @example
 * ```ts
 * import type { ModelMetadata } from "./model_zip.ts";
 * const m: ModelMetadata = { classNames: ["a", "b"] };
 * ```
 */
export interface ModelMetadata {
  classNames: readonly string[];
  /** Input tensor spec, e.g. `{ shape: [28, 28, 1], dtype: "float32" }`. */
  input?: { shape: number[]; dtype: string };
  /** How raw images become model input. */
  preprocessing?: string;
  recipe?: unknown;
  metrics?: unknown;
  versions?: Record<string, string>;
  [key: string]: unknown;
}

/** The default preprocessing description written into model zips. */
export const PREPROCESSING =
  "28×28 grayscale, object light on a black background (Fashion-MNIST style), uint8 pixels divided by 255 to [0, 1], shape [n, 28, 28, 1].";

/**
 * The `metadata.json` of a model zip: class names, input spec,
 * preprocessing, recipe, metrics and versions.
 *
 * @example
 * ```ts
 * import { modelMetadata } from "./model_zip.ts";
 * const metadata = modelMetadata({ recipe: "fast", metrics: { val_accuracy: 0.9 } });
 * metadata.classNames[0]; // "T-shirt/top"
 * ```
 */
export function modelMetadata(
  info: { recipe?: unknown; metrics?: unknown; classNames?: readonly string[] },
): ModelMetadata {
  return {
    classNames: info.classNames ?? CLASS_NAMES,
    input: { shape: [IMAGE_SIZE, IMAGE_SIZE, 1], dtype: "float32" },
    preprocessing: PREPROCESSING,
    recipe: info.recipe,
    metrics: info.metrics,
    versions: versions(),
  };
}

/**
 * Versions of the runtime and libraries, recorded with every run.
 *
 * @example
 * ```ts
 * import { versions } from "./model_zip.ts";
 * versions().tfjs; // "4.22.0"
 * ```
 */
export function versions(): Record<string, string> {
  return {
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    tfjs: tf.version.tfjs,
    "tfjs-backend-wasm": tfWasm.version_wasm,
  };
}

/**
 * A model file or folder that cannot be loaded: missing, too large,
 * damaged, or not a model this program wrote. The message is one sentence
 * that names the file (and the member of a zip) and says what to do.
 *
 * @example
 * ```ts
 * import { ModelZipError, loadModelZip } from "./model_zip.ts";
 * try {
 *   await loadModelZip("model.zip");
 * } catch (e) {
 *   if (e instanceof ModelZipError) console.error(e.message);
 * }
 * ```
 */
export class ModelZipError extends Error {
  /** Always "ModelZipError". */
  override name = "ModelZipError";
}

const MIB = 2 ** 20;

/**
 * The most a model may take, checked before reading or inflating: the
 * model.zip this project writes holds 6.6 MiB (6.7 MB of weights, 10 KB of
 * `model.json`, 1.5 KB of `metadata.json`), so these leave room for a model
 * several times larger while keeping a hostile file's cost small.
 *
 * - `files`: members of a zip, or weights files a `model.json` lists;
 * - `fileBytes`: one member or weights file, uncompressed;
 * - `jsonBytes`: `model.json` or `metadata.json`;
 * - `totalBytes`: everything in a zip or model folder, uncompressed;
 * - `zipBytes`: a model.zip file itself;
 * - `compressionRatio`: uncompressed over compressed size of a zip member
 *   larger than 1 MiB (real weights compress about 1.1 : 1, `model.json`
 *   9 : 1; a member of zeros 1000 : 1).
 *
 * @example
 * ```ts
 * import { MODEL_LIMITS } from "./model_zip.ts";
 * console.log(MODEL_LIMITS.totalBytes / 2 ** 20); // 64
 * ```
 */
export const MODEL_LIMITS = {
  files: 64,
  fileBytes: 32 * MIB,
  jsonBytes: 4 * MIB,
  totalBytes: 64 * MIB,
  zipBytes: 65 * MIB,
  compressionRatio: 100,
} as const;

/** Members this small are not held to the compression ratio. */
const RATIO_FLOOR = MIB;

const MODEL_JSON = "model.json";
const WEIGHTS_BIN = "weights.bin";
const METADATA_JSON = "metadata.json";

/** How to get a good model zip or folder, ending each sentence about a bad one. */
const ZIP_FIX =
  "use the model.zip a training run wrote (deno task train) or re-export the model with saveModelZip";
const DIR_FIX =
  "use the model folder a training run wrote (deno task train) or re-save the model with saveModelDir";

/** `n` bytes for people: exact below 1 MiB, else in MiB or GiB. */
function amount(n: number): string {
  if (n < MIB) return `${n.toLocaleString("en-US")} bytes`;
  if (n < 2 ** 30) return `${Number((n / MIB).toFixed(1))} MiB`;
  return `${Number((n / 2 ** 30).toFixed(1))} GiB`;
}

/** `n` bytes, exactly. */
function exactly(n: number): string {
  return `${n.toLocaleString("en-US")} bytes`;
}

function joinBuffers(
  data: ArrayBuffer | ArrayBuffer[] | undefined,
): Uint8Array {
  if (data === undefined) return new Uint8Array();
  if (!Array.isArray(data)) return new Uint8Array(data);
  const total = data.reduce((n, b) => n + b.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const b of data) {
    out.set(new Uint8Array(b), offset);
    offset += b.byteLength;
  }
  return out;
}

/** Serialises a model to the two files of the tfjs Layers format. */
async function modelFiles(
  model: tf.LayersModel,
): Promise<{ modelJson: string; weights: Uint8Array }> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler((a) => {
    artifacts = a;
    return Promise.resolve({
      modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" },
    });
  }));
  if (!artifacts) throw new Error("the model produced nothing to save.");
  const modelJson = {
    modelTopology: artifacts.modelTopology,
    format: "layers-model",
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
    convertedBy: null,
    weightsManifest: [{
      paths: [`./${WEIGHTS_BIN}`],
      weights: artifacts.weightSpecs,
    }],
  };
  return {
    modelJson: JSON.stringify(modelJson),
    weights: joinBuffers(artifacts.weightData as ArrayBuffer | ArrayBuffer[]),
  };
}

/** How the files of one model are named in messages. */
interface Names {
  /** `model.json`, e.g. "model.json in out/model.zip". */
  json: string;
  /** The weights, e.g. "weights.bin in out/model.zip". */
  weights: string;
  /** What to do instead, ending the sentence. */
  fix: string;
}

/** Parses JSON bytes, or throws a ModelZipError naming `where`. */
function parseJson(bytes: Uint8Array, where: string, fix: string): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new ModelZipError(`${where} is not valid JSON; ${fix}.`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Bytes per value by dtype, and by quantized dtype. */
const DTYPE_BYTES: Readonly<Record<string, number>> = {
  float32: 4,
  int32: 4,
  bool: 1,
};
const QUANTIZED_BYTES: Readonly<Record<string, number>> = {
  uint8: 1,
  uint16: 2,
  float16: 2,
};

/**
 * The topology, weight specs and weights file paths of a parsed
 * `model.json`, with the bytes its weights take; throws a ModelZipError
 * naming the file when any of them is missing or malformed.
 */
function manifestOf(json: unknown, names: Names): {
  topology: object;
  specs: tf.io.WeightsManifestEntry[];
  paths: string[];
  /** Values in all the weights the manifest lists. */
  values: number;
  bytes: number;
} {
  if (!isObject(json) || !isObject(json.modelTopology)) {
    throw new ModelZipError(
      `${names.json} is not a TensorFlow.js Layers model (it has no modelTopology); ${names.fix}.`,
    );
  }
  const manifest = json.weightsManifest;
  if (
    !Array.isArray(manifest) || manifest.length === 0 ||
    !manifest.every((g) =>
      isObject(g) && Array.isArray(g.paths) && Array.isArray(g.weights) &&
      g.paths.every((p) => typeof p === "string")
    )
  ) {
    throw new ModelZipError(
      `${names.json} has no weightsManifest listing the model's weights and their files; ${names.fix}.`,
    );
  }
  const groups = manifest as { paths: string[]; weights: unknown[] }[];
  const specs = groups.flatMap((g) => g.weights);
  let values = 0, bytes = 0;
  for (const [i, spec] of specs.entries()) {
    const label = isObject(spec) && typeof spec.name === "string"
      ? spec.name
      : `number ${i + 1}`;
    const shape = isObject(spec) ? spec.shape : undefined;
    const quantization = isObject(spec) ? spec.quantization : undefined;
    const width = quantization === undefined
      ? DTYPE_BYTES[isObject(spec) ? String(spec.dtype) : ""]
      : QUANTIZED_BYTES[
        isObject(quantization) ? String(quantization.dtype) : ""
      ];
    if (
      !isObject(spec) || typeof spec.name !== "string" ||
      !Array.isArray(shape) ||
      !shape.every((d) => Number.isSafeInteger(d) && d >= 0) ||
      width === undefined
    ) {
      throw new ModelZipError(
        `${names.json} lists weight ${label} without a valid name, shape and dtype; ${names.fix}.`,
      );
    }
    const count = (shape as number[]).reduce((n, d) => n * d, 1);
    values += count;
    bytes += count * width;
  }
  return {
    topology: json.modelTopology,
    specs: specs as tf.io.WeightsManifestEntry[],
    paths: groups.flatMap((g) => g.paths),
    values,
    bytes,
  };
}

/** Thrown by {@link withWeightBudget} when the layers want more values. */
class OverBudget extends Error {}

/**
 * Runs `build` with the weights tfjs creates while building a model from
 * JSON counted, and stopped before allocating once they exceed `values`.
 * Given weights to load, tfjs creates every layer weight with the Zeros
 * initializer before overwriting it, and the loaded weights must match the
 * layers' one for one, so a model.json whose layers want more values than
 * its manifest lists (a few bytes of JSON can ask for gigabytes) is refused
 * before its memory is taken. The count is kept while `build` runs (a few
 * microtasks: tfjs builds synchronously once the weights are in memory).
 */
async function withWeightBudget<T>(
  values: number,
  build: () => Promise<T>,
): Promise<T> {
  type Apply = (this: unknown, shape: number[], dtype?: string) => tf.Tensor;
  const zeros = Object.getPrototypeOf(tf.initializers.zeros()) as {
    apply: Apply;
  };
  const apply = zeros.apply;
  let used = 0;
  zeros.apply = function (shape, dtype) {
    used += shape.reduce((n, d) => n * d, 1);
    if (used > values) {
      throw new OverBudget(
        `at least ${used.toLocaleString("en-US")} values against ${
          values.toLocaleString("en-US")
        }`,
      );
    }
    return apply.call(this, shape, dtype);
  };
  try {
    return await build();
  } finally {
    zeros.apply = apply;
  }
}

/**
 * Builds the model a parsed `model.json` describes with `weights`, after
 * checking the weights are exactly as long as its manifest says.
 */
async function modelFromFiles(
  json: unknown,
  weights: Uint8Array,
  names: Names,
): Promise<tf.LayersModel> {
  const { topology, specs, values, bytes } = manifestOf(json, names);
  if (weights.length < bytes) {
    throw new ModelZipError(
      `${names.weights} holds ${
        exactly(weights.length)
      } but the weights model.json lists need ${
        exactly(bytes)
      }, so it is truncated or belongs to another model; ${names.fix}.`,
    );
  }
  if (weights.length > bytes) {
    throw new ModelZipError(
      `${names.weights} holds ${exactly(weights.length)}, ${
        exactly(weights.length - bytes)
      } more than the weights model.json lists, so it belongs to another model; ${names.fix}.`,
    );
  }
  const buffer = weights.buffer.slice(
    weights.byteOffset,
    weights.byteOffset + weights.byteLength,
  ) as ArrayBuffer;
  try {
    return await withWeightBudget(values, () =>
      tf.loadLayersModel(
        tf.io.fromMemory({
          modelTopology: topology,
          weightSpecs: specs,
          weightData: buffer,
        }),
      ));
  } catch (e) {
    if (e instanceof OverBudget) {
      throw new ModelZipError(
        `${names.json} describes layers with more weights than its weightsManifest lists (${e.message}), so the model was not built; ${names.fix}.`,
      );
    }
    const message = e instanceof Error ? e.message : String(e);
    const unknown = message.match(/Unknown layer: ([^\s.]+)/);
    if (unknown) {
      throw new ModelZipError(
        `${names.json} uses the layer class ${
          unknown[1]
        }, which this program does not know; ${names.fix}.`,
      );
    }
    const reason = message.split("\n")[0].replace(/\.$/, "").slice(0, 200);
    throw new ModelZipError(
      `${names.json} does not describe a model TensorFlow.js can build (${reason}); ${names.fix}.`,
    );
  }
}

/**
 * Saves `model` in the tfjs Layers format into directory `dir`
 * (`model.json`, `weights.bin`), replacing it atomically.
 *
 * @example
 * ```ts
 * import { buildMiniVGGNet } from "./model.ts";
 * import { saveModelDir } from "./model_zip.ts";
 * await saveModelDir(buildMiniVGGNet(), "out/model");
 * ```
 */
export async function saveModelDir(
  model: tf.LayersModel,
  dir: string,
): Promise<void> {
  const { modelJson, weights } = await modelFiles(model);
  await writeDirAtomic(dir, async (tmp) => {
    await Deno.writeTextFile(join(tmp, MODEL_JSON), modelJson);
    await Deno.writeFile(join(tmp, WEIGHTS_BIN), weights);
  });
}

/**
 * Loads a model saved by {@link saveModelDir} (or any tfjs Layers model
 * directory whose weights files lie inside it), within
 * {@link MODEL_LIMITS}: `model.json` at most 4 MiB, each weights file at
 * most 32 MiB and all of them 64 MiB, read no further than that.
 *
 * @throws {ModelZipError} with one sentence naming the file when the directory lacks a file, a file is too large, or the files are damaged or do not fit each other.
 * @example
 * ```ts
 * import { loadModelDir } from "./model_zip.ts";
 * const model = await loadModelDir("out/model");
 * ```
 */
export async function loadModelDir(dir: string): Promise<tf.LayersModel> {
  const jsonPath = join(dir, MODEL_JSON);
  let text: Uint8Array | undefined;
  try {
    text = await readFileAtMost(jsonPath, MODEL_LIMITS.jsonBytes);
  } catch {
    throw new ModelZipError(
      `${jsonPath} cannot be read; pass the folder a training run wrote (e.g. out/run/model).`,
    );
  }
  if (text === undefined) {
    throw new ModelZipError(
      `${jsonPath} is larger than ${
        amount(MODEL_LIMITS.jsonBytes)
      }, more than any model.json; ${DIR_FIX}.`,
    );
  }
  const json = parseJson(text, jsonPath, DIR_FIX);
  const names = { json: jsonPath, weights: jsonPath, fix: DIR_FIX };
  const { paths } = manifestOf(json, names);
  if (paths.length > MODEL_LIMITS.files) {
    throw new ModelZipError(
      `${jsonPath} lists ${paths.length} weights files, more than the ${MODEL_LIMITS.files} a model may have; ${DIR_FIX}.`,
    );
  }
  const parts: Uint8Array[] = [];
  let left = MODEL_LIMITS.totalBytes;
  for (const p of paths) {
    if (isAbsolute(p) || normalize(p).split(/[\\/]/)[0] === "..") {
      throw new ModelZipError(
        `${jsonPath} lists the weights file ${p}, which is outside its folder; ${DIR_FIX}.`,
      );
    }
    const file = join(dir, p);
    const limit = Math.min(MODEL_LIMITS.fileBytes, left);
    let part: Uint8Array | undefined;
    try {
      part = await readFileAtMost(file, limit);
    } catch (e) {
      const why = e instanceof Deno.errors.NotFound
        ? "there is no such file"
        : e instanceof Deno.errors.IsADirectory
        ? "it is a folder"
        : (e as Error).message.split("\n")[0];
      throw new ModelZipError(
        `${file}, a weights file ${MODEL_JSON} lists, cannot be read (${why}); ${DIR_FIX}.`,
      );
    }
    if (part === undefined) {
      throw new ModelZipError(
        limit === MODEL_LIMITS.fileBytes
          ? `${file} is larger than ${
            amount(limit)
          }, more than a model's weights file may be; ${DIR_FIX}.`
          : `The weights files ${jsonPath} lists are larger than ${
            amount(MODEL_LIMITS.totalBytes)
          } together (at ${file}), more than a model may have; ${DIR_FIX}.`,
      );
    }
    parts.push(part);
    left -= part.length;
  }
  const weights = joinBuffers(
    parts.map((p) => p.slice().buffer as ArrayBuffer),
  );
  return modelFromFiles(json, weights, {
    json: jsonPath,
    weights: paths.length === 1
      ? join(dir, paths[0])
      : `The ${paths.length} weights files in ${dir}`,
    fix: DIR_FIX,
  });
}

/**
 * Writes `model.zip`: `model.json`, `weights.bin` and `metadata.json`,
 * atomically. Returns the zip's bytes.
 *
 * @example
 * ```ts
 * import { buildMiniVGGNet } from "./model.ts";
 * import { CLASS_NAMES } from "./data.ts";
 * import { saveModelZip } from "./model_zip.ts";
 * await saveModelZip(buildMiniVGGNet(), "out/model.zip", { classNames: CLASS_NAMES });
 * ```
 */
export async function saveModelZip(
  model: tf.LayersModel,
  path: string,
  metadata: ModelMetadata,
): Promise<Uint8Array> {
  const { modelJson, weights } = await modelFiles(model);
  const zip = new JSZip();
  zip.file(MODEL_JSON, modelJson);
  zip.file(WEIGHTS_BIN, weights);
  zip.file(METADATA_JSON, JSON.stringify(metadata, null, 2));
  const bytes = await zip.generateAsync({
    type: "uint8array",
    compression: "DEFLATE",
  });
  await writeFileAtomic(path, bytes);
  return bytes;
}

/**
 * A model loaded from a model zip, with its metadata.
 *
 * @example
 * ```ts
 * import { type LoadedModelZip, loadModelZip } from "./model_zip.ts";
 * const { model, metadata }: LoadedModelZip = await loadModelZip("out/model.zip");
 * console.log(model.name, metadata.classNames);
 * ```
 */
export interface LoadedModelZip {
  model: tf.LayersModel;
  metadata: ModelMetadata;
}

/** A member as the zip's central directory describes it. */
interface ZipEntry {
  name: string;
  flags: number;
  method: number;
  crc: number;
  compressedSize: number;
  /** Uncompressed size, as declared. */
  size: number;
  localOffset: number;
}

const MAX32 = 0xffffffff;

/**
 * The members listed in a zip's central directory, read by hand (the end
 * record, zip64 records and extra fields where sizes need them) so that
 * their number and declared sizes are known before anything is inflated.
 */
function zipEntries(bytes: Uint8Array, path: string): ZipEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (at: number) => view.getUint16(at, true);
  const u32 = (at: number) => view.getUint32(at, true);
  const u64 = (at: number) => Number(view.getBigUint64(at, true));
  const damaged = (what: string) =>
    new ModelZipError(`${path} is a damaged zip file (${what}); ${ZIP_FIX}.`);
  // The end record: 22 bytes and a comment of up to 65,535.
  let end = -1;
  for (
    let i = bytes.length - 22;
    i >= Math.max(0, bytes.length - 22 - 0xffff);
    i--
  ) {
    if (u32(i) === 0x06054b50) {
      end = i;
      break;
    }
  }
  if (end < 0) {
    throw new ModelZipError(
      `${path} is not a valid zip file; use the model.zip a training run wrote.`,
    );
  }
  let count = u16(end + 10), dirSize = u32(end + 12), dirAt = u32(end + 16);
  if (count === 0xffff || dirSize === MAX32 || dirAt === MAX32) {
    const locator = end - 20;
    if (locator < 0 || u32(locator) !== 0x07064b50) {
      throw damaged("its zip64 end record is missing");
    }
    const at = u64(locator + 8);
    if (at + 56 > end || u32(at) !== 0x06064b50) {
      throw damaged("its zip64 end record is missing");
    }
    count = u64(at + 32);
    dirSize = u64(at + 40);
    dirAt = u64(at + 48);
  }
  if (count > MODEL_LIMITS.files) {
    throw new ModelZipError(
      `${path} holds ${
        count.toLocaleString("en-US")
      } files, more than the ${MODEL_LIMITS.files} a model.zip may have; ${ZIP_FIX}.`,
    );
  }
  const dirEnd = dirAt + dirSize;
  if (dirEnd > bytes.length) {
    throw damaged("its directory lies past the end of the file");
  }
  const decoder = new TextDecoder();
  const entries: ZipEntry[] = [];
  let pos = dirAt;
  for (let i = 0; i < count; i++) {
    if (pos + 46 > dirEnd || u32(pos) !== 0x02014b50) {
      throw damaged(`directory entry ${i + 1} is broken`);
    }
    const nameLength = u16(pos + 28), extraLength = u16(pos + 30);
    const next = pos + 46 + nameLength + extraLength + u16(pos + 32);
    if (next > dirEnd) throw damaged(`directory entry ${i + 1} is broken`);
    const entry: ZipEntry = {
      name: decoder.decode(bytes.subarray(pos + 46, pos + 46 + nameLength)),
      flags: u16(pos + 8),
      method: u16(pos + 10),
      crc: u32(pos + 16),
      compressedSize: u32(pos + 20),
      size: u32(pos + 24),
      localOffset: u32(pos + 42),
    };
    // Sizes and offset that do not fit 32 bits are in the zip64 extra
    // field (id 1), in this order; without it they stay at 4 GiB, too large.
    let at = pos + 46 + nameLength;
    const extraEnd = at + extraLength;
    while (at + 4 <= extraEnd) {
      const id = u16(at), length = u16(at + 2);
      let field = at + 4;
      const take = (v: number) => {
        if (v !== MAX32 || field + 8 > Math.min(at + 4 + length, extraEnd)) {
          return v;
        }
        field += 8;
        return u64(field - 8);
      };
      if (id === 1) {
        entry.size = take(entry.size);
        entry.compressedSize = take(entry.compressedSize);
        entry.localOffset = take(entry.localOffset);
        break;
      }
      at += 4 + length;
    }
    entries.push(entry);
    pos = next;
  }
  return entries;
}

/**
 * Checks every member's declared size and compression ratio, and their
 * total, against {@link MODEL_LIMITS}, before anything is inflated.
 */
function checkDeclaredSizes(entries: ZipEntry[], path: string): void {
  const seen = new Set<string>();
  let total = 0;
  for (const e of entries) {
    if (seen.has(e.name)) {
      throw new ModelZipError(
        `${path} holds two files named ${e.name}; ${ZIP_FIX}.`,
      );
    }
    seen.add(e.name);
    const limit = e.name.endsWith(".json")
      ? MODEL_LIMITS.jsonBytes
      : MODEL_LIMITS.fileBytes;
    if (e.size > limit) {
      throw new ModelZipError(
        `${e.name} in ${path} would inflate to ${
          amount(e.size)
        }, more than the ${
          amount(limit)
        } such a file may have, so it was not read; ${ZIP_FIX}.`,
      );
    }
    const ratio = e.size / Math.max(1, e.compressedSize);
    if (e.size > RATIO_FLOOR && ratio > MODEL_LIMITS.compressionRatio) {
      throw new ModelZipError(
        `${e.name} in ${path} would inflate ${
          Math.round(ratio)
        } times over, more than the ${MODEL_LIMITS.compressionRatio} times a model file compresses by, so it was not read; ${ZIP_FIX}.`,
      );
    }
    total += e.size;
  }
  if (total > MODEL_LIMITS.totalBytes) {
    throw new ModelZipError(
      `${path} would inflate to ${amount(total)}, more than the ${
        amount(MODEL_LIMITS.totalBytes)
      } a model.zip may hold, so it was not read; ${ZIP_FIX}.`,
    );
  }
}

/**
 * The bytes of one member, inflated no further than the size its header
 * declares (already within the limits), and checked against its CRC-32.
 */
function inflateEntry(
  bytes: Uint8Array,
  e: ZipEntry,
  path: string,
): Uint8Array {
  const where = `${e.name} in ${path}`;
  const damaged = (what: string) =>
    new ModelZipError(`${where} is damaged (${what}); ${ZIP_FIX}.`);
  if (e.flags & 1) {
    throw new ModelZipError(
      `${where} is encrypted, which this program does not read; ${ZIP_FIX}.`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const local = e.localOffset;
  if (local + 30 > bytes.length || view.getUint32(local, true) !== 0x04034b50) {
    throw damaged("its local header is missing");
  }
  const start = local + 30 + view.getUint16(local + 26, true) +
    view.getUint16(local + 28, true);
  if (start + e.compressedSize > bytes.length) {
    throw damaged("its data runs past the end of the file");
  }
  const raw = bytes.subarray(start, start + e.compressedSize);
  let data: Uint8Array;
  if (e.method === 0) {
    if (raw.length !== e.size) throw damaged("its two sizes differ");
    data = raw;
  } else if (e.method === 8) {
    try {
      data = inflateRawSync(raw, { maxOutputLength: Math.max(1, e.size) });
    } catch (err) {
      if ((err as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") {
        throw new ModelZipError(
          `${where} inflates to more than the ${
            amount(e.size)
          } its zip header declares, so it was not read (the file is damaged or made to exhaust memory); ${ZIP_FIX}.`,
        );
      }
      throw damaged("its compressed data is not valid deflate");
    }
    if (data.length !== e.size) {
      throw damaged(
        `it inflates to ${exactly(data.length)}, not the ${
          exactly(e.size)
        } its zip header declares`,
      );
    }
  } else {
    throw new ModelZipError(
      `${where} is compressed with method ${e.method}, which this program does not read (only stored and deflate); ${ZIP_FIX}.`,
    );
  }
  if (crc32(data) !== e.crc) throw damaged("its CRC-32 does not match");
  return data;
}

/** The class names in parsed `metadata.json`, or a ModelZipError. */
function checkMetadata(json: unknown, where: string): ModelMetadata {
  if (!isObject(json)) {
    const what = json === null
      ? "null"
      : Array.isArray(json)
      ? "a list"
      : `a ${typeof json}`;
    throw new ModelZipError(
      `${where} holds ${what} instead of an object with the model's classNames; ${ZIP_FIX}.`,
    );
  }
  const names = json.classNames;
  if (
    !Array.isArray(names) || names.length === 0 ||
    !names.every((n) => typeof n === "string")
  ) {
    throw new ModelZipError(
      `${where} has no classNames list of strings; ${ZIP_FIX}.`,
    );
  }
  return json as ModelMetadata;
}

/**
 * Loads `model.zip` written by {@link saveModelZip}, within
 * {@link MODEL_LIMITS}: the zip's directory is read first, and a zip with
 * too many members, a member or a total declared too large or compressed
 * too well, or a member inflating past its declared size is refused without
 * inflating it (further). Then `model.json`, `weights.bin` and
 * `metadata.json` must fit each other: JSON, a weights manifest matching
 * the weights' length, known layer classes, a `classNames` list as long as
 * the model's output.
 *
 * @throws {ModelZipError} with one sentence naming the file (and member) when the file is missing, too large, not a zip, damaged, or not such a model zip.
 * @example
 * ```ts
 * import { loadModelZip } from "./model_zip.ts";
 * const { model, metadata } = await loadModelZip("out/model.zip");
 * ```
 */
export async function loadModelZip(path: string): Promise<LoadedModelZip> {
  let read: Uint8Array | undefined;
  try {
    read = await readFileAtMost(path, MODEL_LIMITS.zipBytes);
  } catch (e) {
    throw new ModelZipError(
      e instanceof Deno.errors.NotFound
        ? `${path} does not exist; train a model first (notebook 03-train saves one where 04-evaluate looks; deno task train writes one into its --out folder) or pass the path of a model.zip.`
        : `${path} cannot be read (${
          (e as Error).message
        }); pass the path of a model.zip.`,
    );
  }
  if (read === undefined) {
    throw new ModelZipError(
      `${path} is larger than ${
        amount(MODEL_LIMITS.zipBytes)
      }, more than a model.zip may be, so it was not read; ${ZIP_FIX}.`,
    );
  }
  const bytes = read;
  const entries = zipEntries(bytes, path);
  checkDeclaredSizes(entries, path);
  const part = (name: string) => {
    const e = entries.find((e) => e.name === name);
    if (e === undefined) {
      throw new ModelZipError(
        `${path} has no ${name}; use the model.zip a training run wrote.`,
      );
    }
    return inflateEntry(bytes, e, path);
  };
  const names: Names = {
    json: `${MODEL_JSON} in ${path}`,
    weights: `${WEIGHTS_BIN} in ${path}`,
    fix: ZIP_FIX,
  };
  const modelJson = parseJson(part(MODEL_JSON), names.json, ZIP_FIX);
  const weights = part(WEIGHTS_BIN);
  const where = `${METADATA_JSON} in ${path}`;
  const metadata = checkMetadata(
    parseJson(part(METADATA_JSON), where, ZIP_FIX),
    where,
  );
  const model = await modelFromFiles(modelJson, weights, names);
  const outputs = model.outputs[0]?.shape.at(-1);
  if (typeof outputs === "number" && outputs !== metadata.classNames.length) {
    model.dispose();
    throw new ModelZipError(
      `${where} lists ${metadata.classNames.length} class name${
        metadata.classNames.length === 1 ? "" : "s"
      } but the model has ${outputs} outputs; ${ZIP_FIX}.`,
    );
  }
  return { model, metadata };
}
