/**
 * `torch.io` everywhere: safetensors bytes in and out. Node's `torch.io` adds files on top
 * (safetensors.ts). Names are listed one by one so that the format module's internal helpers
 * never become part of the namespace.
 */
export {
  SafetensorsError,
  MAX_HEADER_BYTES,
  MAX_TENSORS,
  MAX_HEADER_DEPTH,
  encodeSafetensors,
  decodeSafetensors,
} from "./safetensors-format";
export type { SafeDtype, RawTensor, SafetensorsContents } from "./safetensors-format";
