/**
 * torch.save and torch.load for Node: a state dict as a safetensors file, the format PyTorch
 * users share weights in (Python's `safetensors.torch.save_file`/`load_file` read and write the
 * same files). Unlike PyTorch's pickle-based torch.save, only state dicts (tensors by name) are
 * saved; a pickle (.pt, .pth) is not read.
 */
import type { Tensor } from "../tensor";
import { loadSafetensors, saveSafetensors } from "./safetensors";
import { rawToStateDict, stateDictToRaw } from "./state-dict-format";

/**
 * The metadata `safetensors.torch.save_model` writes; Hugging Face's loaders check it to know
 * the file holds PyTorch tensors, and torch.load here ignores it.
 */
const METADATA = { format: "pt" };

/**
 * Writes the state dict (e.g. `model.stateDict()`) to `path` as a safetensors file, atomically
 * (saveSafetensors). float32, float64, int64 and bool tensors are written as F32, F64, I64 and
 * BOOL.
 */
export function save(stateDict: Record<string, Tensor>, path: string): void {
  saveSafetensors(path, stateDictToRaw(stateDict), METADATA);
}

/**
 * Reads a safetensors file as a state dict, for `model.loadStateDict`. F32, F64, I64 and BOOL
 * come back as float32, float64, int64 and bool; I32 and U8 as int64 (values exact); F16, BF16
 * and the other dtypes torchlet has no tensor for are refused with a message naming the tensor.
 */
export function load(path: string): Record<string, Tensor> {
  return rawToStateDict(loadSafetensors(path).tensors);
}
