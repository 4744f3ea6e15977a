/**
 * TH (issue 16): torchlet on one thread and on two, in this process, and fastText 0.9.2 on the
 * same data with the same settings.
 *
 * - W3's products (1024³ float32, forward, and the backward's dA and dB) with
 *   `torch.setNumThreads(1)` and `(2)`, timed in alternation (one run of each in turn), after the
 *   pool's worker has started. The two results are also checked to have the same bits.
 * - W5's training (SpamAssassin, the seeded 80/20 split, `spamFilterOptions`, 10 epochs) with
 *   `threads: 1` and `threads: 2`, in alternation: training words per second and test accuracy.
 * - fastText 0.9.2 (Debian's `fasttext`, /usr/bin/fasttext; the rows say so when it is absent) on
 *   that split, written in fastText's format after torchlet's tokenizer (so both read the same
 *   tokens), with the same settings: -epoch 10 -dim 10 -wordNgrams 2 -bucket 262144 -minCount 1,
 *   -lr 1.0 (torchlet's 32 is a rate for the mean over a batch of 32: 1.0 per example), and
 *   -loss softmax (over two labels, a logistic loss on the difference of two logits, where
 *   torchlet trains one logit with BCEWithLogits), at -thread 1 and 2. Its words/s is the
 *   words/sec/thread it prints at the end of training, times the threads; accuracy is P@1 of
 *   `fasttext test`.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as torch from "torchlet";
import { threadPool } from "../src/host";
import { type Context, Rng, type Row, errorText, median, runsFor, timeAlternating } from "./harness";
import { type RunStats, runOnce, spamEpochs, spamSplit } from "./w5-spam-assassin";
import { spamFilterOptions } from "../examples/train-text-classifier";

const FASTTEXT = "/usr/bin/fasttext";
const BATCH_SIZE = 32;

/** Waits (up to a minute) until the pool's first worker takes tasks; false where there is no pool. */
async function workerStarted(): Promise<boolean> {
  const pool = threadPool();
  if (pool === null) return false;
  pool.grow(1);
  for (let i = 0; i < 1200 && pool.ready(0) === null; i++) await new Promise((r) => setTimeout(r, 50));
  return pool.ready(0) !== null;
}

function row(name: string, unit: string, better: "higher" | "lower"): Row {
  return { name, unit, better, torchlet: null, peers: {}, errors: {} };
}

function onThreads<T>(threads: number, fn: () => T): T {
  const before = torch.getNumThreads();
  torch.setNumThreads(threads);
  try {
    return fn();
  } finally {
    torch.setNumThreads(before);
  }
}

function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** The product rows: 2 threads' median, with 1 thread's and the speed-up in `detail`. */
function productRows(ctx: Context): Row[] {
  const n = ctx.quick ? 512 : 1024;
  const rng = new Rng(3);
  const tensor = () => torch.Tensor.fromArray(rng.uniformArray(n * n, -1, 1), [n, n], "float32");
  const [a, b, dy] = [tensor(), tensor(), tensor()];
  const fwd = row(`TH W3 matmul ${n}³ forward, 2 threads`, "ms", "lower");
  const bwd = row(`TH W3 matmul ${n}³ backward (dA, dB), 2 threads`, "ms", "lower");
  const forward = () => torch.noGrad(() => torch.matmul(a, b));
  const x = a.detach().requiresGrad_();
  const y = b.detach().requiresGrad_();
  const c = torch.matmul(x, y);
  const reset = () => {
    x.grad = null;
    y.grad = null;
  };
  const backward = () => c.backward(dy, { retainGraph: true });
  const gradients = () => {
    reset();
    backward();
    return [...x.grad!.toArray(), ...y.grad!.toArray()] as number[];
  };
  const runs = runsFor(ctx, "torchlet", { torchlet: 11, peer: 11 });
  const cases: Array<[Row, () => void, () => ArrayLike<number>, number]> = [
    [fwd, forward, () => forward().toArray() as ArrayLike<number>, 2 * n ** 3],
    [bwd, backward, gradients, 4 * n ** 3],
  ];
  for (const [r, fn, check, flops] of cases) {
    try {
      const same = sameBits(onThreads(1, check), onThreads(2, check));
      const t = timeAlternating({ fn: () => onThreads(1, fn), setup: reset }, { fn: () => onThreads(2, fn), setup: reset }, runs);
      r.torchlet = t.peer.median;
      r.met = t.peer.median < t.torchlet.median;
      r.target = "faster than 1 thread";
      r.detail = {
        oneThreadMs: t.torchlet.median,
        twoThreadsMs: t.peer.median,
        speedup: t.torchlet.median / t.peer.median,
        gflops: { oneThread: flops / t.torchlet.median / 1e6, twoThreads: flops / t.peer.median / 1e6 },
        sameBits: same,
        samples: { oneThread: t.torchlet.samples, twoThreads: t.peer.samples },
      };
      r.note = `1 thread ${t.torchlet.median.toFixed(1)} ms, 2 threads ${t.peer.median.toFixed(1)} ms: ${(t.torchlet.median / t.peer.median).toFixed(2)}× (alternated), same bits: ${same ? "yes" : "NO"}`;
      if (!same) r.met = false;
    } catch (e) {
      r.errors!.torchlet = errorText(e);
    }
  }
  return [fwd, bwd];
}

