/**
 * Tests for lib/metrics.ts.
 *
 * Expected numbers were worked out by hand (see the comments) and checked
 * against scikit-learn 1.2.1 (Debian python3-sklearn, NumPy 1.24):
 * `classification_report(y_true, y_pred, labels=range(len(names)),
 * target_names=names, zero_division=0)` with `output_dict=True` for the
 * numbers (pasted as `repr` literals, so comparisons are exact) and with the
 * given `digits` for the text. No Python is run by these tests.
 */

import assert from "node:assert/strict";
import type { Report } from "../lib/types.ts";
import {
  classificationReport,
  confusionMatrix,
  formatReport,
  mostConfidentMistakes,
  perClassAccuracy,
} from "../lib/metrics.ts";
import { crossEntropyOf } from "../lib/evaluate.ts";
import { CLASS_NAMES } from "../lib/data.ts";

/** Every number in a report, for NaN checks. */
function allNumbers(r: Report): number[] {
  const out = [r.accuracy];
  for (const s of [...r.classes, r.macro_avg, r.weighted_avg]) {
    out.push(s.precision, s.recall, s.f1, s.support);
  }
  return out;
}

// ---------------------------------------------------------------- case A
// 3 classes, 12 samples.
//   cat:  1 sample,  predicted cat.
//   dog:  8 samples, 5 predicted dog, 3 predicted cat.
//   bird: 3 samples, 1 predicted bird, 2 predicted dog.
const A_TRUE = [0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2];
const A_PRED = [0, 1, 1, 1, 1, 1, 0, 0, 0, 2, 1, 1];
const A_NAMES = ["cat", "dog", "bird"];

Deno.test("confusionMatrix counts rows = true, columns = predicted", () => {
  assert.deepEqual(confusionMatrix(A_TRUE, A_PRED, 3), [
    [1, 0, 0],
    [3, 5, 0],
    [0, 2, 1],
  ]);
  // Typed arrays work too; extra classes give empty rows/columns.
  assert.deepEqual(
    confusionMatrix(new Int32Array([1, 0, 1]), new Uint8Array([1, 1, 0]), 3),
    [
      [0, 1, 0],
      [1, 1, 0],
      [0, 0, 0],
    ],
  );
  assert.deepEqual(confusionMatrix([], [], 2), [[0, 0], [0, 0]]);
});

Deno.test("confusionMatrix validates its input", () => {
  assert.throws(
    () => confusionMatrix([0, 1, 1], [0, 1], 2),
    /yTrue has 3 entries but yPred has 2; they must have the same length\./,
  );
  assert.throws(
    () => confusionMatrix([0, 2, 1], [0, 1, 1], 2),
    /yTrue\[1\] is 2, which is not an integer class label in 0\.\.1\./,
  );
  assert.throws(
    () => confusionMatrix([0, 1], [0, -1], 2),
    /yPred\[1\] is -1, which is not an integer class label in 0\.\.1\./,
  );
  assert.throws(
    () => confusionMatrix([0, 1.5], [0, 1], 2),
    /yTrue\[1\] is 1.5, which is not an integer class label/,
  );
  assert.throws(
    () => confusionMatrix([0, NaN], [0, 1], 2),
    /yTrue\[1\] is NaN/,
  );
  assert.throws(() => confusionMatrix([0], [0], 0), /numClasses/);
  assert.throws(() => confusionMatrix([0], [0], 2.5), /numClasses/);
});

