/**
 * Threads (issue 16): torch.setNumThreads/getNumThreads, products split between threads (the
 * same bits as on one), text-classifier training on several threads (the same weights for a
 * seed and a thread count, wherever the replicas run; one thread trains as a plain SGD loop),
 * --threads, and a process that exits by itself with its workers alive.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as torch from "torchlet";
import { type PoolWorker, type ThreadPool, setThreadPool, setTotalMemory, threadPool } from "../src/host";
import { setThreadedProductThreshold } from "../src/parallel/gemm";
import { unitsRunOnWorkers } from "../src/parallel/share";
import { SYNC_ROUNDS } from "../src/text/parallel-training";
import { run } from "../src/cli/main";
import { buildCli } from "./helpers/built-cli";

const { text } = torch;

afterEach(() => torch.setNumThreads(os.availableParallelism()));

/**
 * Wraps the pool so that a test sees which tasks were posted; each worker keeps one wrapper, as
 * the training tells its workers apart by identity.
 */
function watchPool(): { kinds: string[]; restore: () => void } {
  const inner = threadPool()!;
  const kinds: string[] = [];
  const wrappers = new Map<PoolWorker, PoolWorker>();
  const wrap = (w: PoolWorker): PoolWorker => {
    if (!wrappers.has(w)) {
      wrappers.set(w, {
        post: (task) => {
          kinds.push(task.kind);
          w.post(task);
        },
        join: () => w.join(),
        finish: () => w.finish(),
      });
    }
    return wrappers.get(w)!;
  };
  const watched: ThreadPool = { grow: (n) => inner.grow(n), ready: (i) => (inner.ready(i) === null ? null : wrap(inner.ready(i)!)) };
  setThreadPool(watched);
  return { kinds, restore: () => setThreadPool(inner) };
}

/** Starts the pool's first worker and waits until it takes tasks (in jest it is bundled first). */
async function workerStarted(): Promise<void> {
  const pool = threadPool()!;
  pool.grow(1);
  for (let i = 0; i < 1200 && pool.ready(0) === null; i++) await new Promise((r) => setTimeout(r, 50));
  expect(pool.ready(0)).not.toBeNull();
}

function bits(t: torch.Tensor): number[] {
  return Array.from(t.toArray() as ArrayLike<number>);
}

describe("setNumThreads and getNumThreads", () => {
  test("the default is the number of cores; a set value is read back", () => {
    expect(torch.getNumThreads()).toBe(os.availableParallelism());
    torch.setNumThreads(3);
    expect(torch.getNumThreads()).toBe(3);
    torch.setNumThreads(1);
    expect(torch.getNumThreads()).toBe(1);
  });

  test("anything but a positive integer is refused with PyTorch's message", () => {
    expect(() => torch.setNumThreads(0)).toThrow("set_num_threads expects a positive integer");
    expect(() => torch.setNumThreads(-2)).toThrow("set_num_threads expects a positive integer");
    expect(() => torch.setNumThreads(1.5)).toThrow("set_num_threads expects an int, but got float");
    expect(() => torch.setNumThreads(NaN)).toThrow("set_num_threads expects an int, but got float");
    expect(() => torch.setNumThreads("2" as unknown as number)).toThrow("set_num_threads expects an int, but got string");
    expect(torch.getNumThreads()).toBe(os.availableParallelism());
  });

  test("the browser entry has no pool: one thread unless told otherwise, and it still runs on one", () => {
    jest.isolateModules(() => {
      const browser = require("../src/browser") as typeof torch;
      const host = require("../src/host") as typeof import("../src/host");
      expect(browser.getNumThreads()).toBe(1);
      expect(host.threadPool()).toBeNull();
    });
  });
});

