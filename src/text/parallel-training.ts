/**
 * Training a bag-of-features model on several threads, with results that depend on the seed and
 * the number of threads, never on timing.
 *
 * Each thread trains its own replica of the model (its own copy of the embedding table, in shared
 * memory, and of the small dense output layer) on its share of each epoch's batches: the batches,
 * in the order one thread would see them, are dealt out in turn (batch b to replica b mod T). After
 * every `SYNC_ROUNDS` batches per replica the replicas stop and are made equal again:
 * - an embedding row changed by one replica takes that replica's value, as if it alone had
 *   trained (so a rare word learns at the rate it would on one thread);
 * - a row changed by several replicas, and the output layer, which every replica changes, take
 *   the value at the last synchronisation plus the sum of their changes: what Hogwild's lock-free
 *   threads would add up to, without its races. (A mean would waste half of two replicas' work:
 *   on SpamAssassin's words-only task it cost 1.1% of accuracy.) With more than two replicas the
 *   sum is scaled to twice their mean change at most: the default learning rates are half the
 *   largest stable one, so a step twice as long is the most that stays stable.
 * Sums run over the replicas in order, in doubles, so every run gives the same bits. Where a
 * replica runs does not matter either: on a worker thread when one is idle, else on the calling
 * thread (a worker still starting, a browser), since its state is its table and what its phase
 * hands it. The synchronisation itself is shared between the threads, by interleaved row ranges.
 *
 * Measured on SpamAssassin's 80/20 split with two threads (README, "Threads"): with bigrams and
 * the example's settings, a mean test accuracy over seeds 0-4 of 0.9888 against one thread's
 * 0.9906; words only, with the defaults, 0.9760 (binary) and 0.9463 (three classes) against 0.9777
 * and 0.9463.
 */
import type { PoolWorker } from "../host";
import { registerTask } from "../parallel/tasks";
import { idleWorkers } from "../parallel/threads";
import { type UnitTask, shareUnits } from "../parallel/share";
import { wasmAvailable } from "../kernels/wasm";

/**
 * Batches each replica trains between two synchronisations. 8, 16 and 32 were no more accurate on
 * SpamAssassin (mean over seeds 0-4, bigrams: 0.9879 with 32, 0.9888 with 64) and cost more syncs.
 */
export const SYNC_ROUNDS = 64;
/** Fewest batches per replica per epoch: runs with fewer batches train on fewer threads. */
export const MIN_BATCHES_PER_THREAD = 8;
/** Words of the row bitsets (32 rows each) per unit of synchronisation work, dealt out in turn. */
const SYNC_CHUNK = 64;

/** One replica's share of a phase: its batches (rows concatenated), their learning rates, the dense weights to start from. */
export interface PhaseTask {
  rows: Int32Array;
  /** Batch i is rows[bounds[i] .. bounds[i + 1]). */
  bounds: Int32Array;
  lrs: Float64Array;
  dense: Float32Array[];
}

export interface PhaseResult {
  /** Sum over the phase's examples of their loss (each batch's mean times its size). */
  lossSum: number;
  correct: number;
  /** The dense weights as the phase left them. */
  dense: Float32Array[];
}

/** A replica trains on its table and marks in its bitset each embedding row it changes. */
export interface Replica {
  runPhase(phase: PhaseTask): PhaseResult;
}

/** What every thread of a run shares: structured-cloneable, its arrays in shared memory. */
export interface ReplicaSpec {
  session: number;
  index: number;
  /** Every replica's embedding table (rows x dim), and the table as of the last synchronisation. */
  tables: Float32Array[];
  base: Float32Array;
  /** Per replica, a bitset of the rows it has changed since the last synchronisation. */
  used: Uint32Array[];
  dim: number;
  /** Whatever else the model's factory needs (data, configuration), the same for every replica. */
  model: unknown;
}

type ReplicaFactory = (spec: ReplicaSpec) => Replica;
let factory: ReplicaFactory | null = null;