Deno.test("classificationReport: mixed 3-class case matches sklearn", () => {
  // cat:  tp 1, predicted 1+3 = 4, support 1
  //       P = 1/4 = 0.25, R = 1/1 = 1, F1 = 2*0.25*1/1.25 = 0.4
  // dog:  tp 5, predicted 5+2 = 7, support 8
  //       P = 5/7, R = 5/8 = 0.625, F1 = 2*(5/7)*(5/8)/(5/7+5/8) = 2/3
  // bird: tp 1, predicted 1, support 3
  //       P = 1, R = 1/3, F1 = 2*(1/3)/(4/3) = 0.5
  // accuracy = (1+5+1)/12 = 7/12
  // macro P = (1/4 + 5/7 + 1)/3 = 55/84, R = (1 + 5/8 + 1/3)/3 = 47/72,
  //       F1 = (0.4 + 2/3 + 0.5)/3 = 47/90
  // weighted P = (0.25*1 + (5/7)*8 + 1*3)/12 = 251/336, R = 7/12,
  //       F1 = (0.4*1 + (2/3)*8 + 0.5*3)/12 = 217/360
  const r = classificationReport(A_TRUE, A_PRED, A_NAMES);
  assert.deepEqual(r, {
    classes: [
      { name: "cat", precision: 0.25, recall: 1, f1: 0.4, support: 1 },
      {
        name: "dog",
        precision: 0.7142857142857143,
        recall: 0.625,
        f1: 0.6666666666666666,
        support: 8,
      },
      {
        name: "bird",
        precision: 1,
        recall: 0.3333333333333333,
        f1: 0.5,
        support: 3,
      },
    ],
    accuracy: 0.5833333333333334,
    macro_avg: {
      precision: 0.6547619047619048,
      recall: 0.6527777777777778,
      f1: 0.5222222222222223,
      support: 12,
    },
    weighted_avg: {
      precision: 0.7470238095238096,
      recall: 0.5833333333333334,
      f1: 0.6027777777777777,
      support: 12,
    },
  });
  // The sklearn literals agree with the hand fractions to within rounding.
  const close = (a: number, b: number) => Math.abs(a - b) < 1e-15;
  assert.ok(close(r.macro_avg.precision, 55 / 84));
  assert.ok(close(r.macro_avg.recall, 47 / 72));
  assert.ok(close(r.macro_avg.f1, 47 / 90));
  assert.ok(close(r.weighted_avg.precision, 251 / 336));
  assert.ok(close(r.weighted_avg.f1, 217 / 360));
});

// ---------------------------------------------------------------- case B
// 4 classes; "Pullover" (2) is never predicted, "never-in-truth-class" (3)
// has no true samples but is predicted twice.
const B_TRUE = [0, 0, 0, 1, 1, 2, 2];
const B_PRED = [0, 0, 3, 1, 0, 1, 3];
const B_NAMES = ["T-shirt/top", "Trouser", "Pullover", "never-in-truth-class"];

Deno.test(
  "classificationReport: never-predicted and zero-support classes give 0, not NaN",
  () => {
    // confusion: [[2,0,0,1],[1,1,0,0],[0,1,0,1],[0,0,0,0]]
    // T-shirt/top: tp 2, pred 3, support 3 -> P = R = F1 = 2/3
    // Trouser:     tp 1, pred 2, support 2 -> P = R = F1 = 1/2
    // Pullover:    tp 0, pred 0 (never predicted) -> P = 0 (not 0/0),
    //              R = 0/2 = 0, F1 = 0 (P + R = 0)
    // never-in-truth-class: tp 0, pred 2, support 0 -> P = 0/2 = 0,
    //              R = 0 (not 0/0), F1 = 0
    // accuracy = 3/7
    // macro: (2/3 + 1/2 + 0 + 0)/4 = 7/24 for P, R and F1
    // weighted: (2/3*3 + 1/2*2 + 0*2 + 0*0)/7 = 3/7 for P, R and F1
    const r = classificationReport(B_TRUE, B_PRED, B_NAMES);
    assert.deepEqual(r, {
      classes: [
        {
          name: "T-shirt/top",
          precision: 0.6666666666666666,
          recall: 0.6666666666666666,
          f1: 0.6666666666666666,
          support: 3,
        },
        {
          name: "Trouser",
          precision: 0.5,
          recall: 0.5,
          f1: 0.5,
          support: 2,
        },
        { name: "Pullover", precision: 0, recall: 0, f1: 0, support: 2 },
        {
          name: "never-in-truth-class",
          precision: 0,
          recall: 0,
          f1: 0,
          support: 0,
        },
      ],
      accuracy: 0.42857142857142855,
      macro_avg: {
        precision: 0.29166666666666663,
        recall: 0.29166666666666663,
        f1: 0.29166666666666663,
        support: 7,
      },
      weighted_avg: {
        precision: 0.42857142857142855,
        recall: 0.42857142857142855,
        f1: 0.42857142857142855,
        support: 7,
      },
    });
    for (const x of allNumbers(r)) assert.ok(Number.isFinite(x), String(x));
  },
);

