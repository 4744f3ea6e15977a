/**
 * The WebAssembly module of torchlet's kernels (AssemblyScript): `npm run build:wasm` compiles this
 * file, and the files it exports from, into src/kernels/kernels.wasm, which src/kernels/wasm.ts
 * loads. Its exports:
 *
 * - matmul.as.ts: `sgemm`, `dgemm` (float32 / float64 operands, summed in their own type) and
 *   the size of their workspace;
 * - log-softmax.as.ts: the row-wise float32 log-softmax, its backward, and its backward after
 *   NLL's one-hot gradient;
 * - bce-with-logits.as.ts: BCEWithLogits without weights over float32 data;
 * - `heapBase`: where the host may start placing data.
 *
 * The module allocates nothing: the host (src/kernels/wasm.ts) owns the memory after `heapBase`,
 * copies operands in and results out.
 */
export { workspaceBytes, sgemm, dgemm } from "./matmul.as";
export { logSoftmaxRows32, logSoftmaxBackwardRows32, logSoftmaxOneHotBackward32 } from "./log-softmax.as";
export { bceWithLogits32 } from "./bce-with-logits.as";

/** Where the host may start placing data (after this module's static data). */
export function heapBase(): usize {
  return __heap_base;
}