describe("products on two threads have the bits of one", () => {
  beforeAll(workerStarted);

  /**
   * The product (and its gradients) on one thread and on two, with the tasks the second posted.
   * A worker that wakes late may find every block taken: the two-thread side is repeated until
   * the worker has computed some blocks, each time with the same bits.
   */
  function both(make: () => torch.Tensor[], compute: (xs: torch.Tensor[]) => torch.Tensor[]) {
    const inputs = make();
    torch.setNumThreads(1);
    const one = compute(inputs).map(bits);
    torch.setNumThreads(2);
    const pool = watchPool();
    try {
      const before = unitsRunOnWorkers();
      let two = compute(inputs).map(bits);
      const kinds = [...pool.kinds];
      for (let i = 0; i < 20 && kinds.length > 0 && unitsRunOnWorkers() === before; i++) {
        expect(two).toEqual(one);
        two = compute(inputs).map(bits);
      }
      return { one, two, kinds, onWorker: unitsRunOnWorkers() - before };
    } finally {
      pool.restore();
    }
  }

  const product = (xs: torch.Tensor[]) => [torch.matmul(xs[0], xs[1])];

  test.each([
    ["float32, just above the threshold", [161, 130], [130, 110], "float32"],
    ["float64, odd sizes", [203, 97], [97, 151], "float64"],
    ["float32, a thin right operand", [2048, 600], [600, 2], "float32"],
  ] as const)("%s", (_, aShape, bShape, dtype) => {
    torch.manualSeed(1);
    const { one, two, kinds, onWorker } = both(() => [torch.randn([...aShape], { dtype }), torch.randn([...bShape], { dtype })], product);
    expect(aShape[0] * aShape[1] * bShape[1]).toBeGreaterThanOrEqual(128 ** 3);
    expect(kinds).toEqual(["units"]);
    expect(onWorker).toBeGreaterThan(0);
    expect(two).toEqual(one);
  });

  test("transposed operands (strided reads) and a batch folded into rows", () => {
    torch.manualSeed(2);
    const cases: Array<() => torch.Tensor[]> = [
      () => [torch.randn(140, 170).t(), torch.randn(140, 120)],
      () => [torch.randn(170, 140), torch.randn(150, 140).t()],
      () => [torch.randn(140, 170).t(), torch.randn(150, 140).t()],
      () => [torch.randn(3, 90, 130), torch.randn(130, 110)],
    ];
    for (const make of cases) {
      const { one, two, kinds, onWorker } = both(make, product);
      expect(kinds).toEqual(["units"]);
      expect(onWorker).toBeGreaterThan(0);
      expect(two).toEqual(one);
    }
  });

  test("the backward's two products (dA = g B^T, dB = A^T g) too", () => {
    torch.manualSeed(3);
    const { one, two, kinds, onWorker } = both(
      () => [torch.randn(300, 200), torch.randn(200, 250), torch.randn(300, 250)],
      ([a, b, g]) => {
        const [x, y] = [a.detach().requiresGrad_(), b.detach().requiresGrad_()];
        torch.matmul(x, y).backward(g);
        return [x.grad!, y.grad!];
      },
    );
    // The forward, then dA and dB (a worker still busy with one product's block misses the next).
    expect(kinds.length).toBeGreaterThanOrEqual(1);
    expect(new Set(kinds)).toEqual(new Set(["units"]));
    expect(onWorker).toBeGreaterThan(0);
    expect(two).toEqual(one);
  });

  test("below the threshold, or with too few rows to share, a product stays on the calling thread", () => {
    torch.manualSeed(4);
    expect(both(() => [torch.randn(100, 100), torch.randn(100, 100)], product).kinds).toEqual([]);
    expect(both(() => [torch.randn(8, 4000), torch.randn(4000, 200)], product).kinds).toEqual([]);
    const previous = setThreadedProductThreshold(0);
    try {
      const small = both(() => [torch.randn(40, 30), torch.randn(30, 20)], product);
      expect(small.kinds).toEqual(["units"]);
      expect(small.two).toEqual(small.one);
    } finally {
      setThreadedProductThreshold(previous);
    }
  });
});