Deno.test(
  "classificationReport: a class absent from both inputs still counts in macro avg",
  () => {
    // c never occurs. sklearn names the accuracy row "micro avg" here, with
    // precision = recall = f1 = 3/4 = the accuracy.
    // a: tp 2, pred 3, support 2 -> P 2/3, R 1, F1 = 2*(2/3)/(5/3) = 0.8
    // b: tp 1, pred 1, support 2 -> P 1, R 1/2, F1 = 1/(3/2) = 2/3
    // c: all 0
    // macro P = (2/3 + 1 + 0)/3 = 5/9, R = (1 + 1/2 + 0)/3 = 1/2,
    //       F1 = (0.8 + 2/3 + 0)/3 = 22/45
    // weighted P = (2/3*2 + 1*2)/4 = 5/6, R = (2 + 1)/4 = 3/4,
    //       F1 = (0.8*2 + (2/3)*2)/4 = 11/15
    const r = classificationReport([0, 1, 1, 0], [0, 1, 0, 0], ["a", "b", "c"]);
    assert.equal(r.accuracy, 0.75);
    assert.deepEqual(r.classes[2], {
      name: "c",
      precision: 0,
      recall: 0,
      f1: 0,
      support: 0,
    });
    assert.deepEqual(r.macro_avg, {
      precision: 0.5555555555555555,
      recall: 0.5,
      f1: 0.48888888888888893,
      support: 4,
    });
    assert.deepEqual(r.weighted_avg, {
      precision: 0.8333333333333333,
      recall: 0.75,
      f1: 0.7333333333333334,
      support: 4,
    });
  },
);

Deno.test("classificationReport: perfect predictions give all ones", () => {
  const y = [0, 1, 2, 2, 1, 0, 2];
  const r = classificationReport(y, y, ["x", "y", "z"]);
  const one = (support: number) => ({
    precision: 1,
    recall: 1,
    f1: 1,
    support,
  });
  assert.deepEqual(r, {
    classes: [
      { name: "x", ...one(2) },
      { name: "y", ...one(2) },
      { name: "z", ...one(3) },
    ],
    accuracy: 1,
    macro_avg: one(7),
    weighted_avg: one(7),
  });
});

// ---------------------------------------------------------------- case E
// 10 Fashion-MNIST classes, 60 samples (numpy default_rng(7): true labels
// uniform, 55 % kept, the rest replaced by a random class).
const E_TRUE = [
  9,
  6,
  6,
  8,
  5,
  7,
  8,
  2,
  0,
  3,
  2,
  8,
  9,
  0,
  4,
  8,
  1,
  7,
  1,
  4,
  8,
  3,
  3,
  2,
  7,
  2,
  9,
  4,
  4,
  5,
  5,
  5,
  5,
  9,
  8,
  7,
  7,
  6,
  3,
  9,
  4,
  2,
  8,
  1,
  8,
  6,
  1,
  0,
  4,
  0,
  1,
  5,
  9,
  4,
  8,
  9,
  8,
  6,
  4,
  5,
];
const E_PRED = [
  9,
  6,
  6,
  8,
  5,
  7,
  8,
  2,
  4,
  3,
  2,
  7,
  9,
  0,
  7,
  3,
  1,
  7,
  1,
  1,
  8,
  9,
  3,
  2,
  7,
  2,
  0,
  4,
  4,
  8,
  6,
  3,
  0,
  9,
  8,
  7,
  7,
  6,
  9,
  9,
  5,
  2,
  7,
  9,
  8,
  1,
  4,
  9,
  3,
  0,
  1,
  7,
  7,
  4,
  6,
  1,
  8,
  6,
  4,
  5,
];
const E_NAMES = CLASS_NAMES;

