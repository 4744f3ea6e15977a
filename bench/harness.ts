/**
 * What every workload shares: the run settings, a seeded generator for the inputs (made once,
 * fed to torchlet and to every peer), timing (warm-up, then the median of the timed runs), the
 * agreement check that runs before any timing, explicit garbage collection, and the row format
 * of the table and of results.json.
 */
import * as v8 from "node:v8";
import * as vm from "node:vm";
import type { Peer, PeerName } from "./peers";
import { Generator, type Tensor } from "torchlet";

// ---- settings and results -------------------------------------------------------------

export interface Context {
  /** `--quick`: smaller sizes (named in the rows) and a shorter training run. */
  quick: boolean;
  /** The peers loaded for this run (none with `--peers none`). */
  peers: Peer[];
  /** Every peer the full table has a column for, loaded or not. */
  peerNames: readonly PeerName[];
  log: (line: string) => void;
}

/** One line of the table and one entry of results.json's `workloads`. */
export interface Row {
  name: string;
  unit: string;
  /** Higher is better (GFLOPS, tokens/s, accuracy) or lower is better (ms, %). */
  better: "higher" | "lower";
  torchlet: number | boolean | null;
  peers: Partial<Record<PeerName, number | null>>;
  /** How many times better torchlet is than tfjs-wasm (> 1: torchlet wins). */
  ratio?: number | null;
  /** The spec's target, as text, and whether this run met it. */
  target?: string;
  met?: boolean | null;
  /** The spec's reference figures for this workload (not measured here). */
  reference?: string;
  /** A row of figures quoted from the spec, not run. */
  static?: boolean;
  /** A remark printed under the table. */
  note?: string;
  /** Why a cell is empty: errors per implementation ("torchlet", "tfjs-wasm", ...). */
  errors?: Record<string, string>;
  [extra: string]: unknown;
}

// ---- seeded inputs --------------------------------------------------------------------

/**
 * Benchmark inputs from torchlet's own seeded generator. Each workload makes its own from a fixed
 * seed, so inputs do not depend on which workloads ran before.
 */
export class Rng extends Generator {
  /** Uniform in [0, 1). */
  next(): number {
    return this.random();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return this.randint(0, n);
  }

  normalArray(n: number, std = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = std * this.normal();
    return out;
  }

  uniformArray(n: number, low: number, high: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = low + (high - low) * this.random();
    return out;
  }

  intArray(n: number, high: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.randint(0, high);
    return out;
  }
}

/** Samples word ids 0..n-1 with Zipf(s) frequencies, like the words of real text. */
export class Zipf {
  private readonly cdf: Float64Array;

  constructor(n: number, s = 1) {
    this.cdf = new Float64Array(n);
    let total = 0;
    for (let k = 0; k < n; k++) this.cdf[k] = total += 1 / Math.pow(k + 1, s);
    for (let k = 0; k < n; k++) this.cdf[k] /= total;
  }