/** The model's module registers how to build replica `spec.index` over `spec.tables[spec.index]`. */
export function setReplicaFactory(make: ReplicaFactory): void {
  factory = make;
}

function buildReplica(spec: ReplicaSpec): Replica {
  if (factory === null) throw new Error("internal: no replica factory registered");
  return factory(spec);
}

/** Sets the bit of every row in `rows`. */
export function markRows(bits: Uint32Array, rows: Int32Array): void {
  for (let i = 0; i < rows.length; i++) bits[rows[i] >>> 5] |= 1 << (rows[i] & 31);
}

// ---- the synchronisation ---------------------------------------------------------------------

/** Chunks of the row bitsets that the synchronisation is shared in. */
function syncChunks(spec: ReplicaSpec): number {
  return Math.ceil(spec.used[0].length / SYNC_CHUNK);
}

/**
 * Synchronises the rows of chunk `chunk` (see the module's comment) and clears their bits.
 * Visiting rows in ascending order reads and writes the tables front to back.
 */
function synchroniseChunk(spec: ReplicaSpec, chunk: number): void {
  const { tables, base, used, dim } = spec;
  const end = Math.min((chunk + 1) * SYNC_CHUNK, used[0].length);
  for (let w = chunk * SYNC_CHUNK; w < end; w++) {
    let any = 0;
    for (const bits of used) any |= bits[w];
    while (any !== 0) {
      const bit = any & -any;
      any ^= bit;
      const at = ((w << 5) | (31 - Math.clz32(bit))) * dim;
      let n = 0;
      let only = 0;
      for (let u = 0; u < used.length; u++) {
        if ((used[u][w] & bit) !== 0) {
          n++;
          only = u;
        }
      }
      if (n === 1) copyRow(tables, base, only, at, dim);
      else sumChanges(tables, base, used, w, bit, n, at, dim);
    }
    for (const bits of used) bits[w] = 0;
  }
}

/** Replica t alone changed the row at `at`: the others (and the base) take its values. */
function copyRow(tables: Float32Array[], base: Float32Array, t: number, at: number, dim: number): void {
  const src = tables[t];
  for (let d = at; d < at + dim; d++) base[d] = src[d];
  for (let u = 0; u < tables.length; u++) {
    if (u === t) continue;
    const dst = tables[u];
    for (let d = at; d < at + dim; d++) dst[d] = src[d];
  }
}

/** How much of the sum of n replicas' changes is kept: all of it for two, twice their mean for more. */
function changeScale(n: number): number {
  return n <= 2 ? 1 : 2 / n;
}

/** n replicas (bit `bit` of word w set) changed the row at `at`: base plus the (scaled) sum of their changes. */
function sumChanges(
  tables: Float32Array[],
  base: Float32Array,
  used: Uint32Array[],
  w: number,
  bit: number,
  n: number,
  at: number,
  dim: number,
): void {
  const scale = changeScale(n);
  for (let d = at; d < at + dim; d++) {
    const before = base[d];
    let sum = 0;
    for (let u = 0; u < tables.length; u++) if ((used[u][w] & bit) !== 0) sum += tables[u][d] - before;
    base[d] = before + scale * sum;
    for (let u = 0; u < tables.length; u++) tables[u][d] = base[d];
  }
}

/** The dense weights after a phase: `before` plus the (scaled) sum of the changes of the replicas that trained, in order. */
function combineDense(before: readonly Float32Array[], results: PhaseResult[]): Float32Array[] {
  const scale = changeScale(results.length);
  return before.map((b, i) => {
    const after = new Float32Array(b.length);
    for (let j = 0; j < after.length; j++) {
      let sum = 0;
      for (const r of results) sum += r.dense[i][j] - b[j];
      after[j] = b[j] + scale * sum;
    }
    return after;
  });
}

// ---- the worker's side ------------------------------------------------------------------------

/** A run as a worker holds it: the shared spec, and the replicas it has been handed so far. */
interface Hosted {
  spec: ReplicaSpec;
  replicas: Replica[];
}

const hosted = new Map<number, Hosted>();

