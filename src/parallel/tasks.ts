/**
 * The tasks a worker thread can run, by name. Each parallel kernel registers its handler here
 * when its module loads, in the caller's thread and in every worker alike (node/worker.ts
 * imports the same modules), so a task runs the very code the caller would run itself.
 */
import type { WorkerTask } from "../host";

export type TaskHandler = (task: WorkerTask) => unknown;

const handlers = new Map<string, TaskHandler>();

export function registerTask(kind: string, handler: TaskHandler): void {
  handlers.set(kind, handler);
}

/** Runs a task posted to this thread; its return value is the caller's answer. */
export function runTask(task: WorkerTask): unknown {
  const handler = handlers.get(task.kind);
  if (handler === undefined) throw new Error(`internal: no handler for the worker task ${JSON.stringify(task.kind)}`);
  return handler(task);
}