/** A binary task of `n` short documents: a few words decide the label, the rest is shared. */
function documents(n: number, seed: number): torch.text.Example[] {
  const gen = new torch.Generator(seed);
  const common = Array.from({ length: 200 }, (_, i) => `w${i}`);
  return Array.from({ length: n }, () => {
    const spam = gen.random() < 0.4;
    const words = Array.from({ length: 12 }, () => common[gen.randint(0, common.length)]);
    const telling = spam ? ["free", "win", "cash", "offer"] : ["meeting", "report", "lunch", "team"];
    for (let k = 0; k < 3; k++) words[gen.randint(0, 12)] = telling[gen.randint(0, telling.length)];
    return { text: words.join(" "), labels: [spam ? "spam" : "ham"] };
  });
}

const trainOptions = { epochs: 3, batchSize: 16, lr: 8, wordNgrams: 2, buckets: 4096, seed: 5 };

function weights(model: torch.text.TextClassifier): number[][] {
  return model.net.parameters().map(bits);
}

describe("training on several threads", () => {
  const train = documents(800, 11); // 50 batches of 16 per epoch
  const heldOut = documents(300, 12);

  beforeAll(workerStarted);

  test("the same seed and thread count give the same weights, whether the replicas run on workers or here", () => {
    const pool = watchPool();
    let onWorkers: number[][];
    try {
      const before = unitsRunOnWorkers();
      onWorkers = weights(text.trainTextClassifier(train, { ...trainOptions, threads: 2 }));
      expect(pool.kinds).toContain("train-init");
      expect(pool.kinds).toContain("units");
      expect(unitsRunOnWorkers()).toBeGreaterThan(before);
    } finally {
      pool.restore();
    }
    expect(weights(text.trainTextClassifier(train, { ...trainOptions, threads: 2 }))).toEqual(onWorkers);
    const inner = threadPool();
    setThreadPool(null); // as in a browser: every replica on this thread
    try {
      expect(weights(text.trainTextClassifier(train, { ...trainOptions, threads: 2 }))).toEqual(onWorkers);
      // A page without cross-origin isolation has no SharedArrayBuffer either.
      const sab = globalThis.SharedArrayBuffer;
      (globalThis as { SharedArrayBuffer?: unknown }).SharedArrayBuffer = undefined;
      try {
        expect(weights(text.trainTextClassifier(train, { ...trainOptions, threads: 2 }))).toEqual(onWorkers);
      } finally {
        globalThis.SharedArrayBuffer = sab;
      }
    } finally {
      setThreadPool(inner);
    }
  });

  test("one thread trains as the plain SGD loop, written out here from the public API", () => {
    expect(weights(text.trainTextClassifier(train, { ...trainOptions, threads: 1 }))).toEqual(plainLoop(train).parameters().map(bits));
  });

  test("three threads (one replica on the calling thread when a worker is missing) are reproducible too", () => {
    const a = weights(text.trainTextClassifier(train, { ...trainOptions, threads: 3 }));
    expect(weights(text.trainTextClassifier(train, { ...trainOptions, threads: 3 }))).toEqual(a);
    expect(a).not.toEqual(weights(text.trainTextClassifier(train, { ...trainOptions, threads: 2 })));
  });

  test("two threads learn the task as well as one", () => {
    const one = text.trainTextClassifier(train, { ...trainOptions, threads: 1 }).evaluate(heldOut).accuracy;
    const two = text.trainTextClassifier(train, { ...trainOptions, threads: 2 }).evaluate(heldOut).accuracy;
    expect(one).toBeGreaterThan(0.95);
    expect(Math.abs(two - one)).toBeLessThanOrEqual(0.01);
  });

  test("the default is torch.getNumThreads(); a run with fewer than 8 batches per thread uses fewer threads", () => {
    torch.setNumThreads(2);
    const byDefault = weights(text.trainTextClassifier(train, trainOptions));
    expect(byDefault).toEqual(weights(text.trainTextClassifier(train, { ...trainOptions, threads: 2 })));
    torch.setNumThreads(1);
    expect(weights(text.trainTextClassifier(train, trainOptions))).not.toEqual(byDefault);
    // 120 documents: 8 batches of 16, enough for one thread only.
    const few = train.slice(0, 120);
    expect(weights(text.trainTextClassifier(few, { ...trainOptions, threads: 4 }))).toEqual(
      weights(text.trainTextClassifier(few, { ...trainOptions, threads: 1 })),
    );
  });

  test("a run whose replicas' tables would not fit in memory trains on fewer threads", () => {
    const one = text.trainTextClassifier(train, { ...trainOptions, threads: 1 });
    const two = weights(text.trainTextClassifier(train, { ...trainOptions, threads: 2 }));
    const tableBytes = 4 * one.net.embedding.weight.numel();
    try {
      setTotalMemory(() => 3.5 * tableBytes); // the model's table and one more: not two replicas and a base
      expect(weights(text.trainTextClassifier(train, { ...trainOptions, threads: 2 }))).toEqual(weights(one));
      setTotalMemory(() => 4.5 * tableBytes);
      expect(weights(text.trainTextClassifier(train, { ...trainOptions, threads: 2 }))).toEqual(two);
    } finally {
      setTotalMemory(() => os.totalmem());
    }
  });

  test("the epochs report every batch and example once", () => {
    const stats: torch.text.EpochStats[] = [];
    const progress: number[] = [];
    text.trainTextClassifier(train, {
      ...trainOptions,
      threads: 2,
      onEpoch: (s) => stats.push(s),
      onBatch: (p) => progress.push(p.batch),
    });
    expect(stats.map((s) => s.epoch)).toEqual([1, 2, 3]);
    expect(stats[0].lr).toBe(8);
    expect(stats[1].lr).toBeCloseTo(stats[0].lr * (2 / 3), 10);
    // A phase is SYNC_ROUNDS batches per thread: here one phase covers the epoch's 50 batches.
    expect(progress).toEqual([50, 50, 50]);
    expect(SYNC_ROUNDS * 2).toBeGreaterThan(50);
    for (const s of stats) expect(s.accuracy).toBeGreaterThan(0);
  });

  test("the threads option is checked", () => {
    expect(() => text.trainTextClassifier(train, { threads: 0 })).toThrow("threads expects a positive integer");
    expect(() => text.trainTextClassifier(train, { threads: 2.5 })).toThrow("threads expects an int, but got float");
  });
});

