/**
 * Node's pool of worker threads for the parallel kernels (the host's ThreadPool). Workers are
 * started the first time a kernel asks for them, in the background: until a worker has loaded
 * the library and said so, the kernels do its share themselves, so nobody waits for a start.
 * Every worker is `unref()`ed, so a script (or a jest run) exits when its own work is done.
 *
 * A task goes over a MessagePort, and a word of shared memory wakes the worker and later the
 * caller: the caller posts, does its own share, then blocks in Atomics.wait until the worker's
 * count of finished tasks moves, and takes the answer with receiveMessageOnPort. Nothing waits
 * for an event loop, so work handed out stays synchronous for the caller.
 *
 * The worker's script: worker.js beside this file in the build. Running from the TypeScript
 * sources (ts-jest, ts-node) there is none; worker.ts is then bundled into one script with
 * esbuild (a development dependency, present wherever the sources are run).
 */
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { MessageChannel, type MessagePort, Worker, receiveMessageOnPort } from "node:worker_threads";
import type { PoolWorker, ThreadPool, WorkerTask } from "../host";

/** The control words shared with a worker (Int32Array indices). */
export const TASKS_POSTED = 0;
export const TASKS_DONE = 1;
export const WORKER_READY = 2;
const CONTROL_WORDS = 4;

/** What a worker sends back for each task. */
export type WorkerReply = { ok: unknown } | { error: string };

/** What a worker gets at start (workerData). */
export interface WorkerStart {
  control: SharedArrayBuffer;
  port: MessagePort;
}

type Script = { file: string } | { code: string };

let script: Script | null = null;

function workerScript(): Script {
  if (script !== null) return script;
  const built = path.join(__dirname, "worker.js");
  if (fs.existsSync(built)) {
    script = { file: built };
  } else {
    // From the sources: one CommonJS script, whose __dirname is this folder (node/host.ts finds
    // kernels.wasm from it, as the caller does, so both threads run the same kernels).
    // Through createRequire, which bundlers of the built package leave alone (they would look for it).
    const esbuild = createRequire(__filename)("esbuild") as typeof import("esbuild");
    const result = esbuild.buildSync({
      entryPoints: [path.join(__dirname, "worker.ts")],
      bundle: true,
      platform: "node",
      format: "cjs",
      target: "node20",
      write: false,
      logLevel: "silent",
      // Keep every module whole: the task handlers register themselves when their module loads.
      ignoreAnnotations: true,
      define: { __dirname: JSON.stringify(__dirname) },
    });
    script = { code: result.outputFiles[0].text };
  }
  return script;
}

class NodeWorker implements PoolWorker {
  private readonly control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
  private readonly port: MessagePort;
  private busy = false;
  private doneBefore = 0;
  /** Why the worker stopped (a failed start, an exit), or null while it can work. */
  failure: string | null = null;

  constructor(source: Script) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const start: WorkerStart = { control: this.control.buffer as SharedArrayBuffer, port: port2 };
    const worker =
      "file" in source
        ? new Worker(source.file, { workerData: start, transferList: [port2] })
        : new Worker(source.code, { eval: true, workerData: start, transferList: [port2] });
    worker.on("error", (e) => (this.failure = String(e)));
    worker.on("exit", (code) => (this.failure ??= `exited with code ${code}`));
    worker.unref();
  }

  /** Started, alive and not working on a task. */
  get idle(): boolean {
    // A task nobody joined (parallel/share.ts leaves a late worker to finish alone) ends here.
    if (this.busy && Atomics.load(this.control, TASKS_DONE) !== this.doneBefore) {
      try {
        this.answer();
      } catch {
        // Its caller saw the failure through shared memory already.
      }
    }
    return !this.busy && this.failure === null && Atomics.load(this.control, WORKER_READY) === 1;
  }

  post(task: WorkerTask): void {
    this.port.postMessage(task);
    this.busy = true;
    this.doneBefore = Atomics.load(this.control, TASKS_DONE);
    Atomics.add(this.control, TASKS_POSTED, 1);
    Atomics.notify(this.control, TASKS_POSTED);
  }

  join(): unknown {
    while (Atomics.load(this.control, TASKS_DONE) === this.doneBefore) Atomics.wait(this.control, TASKS_DONE, this.doneBefore);
    return this.answer();
  }

  finish(): void {
    if (this.busy) this.join();
  }

  /** The answer to the task posted last, which has ended. */
  private answer(): unknown {
    this.busy = false;
    const reply = receiveMessageOnPort(this.port)!.message as WorkerReply;
    if ("error" in reply) throw new Error(`a worker thread failed: ${reply.error}`);
    return reply.ok;
  }
}

export class NodePool implements ThreadPool {
  private readonly workers: NodeWorker[] = [];
  /** Set when no worker can be started here (no script): everything then stays on one thread. */
  private unavailable = false;

  grow(count: number): void {
    if (this.unavailable) return;
    try {
      while (this.workers.length < count) this.workers.push(new NodeWorker(workerScript()));
    } catch {
      this.unavailable = true;
    }
  }

  ready(i: number): PoolWorker | null {
    const w = this.workers[i];
    return w !== undefined && w.idle ? w : null;
  }
}
