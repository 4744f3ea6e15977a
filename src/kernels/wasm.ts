/**
 * The WebAssembly module of kernels (src/kernels/assembly/kernels.as.ts, compiled at build time to
 * kernels.wasm next to this file): loading it, its memory, turning it on and off, and the sizes
 * from which the kernels in this folder send work to it. The kernels' host sides (copying operands
 * in and results out) live with their TypeScript implementations: matmul.ts, log-softmax.ts,
 * bce-with-logits.ts.
 *
 * The module is optional: when kernels.wasm is missing, fails to instantiate, or
 * TORCHLET_NO_WASM=1 is set, `wasmAvailable()` is false and every kernel runs its TypeScript
 * implementation. Both give PyTorch's numbers: `gemm`'s two give the same bits; log-softmax and
 * BCEWithLogits agree to float32 rounding (their wasm exp and log1p run in float32 lanes).
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** The part of the WebAssembly API used here (the project's `lib` has no WebAssembly types). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}
const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** C = A @ B over strided operands at byte offsets in the module's memory (M x K by K x N; `ws`: workspace). */
type Gemm = (
  M: number,
  N: number,
  K: number,
  a: number,
  ars: number,
  acs: number,
  b: number,
  brs: number,
  bcs: number,
  c: number,
  ws: number,
) => void;

/** The module's exports (addresses are byte offsets into its memory). */
export interface KernelExports {
  memory: WasmMemory;
  heapBase(): number;
  workspaceBytes64(): number;
  dgemm32: Gemm;
  dgemm64: Gemm;
  logSoftmaxRows32(src: number, dst: number, rows: number, cols: number): void;
  logSoftmaxBackwardRows32(g: number, y: number, dst: number, rows: number, cols: number): void;
  logSoftmaxOneHotBackward32(y: number, cols: number, values: number, dst: number, rows: number, colsPerRow: number): void;
  bceWithLogits32(x: number, y: number, n: number, storeLoss: number, storeGrad: number, scale: number): number;
}

/**
 * The loaded module and how the host lays out its memory: the product's workspace after the
 * module's static data, then the operands, from float index `dataAt` (a multiple of 16 floats).
 */
export interface KernelModule {
  readonly exports: KernelExports;
  /** Byte address of the product's workspace. */
  readonly workspaceAt: number;
  /** Float index (4-byte units) where operands start. */
  readonly dataAt: number;
}

let state: "untried" | "ready" | "failed" = "untried";
let enabled = process.env.TORCHLET_NO_WASM !== "1";
let loaded: KernelModule | null = null;

/** Float32 and float64 views of the module's memory (replaced when the memory grows). */
export interface HeapViews {
  readonly heap32: Float32Array;
  readonly heap64: Float64Array;
}
const views = { heap32: new Float32Array(0), heap64: new Float64Array(0) };

function instantiate(): KernelModule | null {
  try {
    const bytes = fs.readFileSync(path.join(__dirname, "kernels.wasm"));
    if (!wasmApi) return null;
    const instance = new wasmApi.Instance(new wasmApi.Module(bytes), {});
    const exports = instance.exports as unknown as KernelExports;
    const base = (exports.heapBase() + 63) & ~63;
    const dataAt = ((base >> 2) + (exports.workspaceBytes64() >> 2) + 15) & ~15;
    return { exports, workspaceAt: base, dataAt };
  } catch {
    return null;
  }
}

/** Whether the wasm kernels may run (loads the module on the first call). */
export function wasmAvailable(): boolean {
  if (!enabled) return false;
  if (state === "untried") {
    loaded = instantiate();
    state = loaded ? "ready" : "failed";
  }
  return state === "ready";
}

/** The loaded module. Call only when `wasmAvailable()`. */
export function kernelModule(): KernelModule {
  return loaded!;
}

/**
 * For tests and benchmarks: turn the wasm kernels off (every kernel takes its TypeScript
 * implementation) or back on (when the module loads). Returns the previous setting.
 */
export function setWasmEnabled(flag: boolean): boolean {
  const previous = enabled;
  enabled = flag;
  return previous;
}

// ---- when to use it -------------------------------------------------------------------------

/**
 * Products of fewer multiply-adds than this stay on the TypeScript kernel. Measured on the 2-core
 * machine, wasm already wins at 16^3 (3.1 against 0.33 GFLOPS) and roughly breaks even at 8^3;
 * below 4096 the TypeScript kernel's plain triple loop (gemmSmall) is as good and copies nothing.
 */
let productThreshold = 4096;

export function wasmThreshold(): number {
  return productThreshold;
}

/** For tests: the size (M * N * K) from which products use wasm; 0 sends every one there. Returns the previous one. */
export function setWasmThreshold(multiplyAdds: number): number {
  const previous = productThreshold;
  productThreshold = multiplyAdds;
  return previous;
}

/** Whether a product of `multiplyAdds` should run on wasm (loads the module if needed). */
export function wasmForProduct(multiplyAdds: number): boolean {
  return multiplyAdds >= productThreshold && wasmAvailable();
}

/** Elementwise kernels (log-softmax, BCEWithLogits) on fewer elements than this stay in TypeScript. */
let elementThreshold = 4096;

/** For tests: the element count from which log-softmax and BCEWithLogits use wasm; 0 sends every one. */
export function setWasmElementThreshold(elements: number): number {
  const previous = elementThreshold;
  elementThreshold = elements;
  return previous;
}

/** Whether a float32 elementwise kernel over `n` elements should run on wasm (loads the module if needed). */
export function wasmForElements(n: number): boolean {
  return n >= elementThreshold && n > 0 && wasmAvailable();
}

// ---- memory ---------------------------------------------------------------------------------

/**
 * The float32 array a kernel's last run left in the module's memory at `dataAt`, as long as no
 * other kernel has used the memory since (see `keepResident`).
 */
let resident: Float32Array | null = null;

/**
 * Views of the module's memory holding at least `floats` floats from `dataAt`, or null if it
 * cannot grow so far. Whatever a kernel left there counts as overwritten from now on.
 */
export function reserve(floats: number): HeapViews | null {
  const { exports, dataAt } = loaded!;
  resident = null;
  const needBytes = (dataAt + floats) * 4;
  const have = exports.memory.buffer.byteLength;
  if (needBytes > have) {
    if (needBytes > 2 ** 32 - 65536) return null; // beyond wasm32's address space
    try {
      exports.memory.grow(Math.ceil((needBytes - have) / 65536));
    } catch {
      return null;
    }
  }
  if (views.heap32.buffer !== exports.memory.buffer) {
    views.heap32 = new Float32Array(exports.memory.buffer);
    views.heap64 = new Float64Array(exports.memory.buffer);
  }
  return views;
}

/**
 * Records that `values` (a kernel's output, just copied out) is also what the memory holds at
 * `dataAt`, so that a kernel reading it next (log-softmax's backward reading its forward's output)
 * can skip copying it in again. torchlet has no in-place ops on values; a caller writing into the
 * array by hand between the two would not be seen.
 */
export function keepResident(values: Float32Array): void {
  resident = values;
}

/** Whether `values` is still in the module's memory at `dataAt` (see `keepResident`). */
export function isResident(values: Float32Array): boolean {
  return resident === values;
}
