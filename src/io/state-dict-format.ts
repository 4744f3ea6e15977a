/**
 * State dicts as safetensors tensors and back: the dtype mapping between torchlet's tensors and
 * the format's, on bytes only (no file system), so that browsers can share it. Node's
 * torch.save and torch.load (state-dict.ts) put files around it.
 *
 * Writing: float32 is F32, float64 F64, int64 I64, bool BOOL, which is what PyTorch writes for
 * the same dtypes, so Python's `safetensors.torch.load_file` gives back the same tensors.
 *
 * Reading: the four back, and the two integer dtypes torchlet has no tensor of are read as its
 * one integer dtype, int64: I32 (exact), and U8, PyTorch's uint8 (exact too: 0..255 fit). U8 is
 * read rather than refused because PyTorch keeps masks and image data in uint8 and the values
 * lose nothing; the tensor is int64 afterwards, so saving it again writes I64. F16 and BF16 are
 * refused by the reader with a message naming the tensor and the dtype (torchlet has no half
 * precision to hold them in).
 */
import { Tensor } from "../tensor";
import type { DType } from "../dtype";
import { type RawTensor, type SafeDtype, setOwn } from "./safetensors-format";

const SAFE_DTYPE: Record<DType, SafeDtype> = { float32: "F32", float64: "F64", int64: "I64", bool: "BOOL" };

/** The tensor's values as a safetensors tensor; contiguous tensors are not copied. @internal */
export function tensorToRaw(name: string, value: unknown): RawTensor {
  if (!(value instanceof Tensor)) {
    const got = value === null ? "null" : typeof value;
    throw new TypeError(`torch.save: state dict entry ${JSON.stringify(name)} is not a Tensor (got ${got})`);
  }
  return { dtype: SAFE_DTYPE[value.dtype], shape: value.shape, data: value.toArray() };
}

/** A safetensors tensor as a torchlet tensor of the mapped dtype (see the module comment). @internal */
export function rawToTensor(raw: RawTensor): Tensor {
  switch (raw.dtype) {
    case "F32":
      return Tensor.fromArray(raw.data as Float32Array, raw.shape, "float32");
    case "F64":
      return Tensor.fromArray(raw.data as Float64Array, raw.shape, "float64");
    case "BOOL":
      return Tensor.fromArray(raw.data as Uint8Array, raw.shape, "bool");
    case "I64":
      // The reader gives I64 as int64's own storage, a Float64Array (a value beyond 2^53 is refused there).
      return Tensor.fromArray(raw.data as Float64Array, raw.shape, "int64");
    case "I32":
    case "U8":
      // Copied into int64 storage by fromArray: every value fits exactly.
      return Tensor.fromArray(raw.data as Int32Array | Uint8Array, raw.shape, "int64");
  }
}

/** A state dict's tensors, by name, ready to encode. @internal */
export function stateDictToRaw(stateDict: Record<string, unknown>): Record<string, RawTensor> {
  if (typeof stateDict !== "object" || stateDict === null || Array.isArray(stateDict)) {
    throw new TypeError(
      `torch.save: expected a state dict (an object of tensors by name), got ${Array.isArray(stateDict) ? "an array" : typeof stateDict}`,
    );
  }
  const raw: Record<string, RawTensor> = {};
  for (const [name, value] of Object.entries(stateDict)) setOwn(raw, name, tensorToRaw(name, value));
  return raw;
}

/** Decoded tensors as a state dict, in file order. @internal */
export function rawToStateDict(tensors: Record<string, RawTensor>): Record<string, Tensor> {
  const state: Record<string, Tensor> = {};
  for (const [name, raw] of Object.entries(tensors)) setOwn(state, name, rawToTensor(raw));
  return state;
}
