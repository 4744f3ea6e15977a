/**
 * How many threads torchlet's parallel kernels use: PyTorch's `torch.setNumThreads(n)` and
 * `torch.getNumThreads()`. The default is the number of cores the host reports (Node's
 * os.availableParallelism(); 1 in a browser). The calling thread counts as one: n threads means
 * the caller and n - 1 workers from the host's pool.
 */
import { type PoolWorker, cores, threadPool } from "../host";

let chosen: number | null = null;

export function getNumThreads(): number {
  return chosen ?? Math.max(1, Math.floor(cores()));
}

/** Sets the number of threads for the parallel kernels (products, text-classifier training). */
export function setNumThreads(n: number): void {
  chosen = checkThreads(n, "set_num_threads");
}

/** `n` if it is a positive integer, else PyTorch's error for `set_num_threads` under the caller's name. */
export function checkThreads(n: unknown, name: string): number {
  if (typeof n !== "number" || !Number.isInteger(n)) {
    throw new TypeError(`${name} expects an int, but got ${typeof n === "number" ? "float" : typeof n}`);
  }
  if (n < 1) throw new RangeError(`${name} expects a positive integer`);
  return n;
}

/**
 * Worker i of the pool when it can take a task now (started, idle), else null; asks the pool to
 * start `threads - 1` workers the first time, without waiting for them.
 */
function workerAt(i: number, threads: number): PoolWorker | null {
  const pool = threadPool();
  if (pool === null || i >= threads - 1) return null;
  pool.grow(threads - 1);
  return pool.ready(i);
}

/** The workers idle now among the first `threads - 1` of the pool (none on one thread). */
export function idleWorkers(threads = getNumThreads()): PoolWorker[] {
  const idle: PoolWorker[] = [];
  for (let i = 0; i < threads - 1; i++) {
    const w = workerAt(i, threads);
    if (w !== null) idle.push(w);
  }
  return idle;
}