/** trainTextClassifier on one thread with `trainOptions`, step by step, as it trained before threads. */
function plainLoop(train: torch.text.Example[]): torch.text.TextClassifierNet {
  const generator = new torch.Generator(trainOptions.seed);
  const tokens = train.map((e) => text.tokenize(e.text, { maxTokens: 1000, maxTokenLength: 1024 }));
  const vocab = text.Vocab.build(tokens, { minCount: 1 });
  const labels = text.LabelSet.fromLabels(
    train.map((e) => e.labels),
    { order: "sorted" },
  );
  const ngrams = { wordNgrams: trainOptions.wordNgrams, buckets: trainOptions.buckets };
  const docs = tokens.map((t) => text.encodeTokens(t, vocab, ngrams));
  torch.defaultGenerator.manualSeed(generator.nextUint32());
  const net = new text.TextClassifierNet(text.numFeatures(vocab.size, ngrams), 10, 1);
  const y = labels.encode(train.map((e) => e.labels[0]));
  const loader = new torch.data.DataLoader(docs.length, { batchSize: trainOptions.batchSize, shuffle: true, generator });
  const sgd = new torch.optim.SGD(net.parameters(), { lr: trainOptions.lr });
  const schedule = new torch.optim.lrScheduler.LinearLR(sgd, {
    startFactor: 1,
    endFactor: 0,
    totalIters: trainOptions.epochs * loader.length,
  });
  const criterion = new torch.nn.BCEWithLogitsLoss();
  const int64 = (v: Int32Array) => torch.tensor(Array.from(v), { dtype: "int64" });
  for (let epoch = 0; epoch < trainOptions.epochs; epoch++) {
    for (const rows of loader) {
      const { indices, offsets } = text.toBagBatch(docs, rows);
      const target = torch.tensor(Array.from(rows, (r) => [y[r]]));
      const loss = criterion.forward(net.forward(int64(indices), int64(offsets)), target);
      sgd.zeroGrad({ setToNone: false });
      loss.backward();
      sgd.step();
      schedule.step();
    }
  }
  return net;
}

