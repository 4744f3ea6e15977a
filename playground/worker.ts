/**
 * The training worker: all of torchlet's work happens here, so the page stays responsive while
 * the classifier trains. It streams the loss per batch, then the test accuracy, the graph of one
 * forward/backward step, and answers predictions as the user types.
 */
import * as torch from "torchlet";
import sample from "virtual:spam-assassin-sample";
import { parseFastText } from "./fasttext";
import type { FromWorker, LeafGradient, ToWorker, TrainRequest } from "./messages";

/** The part of a dedicated worker's global scope used here (the page's tsconfig has only the DOM's types). */
interface WorkerScope {
  postMessage(message: FromWorker): void;
  onmessage: ((event: { data: ToWorker }) => void) | null;
}
const scope = self as unknown as WorkerScope;
const post = (message: FromWorker) => scope.postMessage(message);

/** Hashed bigram slots: 2^16 is as accurate as more on the sample, and keeps the table (and the graph's gradients) small. */
const BUCKETS = 2 ** 16;
/** How many training examples the drawn forward/backward step runs on. */
const GRAPH_BATCH = 4;

let model: torch.text.TextClassifier | null = null;

function sampleExamples(): torch.text.Example[] {
  return sample.examples.map(([label, text]) => ({ text, labels: [sample.labels[label]] }));
}

function pastedExamples(input: string): torch.text.Example[] {
  const { examples, unlabelled } = parseFastText(input);
  if (unlabelled.length > 0) {
    const lines = unlabelled.slice(0, 5).join(", ") + (unlabelled.length > 5 ? ", ..." : "");
    throw new Error(`no __label__ on line ${lines}: each line is "__label__NAME text"`);
  }
  if (examples.length < 4) throw new Error("paste at least 4 labelled lines, so that some can be held out for testing");
  if (new Set(examples.flatMap((e) => e.labels)).size < 2) throw new Error("a classifier needs at least 2 different labels");
  return examples;
}

/**
 * Single-label data trains with softmax cross-entropy, even with two classes (where the CLI
 * would use one logit and BCEWithLogits): every label then gets its own probability, and the
 * graph shows PyTorch's NllLossBackward0 and LogSoftmaxBackward0. Multi-label data keeps a sigmoid per label.
 */
function taskFor(examples: readonly torch.text.Example[]): Pick<torch.text.TrainOptions, "task" | "loss"> {
  const { task } = torch.text.inferTask(examples);
  return task === "multilabel" ? { task, loss: "bce-with-logits" } : { task: "multiclass", loss: "cross-entropy" };
}

async function train(request: TrainRequest): Promise<void> {
  model = null;
  // Until the WebAssembly kernels are compiled, the TypeScript ones would run: wait for them.
  await torch.ready();
  post({ type: "backend", wasm: torch.backends.wasm.isAvailable() });

  const examples = request.source === "sample" ? sampleExamples() : pastedExamples(request.text);
  const split = torch.data.trainTestSplit(examples.length, 0.2, request.seed);
  const trainSet = Array.from(split.train, (i) => examples[i]);
  const testSet = Array.from(split.test, (i) => examples[i]);
  const { task, loss } = taskFor(examples);
  const labels = [...new Set(examples.flatMap((e) => e.labels))];
  post({ type: "data", train: trainSet.length, test: testSet.length, labels, task: `${task}, ${loss}` });

  let step = 0;
  const started = performance.now();
  const trained = torch.text.trainTextClassifier(trainSet, {
    task,
    loss,
    epochs: request.epochs,
    lr: request.lr,
    seed: request.seed,
    wordNgrams: 2,
    buckets: BUCKETS,
    onBatch: (p) => post({ type: "progress", step: ++step, epoch: p.epoch, loss: p.loss }),
    onEpoch: (s) => post({ type: "epoch", step, epoch: s.epoch, epochs: s.epochs, loss: s.loss, accuracy: s.accuracy }),
  });
  const seconds = (performance.now() - started) / 1000;
  const result = trained.evaluate(testSet);
  const correct = Math.round(result.accuracy * testSet.length);
  post({ type: "done", accuracy: result.accuracy, correct, total: testSet.length, seconds });
  model = trained;
  post(graphOfOneStep(trained, trainSet.slice(0, GRAPH_BATCH)));
}

