/**
 * What torchlet knows of the machine it runs on, without importing any runtime's modules: the
 * portable core reads it here, and Node's entry (node/host.ts) fills it in at load. Elsewhere
 * (browsers, workers) nothing is known, and only limits that hold everywhere apply.
 */

let readTotalMemory: () => number = () => Infinity;

/** The machine's memory in bytes, or Infinity where the runtime does not say. */
export function totalMemory(): number {
  return readTotalMemory();
}

/** @internal For the Node entry: how to read the machine's memory (os.totalmem). */
export function setTotalMemory(read: () => number): void {
  readTotalMemory = read;
}

let readCores: () => number = () => 1;

/** How many threads the machine runs at once (os.availableParallelism in Node); 1 where unknown. */
export function cores(): number {
  return readCores();
}

/** @internal For the Node entry: how to count the machine's cores. */
export function setCores(read: () => number): void {
  readCores = read;
}

/**
 * Worker threads the parallel kernels hand work to (parallel/). Each worker runs a loop that
 * takes one task at a time; the calling thread posts a task, does its own share, then blocks
 * until the worker's reply, so work stays synchronous for the caller. Node's entry provides one
 * over worker_threads (node/pool.ts); elsewhere there is none and everything runs on one thread.
 */
export interface ThreadPool {
  /** Starts workers (in the background, once) so that `worker(0 .. count - 1)` exist. */
  grow(count: number): void;
  /** Worker i if it has started and can take a task now, else null. */
  ready(i: number): PoolWorker | null;
}

export interface PoolWorker {
  /** Hands `task` to the worker (its arrays are cloned; those over shared memory share it). */
  post(task: WorkerTask): void;
  /**
   * Blocks until the worker has answered the task posted last, and returns its answer. A task
   * may also be left to end by itself: the worker is idle again once it has.
   */
  join(): unknown;
  /** Blocks until the task posted last (joined or not) has ended. */
  finish(): void;
}

/** A task for a worker: `kind` names the handler registered with parallel/tasks.ts. */
export interface WorkerTask {
  kind: string;
  /** Whether the caller's WebAssembly kernels are on, so that the worker's match them. */
  wasm?: boolean;
  [field: string]: unknown;
}

let pool: ThreadPool | null = null;

/** The host's worker pool, or null where the runtime gives none (browsers, workers). */
export function threadPool(): ThreadPool | null {
  return pool;
}

/** @internal For the Node entry: the pool of worker threads. */
export function setThreadPool(p: ThreadPool | null): void {
  pool = p;
}
