/**
 * Predictions on a split, in batches, as plain arrays; and the evaluation
 * numbers a training run reports (built on the pure functions of
 * `metrics.ts`).
 *
 * @example
 * ```ts
 * import { evaluateModel, predictSplit } from "./evaluate.ts";
 * import { loadFashionMnist } from "./data.ts";
 * import type { tf } from "./tf.ts";
 * declare const model: tf.LayersModel; // a trained MiniVGGNet
 * const { test, classNames } = await loadFashionMnist();
 * const { report } = evaluateModel(test.labels, predictSplit(model, test), classNames);
 * console.log(report.accuracy);
 * ```
 *
 * @module
 */
import { tf } from "./tf.ts";
import { PIXELS, type Split } from "./data.ts";
import { imagesToTensor } from "./train.ts";
import { classificationReport, confusionMatrix } from "./metrics.ts";
import type { Report } from "./types.ts";

/**
 * Class probabilities for every image, and the top class with its
 * probability.
 *
 * @example
 * ```ts
 * import type { Predictions } from "./evaluate.ts";
 * const one: Predictions = {
 *   probabilities: new Float32Array([0.25, 0.75]),
 *   predicted: new Uint8Array([1]),
 *   confidence: new Float32Array([0.75]),
 *   classes: 2,
 *   count: 1,
 * };
 * ```
 */
export interface Predictions {
  /** `count × classes` probabilities, row-major. */
  probabilities: Float32Array;
  /** Index of the most probable class, per image. */
  predicted: Uint8Array;
  /** Probability of that class, per image. */
  confidence: Float32Array;
  classes: number;
  count: number;
}

/**
 * Runs `model.predict` over a split in batches (default 256) and collects
 * probabilities, predicted classes and confidences. With `flip`, each
 * image's probabilities are the mean of its own and its mirror image's
 * (test-time augmentation). Disposes every tensor.
 *
 * @example
 * ```ts
 * import { predictSplit } from "./evaluate.ts";
 * import { loadFashionMnist } from "./data.ts";
 * import type { tf } from "./tf.ts";
 * declare const model: tf.LayersModel; // a trained MiniVGGNet
 * const { test } = await loadFashionMnist();
 * const { predicted, confidence } = predictSplit(model, test, 256, { flip: true });
 * console.log(predicted[0], confidence[0]); // first test image: class, probability
 * ```
 */
export function predictSplit(
  model: tf.LayersModel,
  split: Pick<Split, "images" | "count">,
  batchSize = 256,
  options: { flip?: boolean } = {},
): Predictions {
  const classes = (model.outputs[0].shape[1] ?? 10) as number;
  const probabilities = new Float32Array(split.count * classes);
  for (let start = 0; start < split.count; start += batchSize) {
    const end = Math.min(start + batchSize, split.count);
    const probs = tf.tidy(() => {
      const x = imagesToTensor(
        split.images.subarray(start * PIXELS, end * PIXELS),
      );
      const p = model.predict(x, { batchSize }) as tf.Tensor;
      if (!options.flip) return p;
      // Test-time augmentation: the mean with the mirrored images' answer.
      const mirrored = model.predict(tf.reverse(x, 2), { batchSize });
      return tf.div(tf.add(p, mirrored as tf.Tensor), 2);
    });
    probabilities.set(probs.dataSync() as Float32Array, start * classes);
    probs.dispose();
  }
  const predicted = new Uint8Array(split.count);
  const confidence = new Float32Array(split.count);
  for (let i = 0; i < split.count; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) {
      if (probabilities[i * classes + c] > probabilities[i * classes + best]) {
        best = c;
      }
    }
    predicted[i] = best;
    confidence[i] = probabilities[i * classes + best];
  }
  return { probabilities, predicted, confidence, classes, count: split.count };
}

/**
 * The evaluation of a model on labelled data: report and confusion matrix.
 *
 * @example
 * ```ts
 * import { type Evaluation, evaluateModel } from "./evaluate.ts";
 * const e: Evaluation = evaluateModel([0, 1, 1], { predicted: new Uint8Array([0, 1, 0]) }, ["a", "b"]);
 * e.confusion; // [[1, 0], [1, 1]]: rows are true classes, columns predicted
 * ```
 */
export interface Evaluation {
  report: Report;
  confusion: number[][];
}

/**
 * Classification report and confusion matrix of predictions against labels.
 *
 * @example
 * ```ts
 * import { evaluateModel } from "./evaluate.ts";
 * const { report } = evaluateModel([0, 1, 1], { predicted: new Uint8Array([0, 1, 0]) }, ["a", "b"]);
 * report.accuracy; // 2/3
 * ```
 */
