/**
 * Training checkpoints: everything a run needs to continue exactly where
 * it stopped — the model's weights (batch-norm statistics included), the
 * optimizer's slots and step, the weight average, where every random
 * stream stands (shuffling, augmentation, each dropout layer), the history
 * and the time spent — in one file written atomically.
 *
 * The file is a small container: the 8 bytes `FMNISTCK`, a 32-bit
 * little-endian length, that many bytes of JSON (the numbers and the
 * layout), then the float32 arrays the JSON points into. Reading checks
 * every length and offset against the file before using it.
 *
 * @example
 * ```ts
 * import { loadCheckpoint, saveCheckpoint, type TrainCheckpoint } from "./checkpoint.ts";
 * declare const checkpoint: TrainCheckpoint; // from trainModel's onCheckpoint
 * await saveCheckpoint("out/a.partial/checkpoint.bin", checkpoint);
 * const again = await loadCheckpoint("out/a.partial/checkpoint.bin");
 * ```
 *
 * @module
 */
import type { Recipe } from "./recipes.ts";
import type { EpochRecord } from "./types.ts";
import type { OptimizerState } from "./optimizer.ts";
import { writeFileAtomic } from "./files.ts";

/**
 * The state of a run between two batches.
 *
 * @example
 * ```ts
 * import type { TrainCheckpoint } from "./checkpoint.ts";
 * const done = (c: TrainCheckpoint) => c.epochsDone === c.recipe.epochs;
 * ```
 */
export interface TrainCheckpoint {
  /** The recipe being trained (its epochs and batch size included). */
  recipe: Recipe;
  /** The run's seed. */
  seed: number;
  /** Number of training images (a resume must train on the same ones). */
  trainCount: number;
  /** Complete epochs (validated and in the history). */
  epochsDone: number;
  /** Batches of the next epoch already trained (0 at an epoch's end). */
  batchesDone: number;
  /** Batches trained in all (the learning-rate schedule's position). */
  step: number;
  /** Training images seen in all. */
  imagesSeen: number;
  /** Seconds spent training so far (over all sessions). */
  elapsedSeconds: number;
  /** One record per complete epoch. */
  history: EpochRecord[];
  /** Sums of the epoch in progress, when stopped mid-epoch. */
  epochProgress: {
    lossSum: number;
    accSum: number;
    seen: number;
    seconds: number;
  } | null;
  /** Where the random streams stand. */
  rng: {
    /** The shuffling stream now. */
    shuffle: number;
    /** The shuffling stream before the epoch in progress drew its order. */
    epochShuffle: number;
    /** The augmentation stream. */
    augment: number;
    /** Each dropout layer's mask stream, in layer order. */
    dropout: number[];
  };
  /** The model's weights (`model.weights` order), values as trained. */
  weights: Float32Array[];
  /** The optimizer's slots and step. */
  optimizer: OptimizerState;
  /** The weight average (EMA), if the recipe keeps one. */
  average: { steps: number; values: Float32Array[] } | null;
  /** Anything the caller wants back on resume (the CLI's settings). */
  meta: Record<string, unknown>;
}

/** The file's first 8 bytes. */
const MAGIC = "FMNISTCK";
/** Larger headers are not ours (a real one is a few tens of kilobytes). */
const MAX_HEADER_BYTES = 16 * 1024 * 1024;

/**
 * A checkpoint file that cannot be used, with one sentence naming it.
 *
 * @example
 * ```ts
 * import { CheckpointError } from "./checkpoint.ts";
 * throw new CheckpointError("out/a.partial/checkpoint.bin is damaged.");
 * ```
 */
export class CheckpointError extends Error {
  override name = "CheckpointError";
}

type ArrayRef = { offset: number; length: number };

/** JSON with non-finite numbers kept (NaN validation losses). */
function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_, v) =>
      typeof v === "number" && !Number.isFinite(v) ? { $number: String(v) } : v,
  );
}

function fromJson(text: string): unknown {
  return JSON.parse(
    text,
    (_, v) =>
      v !== null && typeof v === "object" && typeof v.$number === "string" &&
        Object.keys(v).length === 1
        ? Number(v.$number)
        : v,
  );
}

/**
 * The bytes of a checkpoint file.
 *
 * @example
 * ```ts
 * import { decodeCheckpoint, encodeCheckpoint, type TrainCheckpoint } from "./checkpoint.ts";
 * declare const checkpoint: TrainCheckpoint; // from trainModel's onCheckpoint
 * const bytes = encodeCheckpoint(checkpoint);
 * decodeCheckpoint(bytes, "memory").step === checkpoint.step; // true
 * ```
 */
export function encodeCheckpoint(c: TrainCheckpoint): Uint8Array {
  const arrays: Float32Array[] = [];
  let floats = 0;
  const ref = (a: Float32Array | null): ArrayRef | null => {
    if (a === null) return null;
    arrays.push(a);
    const r = { offset: floats, length: a.length };
    floats += a.length;
    return r;
  };
  const header = {
    ...c,
    weights: c.weights.map(ref),
    optimizer: { ...c.optimizer, slots: c.optimizer.slots.map(ref) },
    average: c.average === null
      ? null
      : { steps: c.average.steps, values: c.average.values.map(ref) },
  };
  const json = new TextEncoder().encode(toJson(header));
  // The arrays start on a 4-byte boundary.
  const start = Math.ceil((12 + json.length) / 4) * 4;
  const bytes = new Uint8Array(start + floats * 4);
  bytes.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(bytes.buffer).setUint32(8, json.length, true);
  bytes.set(json, 12);
  bytes.fill(0x20, 12 + json.length, start);
  const body = new Float32Array(bytes.buffer, start, floats);
  let at = 0;
  for (const a of arrays) {
    body.set(a, at);
    at += a.length;
  }
  return bytes;
}

