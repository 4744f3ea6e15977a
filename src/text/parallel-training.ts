/**
 * Training a bag-of-features model on several threads, with results that depend on the seed and
 * the number of threads, never on timing.
 *
 * Each thread trains a replica of the model on its share of each epoch's batches: the batches, in
 * the order one thread would see them, are dealt out in turn (batch b to replica b mod T). The
 * replicas train in phases of `SYNC_ROUNDS` batches each, on one embedding table in shared memory:
 * before a phase, each marks the rows its batches use; a row that one replica alone uses is
 * trained in place, and a row that several use (the common words) is given to each of them as a
 * private copy, in a region of the table of its own. After the phase the replicas are equal again:
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
 * thread (a worker still starting, a browser), since its state is the shared table and what its
 * phase hands it. One table (and no copy of the rows one replica uses) keeps the threads' memory
 * traffic that of one thread, and the synchronisation touches only the rows several replicas used.
 *
 * Measured on SpamAssassin's 80/20 split with two threads (README, "Threads"): with bigrams and
 * the example's settings, a mean test accuracy over seeds 0-4 of 0.9888 against one thread's
 * 0.9906; words only, with the defaults, 0.9760 (binary) and 0.9463 (three classes) against 0.9777
 * and 0.9463.
 */
import type { PoolWorker } from "../host";
import { registerTask } from "../parallel/tasks";
import { idleWorkers } from "../parallel/threads";
import { type UnitTask, shareUnits, sharedBuffer } from "../parallel/share";
import { wasmAvailable } from "../kernels/wasm";

/**
 * Batches each replica trains between two synchronisations. 8, 16 and 32 were no more accurate on
 * SpamAssassin (mean over seeds 0-4, bigrams: 0.9879 with 32, 0.9888 with 64) and cost more syncs.
 */
export const SYNC_ROUNDS = 64;
/** Fewest batches per replica per epoch: runs with fewer batches train on fewer threads. */
export const MIN_BATCHES_PER_THREAD = 8;

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

/** A replica marks in its bitset the embedding rows a phase will change, then trains the phase. */
export interface Replica {
  markPhase(phase: PhaseTask): void;
  runPhase(phase: PhaseTask): PhaseResult;
}

/** What every thread of a run shares: structured-cloneable, its arrays in shared memory. */
export interface ReplicaSpec {
  session: number;
  index: number;
  /**
   * The embedding table: the model's `rows` rows, then `rows` private rows per replica. While a
   * phase trains, a row r that several replicas use is read and written by replica t at
   * `privateRow(spec, t, slot[r])`; `slot[r]` is -1 for every other row.
   */
  table: Float32Array;
  rows: number;
  slot: Int32Array;
  /** Per replica, a bitset of the rows its phase uses. */
  used: Uint32Array[];
  /** Where each unit's shared-use rows start in `list` (counted before a phase), and those rows. */
  counts: Int32Array;
  list: Int32Array;
  dim: number;
  /** Whatever else the model's factory needs (data, configuration), the same for every replica. */
  model: unknown;
}

type ReplicaFactory = (spec: ReplicaSpec) => Replica;
let factory: ReplicaFactory | null = null;

/** The model's module registers how to build replica `spec.index` over `spec.table`. */
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

/** Where replica t keeps its copy of the shared-use row in `slot`. */
export function privateRow(spec: Pick<ReplicaSpec, "rows">, t: number, slot: number): number {
  return spec.rows * (1 + t) + slot;
}

/** Points the indices of rows that several replicas use at replica t's copies (`at`: privateRow(spec, t, 0)). */
export function remapRows(indices: Int32Array, slot: Int32Array, at: number): void {
  for (let i = 0; i < indices.length; i++) {
    const s = slot[indices[i]];
    if (s >= 0) indices[i] = at + s;
  }
}

// ---- the synchronisation ---------------------------------------------------------------------

/** Words of the bitsets (32 rows each) per unit of the work around a phase, and shared-use rows per unit of merging. */
const WORDS_PER_UNIT = 256;
const ROWS_PER_MERGE = 8192;

