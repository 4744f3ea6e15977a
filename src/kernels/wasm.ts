/**
 * The WebAssembly module of kernels (src/kernels/assembly/kernels.as.ts, compiled at build time to
 * kernels.wasm next to this file): loading it, its memory, turning it on and off, and the sizes
 * from which the kernels in this folder send work to it. The kernels' host sides (copying operands
 * in and results out) live with their TypeScript implementations: matmul.ts, log-softmax.ts,
 * bce-with-logits.ts.
 *
 * Where the bytes come from: kernels-wasm.ts embeds them as base64, generated from kernels.wasm
 * by `npm run build:wasm`, since a string is the one form every bundler ships as it is. Node's
 * entry points the loader at the kernels.wasm file instead (node/host.ts). How they are compiled:
 * synchronously in Node, on the first kernel call, so that the first product already runs on
 * wasm; asynchronously elsewhere (Chrome refuses a synchronous compile of more than 4 KB on the
 * main thread), started by the first kernel call or by `ready()`, which resolves when it is done.
 *
 * The module is optional: until it is compiled, or when it cannot be (no file, no WebAssembly
 * SIMD), or when TORCHLET_NO_WASM=1 is set, `wasmAvailable()` is false and every kernel runs its
 * TypeScript implementation. Both give PyTorch's numbers: `gemm`'s two give the same bits;
 * log-softmax and BCEWithLogits agree to float32 rounding (their wasm exp and log1p run in
 * float32 lanes).
 */
import { KERNELS_WASM_BASE64 } from "./kernels-wasm";

/** The part of the WebAssembly API used here (the project's `lib` has no WebAssembly types). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmInstance {
  exports: object;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => WasmInstance;
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object, imports: object): Promise<WasmInstance>;
}

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
  workspaceBytes(): number;
  sgemm: Gemm;
  dgemm: Gemm;
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

let state: "untried" | "loading" | "ready" | "failed" = "untried";
/** The asynchronous compile while it runs (and after, resolved), for `ready()`. */
let loading: Promise<void> | null = null;
/** null until first asked: TORCHLET_NO_WASM is read then, not when this module loads. */
let enabled: boolean | null = null;
let loaded: KernelModule | null = null;

/** Float32 and float64 views of the module's memory (replaced when the memory grows). */
export interface HeapViews {
  readonly heap32: Float32Array;
  readonly heap64: Float64Array;
}
const views = { heap32: new Float32Array(0), heap64: new Float64Array(0) };

/** The embedded copy of kernels.wasm. */
function embeddedBytes(): Uint8Array {
  const text = atob(KERNELS_WASM_BASE64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

let readBytes: () => Uint8Array = embeddedBytes;

/**
 * @internal For Node's entry: read the module's bytes with `read` (kernels.wasm from disk) instead
 * of the embedded copy. A module already loaded is dropped, so the next kernel call loads anew.
 */
export function setKernelSource(read: () => Uint8Array): void {
  readBytes = read;
  if (state === "loading") return; // the compile under way keeps its bytes; it is as good
  state = "untried";
  loaded = null;
  resident = null;
}

function wasmApi(): WasmApi | undefined {
  return (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
}

/**
 * Whether the runtime lets this module compile synchronously whatever its size: Node does
 * (and Deno and Bun, which say they are Node); a browser's main thread does not. Read through
 * globalThis so that a bundle for the browser finds no `process` to shim.
 */
function compilesSynchronously(): boolean {
  const runtime = globalThis as { process?: { versions?: { node?: unknown } } };
  return typeof runtime.process?.versions?.node === "string";
}

/** Whether TORCHLET_NO_WASM=1 is set (only a runtime with `process.env` can set it). */
function turnedOffByEnvironment(): boolean {
  const runtime = globalThis as { process?: { env?: Record<string, string | undefined> } };
  return runtime.process?.env?.TORCHLET_NO_WASM === "1";
}

/** Where the host sides lay out the memory, from the module's exports. */
function layout(instance: WasmInstance): KernelModule {
  const exports = instance.exports as unknown as KernelExports;
  const base = (exports.heapBase() + 63) & ~63;
  const dataAt = ((base >> 2) + (exports.workspaceBytes() >> 2) + 15) & ~15;
  return { exports, workspaceAt: base, dataAt };
}

/** Any failure (no file, no SIMD, no WebAssembly at all) means null: the TypeScript kernels run. */
function instantiateNow(): KernelModule | null {
  const api = wasmApi();
  if (!api) return null;
  try {
    return layout(new api.Instance(new api.Module(readBytes()), {}));
  } catch {
    return null;
  }
}

async function instantiateLater(): Promise<KernelModule | null> {
  const api = wasmApi();
  if (!api) return null;
  try {
    return layout(await api.instantiate(await api.compile(readBytes()), {}));
  } catch {
    return null;
  }
}

function settle(module: KernelModule | null): void {
  loaded = module;
  state = module ? "ready" : "failed";
}

function startLoading(): void {
  if (compilesSynchronously()) {
    settle(instantiateNow());
    return;
  }
  state = "loading";
  loading = instantiateLater().then(settle);
}

function isEnabled(): boolean {
  enabled ??= !turnedOffByEnvironment();
  return enabled;
}

/**
 * Whether the wasm kernels may run now. The first call starts loading the module: in Node it is
 * then loaded; elsewhere this stays false until the asynchronous compile is done.
 */
export function wasmAvailable(): boolean {
  if (!isEnabled()) return false;
  if (state === "untried") startLoading();
  return state === "ready";
}

/**
 * Resolves once the module is compiled, or known not to be available (it never rejects):
 * `await torch.ready()` before a benchmark or a training run makes its first steps use wasm too.
 * Immediate in Node, and when the kernels are turned off.
 */
export function ready(): Promise<void> {
  if (isEnabled() && state === "untried") startLoading();
  return state === "loading" && loading ? loading : Promise.resolve();
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
  const previous = isEnabled();
  enabled = flag;
  return previous;
}

// ---- when to use it -------------------------------------------------------------------------

/**
 * Products of fewer multiply-adds than this stay on the TypeScript kernel. Measured on the 2-core
 * machine, wasm already wins at 16^3 (3.1 against 0.33 GFLOPS) and roughly breaks even at 8^3;
 * below 4096 the TypeScript kernel's plain loops are as good and copy nothing.
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
