/**
 * `torch.backends`: which kernels run, as PyTorch's `torch.backends.<name>.is_available()` says.
 * One backend so far: WebAssembly SIMD (kernels/wasm.ts), with TypeScript kernels as the fallback.
 */
import { wasmAvailable } from "./kernels/wasm";

export const wasm = {
  /**
   * Whether the WebAssembly SIMD kernels run: compiled, supported and not turned off
   * (TORCHLET_NO_WASM=1). In a browser, false until `await torch.ready()` has resolved.
   */
  isAvailable(): boolean {
    return wasmAvailable();
  },
};