interface PhaseJob extends UnitTask {
  session: number;
  phases: PhaseTask[];
  /** Per replica: the loss sum, the count right, then the dense weights (float64). */
  results: SharedArrayBuffer;
}

registerTask("train-init", (task) => {
  const spec = task.spec as ReplicaSpec;
  hosted.set(spec.session, { spec, replicas: [] });
  return null;
});
registerTask("train-phase", (task) => {
  const { session, unit, phases, results } = task as PhaseJob;
  const run = hosted.get(session)!;
  run.replicas[unit] ??= buildReplica({ ...run.spec, index: unit });
  writeResult(results, unit, run.replicas[unit].runPhase(phases[unit]));
  return null;
});
registerTask("train-sync", (task) => {
  synchroniseChunk(hosted.get(task.session as number)!.spec, task.unit as number);
  return null;
});
registerTask("train-end", (task) => {
  hosted.delete(task.session as number);
  return null;
});

function resultWidth(dense: readonly Float32Array[]): number {
  return 2 + dense.reduce((n, d) => n + d.length, 0);
}

function writeResult(results: SharedArrayBuffer, unit: number, r: PhaseResult): void {
  const width = resultWidth(r.dense);
  const out = new Float64Array(results, unit * width * 8, width);
  out[0] = r.lossSum;
  out[1] = r.correct;
  let at = 2;
  for (const d of r.dense) {
    out.set(d, at);
    at += d.length;
  }
}

/** A result a worker wrote, read back in the shape of `like`'s dense weights. */
function readResult(results: SharedArrayBuffer, unit: number, like: readonly Float32Array[]): PhaseResult {
  const width = resultWidth(like);
  const values = new Float64Array(results, unit * width * 8, width);
  let at = 2;
  const dense = like.map((d) => {
    const out = Float32Array.from(values.subarray(at, at + d.length));
    at += d.length;
    return out;
  });
  return { lossSum: values[0], correct: values[1], dense };
}

// ---- the caller's side ------------------------------------------------------------------------

let sessions = 0;

function shared(bytes: number): ArrayBuffer | SharedArrayBuffer {
  return typeof SharedArrayBuffer === "function" ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
}

/** A copy of `values` that worker threads can read, where the runtime has shared memory. */
export function sharedInt32(values: ArrayLike<number>): Int32Array {
  const out = new Int32Array(shared(4 * values.length));
  out.set(values);
  return out;
}

function sharedCopy(values: Float32Array): Float32Array {
  const out = new Float32Array(shared(4 * values.length));
  out.set(values);
  return out;
}

export interface ThreadedTrainingSetup {
  /** The model's embedding table (rows x dim) and dense weights: where the run starts, and where `publish` writes. */
  table: Float32Array;
  dense: Float32Array[];
  dim: number;
  threads: number;
  /** Passed to the model's factory with every replica's spec. */
  model: unknown;
}

/** Phase statistics summed over the replicas. */
export interface PhaseStats {
  lossSum: number;
  correct: number;
  examples: number;
}

export class ThreadedTraining {
  private readonly session = ++sessions;
  private readonly specs: ReplicaSpec[];
  /** Every replica as the calling thread runs it (replica 0 always; another when its worker is not idle). */
  private readonly local: Replica[];
  /** The workers that hold this run. */
  private readonly hosts: PoolWorker[] = [];
  private dense: Float32Array[];

  constructor(private readonly setup: ThreadedTrainingSetup) {
    const { table, dim, threads } = setup;
    const tables = Array.from({ length: threads }, () => sharedCopy(table));
    const words = (table.length / dim + 31) >>> 5;
    const used = tables.map(() => new Uint32Array(shared(4 * words)));
    const common = { session: this.session, tables, base: sharedCopy(table), used, dim, model: setup.model };
    this.specs = tables.map((_, index) => ({ ...common, index }));
    // Built now, every one, so that what they draw from the library's generator (a Linear
    // layer's initial weights, overwritten) does not depend on which workers are ready.
    this.local = this.specs.map(buildReplica);
    this.dense = setup.dense.map((d) => d.slice());
  }

