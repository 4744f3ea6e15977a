/**
 * A worker thread of the pool (node/pool.ts): it loads the library as the caller's thread does,
 * with every parallel kernel's task handler, says it is ready, then runs the tasks it is given,
 * one at a time, for as long as the process lives. It never starts workers of its own.
 */
import { receiveMessageOnPort, workerData } from "node:worker_threads";
import "./host";
import { setThreadPool, type WorkerTask } from "../host";
import { setNumThreads } from "../parallel/threads";
import { runTask } from "../parallel/tasks";
import { setWasmEnabled, wasmAvailable } from "../kernels/wasm";
import "../parallel/gemm";
import "../text/classifier"; // registers the classifier's replicas (text/parallel-training.ts)
import { TASKS_DONE, TASKS_POSTED, WORKER_READY, type WorkerReply, type WorkerStart } from "./pool";

const { control, port } = workerData as WorkerStart;
const words = new Int32Array(control);

setThreadPool(null);
setNumThreads(1);
wasmAvailable(); // compiles the kernels now rather than in the first task
Atomics.store(words, WORKER_READY, 1);

let seen = 0;
for (;;) {
  Atomics.wait(words, TASKS_POSTED, seen);
  seen = Atomics.load(words, TASKS_POSTED);
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
    port.postMessage(answer(m.message as WorkerTask));
    Atomics.add(words, TASKS_DONE, 1);
    Atomics.notify(words, TASKS_DONE);
  }
}

function answer(task: WorkerTask): WorkerReply {
  try {
    // The caller's kernels: wasm or TypeScript, as there (their float32 rounding may differ).
    if (task.wasm !== undefined) setWasmEnabled(task.wasm);
    return { ok: runTask(task) };
  } catch (e) {
    return { error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
  }
}
