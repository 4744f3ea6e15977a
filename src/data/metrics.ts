/**
 * Classification metrics over plain arrays of class indices (single-label) or row-major
 * multi-hot matrices (multi-label).
 *
 * Zero denominators give 0, as scikit-learn does with zero_division=0: the precision of a
 * class never predicted, the recall of a class with no true samples, an F1 whose precision
 * and recall are both 0, the accuracy of an empty set.
 *
 * Averages over classes ("macro") run over all numClasses classes, as scikit-learn does when
 * given labels=range(numClasses): a class that occurs in neither yTrue nor yPred counts as 0.
 */

function ratio(num: number, den: number): number {
  return den === 0 ? 0 : num / den;
}

function checkClass(c: number, numClasses: number, what: string): void {
  if (!Number.isInteger(c) || c < 0 || c >= numClasses) {
    throw new RangeError(`${what} class ${c} is out of range [0, ${numClasses})`);
  }
}

function checkSameLength(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  if (a.length !== b.length) throw new Error(`${what}: lengths differ (${a.length} vs ${b.length})`);
}

/** Fraction of samples whose predicted class is the true class (0 for no samples). */
export function accuracy(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  checkSameLength(yTrue, yPred, "accuracy");
  let correct = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) correct++;
  return ratio(correct, yTrue.length);
}

/**
 * Row-major (numClasses, numClasses) counts: entry [t * numClasses + p] = samples of true
 * class t predicted as p (rows are truth, columns predictions, as in scikit-learn).
 */
export function confusionMatrix(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, numClasses: number): Int32Array {
  checkSameLength(yTrue, yPred, "confusionMatrix");
  const cm = new Int32Array(numClasses * numClasses);
  for (let i = 0; i < yTrue.length; i++) {
    checkClass(yTrue[i], numClasses, "confusionMatrix: true");
    checkClass(yPred[i], numClasses, "confusionMatrix: predicted");
    cm[yTrue[i] * numClasses + yPred[i]]++;
  }
  return cm;
}

export interface ClassScores {
  precision: Float64Array;
  recall: Float64Array;
  f1: Float64Array;
  /** True samples of each class. */
  support: Int32Array;
}

/** Precision, recall, F1 and support of every class. */
export function precisionRecallF1(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, numClasses: number): ClassScores {
  const cm = confusionMatrix(yTrue, yPred, numClasses);
  const precision = new Float64Array(numClasses);
  const recall = new Float64Array(numClasses);
  const f1 = new Float64Array(numClasses);
  const support = new Int32Array(numClasses);
  for (let c = 0; c < numClasses; c++) {
    let predicted = 0; // column sum
    let actual = 0; // row sum
    for (let k = 0; k < numClasses; k++) {
      predicted += cm[k * numClasses + c];
      actual += cm[c * numClasses + k];
    }
    const tp = cm[c * numClasses + c];
    precision[c] = ratio(tp, predicted);
    recall[c] = ratio(tp, actual);
    f1[c] = ratio(2 * precision[c] * recall[c], precision[c] + recall[c]);
    support[c] = actual;
  }
  return { precision, recall, f1, support };
}

function mean(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return ratio(s, values.length);
}

function weightedMean(values: ArrayLike<number>, weights: ArrayLike<number>): number {
  let s = 0;
  let w = 0;
  for (let i = 0; i < values.length; i++) {
    s += values[i] * weights[i];
    w += weights[i];
  }
  return ratio(s, w);
}

/** Unweighted mean of the per-class F1 scores over all numClasses classes. */
export function macroF1(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, numClasses: number): number {
  return mean(precisionRecallF1(yTrue, yPred, numClasses).f1);
}

/**
 * A scikit-learn style text table: one row per class, then accuracy, macro average and
 * support-weighted average.
 */