  /**
   * Trains on `batches` (one epoch's, in order), batch i at learning rate `lrs[i]`, calling
   * `onPhase` after each synchronisation with the number of batches done and their statistics.
   */
  epoch(batches: readonly Int32Array[], lrs: readonly number[], onPhase: (done: number, stats: PhaseStats) => void): void {
    const T = this.setup.threads;
    const perPhase = T * SYNC_ROUNDS;
    for (let start = 0; start < batches.length; start += perPhase) {
      const end = Math.min(start + perPhase, batches.length);
      const tasks = Array.from({ length: T }, (_, t) => this.phaseFor(batches, lrs, start + t, end));
      const results = this.runPhase(tasks);
      this.dense = combineDense(
        this.dense,
        results.filter((_, t) => tasks[t].lrs.length > 0),
      );
      this.synchronise();
      let examples = 0;
      for (let b = start; b < end; b++) examples += batches[b].length;
      const stats = { lossSum: 0, correct: 0, examples };
      for (const r of results) {
        stats.lossSum += r.lossSum;
        stats.correct += r.correct;
      }
      onPhase(end, stats);
    }
  }

  /** Writes the trained weights (every replica's, equal after a synchronisation) into the model. */
  publish(): void {
    this.setup.table.set(this.specs[0].tables[0]);
    this.setup.dense.forEach((d, i) => d.set(this.dense[i]));
  }

  /** Releases the workers' replicas. */
  close(): void {
    for (const worker of this.hosts) {
      worker.finish(); // a helper that woke late may still be looking for work
      worker.post({ kind: "train-end", session: this.session });
      worker.join();
    }
    this.hosts.length = 0;
  }

  /** The phase of the replica whose first batch is `first`: every T-th batch up to `end`. */
  private phaseFor(batches: readonly Int32Array[], lrs: readonly number[], first: number, end: number): PhaseTask {
    const T = this.setup.threads;
    const mine: number[] = [];
    for (let b = first; b < end; b += T) mine.push(b);
    const bounds = new Int32Array(mine.length + 1);
    mine.forEach((b, i) => (bounds[i + 1] = bounds[i] + batches[b].length));
    const rows = new Int32Array(bounds[mine.length]);
    mine.forEach((b, i) => rows.set(batches[b], bounds[i]));
    return { rows, bounds, lrs: Float64Array.from(mine, (b) => lrs[b]), dense: this.dense };
  }

  /**
   * The workers idle now, each given this run first if it does not hold it yet (once: the run's
   * arrays are shared, so a worker that holds it can take any replica or any chunk).
   */
  private helpers(): PoolWorker[] {
    const workers = idleWorkers(this.setup.threads);
    for (const worker of workers) {
      if (this.hosts.includes(worker)) continue;
      worker.post({ kind: "train-init", spec: this.specs[0] });
      worker.join();
      this.hosts.push(worker);
    }
    return workers;
  }

  /** Runs every replica's phase, each on whichever thread takes it first. */
  private runPhase(phases: PhaseTask[]): PhaseResult[] {
    const results: PhaseResult[] = [];
    const shared = new SharedArrayBuffer(8 * phases.length * resultWidth(this.dense));
    const job: PhaseJob = { kind: "train-phase", wasm: wasmAvailable(), unit: -1, session: this.session, phases, results: shared };
    const onWorker = shareUnits(phases.length, job, (t) => (results[t] = this.local[t].runPhase(phases[t])), this.helpers());
    onWorker.forEach((ran, t) => {
      if (ran === 1) results[t] = readResult(shared, t, this.dense);
    });
    return results;
  }

  /** Makes the replicas equal again, chunk by chunk, on whichever threads are free. */
  private synchronise(): void {
    const spec = this.specs[0];
    const job: UnitTask = { kind: "train-sync", unit: -1, session: this.session };
    shareUnits(syncChunks(spec), job, (chunk) => synchroniseChunk(spec, chunk), this.helpers());
  }
}
