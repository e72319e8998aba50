/**
 * Plain data types shared across the library. No imports, no behaviour:
 * modules early in the data flow (metrics, plots) use these without pulling
 * in TensorFlow.js.
 *
 * @module
 */

/**
 * One epoch of training, as written to `history.json`.
 *
 * @example
 * ```ts
 * import type { EpochRecord } from "./types.ts";
 * const e: EpochRecord = {
 *   epoch: 1, loss: 0.52, accuracy: 0.81, val_loss: 0.41, val_accuracy: 0.85,
 *   lr: 0.0079, seconds: 120.5, images_per_second: 498,
 *   images_seen: 60000, wall_seconds: 121.2,
 * };
 * ```
 */
export interface EpochRecord {
  /** 1-based epoch number. */
  epoch: number;
  /** Mean training loss over the epoch's batches. */
  loss: number;
  /** Mean training accuracy over the epoch's batches (0..1). */
  accuracy: number;
  /** Validation loss at the end of the epoch (NaN when not validated). */
  val_loss: number;
  /** Validation accuracy at the end of the epoch (0..1; NaN when not validated). */
  val_accuracy: number;
  /** Learning rate in force for the epoch's last batch. */
  lr: number;
  /** Wall-clock seconds for the epoch, validation included. */
  seconds: number;
  /** Training images per second (validation excluded). */
  images_per_second: number;
  /** Training images seen since the run began, this epoch's included. */
  images_seen: number;
  /** Wall-clock seconds since the run began, at the end of this epoch. */
  wall_seconds: number;
}

/**
 * Precision, recall, F1 and support of one class (or of an average).
 *
 * @example
 * ```ts
 * import type { ClassScores } from "./types.ts";
 * const s: ClassScores = { precision: 1, recall: 0.5, f1: 2 / 3, support: 2 };
 * ```
 */
export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/**
 * A classification report: the numbers of scikit-learn's
 * `classification_report`, in the shape written to `report.json`.
 *
 * @example
 * ```ts
 * import type { Report } from "./types.ts";
 * const r: Report = {
 *   classes: [{ name: "a", precision: 1, recall: 1, f1: 1, support: 1 }],
 *   accuracy: 1,
 *   macro_avg: { precision: 1, recall: 1, f1: 1, support: 1 },
 *   weighted_avg: { precision: 1, recall: 1, f1: 1, support: 1 },
 * };
 * ```
 */
export interface Report {
  classes: Array<ClassScores & { name: string }>;
  accuracy: number;
  macro_avg: ClassScores;
  weighted_avg: ClassScores;
}

/**
 * An RGBA raster image, 8 bits per channel, row-major, top row first.
 *
 * @example
 * ```ts
 * import type { RgbaImage } from "./types.ts";
 * const img: RgbaImage = { width: 1, height: 1, data: new Uint8Array([255, 0, 0, 255]) };
 * ```
 */
export interface RgbaImage {
  width: number;
  height: number;
  /** `width * height * 4` bytes. */
  data: Uint8Array;
}