/** The training loss of `batch` at the model's weights, recorded for backward. */
function stepLoss(m: torch.text.TextClassifier, batch: readonly torch.text.Example[]): torch.Tensor {
  const docs = batch.map((e) => m.encode(e.text));
  const bags = torch.text.toBagBatch(
    docs,
    docs.map((_, i) => i),
  );
  const logits = m.net.forward(
    torch.Tensor.fromArray(bags.indices, [bags.indices.length], "int64"),
    torch.Tensor.fromArray(bags.offsets, [bags.offsets.length], "int64"),
  );
  if (m.config.loss === "cross-entropy") {
    const target = torch.tensor(
      batch.map((e) => m.labelSet.indexOf(e.labels[0])),
      { dtype: "int64" },
    );
    return new torch.nn.CrossEntropyLoss().forward(logits, target);
  }
  const classes = m.labelSet.size;
  const hot = new Float32Array(batch.length * classes);
  batch.forEach((e, i) => e.labels.forEach((l) => (hot[i * classes + m.labelSet.indexOf(l)] = 1)));
  return new torch.nn.BCEWithLogitsLoss().forward(logits, torch.Tensor.fromArray(hot, [batch.length, classes], "float32"));
}

/** What row `row` of a parameter stands for: a word or bigram bucket of the table, or a class. */
function rowMeaning(m: torch.text.TextClassifier, name: string, row: number): string {
  if (name === "embedding.weight") {
    return row < m.vocab.size ? `the word "${m.vocab.tokenOf(row)}"` : `bigram bucket ${row - m.vocab.size}`;
  }
  return `class "${m.labelSet.nameOf(row)}"`;
}

function summarise(m: torch.text.TextClassifier, id: string, name: string, leaf: torch.Tensor): LeafGradient {
  const shape = leaf.shape;
  const grad = leaf.grad?.toArray() ?? new Float32Array(leaf.numel());
  const rows = shape.length > 1 ? shape[0] : grad.length;
  const width = grad.length / Math.max(rows, 1);
  let sumSquares = 0;
  let nonzeroRows = 0;
  const preview: LeafGradient["preview"] = [];
  for (let r = 0; r < rows; r++) {
    const values = Array.from(grad.subarray(r * width, (r + 1) * width));
    sumSquares += values.reduce((s, v) => s + v * v, 0);
    if (values.every((v) => v === 0)) continue;
    nonzeroRows++;
    if (preview.length < 6) preview.push({ row: r, meaning: rowMeaning(m, name, r), values });
  }
  return { id, name, shape, norm: Math.sqrt(sumSquares), nonzeroRows, rows, preview };
}

/** One forward and backward step on a few training examples, drawn by torch.utils.toDot. */
function graphOfOneStep(m: torch.text.TextClassifier, batch: readonly torch.text.Example[]): FromWorker {
  m.net.zeroGrad({ setToNone: true });
  const loss = stepLoss(m, batch);
  loss.backward();
  const params = m.net.namedParameters();
  const names = new Map<torch.Tensor, string>(params.map(([name, p]) => [p, name]));
  const graph = torch.utils.gradGraph(loss, { params });
  const leaves = graph.nodes
    .filter((n) => n.kind === "leaf" && n.tensor)
    .map((n) => summarise(m, n.id, names.get(n.tensor!) ?? "", n.tensor!));
  return { type: "graph", dot: torch.utils.toDot(loss, { params }), leaves, batch: batch.length };
}

function predict(id: number, text: string): void {
  if (!model) return;
  const [scores] = model.predict([text], { k: -1, threshold: 0 });
  post({ type: "prediction", id, scores });
}

scope.onmessage = (event) => {
  const message = event.data;
  // Errors of either kind go to the page as messages, to be shown beside the form.
  const run = message.type === "train" ? train(message) : (async () => predict(message.id, message.text))();
  run.catch((err: unknown) => post({ type: "error", message: err instanceof Error ? err.message : String(err) }));
};