export function classificationReport(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  labelNames: readonly string[],
  options: { digits?: number } = {},
): string {
  const digits = options.digits ?? 4;
  const { precision, recall, f1, support } = precisionRecallF1(yTrue, yPred, labelNames.length);
  const totalSupport = support.reduce((a, b) => a + b, 0);
  const nameWidth = Math.max(12, ...labelNames.map((n) => n.length)); // 12 = "weighted avg"
  const col = Math.max(9, digits + 3); // "precision" is 9 wide
  const num = (v: number) => v.toFixed(digits).padStart(col);
  const int = (v: number) => String(v).padStart(col);
  const row = (name: string, cells: string[]) => `${name.padStart(nameWidth)} ${cells.join(" ")}`;

  const lines = [
    row(
      "",
      ["precision", "recall", "f1-score", "support"].map((h) => h.padStart(col)),
    ),
    "",
  ];
  labelNames.forEach((name, c) => lines.push(row(name, [num(precision[c]), num(recall[c]), num(f1[c]), int(support[c])])));
  lines.push("");
  const blank = "".padStart(col);
  lines.push(row("accuracy", [blank, blank, num(accuracy(yTrue, yPred)), int(totalSupport)]));
  lines.push(row("macro avg", [num(mean(precision)), num(mean(recall)), num(mean(f1)), int(totalSupport)]));
  lines.push(
    row("weighted avg", [
      num(weightedMean(precision, support)),
      num(weightedMean(recall, support)),
      num(weightedMean(f1, support)),
      int(totalSupport),
    ]),
  );
  return lines.join("\n");
}

// ---- multi-label ---------------------------------------------------------------------

/** An entry of a multi-hot matrix counts as "on" from 0.5 up (so thresholded probabilities work too). */
const ON = 0.5;

/**
 * Micro-averaged F1 of multi-hot predictions: TP, FP and FN are summed over every sample and
 * class, then F1 = 2TP / (2TP + FP + FN) (0 when nothing is true and nothing predicted).
 */
export function microF1(trueMultiHot: ArrayLike<number>, predMultiHot: ArrayLike<number>): number {
  checkSameLength(trueMultiHot, predMultiHot, "microF1");
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < trueMultiHot.length; i++) {
    const t = trueMultiHot[i] >= ON;
    const p = predMultiHot[i] >= ON;
    if (t && p) tp++;
    else if (p) fp++;
    else if (t) fn++;
  }
  return ratio(2 * tp, 2 * tp + fp + fn);
}

/**
 * Hits among each sample's k best-scored classes, summed over samples, plus the counts the
 * two @k metrics divide by. Ties in score go to the lower class index.
 */
function topKHits(scores: ArrayLike<number>, trueMultiHot: ArrayLike<number>, k: number, numClasses: number) {
  checkSameLength(scores, trueMultiHot, "precisionAtK/recallAtK");
  if (!Number.isInteger(k) || k < 1) throw new Error(`k must be a positive integer, got ${k}`);
  if (!Number.isInteger(numClasses) || numClasses < 1 || scores.length % numClasses !== 0) {
    throw new Error(`scores of length ${scores.length} do not hold rows of ${numClasses} classes`);
  }
  const kk = Math.min(k, numClasses);
  const N = scores.length / numClasses;
  const taken = new Uint8Array(numClasses);
  let hits = 0;
  let gold = 0;
  for (let r = 0; r < N; r++) {
    const base = r * numClasses;
    taken.fill(0);
    for (let c = 0; c < numClasses; c++) if (trueMultiHot[base + c] >= ON) gold++;
    // k is small: k passes of "best not yet taken" beat sorting every row.
    for (let j = 0; j < kk; j++) {
      let best = -1;
      for (let c = 0; c < numClasses; c++) {
        if (!taken[c] && (best < 0 || scores[base + c] > scores[base + best])) best = c;
      }
      taken[best] = 1;
      if (trueMultiHot[base + best] >= ON) hits++;
    }
  }
  return { hits, predicted: N * kk, gold };
}

/**
 * precision@k as fastText reports it: correct labels among the k best-scored classes of each
 * sample, over all the k * N predictions (k is capped at numClasses). `scores` and
 * `trueMultiHot` are row-major (N, numClasses).
 */
export function precisionAtK(scores: ArrayLike<number>, trueMultiHot: ArrayLike<number>, k: number, numClasses: number): number {
  const { hits, predicted } = topKHits(scores, trueMultiHot, k, numClasses);
  return ratio(hits, predicted);
}

/** recall@k as fastText reports it: correct labels in the top k over all true labels. */
export function recallAtK(scores: ArrayLike<number>, trueMultiHot: ArrayLike<number>, k: number, numClasses: number): number {
  const { hits, gold } = topKHits(scores, trueMultiHot, k, numClasses);
  return ratio(hits, gold);
}