function wordUnits(spec: ReplicaSpec): number {
  return Math.ceil(spec.used[0].length / WORDS_PER_UNIT);
}

/** Calls `each(row)` for every row of the words of `unit` that several replicas use, in ascending order. */
function forSharedRows(spec: ReplicaSpec, unit: number, each: (row: number) => void): void {
  const { used } = spec;
  const end = Math.min((unit + 1) * WORDS_PER_UNIT, used[0].length);
  for (let w = unit * WORDS_PER_UNIT; w < end; w++) {
    let seen = 0;
    let twice = 0;
    for (const bits of used) {
      twice |= seen & bits[w];
      seen |= bits[w];
    }
    while (twice !== 0) {
      const bit = twice & -twice;
      twice ^= bit;
      each((w << 5) | (31 - Math.clz32(bit)));
    }
  }
}

/** Before a phase, first pass: how many shared-use rows the words of `unit` hold (into `counts[unit + 1]`). */
function countShared(spec: ReplicaSpec, unit: number): void {
  let n = 0;
  forSharedRows(spec, unit, () => n++);
  spec.counts[unit + 1] = n;
}

/**
 * Before a phase, second pass (once `counts` holds where each unit's rows start): gives each
 * shared-use row of the words of `unit` its slot, lists it, and gives each replica its copy.
 */
function assignShared(spec: ReplicaSpec, unit: number): void {
  const { table, slot, list, dim } = spec;
  let k = spec.counts[unit];
  forSharedRows(spec, unit, (row) => {
    slot[row] = k;
    list[k] = row;
    const values = table.subarray(row * dim, (row + 1) * dim);
    for (let t = 0; t < spec.used.length; t++) table.set(values, privateRow(spec, t, k) * dim);
    k++;
  });
}

/** After a phase: the shared-use rows of merge unit `unit` take their value plus the (scaled) sum of the replicas' changes. */
function mergeShared(spec: ReplicaSpec, unit: number, total: number): void {
  const { table, slot, list, used, dim } = spec;
  for (let k = unit * ROWS_PER_MERGE; k < Math.min((unit + 1) * ROWS_PER_MERGE, total); k++) {
    const row = list[k];
    const w = row >>> 5;
    const bit = 1 << (row & 31);
    let n = 0;
    for (const bits of used) if ((bits[w] & bit) !== 0) n++;
    const scale = changeScale(n);
    for (let d = 0; d < dim; d++) {
      const at = row * dim + d;
      const before = table[at];
      let sum = 0;
      for (let t = 0; t < used.length; t++) if ((used[t][w] & bit) !== 0) sum += table[privateRow(spec, t, k) * dim + d] - before;
      table[at] = before + scale * sum;
    }
    slot[row] = -1;
  }
}

/** How much of the sum of n replicas' changes is kept: all of it for two, twice their mean for more. */
function changeScale(n: number): number {
  return n <= 2 ? 1 : 2 / n;
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
  /** For "train-phase", per replica: the loss sum, the count right, then the dense weights (float64). */
  results?: ArrayBuffer | SharedArrayBuffer;
}

registerTask("train-init", (task) => {
  const spec = task.spec as ReplicaSpec;
  hosted.set(spec.session, { spec, replicas: [] });
  return null;
});
registerTask("train-phase", (task) => {
  const { session, unit, phases, results } = task as PhaseJob;
  writeResult(results!, unit, replicaOf(hosted.get(session)!, unit).runPhase(phases[unit]));
  return null;
});

function replicaOf(run: Hosted, index: number): Replica {
  return (run.replicas[index] ??= buildReplica({ ...run.spec, index }));
}
registerTask("train-count", (task) => {
  countShared(hosted.get(task.session as number)!.spec, task.unit as number);
  return null;
});
registerTask("train-assign", (task) => {
  assignShared(hosted.get(task.session as number)!.spec, task.unit as number);
  return null;
});
registerTask("train-merge", (task) => {
  mergeShared(hosted.get(task.session as number)!.spec, task.unit as number, task.total as number);
  return null;
});
registerTask("train-mark", (task) => {
  const { session, unit, phases } = task as PhaseJob;
  replicaOf(hosted.get(session)!, unit).markPhase(phases[unit]);
  return null;
});
registerTask("train-end", (task) => {
  hosted.delete(task.session as number);
  return null;
});