Deno.test("confusionMatrix equals sklearn's confusion_matrix (10 classes)", () => {
  assert.deepEqual(confusionMatrix(E_TRUE, E_PRED, 10), [
    [2, 0, 0, 0, 1, 0, 0, 0, 0, 1],
    [0, 3, 0, 0, 1, 0, 0, 0, 0, 1],
    [0, 0, 5, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 2, 0, 0, 0, 0, 0, 2],
    [0, 1, 0, 1, 4, 1, 0, 1, 0, 0],
    [1, 0, 0, 1, 0, 2, 1, 1, 1, 0],
    [0, 1, 0, 0, 0, 0, 4, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 5, 0, 0],
    [0, 0, 0, 1, 0, 0, 1, 2, 6, 0],
    [1, 1, 0, 0, 0, 0, 0, 1, 0, 4],
  ]);
});

Deno.test(
  "classificationReport: 10 classes equal sklearn to the last bit",
  () => {
    // With 10 classes NumPy sums pairwise (8 partial sums); a plain
    // left-to-right sum would give macro f1 0.6094482641541465 and weighted
    // precision 0.6500793650793651, one ulp off sklearn.
    const r = classificationReport(E_TRUE, E_PRED, E_NAMES);
    const row = (
      name: string,
      precision: number,
      recall: number,
      f1: number,
      support: number,
    ) => ({ name, precision, recall, f1, support });
    assert.deepEqual(r, {
      classes: [
        row("T-shirt/top", 0.5, 0.5, 0.5, 4),
        row("Trouser", 0.5, 0.6, 0.5454545454545454, 5),
        row("Pullover", 1, 1, 1, 5),
        row("Dress", 0.4, 0.5, 0.4444444444444445, 4),
        row("Coat", 0.6666666666666666, 0.5, 0.5714285714285715, 8),
        row("Sandal", 0.6666666666666666, 0.2857142857142857, 0.4, 7),
        row("Shirt", 0.6666666666666666, 0.8, 0.7272727272727272, 5),
        row("Sneaker", 0.5, 1, 0.6666666666666666, 5),
        row("Bag", 0.8571428571428571, 0.6, 0.7058823529411764, 10),
        row("Ankle boot", 0.5, 0.5714285714285714, 0.5333333333333333, 7),
      ],
      accuracy: 0.6166666666666667,
      macro_avg: {
        precision: 0.6257142857142857,
        recall: 0.6357142857142857,
        f1: 0.6094482641541464,
        support: 60,
      },
      weighted_avg: {
        precision: 0.650079365079365,
        recall: 0.6166666666666667,
        f1: 0.6106388818153524,
        support: 60,
      },
    });
  },
);

Deno.test("classificationReport validates its input", () => {
  assert.throws(
    () => classificationReport([0, 1], [0], ["a", "b"]),
    /yTrue has 2 entries but yPred has 1/,
  );
  assert.throws(
    () => classificationReport([0, 3], [0, 1], ["a", "b"]),
    /yTrue\[1\] is 3, which is not an integer class label in 0\.\.1\./,
  );
  assert.throws(() => classificationReport([], [], ["a"]), /0 samples/);
  assert.throws(() => classificationReport([0], [0], []), /at least one/);
});

// ---------------------------------------------------------- formatReport

Deno.test("formatReport: 3-class layout equals sklearn's text", () => {
  const r = classificationReport(A_TRUE, A_PRED, A_NAMES);
  // dog recall 0.625 prints as 0.62: Python rounds the tie to even
  // (Number#toFixed would give 0.63).
  const expected = "              precision    recall  f1-score   support\n" +
    "\n" +
    "         cat       0.25      1.00      0.40         1\n" +
    "         dog       0.71      0.62      0.67         8\n" +
    "        bird       1.00      0.33      0.50         3\n" +
    "\n" +
    "    accuracy                           0.58        12\n" +
    "   macro avg       0.65      0.65      0.52        12\n" +
    "weighted avg       0.75      0.58      0.60        12\n";
  assert.equal(formatReport(r), expected);
  assert.equal(formatReport(r, 2), expected);
  assert.equal(
    formatReport(r, 3),
    "              precision    recall  f1-score   support\n" +
      "\n" +
      "         cat      0.250     1.000     0.400         1\n" +
      "         dog      0.714     0.625     0.667         8\n" +
      "        bird      1.000     0.333     0.500         3\n" +
      "\n" +
      "    accuracy                          0.583        12\n" +
      "   macro avg      0.655     0.653     0.522        12\n" +
      "weighted avg      0.747     0.583     0.603        12\n",
  );
  // digits=0: no decimal point; 0.5 rounds to 0, 0.4 to 0, 0.67 to 1.
  assert.equal(
    formatReport(r, 0),
    "              precision    recall  f1-score   support\n" +
      "\n" +
      "         cat          0         1         0         1\n" +
      "         dog          1         1         1         8\n" +
      "        bird          1         0         0         3\n" +
      "\n" +
      "    accuracy                              1        12\n" +
      "   macro avg          1         1         1        12\n" +
      "weighted avg          1         1         1        12\n",
  );
});

