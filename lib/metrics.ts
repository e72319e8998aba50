/**
 * Classification metrics: confusion matrix, a scikit-learn compatible
 * classification report (numbers and text layout), per-class accuracy and
 * the most confident mistakes.
 *
 * Everything here is a pure function over plain arrays (`ArrayLike<number>`,
 * so typed arrays work too); nothing depends on TensorFlow.js.
 *
 * The report reproduces scikit-learn's
 * `classification_report(y_true, y_pred, labels=range(len(names)),
 * target_names=names, zero_division=0)`: the same formulas, the same
 * floating-point evaluation order (including NumPy's pairwise summation for
 * the averages) and, in {@linkcode formatReport}, the same text layout and
 * round-half-to-even number formatting.
 *
 * @example
 * ```ts
 * import { classificationReport, formatReport } from "./metrics.ts";
 * const report = classificationReport([0, 1, 1, 2], [0, 1, 2, 2], ["a", "b", "c"]);
 * console.log(formatReport(report));
 * ```
 *
 * @module
 */

import type { ClassScores, Report } from "./types.ts";

/**
 * Counts how often each true class was predicted as each class:
 * `m[t][p]` = samples of true class `t` predicted as `p`.
 *
 * @throws {Error} on inputs of different lengths or labels outside `0..numClasses-1`.
 * @example
 * ```ts
 * import { confusionMatrix } from "./metrics.ts";
 * const m = confusionMatrix([0, 1, 1, 2], [0, 1, 2, 2], 3);
 * // m = [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
 * ```
 */
export function confusionMatrix(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  numClasses: number,
): number[][] {
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new Error(
      `numClasses must be a positive integer, got ${numClasses}.`,
    );
  }
  checkSameLength("yTrue", yTrue, "yPred", yPred);
  checkLabels("yTrue", yTrue, numClasses);
  checkLabels("yPred", yPred, numClasses);
  const m: number[][] = Array.from(
    { length: numClasses },
    () => new Array<number>(numClasses).fill(0),
  );
  for (let i = 0; i < yTrue.length; i++) m[yTrue[i]][yPred[i]]++;
  return m;
}

/**
 * Precision, recall, F1 and support per class, accuracy, and the macro and
 * weighted averages, equal to scikit-learn's
 * `classification_report(yTrue, yPred, labels=range(len(classNames)),
 * target_names=classNames, output_dict=True, zero_division=0)`: every class
 * is reported, even one that never occurs, and an undefined ratio is 0,
 * never NaN.
 *
 * @throws {Error} on empty input, inputs of different lengths, or labels outside `0..classNames.length-1`.
 * @example
 * ```ts
 * import { classificationReport } from "./metrics.ts";
 * const r = classificationReport([0, 1, 1, 2], [0, 1, 2, 2], ["a", "b", "c"]);
 * // r.classes[1] = { name: "b", precision: 1, recall: 0.5, f1: 2 / 3, support: 2 }
 * // r.accuracy = 0.75
 * ```
 */
export function classificationReport(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  classNames: readonly string[],
): Report {
  const n = classNames.length;
  if (n === 0) {
    throw new Error("classNames must name at least one class.");
  }
  const cm = confusionMatrix(yTrue, yPred, n);
  if (yTrue.length === 0) {
    throw new Error("Cannot compute a classification report from 0 samples.");
  }

  const classes: Array<ClassScores & { name: string }> = [];
  let correct = 0;
  for (let c = 0; c < n; c++) {
    const tp = cm[c][c];
    let trueSum = 0;
    let predSum = 0;
    for (let k = 0; k < n; k++) {
      trueSum += cm[c][k];
      predSum += cm[k][c];
    }
    correct += tp;
    const precision = predSum === 0 ? 0 : tp / predSum;
    const recall = trueSum === 0 ? 0 : tp / trueSum;
    classes.push({
      name: classNames[c],
      precision,
      recall,
      f1: f1Score(precision, recall),
      support: trueSum,
    });
  }

  const supports = classes.map((s) => s.support);
  const total = pairwiseSum(supports);
  const macro = (key: "precision" | "recall" | "f1"): number =>
    pairwiseSum(classes.map((s) => s[key])) / n;
  const weighted = (key: "precision" | "recall" | "f1"): number =>
    pairwiseSum(classes.map((s) => s[key] * s.support)) / total;

  return {
    classes,
    accuracy: correct / yTrue.length,
    macro_avg: {
      precision: macro("precision"),
      recall: macro("recall"),
      f1: macro("f1"),
      support: total,
    },
    weighted_avg: {
      precision: weighted("precision"),
      recall: weighted("recall"),
      f1: weighted("f1"),
      support: total,
    },
  };
}