function resultWidth(dense: readonly Float32Array[]): number {
  return 2 + dense.reduce((n, d) => n + d.length, 0);
}

function writeResult(results: ArrayBuffer | SharedArrayBuffer, unit: number, r: PhaseResult): void {
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
function readResult(results: ArrayBuffer | SharedArrayBuffer, unit: number, like: readonly Float32Array[]): PhaseResult {
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

/** `length` zeros that worker threads can read, where the runtime has shared memory. */
export function sharedInt32(length: number): Int32Array {
  return new Int32Array(sharedBuffer(4 * length));
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
    const rows = table.length / dim;
    const all = new Float32Array(sharedBuffer(4 * table.length * (1 + threads)));
    all.set(table);
    const used = Array.from({ length: threads }, () => new Uint32Array(sharedBuffer(4 * ((rows + 31) >>> 5))));
    const slot = new Int32Array(sharedBuffer(4 * rows)).fill(-1);
    const list = new Int32Array(sharedBuffer(4 * rows));
    const counts = new Int32Array(sharedBuffer(4 * (Math.ceil(used[0].length / WORDS_PER_UNIT) + 1)));
    const common = { session: this.session, table: all, rows, slot, used, counts, list, dim, model: setup.model };
    this.specs = used.map((_, index) => ({ ...common, index }));
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
      this.share("train-mark", tasks, (t) => this.local[t].markPhase(tasks[t]));
      const shared = this.shareRows();
      const results = this.runPhase(tasks);
      this.mergeRows(shared);
      this.dense = combineDense(
        this.dense,
        results.filter((_, t) => tasks[t].lrs.length > 0),
      );
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
    this.setup.table.set(this.specs[0].table.subarray(0, this.setup.table.length));
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

  /** Before a phase: a slot and private copies for every row several replicas will use; returns how many. */
  private shareRows(): number {
    const spec = this.specs[0];
    const units = wordUnits(spec);
    const job = (kind: string): UnitTask => ({ kind, unit: -1, session: this.session });
    shareUnits(units, job("train-count"), (unit) => countShared(spec, unit), this.helpers());
    for (let u = 1; u <= units; u++) spec.counts[u] += spec.counts[u - 1];
    shareUnits(units, job("train-assign"), (unit) => assignShared(spec, unit), this.helpers());
    return spec.counts[units];
  }

  /** After a phase: merges the `total` shared-use rows, and clears the marks. */
  private mergeRows(total: number): void {
    const spec = this.specs[0];
    const job: UnitTask = { kind: "train-merge", unit: -1, session: this.session, total };
    shareUnits(Math.ceil(total / ROWS_PER_MERGE), job, (unit) => mergeShared(spec, unit, total), this.helpers());
    for (const bits of spec.used) bits.fill(0);
  }

  /** Runs `kind` for every replica's phase, each on whichever thread takes it first. */
  private share(kind: string, phases: PhaseTask[], local: (t: number) => void, results?: ArrayBuffer | SharedArrayBuffer): Uint8Array {
    const job: PhaseJob = { kind, wasm: wasmAvailable(), unit: -1, session: this.session, phases, results };
    return shareUnits(phases.length, job, local, this.helpers());
  }

  /** Trains every replica's phase; the results of those a worker ran come through shared memory. */
  private runPhase(phases: PhaseTask[]): PhaseResult[] {
    const results: PhaseResult[] = [];
    const shared = sharedBuffer(8 * phases.length * resultWidth(this.dense));
    const onWorker = this.share("train-phase", phases, (t) => (results[t] = this.local[t].runPhase(phases[t])), shared);
    onWorker.forEach((ran, t) => {
      if (ran === 1) results[t] = readResult(shared, t, this.dense);
    });
    return results;
  }
}