Deno.test("formatReport: names longer than 'weighted avg' widen the column", () => {
  const r = classificationReport(B_TRUE, B_PRED, B_NAMES);
  assert.equal(
    formatReport(r),
    "                      precision    recall  f1-score   support\n" +
      "\n" +
      "         T-shirt/top       0.67      0.67      0.67         3\n" +
      "             Trouser       0.50      0.50      0.50         2\n" +
      "            Pullover       0.00      0.00      0.00         2\n" +
      "never-in-truth-class       0.00      0.00      0.00         0\n" +
      "\n" +
      "            accuracy                           0.43         7\n" +
      "           macro avg       0.29      0.29      0.29         7\n" +
      "        weighted avg       0.43      0.43      0.43         7\n",
  );
  assert.equal(
    formatReport(r, 3),
    "                      precision    recall  f1-score   support\n" +
      "\n" +
      "         T-shirt/top      0.667     0.667     0.667         3\n" +
      "             Trouser      0.500     0.500     0.500         2\n" +
      "            Pullover      0.000     0.000     0.000         2\n" +
      "never-in-truth-class      0.000     0.000     0.000         0\n" +
      "\n" +
      "            accuracy                          0.429         7\n" +
      "           macro avg      0.292     0.292     0.292         7\n" +
      "        weighted avg      0.429     0.429     0.429         7\n",
  );
});

Deno.test("formatReport: perfect predictions and 10 classes equal sklearn", () => {
  const y = [0, 1, 2, 2, 1, 0, 2];
  assert.equal(
    formatReport(classificationReport(y, y, ["x", "y", "z"])),
    "              precision    recall  f1-score   support\n" +
      "\n" +
      "           x       1.00      1.00      1.00         2\n" +
      "           y       1.00      1.00      1.00         2\n" +
      "           z       1.00      1.00      1.00         3\n" +
      "\n" +
      "    accuracy                           1.00         7\n" +
      "   macro avg       1.00      1.00      1.00         7\n" +
      "weighted avg       1.00      1.00      1.00         7\n",
  );
  assert.equal(
    formatReport(classificationReport(E_TRUE, E_PRED, E_NAMES), 4),
    "              precision    recall  f1-score   support\n" +
      "\n" +
      " T-shirt/top     0.5000    0.5000    0.5000         4\n" +
      "     Trouser     0.5000    0.6000    0.5455         5\n" +
      "    Pullover     1.0000    1.0000    1.0000         5\n" +
      "       Dress     0.4000    0.5000    0.4444         4\n" +
      "        Coat     0.6667    0.5000    0.5714         8\n" +
      "      Sandal     0.6667    0.2857    0.4000         7\n" +
      "       Shirt     0.6667    0.8000    0.7273         5\n" +
      "     Sneaker     0.5000    1.0000    0.6667         5\n" +
      "         Bag     0.8571    0.6000    0.7059        10\n" +
      "  Ankle boot     0.5000    0.5714    0.5333         7\n" +
      "\n" +
      "    accuracy                         0.6167        60\n" +
      "   macro avg     0.6257    0.6357    0.6094        60\n" +
      "weighted avg     0.6501    0.6167    0.6106        60\n",
  );
});

Deno.test("formatReport rejects a bad digits argument", () => {
  const r = classificationReport([0], [0], ["a"]);
  assert.throws(() => formatReport(r, -1), /digits/);
  assert.throws(() => formatReport(r, 1.5), /digits/);
});

// ------------------------------------------------------ perClassAccuracy

