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