/**
 * Reads a checkpoint from its bytes; `name` (the file) goes into errors.
 *
 * @throws {CheckpointError} one sentence naming `name` when the bytes are not a whole checkpoint.
 * @example
 * ```ts
 * import { decodeCheckpoint } from "./checkpoint.ts";
 * const path = "out/a.partial/checkpoint.bin";
 * const c = decodeCheckpoint(await Deno.readFile(path), path);
 * ```
 */
export function decodeCheckpoint(
  bytes: Uint8Array,
  name: string,
): TrainCheckpoint {
  const bad = (what: string) =>
    new CheckpointError(
      `${name} is not a usable checkpoint (${what}); start the run again without --resume.`,
    );
  if (
    bytes.length < 12 ||
    new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC
  ) {
    throw bad("it does not start like one");
  }
  const jsonLength = new DataView(bytes.buffer, bytes.byteOffset)
    .getUint32(8, true);
  if (jsonLength > MAX_HEADER_BYTES || 12 + jsonLength > bytes.length) {
    throw bad("its header is cut short");
  }
  let header: Record<string, unknown>;
  try {
    header = fromJson(
      new TextDecoder("utf-8", { fatal: true }).decode(
        bytes.subarray(12, 12 + jsonLength),
      ),
    ) as Record<string, unknown>;
  } catch {
    throw bad("its header is not JSON");
  }
  if (header === null || typeof header !== "object") {
    throw bad("its header is not an object");
  }
  const start = Math.ceil((12 + jsonLength) / 4) * 4;
  const floats = Math.floor(Math.max(0, bytes.length - start) / 4);
  // Copy the body out so the arrays are aligned whatever `bytes` is.
  const body = new Float32Array(floats);
  new Uint8Array(body.buffer).set(bytes.subarray(start, start + floats * 4));
  const array = (r: unknown): Float32Array => {
    const { offset, length } = (r ?? {}) as Partial<ArrayRef>;
    if (
      !Number.isSafeInteger(offset) || !Number.isSafeInteger(length) ||
      offset! < 0 || length! < 0 || offset! + length! > floats
    ) {
      throw bad("an array lies outside the file; it was cut short");
    }
    return body.slice(offset!, offset! + length!);
  };
  const list = (v: unknown, what: string): unknown[] => {
    if (!Array.isArray(v)) throw bad(`${what} is missing`);
    return v;
  };
  const h = header as Record<string, Record<string, unknown>>;
  const numbers = [
    "seed",
    "trainCount",
    "epochsDone",
    "batchesDone",
    "step",
    "imagesSeen",
    "elapsedSeconds",
  ] as const;
  for (const key of numbers) {
    if (typeof header[key] !== "number") throw bad(`${key} is missing`);
  }
  if (h.recipe === null || typeof h.recipe !== "object") {
    throw bad("recipe is missing");
  }
  if (h.rng === null || typeof h.rng !== "object") throw bad("rng is missing");
  if (h.optimizer === null || typeof h.optimizer !== "object") {
    throw bad("optimizer is missing");
  }
  const average = h.average as { steps?: unknown; values?: unknown } | null;
  return {
    ...(header as unknown as TrainCheckpoint),
    history: list(header.history, "history") as EpochRecord[],
    weights: list(header.weights, "weights").map(array),
    optimizer: {
      iterations: Number(h.optimizer.iterations),
      scalars: list(h.optimizer.scalars, "optimizer scalars") as number[],
      slots: list(h.optimizer.slots, "optimizer slots").map((r) =>
        r === null ? null : array(r)
      ),
    },
    average: average === null || average === undefined ? null : {
      steps: Number(average.steps),
      values: list(average.values, "average").map(array),
    },
    meta: (h.meta ?? {}) as Record<string, unknown>,
  };
}

/**
 * Writes a checkpoint atomically: a kill at any moment leaves the previous
 * checkpoint file or this one, never a torn file.
 *
 * @example
 * ```ts
 * import { saveCheckpoint, type TrainCheckpoint } from "./checkpoint.ts";
 * declare const checkpoint: TrainCheckpoint; // from trainModel's onCheckpoint
 * await saveCheckpoint("out/a.partial/checkpoint.bin", checkpoint);
 * ```
 */
export async function saveCheckpoint(
  path: string,
  c: TrainCheckpoint,
): Promise<void> {
  await writeFileAtomic(path, encodeCheckpoint(c));
}

/**
 * Reads a checkpoint file.
 *
 * @throws {CheckpointError} one sentence naming the file when it is missing or damaged.
 * @example
 * ```ts
 * import { loadCheckpoint } from "./checkpoint.ts";
 * const c = await loadCheckpoint("out/a.partial/checkpoint.bin");
 * console.log(`${c.epochsDone} of ${c.recipe.epochs} epochs done`);
 * ```
 */
export async function loadCheckpoint(path: string): Promise<TrainCheckpoint> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new CheckpointError(
        `${path} does not exist: there is no checkpoint to resume from.`,
      );
    }
    throw new CheckpointError(
      `${path} cannot be read (${(e as Error).message}).`,
    );
  }
  return decodeCheckpoint(bytes, path);
}