Deno.test("perClassAccuracy is diagonal / row sum, 0 for empty rows", () => {
  // rows: 1/1, 5/8, 1/3
  assert.deepEqual(perClassAccuracy([[1, 0, 0], [3, 5, 0], [0, 2, 1]]), [
    1,
    0.625,
    1 / 3,
  ]);
  assert.deepEqual(perClassAccuracy([[3, 1], [0, 0]]), [0.75, 0]);
  // It is per-class recall.
  const r = classificationReport(E_TRUE, E_PRED, E_NAMES);
  assert.deepEqual(
    perClassAccuracy(confusionMatrix(E_TRUE, E_PRED, 10)),
    r.classes.map((c) => c.recall),
  );
  assert.throws(() => perClassAccuracy([[1, 0], [1]]), /row 1 has 1 entries/);
});

// ------------------------------------------------- mostConfidentMistakes

Deno.test("mostConfidentMistakes sorts wrong predictions by confidence", () => {
  const labels = [0, 1, 2, 1, 0, 2];
  const predicted = [0, 2, 1, 0, 1, 2];
  const confidence = [0.99, 0.6, 0.8, 0.7, 0.8, 0.95];
  // Mistakes: index 1 (0.6), 2 (0.8), 3 (0.7), 4 (0.8); the tie 2/4 keeps
  // input order. Indices 0 and 5 are correct however confident.
  assert.deepEqual(mostConfidentMistakes(labels, predicted, confidence, 3), [
    { index: 2, label: 2, predicted: 1, confidence: 0.8 },
    { index: 4, label: 0, predicted: 1, confidence: 0.8 },
    { index: 3, label: 1, predicted: 0, confidence: 0.7 },
  ]);
  assert.equal(
    mostConfidentMistakes(labels, predicted, confidence, 10).length,
    4,
  );
  assert.deepEqual(mostConfidentMistakes(labels, predicted, confidence, 0), []);
  assert.deepEqual(mostConfidentMistakes([1, 2], [1, 2], [0.5, 0.5], 5), []);
  // NaN confidences go last; typed arrays are accepted.
  assert.deepEqual(
    mostConfidentMistakes(
      new Uint8Array([0, 0, 0]),
      new Uint8Array([1, 1, 1]),
      new Float64Array([NaN, 0.1, 0.2]),
      3,
    ).map((m) => m.index),
    [2, 1, 0],
  );
});

Deno.test("mostConfidentMistakes validates its input", () => {
  assert.throws(
    () => mostConfidentMistakes([0, 1], [0], [0.5, 0.5], 1),
    /labels has 2 entries but predicted has 1/,
  );
  assert.throws(
    () => mostConfidentMistakes([0, 1], [0, 1], [0.5], 1),
    /labels has 2 entries but confidence has 1/,
  );
  assert.throws(() => mostConfidentMistakes([0], [1], [0.5], -1), /k must/);
  assert.throws(() => mostConfidentMistakes([0], [1], [0.5], 1.5), /k must/);
});

Deno.test("crossEntropyOf: −ln of each true class's probability, clipped at 1e-7, averaged", () => {
  const predictions = {
    probabilities: new Float32Array([0.5, 0.5, 0, 0.25, 0.75, 0, 0, 0, 1]),
    classes: 3,
    count: 3,
  };
  // −(ln 0.5 + ln 0.75 + ln(1 − 1e-7)) / 3
  assert.ok(
    Math.abs(
      crossEntropyOf(new Uint8Array([0, 1, 2]), predictions) -
        -(Math.log(0.5) + Math.log(0.75) + Math.log(1 - 1e-7)) / 3,
    ) < 1e-7,
  );
  // A true class given probability 0 costs −ln 1e-7, not Infinity.
  assert.ok(
    Math.abs(
      crossEntropyOf(new Uint8Array([2, 1, 2]), predictions) -
        -(Math.log(1e-7) + Math.log(0.75) + Math.log(1 - 1e-7)) / 3,
    ) < 1e-6,
  );
  assert.throws(
    () => crossEntropyOf(new Uint8Array([0]), predictions),
    /^Error: crossEntropyOf: 1 labels for 3 predictions$/,
  );
});