  sample(rng: Rng): number {
    const u = rng.next();
    let lo = 0;
    let hi = this.cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** One-hot rows (n, classes) of class indices, the form tfjs's softmaxCrossEntropy takes. */
export function oneHot(targets: Int32Array, classes: number): Float32Array {
  const out = new Float32Array(targets.length * classes);
  for (let i = 0; i < targets.length; i++) out[i * classes + targets[i]] = 1;
  return out;
}

// ---- timing -------------------------------------------------------------------------------

export interface TimeOptions {
  warmup: number;
  runs: number;
  /** Runs outside the timed region before each run (resetting gradients, rebuilding inputs). */
  setup?: () => void;
  /**
   * Stop early once this many milliseconds of timed runs are spent and `minRuns` are done
   * (only W5, a whole training run, uses it). Default: no budget.
   */
  budgetMs?: number;
  minRuns?: number;
}

export interface Timing {
  /** Median of the timed runs, in milliseconds. */
  median: number;
  /** Every timed run, in milliseconds, in order. */
  samples: number[];
  /**
   * Median CPU time of the runs (this process's user + system, every thread), in milliseconds,
   * where it was measured: on a machine shared with other jobs it does not count the time the
   * process waited for a core, so it moves less than the wall time.
   */
  cpuMedian?: number;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Warm-up runs (not timed), then `runs` timed runs of `fn`; the median and every sample. */
export function time(fn: () => void, options: TimeOptions): Timing {
  // A warm-up run that takes over a second has compiled its hot loops (V8 optimises long loops
  // on the stack): one such run is enough.
  for (let i = 0; i < options.warmup; i++) {
    options.setup?.();
    const started = performance.now();
    fn();
    if (performance.now() - started > 1000) break;
  }
  const samples: number[] = [];
  let spent = 0;
  for (let i = 0; i < options.runs; i++) {
    options.setup?.();
    const started = performance.now();
    fn();
    const ms = performance.now() - started;
    samples.push(ms);
    spent += ms;
    if (options.budgetMs !== undefined && spent > options.budgetMs && samples.length >= (options.minRuns ?? options.runs)) break;
  }
  return { median: median(samples), samples };
}

export interface Side {
  fn: () => void;
  setup?: () => void;
}

/**
 * Times `torchlet` and `peer` in alternation (warm-ups, then torchlet, peer, torchlet, ...), each
 * with its own setup. On a shared machine the load comes and goes within a run, and two medians
 * taken a minute apart carry it into their ratio; taken side by side, both see the same machine.
 */
export function timeAlternating(torchlet: Side, peer: Side, options: { warmup: number; runs: number }): { torchlet: Timing; peer: Timing } {
  const once = (side: Side, wall: number[], cpu: number[]): void => {
    side.setup?.();
    const cpuStarted = process.cpuUsage();
    const started = performance.now();
    side.fn();
    wall.push(performance.now() - started);
    const used = process.cpuUsage(cpuStarted);
    cpu.push((used.user + used.system) / 1000);
  };
  for (let i = 0; i < options.warmup; i++) {
    once(torchlet, [], []);
    once(peer, [], []);
  }
  const [mine, mineCpu, theirs, theirCpu]: number[][] = [[], [], [], []];
  for (let i = 0; i < options.runs; i++) {
    once(torchlet, mine, mineCpu);
    once(peer, theirs, theirCpu);
  }
  return {
    torchlet: { median: median(mine), samples: mine, cpuMedian: median(mineCpu) },
    peer: { median: median(theirs), samples: theirs, cpuMedian: median(theirCpu) },
  };
}

/**
 * A peer's median on a row. tfjs-wasm, the peer the targets are set against, is timed in
 * alternation with torchlet's `mine` (when torchlet ran), and the row's torchlet figures become
 * those side-by-side ones; other peers are timed alone.
 */
export function timePeer(row: Row, peer: PeerName, mine: Side | null, theirs: Side, options: { warmup: number; runs: number }): number {
  if (peer !== "tfjs-wasm" || mine === null) return time(theirs.fn, { ...options, setup: theirs.setup }).median;
  const both = timeAlternating(mine, theirs, options);
  row.torchlet = both.torchlet.median;
  row.torchletSamples = both.torchlet.samples;
  row.timedAlternatingWith = peer;
  row.cpuMs = { ...(row.cpuMs as object), torchlet: both.torchlet.cpuMedian, [peer]: both.peer.cpuMedian };
  return both.peer.median;
}

// ---- the loss workloads (W1, W2) ------------------------------------------------------------

/** The row of a loss's forward + backward, in ms, with its ≥ 3× target. */
export function lossRow(name: string, reference: string): Row {
  return {
    name,
    unit: "ms",
    better: "lower",
    torchlet: null,
    peers: {},
    targetRatio: 3,
    target: "≥ 3× faster than tfjs-wasm",
    reference,
    errors: {},
    agreement: {},
  };
}

/**
 * torchlet's side of a loss workload: `loss()` and its backward into the leaf `x`, run once for
 * the values the peers must agree with, then timed alone (`.grad` reset before each run). Returns
 * null, with the error in the row, if it fails.
 */
export function timeTorchletLoss(
  ctx: Context,
  row: Row,
  x: Tensor,
  loss: () => Tensor,
): { loss: number; grad: Float32Array; side: Side } | null {
  try {
    const step = (): number => {
      const value = loss();
      value.backward();
      return value.item();
    };
    const value = step();
    const grad = Float32Array.from(x.grad!.toArray());
    const side: Side = { fn: step, setup: () => (x.grad = null) };
    const timing = time(step, { ...runsFor(ctx, "torchlet", { torchlet: 11, peer: 11 }), setup: side.setup });
    row.torchlet = timing.median;
    row.torchletSamples = timing.samples;
    return { loss: value, grad, side };
  } catch (e) {
    row.errors!.torchlet = errorText(e);
    return null;
  }
}

// ---- agreement --------------------------------------------------------------------------

export const AGREEMENT = 1e-3;

export class DisagreementError extends Error {}

/**
 * The relative difference of two results: |a - b| / |b| for numbers, and for arrays the largest
 * element difference over the largest magnitude of `want` (so tiny elements near zero do not
 * blow up the measure).
 */
export function relativeError(got: number | ArrayLike<number>, want: number | ArrayLike<number>): number {
  if (typeof got === "number" || typeof want === "number") {
    const a = Number(got);
    const b = Number(want);
    return Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);
  }
  if (got.length !== want.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= diff)) diff = d; // NaN propagates as a mismatch
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return diff / Math.max(scale, 1e-12);
}

/** Throws unless `got` (a peer's result) agrees with `want` (torchlet's) within 1e-3 relative. */
export function expectAgreement(what: string, got: number | ArrayLike<number>, want: number | ArrayLike<number>): number {
  const err = relativeError(got, want);
  if (!(err <= AGREEMENT)) {
    throw new DisagreementError(`${what} disagrees with torchlet: relative error ${err.toExponential(2)} > ${AGREEMENT}`);
  }
  return err;
}

// ---- garbage collection ----------------------------------------------------------------

let gcFunction: (() => void) | null = null;

/** A full collection. Works without `node --expose-gc`: the flag is set at run time. */
export function collectGarbage(): void {
  if (gcFunction === null) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (typeof exposed === "function") {
      gcFunction = exposed;
    } else {
      v8.setFlagsFromString("--expose-gc");
      gcFunction = vm.runInNewContext("gc") as () => void;
    }
  }
  gcFunction();
}

