/**
 * Seeded train/test splits of row indices.
 */

import { Generator, defaultGenerator } from "../random";
import { checkOptions, isOptionsObject } from "../options";

/**
 * A generator from what the caller gave: a Generator is used (and advanced) as is, a number
 * seeds a fresh one, nothing means the library-wide default generator (as in PyTorch).
 */
export function resolveGenerator(rng?: Generator | number): Generator {
  if (rng === undefined) return defaultGenerator;
  if (typeof rng === "number") return new Generator(rng);
  return rng;
}

export interface SplitOptions {
  /** One label per row: each class is split in the same proportion (stratified split). */
  stratify?: ArrayLike<number | string>;
}

export interface Split {
  /** Row indices, ascending. */
  train: Int32Array;
  /** Row indices, ascending. */
  test: Int32Array;
}

/**
 * Splits rows 0..n-1 at random into train and test sets.
 *
 * The test set has ceil(testFraction * n) rows, as in scikit-learn's train_test_split. With
 * `stratify`, each class gives floor(testFraction * its size) test rows and the rows still
 * missing go to the classes with the largest remainders (ties to the class seen first), so
 * the total is the same and every class keeps its share. Both sets come back sorted
 * ascending: which rows, not their order, is random (a DataLoader shuffles later).
 */
export function trainTestSplit(
  n: number,
  testFraction: number,
  rng?: Generator | number | SplitOptions,
  options: SplitOptions = {},
): Split {
  // trainTestSplit(n, 0.2, {stratify}): the options may take the generator's place.
  if (isOptionsObject(rng)) [rng, options] = [undefined, rng as SplitOptions];
  checkOptions("trainTestSplit", options, ["stratify"]);
  if (!Number.isInteger(n) || n < 0) throw new Error(`trainTestSplit: n must be an integer >= 0, got ${n}`);
  if (!(testFraction >= 0 && testFraction <= 1)) {
    throw new Error(`trainTestSplit: testFraction must be in [0, 1], got ${testFraction}`);
  }
  const generator = resolveGenerator(rng);
  // The small slack keeps 0.3 * 10 = 3.0000000000000004 from rounding up to 4.
  const numTest = Math.min(n, Math.ceil(testFraction * n - 1e-9));
  const isTest = new Uint8Array(n);

  if (options.stratify === undefined) {
    const perm = generator.permutation(n);
    for (let i = 0; i < numTest; i++) isTest[perm[i]] = 1;
  } else {
    const labels = options.stratify;
    if (labels.length !== n) throw new Error(`trainTestSplit: stratify has ${labels.length} labels for ${n} rows`);
    const classes = new Map<number | string, number[]>(); // first-appearance order
    for (let i = 0; i < n; i++) {
      const members = classes.get(labels[i]);
      if (members === undefined) classes.set(labels[i], [i]);
      else members.push(i);
    }
    const groups = Array.from(classes.values());
    const quotas = groups.map((g) => Math.floor(testFraction * g.length + 1e-9));
    let missing = numTest - quotas.reduce((a, b) => a + b, 0);
    const byRemainder = groups
      .map((g, c) => ({ c, rest: testFraction * g.length - quotas[c] }))
      .sort((a, b) => b.rest - a.rest || a.c - b.c);
    for (let k = 0; missing > 0 && k < byRemainder.length; k++) {
      const c = byRemainder[k].c;
      if (quotas[c] < groups[c].length) {
        quotas[c]++;
        missing--;
      }
    }
    groups.forEach((members, c) => {
      const shuffled = Int32Array.from(members);
      generator.shuffle(shuffled);
      for (let i = 0; i < quotas[c]; i++) isTest[shuffled[i]] = 1;
    });
  }

  const test = new Int32Array(numTest);
  const train = new Int32Array(n - numTest);
  let a = 0;
  let b = 0;
  for (let i = 0; i < n; i++) {
    if (isTest[i]) test[b++] = i;
    else train[a++] = i;
  }
  return { train, test };
}