export function evaluateModel(
  labels: ArrayLike<number>,
  predictions: Pick<Predictions, "predicted">,
  classNames: readonly string[],
): Evaluation {
  return {
    report: classificationReport(labels, predictions.predicted, classNames),
    confusion: confusionMatrix(
      labels,
      predictions.predicted,
      classNames.length,
    ),
  };
}

/**
 * Mean cross-entropy of the predicted probabilities against the labels
 * (Keras's categorical cross-entropy: each true class's probability
 * clipped to [1e-7, 1 − 1e-7], then −ln, averaged over the images).
 *
 * @throws {Error} when there are no predictions, or not one per label.
 * @example
 * ```ts
 * import { crossEntropyOf } from "./evaluate.ts";
 * crossEntropyOf(new Uint8Array([1]), {
 *   probabilities: new Float32Array([0.5, 0.5]), classes: 2, count: 1,
 * }); // Math.LN2
 * ```
 */
export function crossEntropyOf(
  labels: ArrayLike<number>,
  predictions: Pick<Predictions, "probabilities" | "classes" | "count">,
): number {
  const { probabilities, classes, count } = predictions;
  if (count === 0 || labels.length !== count) {
    throw new Error(
      `crossEntropyOf: ${labels.length} labels for ${count} predictions`,
    );
  }
  const eps = 1e-7;
  let sum = 0;
  for (let i = 0; i < count; i++) {
    const p = probabilities[i * classes + labels[i]];
    sum -= Math.log(Math.min(1 - eps, Math.max(eps, p)));
  }
  return sum / count;
}

/**
 * `predictions.csv`: header `index,label,predicted,confidence`, one row per
 * image in split order.
 *
 * @example
 * ```ts
 * import { predictionsCsv } from "./evaluate.ts";
 * predictionsCsv(new Uint8Array([3]), { predicted: new Uint8Array([3]), confidence: new Float32Array([0.9]) });
 * // "index,label,predicted,confidence\n0,3,3,0.900000\n"
 * ```
 */
export function predictionsCsv(
  labels: ArrayLike<number>,
  predictions: Pick<Predictions, "predicted" | "confidence">,
): string {
  const rows = ["index,label,predicted,confidence"];
  for (let i = 0; i < labels.length; i++) {
    rows.push(
      `${i},${labels[i]},${predictions.predicted[i]},${
        predictions.confidence[i].toFixed(6)
      }`,
    );
  }
  return rows.join("\n") + "\n";
}

/**
 * The class probabilities of image `index` as a plain array (e.g. for
 * `topKFigure`).
 *
 * @throws {RangeError} when `index` is not an image of the predictions.
 * @example
 * ```ts
 * import { probabilitiesOf } from "./evaluate.ts";
 * const probabilities = new Float32Array([0.25, 0.75, 0.5, 0.5]);
 * probabilitiesOf({ probabilities, classes: 2, count: 2 }, 1); // [0.5, 0.5]
 * ```
 */
export function probabilitiesOf(
  predictions: Pick<Predictions, "probabilities" | "classes" | "count">,
  index: number,
): number[] {
  if (!Number.isInteger(index) || index < 0 || index >= predictions.count) {
    throw new RangeError(
      `index must be an integer in 0..${predictions.count - 1}, got ${index}.`,
    );
  }
  const { classes } = predictions;
  return Array.from(
    predictions.probabilities.subarray(index * classes, (index + 1) * classes),
  );
}

/**
 * Classifies one 28×28 grey image (784 bytes, object light on black, as
 * `prepareImage` makes it) and returns the class probabilities.
 *
 * @throws {RangeError} when `pixels` is not 784 bytes.
 * @example
 * ```ts
 * import { classifyPixels } from "./evaluate.ts";
 * import type { tf } from "./tf.ts";
 * declare const model: tf.LayersModel; // a trained MiniVGGNet
 * classifyPixels(model, new Uint8Array(784)); // 10 probabilities for a black image
 * ```
 */
export function classifyPixels(
  model: tf.LayersModel,
  pixels: Uint8Array,
): number[] {
  if (pixels.length !== 784) {
    throw new RangeError(
      `An image for the model is 28×28 = 784 bytes, got ${pixels.length}.`,
    );
  }
  return probabilitiesOf(predictSplit(model, { images: pixels, count: 1 }), 0);
}
