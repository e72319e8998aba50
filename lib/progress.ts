/**
 * Text for following a training run: a progress bar per epoch and a
 * summary line per epoch. Pure formatting; callers decide where it goes.
 *
 * @example
 * ```ts
 * import { formatEpochLine, formatProgressBar } from "./progress.ts";
 * console.log(formatProgressBar({ epoch: 1, epochs: 25, batch: 10, batches: 1875,
 *   loss: 1.2, accuracy: 0.6, imagesPerSecond: 500, secondsLeft: 119, lr: 0.01 }));
 * ```
 *
 * @module
 */
import type { BatchProgress } from "./train.ts";
import type { EpochRecord } from "./types.ts";

/**
 * Seconds as `m:ss` (or `h:mm:ss` from one hour).
 *
 * @example
 * ```ts
 * import { formatDuration } from "./progress.ts";
 * formatDuration(3725); // "1:02:05"
 * ```
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?:??";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const mm = h > 0 ? String(m).padStart(2, "0") : String(m);
  return `${h > 0 ? `${h}:` : ""}${mm}:${String(sec).padStart(2, "0")}`;
}

/**
 * One line: epoch, a bar of batches done, running loss and accuracy,
 * images/s and time left in the epoch.
 *
 * @example
 * ```ts
 * import { formatProgressBar } from "./progress.ts";
 * formatProgressBar({
 *   epoch: 1, epochs: 5, batch: 5, batches: 20, loss: 0.5, accuracy: 0.8,
 *   imagesPerSecond: 100, secondsLeft: 90, lr: 0.001,
 * }, 8); // "epoch 1/5 [##......]  5/20 loss 0.5000 acc 0.8000 | 100 img/s | 1:30 left"
 * ```
 */
export function formatProgressBar(p: BatchProgress, width = 24): string {
  const filled = Math.round((p.batch / p.batches) * width);
  const bar = "#".repeat(filled) + ".".repeat(width - filled);
  const w = String(p.batches).length;
  return `epoch ${p.epoch}/${p.epochs} [${bar}] ${
    String(p.batch).padStart(w)
  }/${p.batches}` +
    ` loss ${p.loss.toFixed(4)} acc ${p.accuracy.toFixed(4)}` +
    ` | ${Math.round(p.imagesPerSecond)} img/s | ${
      formatDuration(p.secondsLeft)
    } left`;
}

/**
 * The summary line printed when an epoch ends.
 *
 * @example
 * ```ts
 * import { formatEpochLine } from "./progress.ts";
 * formatEpochLine({
 *   epoch: 1, loss: 0.5, accuracy: 0.8, val_loss: 0.4, val_accuracy: 0.85, lr: 0.001,
 *   seconds: 60, images_per_second: 1000, images_seen: 60000, wall_seconds: 60,
 * }, 5); // "epoch 1/5 loss 0.5000 acc 0.8000 val_loss 0.4000 val_acc 0.8500 lr 0.001000 60.0s 1000 img/s"
 * ```
 */
export function formatEpochLine(r: EpochRecord, epochs: number): string {
  return `epoch ${r.epoch}/${epochs} loss ${r.loss.toFixed(4)} acc ${
    r.accuracy.toFixed(4)
  }` +
    ` val_loss ${r.val_loss.toFixed(4)} val_acc ${r.val_accuracy.toFixed(4)}` +
    ` lr ${r.lr.toFixed(6)} ${r.seconds.toFixed(1)}s ${
      Math.round(r.images_per_second)
    } img/s`;
}