/** fastText's words/s and accuracy at `threads`, on files already written. */
function fastText(dir: string, threads: number, quick: boolean): { wordsPerSecond: number; accuracy: number; trainMs: number } {
  const model = path.join(dir, `model-${threads}`);
  const settings = [
    "-epoch",
    String(spamEpochs(quick)),
    "-dim",
    String(spamFilterOptions.dim),
    "-wordNgrams",
    String(spamFilterOptions.wordNgrams),
  ];
  settings.push("-bucket", String(spamFilterOptions.buckets), "-minCount", "1", "-lr", String(spamFilterOptions.lr / BATCH_SIZE));
  settings.push("-loss", "softmax", "-thread", String(threads), "-seed", "0");
  const started = performance.now();
  const train = spawnSync(FASTTEXT, ["supervised", "-input", path.join(dir, "train.txt"), "-output", model, ...settings], {
    encoding: "utf8",
  });
  const trainMs = performance.now() - started;
  if (train.status !== 0) throw new Error(`fasttext supervised failed: ${train.stderr.trim().split("\n").pop()}`);
  const perThread = [...`${train.stdout}${train.stderr}`.matchAll(/words\/sec\/thread:\s*(\d+)/g)].pop();
  if (!perThread) throw new Error("fasttext printed no words/sec/thread");
  const tested = spawnSync(FASTTEXT, ["test", `${model}.bin`, path.join(dir, "test.txt")], { encoding: "utf8" });
  const p1 = /^P@1\s+(\S+)/m.exec(tested.stdout);
  if (tested.status !== 0 || !p1) throw new Error(`fasttext test failed: ${tested.stderr.trim()}`);
  return { wordsPerSecond: Number(perThread[1]) * threads, accuracy: Number(p1[1]), trainMs };
}

/** The split in fastText's format, after torchlet's tokenizer (the tokens torchlet trains on). */
function writeFastTextFiles(dir: string, quick: boolean): void {
  const { train, test } = spamSplit(quick);
  const line = (e: torch.text.Example) => `__label__${e.labels[0]} ${torch.text.tokenize(e.text, { maxTokens: 1000 }).join(" ")}`;
  fs.writeFileSync(path.join(dir, "train.txt"), `${train.map(line).join("\n")}\n`);
  fs.writeFileSync(path.join(dir, "test.txt"), `${test.map(line).join("\n")}\n`);
}

function trainingRows(ctx: Context): Row[] {
  const speed = [1, 2].map((t) => row(`TH W5 training, ${t} thread${t > 1 ? "s" : ""}: throughput`, "tokens/s", "higher"));
  const accuracy = [1, 2].map((t) => row(`TH W5 training, ${t} thread${t > 1 ? "s" : ""}: test accuracy`, "accuracy", "higher"));
  try {
    const runs: RunStats[][] = [[], []];
    for (let i = 0; i < (ctx.quick ? 1 : 5); i++) {
      for (const t of [0, 1]) {
        const r = runOnce(ctx.quick, t + 1);
        runs[t].push(r);
        ctx.log(`  TH W5 ${t + 1} thread(s): ${(r.words / r.trainSeconds / 1e6).toFixed(2)}M tokens/s, accuracy ${r.accuracy.toFixed(4)}`);
      }
    }
    const tokensPerSecond = runs.map((rs) => median(rs.map((r) => r.words / r.trainSeconds)));
    runs.forEach((rs, t) => {
      speed[t].torchlet = tokensPerSecond[t];
      accuracy[t].torchlet = rs[0].accuracy;
      speed[t].detail = { runs: rs.length, samples: rs.map((r) => r.words / r.trainSeconds), trainMs: rs.map((r) => r.trainMs) };
    });
    speed[1].target = "faster than 1 thread";
    speed[1].met = tokensPerSecond[1] > tokensPerSecond[0];
    // Each pair ran back to back: the median of the pairs' ratios follows the load less than a ratio of medians.
    const pairs = runs[0].map((one, i) => runs[1][i].words / runs[1][i].trainSeconds / (one.words / one.trainSeconds));
    speed[1].detail = { ...(speed[1].detail as object), pairRatios: pairs };
    speed[1].note = `${(tokensPerSecond[1] / tokensPerSecond[0]).toFixed(2)}× 1 thread's tokens/s; median of the ${pairs.length} alternated pairs' ratios ${median(pairs).toFixed(2)}×`;
    accuracy[1].target = "within 0.5% of 1 thread";
    accuracy[1].met = Math.abs((accuracy[1].torchlet as number) - (accuracy[0].torchlet as number)) <= 0.005;
  } catch (e) {
    for (const r of [...speed, ...accuracy]) r.errors!.torchlet = errorText(e);
  }
  return [...speed, ...accuracy];
}

function fastTextRows(ctx: Context): Row[] {
  const rows: Row[] = [1, 2].map((t) => ({
    ...row(`TH fastText 0.9.2 -thread ${t} (same split and settings)`, "tokens/s", "higher"),
    static: true,
  }));
  if (!fs.existsSync(FASTTEXT)) {
    for (const r of rows) r.note = `not run: ${FASTTEXT} is absent (Debian: apt-get install fasttext)`;
    return rows;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "torchlet-fasttext-"));
  try {
    writeFastTextFiles(dir, ctx.quick);
    rows.forEach((r, i) => {
      try {
        const f = fastText(dir, i + 1, ctx.quick);
        r.fastText = { tokensPerSecond: Math.round(f.wordsPerSecond / 1e4) * 1e4, accuracy: f.accuracy };
        r.detail = f;
        ctx.log(`  TH fastText -thread ${i + 1}: ${(f.wordsPerSecond / 1e6).toFixed(2)}M words/s, accuracy ${f.accuracy}`);
      } catch (e) {
        r.static = false;
        r.errors = { fastText: errorText(e) };
      }
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

export async function threadsWorkload(ctx: Context): Promise<Row[]> {
  if (!(await workerStarted())) {
    const r = row("TH threads", "", "lower");
    r.errors!.torchlet = "no worker thread started";
    return [r];
  }
  return [...productRows(ctx), ...trainingRows(ctx), ...fastTextRows(ctx)];
}