/**
 * Lays a {@linkcode Report} out as text, character for character as
 * scikit-learn's `classification_report` does (`digits` decimals, rounded
 * half-to-even like Python). The accuracy row is always labelled
 * `accuracy`: scikit-learn's `micro avg` case cannot be told from a
 * `Report`.
 *
 * @example
 * ```ts
 * import { classificationReport, formatReport } from "./metrics.ts";
 * const r = classificationReport([0, 1, 1, 2], [0, 1, 2, 2], ["a", "b", "c"]);
 * console.log(formatReport(r));
 * //               precision    recall  f1-score   support
 * //
 * //            a       1.00      1.00      1.00         1
 * //            b       1.00      0.50      0.67         2
 * //            c       0.50      1.00      0.67         1
 * //
 * //     accuracy                           0.75         4
 * //    macro avg       0.83      0.83      0.78         4
 * // weighted avg       0.88      0.75      0.75         4
 * ```
 */
export function formatReport(report: Report, digits = 2): string {
  if (!Number.isInteger(digits) || digits < 0) {
    throw new Error(`digits must be a non-negative integer, got ${digits}.`);
  }
  const width = Math.max(
    ...report.classes.map((c) => charLength(c.name)),
    charLength("weighted avg"),
    digits,
  );
  const num = (x: number): string => " " + padLeft(formatFixed(x, digits), 9);
  const row = (name: string, s: ClassScores): string =>
    padLeft(name, width) + " " + num(s.precision) + num(s.recall) +
    num(s.f1) + " " + padLeft(String(s.support), 9) + "\n";

  const headers = ["precision", "recall", "f1-score", "support"];
  let out = padLeft("", width) + " " +
    headers.map((h) => " " + padLeft(h, 9)).join("") + "\n\n";
  for (const c of report.classes) out += row(c.name, c);
  out += "\n";
  out += padLeft("accuracy", width) + " " + " " + padLeft("", 9) + " " +
    padLeft("", 9) + num(report.accuracy) + " " +
    padLeft(String(report.macro_avg.support), 9) + "\n";
  out += row("macro avg", report.macro_avg);
  out += row("weighted avg", report.weighted_avg);
  return out;
}

/**
 * Per-class recall of a confusion matrix (rows = true class): its diagonal
 * over its row sums, 0 for an empty row.
 *
 * @example
 * ```ts
 * import { perClassAccuracy } from "./metrics.ts";
 * perClassAccuracy([[3, 1], [0, 0]]); // [0.75, 0]
 * ```
 */
export function perClassAccuracy(confusion: number[][]): number[] {
  return confusion.map((row, i) => {
    if (row.length !== confusion.length) {
      throw new Error(
        `Confusion matrix row ${i} has ${row.length} entries but the matrix has ${confusion.length} rows.`,
      );
    }
    let sum = 0;
    for (const v of row) sum += v;
    return sum === 0 ? 0 : row[i] / sum;
  });
}

/**
 * One wrong prediction, as returned by {@linkcode mostConfidentMistakes}.
 *
 * @example
 * ```ts
 * import type { Mistake } from "./metrics.ts";
 * const m: Mistake = { index: 7, label: 2, predicted: 4, confidence: 0.98 };
 * ```
 */
export interface Mistake {
  /** Position of the sample in the input arrays. */
  index: number;
  /** True class. */
  label: number;
  /** Predicted class. */
  predicted: number;
  /** Model confidence in the (wrong) predicted class. */
  confidence: number;
}

/**
 * The at most `k` wrong predictions the model was most sure about, by
 * `confidence` descending (ties keep input order; NaN goes last).
 *
 * @throws {Error} when the three arrays differ in length or `k` is not a non-negative integer.
 * @example
 * ```ts
 * import { mostConfidentMistakes } from "./metrics.ts";
 * mostConfidentMistakes([0, 1, 2, 1], [0, 2, 1, 0], [0.9, 0.6, 0.8, 0.7], 2);
 * // [{ index: 2, label: 2, predicted: 1, confidence: 0.8 },
 * //  { index: 3, label: 1, predicted: 0, confidence: 0.7 }]
 * ```
 */
