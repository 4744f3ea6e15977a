/**
 * W6: memory over a long training run, and whether a finished backward leaves any graph alive.
 *
 * The model is the text classifier's network (`TextClassifierNet`: EmbeddingBag(mean) over
 * 20,000 features, dim 10, then Linear to 20 classes), trained with CrossEntropyLoss and SGD on
 * batches of 32 synthetic documents (cycling through 64 prepared batches, so the data does not
 * grow): the step `trainTextClassifier` runs. After 200 warm-up steps and a forced GC, heap and
 * RSS are read; then 2,000 steps (500 with `--quick`), GC, and read again.
 *
 * The graph check, on one more step: after `loss.backward()`, with the loss still held, the
 * tensor the Linear node saved (the bag output) must be collectable (backward freed what the
 * graph saved); after the loss is dropped too, the loss's `gradFn` node must be collectable
 * (nothing global keeps a graph). Both through WeakRefs and explicit collections.
 */
import * as torch from "torchlet";
import { type Context, Rng, type Row, collectGarbage, errorText, nextTick, settleHeap } from "./harness";
import { CLASSES, VOCAB, makeDocs } from "./w4-sparse-sgd";

interface Batch {
  indices: torch.Tensor;
  offsets: torch.Tensor;
  targets: torch.Tensor;
}

function makeBatches(rng: Rng, count: number, size: number): Batch[] {
  const docs = makeDocs(rng, count * size);
  const int64 = (a: Int32Array): torch.Tensor => torch.Tensor.fromArray(a, [a.length], "int64");
  return Array.from({ length: count }, (_, k) => {
    const rows = Int32Array.from({ length: size }, (_, i) => k * size + i);
    const { indices, offsets } = torch.text.toBagBatch(docs, rows);
    return { indices: int64(indices), offsets: int64(offsets), targets: int64(rng.intArray(size, CLASSES)) };
  });
}

const mb = (bytes: number): number => bytes / 2 ** 20;

export async function memoryWorkload(ctx: Context): Promise<Row[]> {
  const steps = ctx.quick ? 500 : 2000;
  const warmup = ctx.quick ? 100 : 200;
  const heap: Row = {
    name: `W6 heap growth over ${steps.toLocaleString("en-US")} training steps`,
    unit: "%",
    better: "lower",
    torchlet: null,
    peers: {},
    target: "< 5% after warm-up",
    errors: {},
  };
  const rss: Row = {
    name: `W6 RSS growth over ${steps.toLocaleString("en-US")} training steps`,
    unit: "%",
    better: "lower",
    torchlet: null,
    peers: {},
    errors: {},
  };
  const graph: Row = {
    name: "W6 no graph alive after backward",
    unit: "check",
    better: "higher",
    torchlet: null,
    peers: {},
    target: "saved tensors and nodes freed",
    errors: {},
  };

  try {
    const rng = new Rng(6);
    const batches = makeBatches(rng, 64, 32);
    torch.manualSeed(0);
    const net = new torch.text.TextClassifierNet(VOCAB, 10, CLASSES);
    const criterion = new torch.nn.CrossEntropyLoss();
    const optimizer = new torch.optim.SGD(net.parameters(), { lr: 0.5 });
    let lossSum = 0;
    const step = (i: number): void => {
      const b = batches[i % batches.length];
      optimizer.zeroGrad();
      const loss = criterion.forward(net.forward(b.indices, b.offsets), b.targets);
      loss.backward();
      optimizer.step();
      lossSum += loss.item();
    };

    for (let i = 0; i < warmup; i++) step(i);
    await settleHeap();
    const before = process.memoryUsage();
    const started = performance.now();
    lossSum = 0;
    for (let i = 0; i < steps; i++) step(i);
    const msPerStep = (performance.now() - started) / steps;
    await settleHeap();
    const after = process.memoryUsage();
    heap.torchlet = (100 * (after.heapUsed - before.heapUsed)) / before.heapUsed;
    rss.torchlet = (100 * (after.rss - before.rss)) / before.rss;
    heap.met = heap.torchlet < 5;
    const memory = {
      heapUsedMB: { before: mb(before.heapUsed), after: mb(after.heapUsed) },
      rssMB: { before: mb(before.rss), after: mb(after.rss) },
      externalMB: { before: mb(before.external + before.arrayBuffers), after: mb(after.external + after.arrayBuffers) },
      msPerStep,
      meanLoss: lossSum / steps,
    };
    heap.detail = rss.detail = memory;
    ctx.log(
      `  W6 heap ${memory.heapUsedMB.before.toFixed(1)} -> ${memory.heapUsedMB.after.toFixed(1)} MB, ` +
        `RSS ${memory.rssMB.before.toFixed(1)} -> ${memory.rssMB.after.toFixed(1)} MB, ${msPerStep.toFixed(2)} ms/step`,
    );

    // The graph check. The references live only inside this closure's frame and the WeakRefs.
    let held: torch.Tensor | null = null;
    let savedRef: WeakRef<object> | null = null;
    let nodeRef: WeakRef<object> | null = null;
    (() => {
      const b = batches[0];
      optimizer.zeroGrad();
      const bags = net.embedding.forward(b.indices, b.offsets);
      const loss = criterion.forward(net.output.forward(bags), b.targets);
      savedRef = new WeakRef(bags);
      nodeRef = new WeakRef(loss.gradFn!);
      loss.backward();
      held = loss;
    })();
    await settleHeap();
    const savedFreed = savedRef!.deref() === undefined;
    held = null;
    void held;
    await settleHeap();
    collectGarbage();
    await nextTick();
    const graphFreed = nodeRef!.deref() === undefined;
    graph.torchlet = savedFreed && graphFreed;
    graph.met = graph.torchlet;
    graph.detail = { savedTensorsFreedAfterBackward: savedFreed, graphCollectedAfterDroppingLoss: graphFreed };
  } catch (e) {
    for (const r of [heap, rss, graph]) r.errors = { torchlet: errorText(e) };
  }
  return [heap, rss, graph];
}