/** Lets pending jobs finish: WeakRefs made in the current job only clear after it. */
export function nextTick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Several collections with turns of the event loop between them, then the heap settles. */
export async function settleHeap(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await nextTick();
    collectGarbage();
  }
}

// ---- helpers for rows ----------------------------------------------------------------------

/** The message of whatever was thrown, on one line. */
export function errorText(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.split("\n")[0].slice(0, 200);
}

/** torchlet's advantage over tfjs-wasm: time ratio for "lower", value ratio for "higher". */
export function ratioVsWasm(row: Pick<Row, "torchlet" | "peers" | "better">): number | null {
  const ours = row.torchlet;
  const theirs = row.peers["tfjs-wasm"];
  if (typeof ours !== "number" || typeof theirs !== "number" || ours <= 0 || theirs <= 0) return null;
  return row.better === "lower" ? theirs / ours : ours / theirs;
}

export function runsFor(
  ctx: Context,
  kind: "torchlet" | PeerName,
  full: { torchlet: number; peer: number },
): { warmup: number; runs: number } {
  // tfjs-cpu takes seconds per run on the large workloads: 1 warm-up and the minimum 5 runs
  // (--quick: no warm-up and 3 runs, the only place where fewer than 5 runs are timed).
  if (kind === "tfjs-cpu") return ctx.quick ? { warmup: 0, runs: 3 } : { warmup: 1, runs: 5 };
  if (ctx.quick) return { warmup: 2, runs: 5 };
  return { warmup: 3, runs: kind === "torchlet" ? full.torchlet : full.peer };
}