export function mostConfidentMistakes(
  labels: ArrayLike<number>,
  predicted: ArrayLike<number>,
  confidence: ArrayLike<number>,
  k: number,
): Mistake[] {
  checkSameLength("labels", labels, "predicted", predicted);
  checkSameLength("labels", labels, "confidence", confidence);
  if (!Number.isInteger(k) || k < 0) {
    throw new Error(`k must be a non-negative integer, got ${k}.`);
  }
  const mistakes: Mistake[] = [];
  for (let i = 0; i < labels.length; i++) {
    if (predicted[i] !== labels[i]) {
      mistakes.push({
        index: i,
        label: labels[i],
        predicted: predicted[i],
        confidence: confidence[i],
      });
    }
  }
  mistakes.sort((a, b) => {
    const an = Number.isNaN(a.confidence);
    const bn = Number.isNaN(b.confidence);
    if (an || bn) return an === bn ? 0 : an ? 1 : -1;
    return b.confidence - a.confidence;
  });
  return mistakes.slice(0, k);
}

// ---------------------------------------------------------------- helpers

function checkSameLength(
  aName: string,
  a: ArrayLike<number>,
  bName: string,
  b: ArrayLike<number>,
): void {
  if (a.length !== b.length) {
    throw new Error(
      `${aName} has ${a.length} entries but ${bName} has ${b.length}; they must have the same length.`,
    );
  }
}

function checkLabels(
  name: string,
  labels: ArrayLike<number>,
  numClasses: number,
): void {
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i];
    if (!Number.isInteger(v) || v < 0 || v >= numClasses) {
      throw new Error(
        `${name}[${i}] is ${v}, which is not an integer class label in 0..${
          numClasses - 1
        }.`,
      );
    }
  }
}

/** F1 as scikit-learn 1.2 evaluates it: `2 * p * r / (p + r)`, 0 if p + r is 0. */
function f1Score(precision: number, recall: number): number {
  const denom = precision + recall;
  return denom === 0 ? 0 : 2 * precision * recall / denom;
}

/**
 * Sum in NumPy's order (`np.add.reduce` on a contiguous float64 array:
 * pairwise summation with an 8-way unrolled base case), so averages match
 * scikit-learn to the last bit.
 */
function pairwiseSum(a: readonly number[], lo = 0, n = a.length): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[lo + i];
    return res;
  }
  if (n <= 128) {
    const r = a.slice(lo, lo + 8);
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (let j = 0; j < 8; j++) r[j] += a[lo + i + j];
    }
    let res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++) res += a[lo + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, lo, n2) + pairwiseSum(a, lo + n2, n - n2);
}

/**
 * `x` with `digits` decimals, like Python's `format(x, ".{digits}f")`: the
 * exact binary value rounded half-to-even (`0.125` → `"0.12"`, where
 * `Number#toFixed` gives `"0.13"`).
 */
function formatFixed(x: number, digits: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x < 0 || Object.is(x, -0)) return "-" + formatFixed(-x, digits);

  // x = mantissa * 2^exponent exactly.
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exponent: number;
  if (biased === 0) {
    exponent = -1074;
  } else {
    mantissa |= 1n << 52n;
    exponent = biased - 1075;
  }

  // q = round_half_even(x * 10^digits)
  const scaled = mantissa * 10n ** BigInt(digits);
  let q: bigint;
  if (exponent >= 0) {
    q = scaled << BigInt(exponent);
  } else {
    const den = 1n << BigInt(-exponent);
    q = scaled / den;
    const twiceRem = 2n * (scaled - q * den);
    if (twiceRem > den || (twiceRem === den && (q & 1n) === 1n)) q++;
  }

  const s = q.toString();
  if (digits === 0) return s;
  const padded = s.padStart(digits + 1, "0");
  return padded.slice(0, -digits) + "." + padded.slice(-digits);
}

/** Length in code points, as Python's `len` counts a `str`. */
function charLength(s: string): number {
  return [...s].length;
}

/** Right-align `s` in a field of `width` code points (Python `{:>width}`). */
function padLeft(s: string, width: number): string {
  const n = charLength(s);
  return n >= width ? s : " ".repeat(width - n) + s;
}