describe("--threads", () => {
  test("is a positive integer", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "torchlet-threads-"));
    const input = path.join(dir, "train.txt");
    fs.writeFileSync(
      input,
      documents(40, 1)
        .map((e) => `__label__${e.labels[0]} ${e.text}`)
        .join("\n") + "\n",
    );
    for (const [value, why] of [
      ["0", "It must be at least 1."],
      ["1.5", "Expected an integer."],
      ["two", "Expected an integer."],
    ]) {
      let stderr = "";
      const code = await run(["train", "--input", input, "--output", path.join(dir, "m.safetensors"), "--threads", value], {
        stdout: { write: () => true },
        stderr: { write: (s: string) => ((stderr += s), true) },
      });
      expect(code).toBe(2);
      expect(stderr).toBe(`error: option '--threads <n>' argument '${value}' is invalid. ${why}\n`);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("a process with workers exits by itself", () => {
  test("after threaded products and training, from the build (node dist/...), and the command with --threads 2", () => {
    const { out, bin } = buildCli("torchlet-threads-build-");
    try {
      const script = path.join(out, "threads.js");
      fs.writeFileSync(
        script,
        `const torch = require(${JSON.stringify(path.join(out, "dist/src/index.js"))});
torch.setNumThreads(2);
const started = Date.now();
const a = torch.randn(256, 256), b = torch.randn(256, 256);
torch.matmul(a, b); // starts the pool; until its worker is up, the caller computes alone
while (Date.now() - started < 20000 && !require(${JSON.stringify(path.join(out, "dist/src/host.js"))}).threadPool().ready(0)) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
}
torch.setNumThreads(1);
const one = torch.matmul(a, b).toArray();
torch.setNumThreads(2);
const two = torch.matmul(a, b).toArray();
const docs = ${JSON.stringify(documents(800, 3))};
const model = torch.text.trainTextClassifier(docs, { ...${JSON.stringify(trainOptions)}, threads: 2 });
console.log(JSON.stringify({ same: one.every((v, i) => v === two[i]), ready: !!require(${JSON.stringify(path.join(out, "dist/src/host.js"))}).threadPool().ready(0), accuracy: model.evaluate(docs).accuracy }));
`,
      );
      const r = spawnSync(process.execPath, [script], { encoding: "utf8", timeout: 60_000 });
      expect(r.signal).toBeNull(); // not killed by the timeout: it ended on its own
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      const result = JSON.parse(r.stdout);
      expect(result).toMatchObject({ same: true, ready: true });
      expect(result.accuracy).toBeGreaterThan(0.9);

      const data = path.join(out, "train.txt");
      fs.writeFileSync(
        data,
        documents(800, 4)
          .map((e) => `__label__${e.labels[0]} ${e.text}`)
          .join("\n") + "\n",
      );
      const cli = spawnSync(
        process.execPath,
        [bin, "train", "--input", data, "--output", path.join(out, "m.safetensors"), "--threads", "2", "--quiet"],
        {
          encoding: "utf8",
          timeout: 60_000,
        },
      );
      expect(cli.signal).toBeNull();
      expect(cli.stderr).toBe("");
      expect(cli.status).toBe(0);
      expect(fs.existsSync(path.join(out, "m.safetensors"))).toBe(true);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
