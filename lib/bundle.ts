/**
 * Saving and loading models: the tfjs Layers format in a directory
 * (`model.json` + `weights.bin`), and a single `model.zip` bundle (jszip)
 * that adds `metadata.json` — class names, input spec, preprocessing,
 * recipe, metrics, versions.
 *
 * @example
 * ```ts
 * import { loadBundle, saveBundle } from "./bundle.ts";
 * await saveBundle(model, "out/model.zip", { classNames: CLASS_NAMES });
 * const { model: again, metadata } = await loadBundle("out/model.zip");
 * ```
 *
 * @module
 */
import JSZip from "jszip";
import { join } from "node:path";
import { tf } from "./tf.ts";
import { writeDirAtomic, writeFileAtomic } from "./files.ts";

/**
 * What `metadata.json` in a bundle says about the model.
 *
 * @example
 * ```ts
 * import type { BundleMetadata } from "./bundle.ts";
 * const m: BundleMetadata = { classNames: ["a", "b"] };
 * ```
 */
export interface BundleMetadata {
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

/** The default preprocessing description written into bundles. */
export const PREPROCESSING =
  "28×28 grayscale, object light on a black background (Fashion-MNIST style), uint8 pixels divided by 255 to [0, 1], shape [n, 28, 28, 1].";

const MODEL_JSON = "model.json";
const WEIGHTS_BIN = "weights.bin";
const METADATA_JSON = "metadata.json";

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

function modelFromFiles(
  modelJsonText: string,
  weights: Uint8Array,
): Promise<tf.LayersModel> {
  const json = JSON.parse(modelJsonText);
  const weightSpecs =
    (json.weightsManifest as { weights: tf.io.WeightsManifestEntry[] }[])
      .flatMap((g) => g.weights);
  const buffer = weights.buffer.slice(
    weights.byteOffset,
    weights.byteOffset + weights.byteLength,
  ) as ArrayBuffer;
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs,
      weightData: buffer,
    }),
  );
}

/**
 * Saves `model` in the tfjs Layers format into directory `dir`
 * (`model.json`, `weights.bin`), replacing it atomically.
 *
 * @example
 * ```ts
 * import { saveModelDir } from "./bundle.ts";
 * await saveModelDir(model, "out/model");
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
 * Loads a model saved by {@link saveModelDir} (or any single-weight-file
 * tfjs Layers model directory).
 *
 * @throws {Error} with one sentence when the directory lacks the files or they are damaged.
 * @example
 * ```ts
 * import { loadModelDir } from "./bundle.ts";
 * const model = await loadModelDir("out/model");
 * ```
 */
export async function loadModelDir(dir: string): Promise<tf.LayersModel> {
  let text: string;
  try {
    text = await Deno.readTextFile(join(dir, MODEL_JSON));
  } catch {
    throw new Error(
      `${
        join(dir, MODEL_JSON)
      } cannot be read; pass the folder a training run wrote (e.g. out/run/model).`,
    );
  }
  const json = JSON.parse(text);
  const paths = (json.weightsManifest as { paths: string[] }[]).flatMap((g) =>
    g.paths
  );
  const parts = await Promise.all(
    paths.map((p) => Deno.readFile(join(dir, p))),
  );
  const weights = joinBuffers(
    parts.map((p) => p.slice().buffer as ArrayBuffer),
  );
  return modelFromFiles(text, weights);
}

/**
 * Writes `model.zip`: `model.json`, `weights.bin` and `metadata.json`,
 * atomically. Returns the zip's bytes.
 *
 * @example
 * ```ts
 * import { saveBundle } from "./bundle.ts";
 * await saveBundle(model, "out/model.zip", { classNames: CLASS_NAMES });
 * ```
 */
export async function saveBundle(
  model: tf.LayersModel,
  path: string,
  metadata: BundleMetadata,
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
 * A model loaded from a bundle, with its metadata.
 *
 * @example
 * ```ts
 * const { model, metadata } = await loadBundle("out/model.zip");
 * console.log(metadata.classNames);
 * ```
 */
export interface Bundle {
  model: tf.LayersModel;
  metadata: BundleMetadata;
}

/**
 * Loads `model.zip` written by {@link saveBundle}.
 *
 * @throws {Error} with one sentence when the file is missing, not a zip, or lacks a part.
 * @example
 * ```ts
 * import { loadBundle } from "./bundle.ts";
 * const { model, metadata } = await loadBundle("out/model.zip");
 * ```
 */
export async function loadBundle(path: string): Promise<Bundle> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch {
    throw new Error(
      `${path} cannot be read; train a model first (deno task train) or pass the path of a model.zip.`,
    );
  }
  let zip: JSZip;
  try {
    zip = await JSZip.loadAsync(bytes);
  } catch {
    throw new Error(
      `${path} is not a valid zip file; use the model.zip a training run wrote.`,
    );
  }
  const part = (name: string) => {
    const f = zip.file(name);
    if (f === null) {
      throw new Error(
        `${path} has no ${name}; use the model.zip a training run wrote.`,
      );
    }
    return f;
  };
  const modelJson = await part(MODEL_JSON).async("string");
  const weights = await part(WEIGHTS_BIN).async("uint8array");
  const metadata = JSON.parse(
    await part(METADATA_JSON).async("string"),
  ) as BundleMetadata;
  return { model: await modelFromFiles(modelJson, weights), metadata };
}
