/**
 * Work split into units (rows of a product, replicas of a model, ranges of a table) that the
 * calling thread and the idle workers take one at a time from a shared counter, until none is
 * left. Nobody waits for a worker that has not started yet or that the system has put aside: the
 * others simply take more units. The calling thread returns once every unit is done; a worker
 * that woke too late finds the counter spent and touches nothing.
 *
 * Which thread runs a unit must not change its result (each parallel kernel sees to that), so
 * results never depend on timing.
 */
import type { PoolWorker, WorkerTask } from "../host";
import { registerTask, runTask } from "./tasks";

/** Control words: the next unit to take, the units done, whether one failed, then per unit 1 if a worker ran it. */
const NEXT = 0;
const DONE = 1;
const FAILED = 2;
const RAN = 3;

/** A unit of `job`, as a worker's handler receives it. */
export interface UnitTask extends WorkerTask {
  unit: number;
}

interface UnitsTask extends WorkerTask {
  job: WorkerTask;
  control: SharedArrayBuffer;
  count: number;
}

/** Takes units until none is left; the first error is returned (and flagged), the others' units still run. */
function takeUnits(control: Int32Array, count: number, run: (unit: number) => void, onWorker: boolean): unknown {
  let error: unknown = null;
  for (let unit = Atomics.add(control, NEXT, 1); unit < count; unit = Atomics.add(control, NEXT, 1)) {
    try {
      run(unit);
    } catch (e) {
      error ??= e;
      Atomics.store(control, FAILED, 1);
    }
    if (onWorker) Atomics.store(control, RAN + unit, 1);
    Atomics.add(control, DONE, 1);
    Atomics.notify(control, DONE);
  }
  return error;
}

registerTask("units", (task) => {
  const { job, control, count } = task as UnitsTask;
  const error = takeUnits(new Int32Array(control), count, (unit) => runTask({ ...job, unit } as UnitTask), true);
  return error === null ? null : String(error instanceof Error ? (error.stack ?? error.message) : error);
});

/**
 * Memory that worker threads can share, or a plain buffer where the runtime has no shared memory
 * (a page without cross-origin isolation): there is no pool there, so every unit runs here.
 */
export function sharedBuffer(bytes: number): ArrayBuffer | SharedArrayBuffer {
  return typeof SharedArrayBuffer === "function" ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
}

let ranOnWorkers = 0;

/** @internal For tests: how many units workers have run in this thread's shares so far. */
export function unitsRunOnWorkers(): number {
  return ranOnWorkers;
}

/**
 * Runs units 0 .. count - 1 once each, here with `local(unit)` or on one of `workers` with the
 * handler of `job.kind` (given `unit`). Returns, per unit, whether a worker ran it (its results
 * are then wherever the handler put them, in shared memory).
 */
export function shareUnits(count: number, job: WorkerTask, local: (unit: number) => void, workers: readonly PoolWorker[]): Uint8Array {
  const control = new Int32Array(sharedBuffer(4 * (RAN + count)));
  for (const worker of workers) worker.post({ kind: "units", wasm: job.wasm, job, control: control.buffer, count } as UnitsTask);
  const error = takeUnits(control, count, local, false);
  for (let done = Atomics.load(control, DONE); done < count; done = Atomics.load(control, DONE)) Atomics.wait(control, DONE, done);
  if (error !== null) throw error;
  if (Atomics.load(control, FAILED) !== 0) {
    // Rare: wait for the workers' answers, which name the error.
    const messages = workers.map((w) => w.join()).filter((m) => m !== null);
    throw new Error(`a worker thread failed: ${String(messages[0])}`);
  }
  const ran = Uint8Array.from(control.subarray(RAN, RAN + count));
  for (const r of ran) ranOnWorkers += r;
  return ran;
}
