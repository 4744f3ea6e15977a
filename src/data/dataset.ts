/**
 * PyTorch's TensorDataset: rows of several tensors that belong together (features and labels,
 * say), indexed along their first dimension. A DataLoader over one yields the rows of a batch
 * stacked, one tensor per dataset tensor.
 */

import { Tensor } from "../tensor";

export class TensorDataset {
  readonly tensors: readonly Tensor[];

  constructor(...tensors: Tensor[]) {
    if (tensors.length === 0) throw new Error("TensorDataset: expected at least one tensor");
    for (const t of tensors) {
      if (!(t instanceof Tensor)) throw new TypeError(`TensorDataset: expected tensors, got ${typeof t}`);
      // PyTorch's t.size(0) of a 0-d tensor; a row needs a first dimension.
      if (t.ndim === 0) throw new RangeError("dimension specified as 0 but tensor has no dimensions");
    }
    const n = tensors[0].shape[0];
    if (tensors.some((t) => t.shape[0] !== n)) throw new Error("Size mismatch between tensors");
    this.tensors = tensors.slice();
  }

  /** Rows in the dataset (PyTorch's len(dataset)). */
  get length(): number {
    return this.tensors[0].shape[0];
  }

  /** Row i of every tensor (views, as PyTorch's tensor[i]); negative i counts from the end. */
  get(i: number): Tensor[] {
    return this.tensors.map((t) => t.select(0, i));
  }

  /**
   * The given rows of every tensor, stacked along a new first dimension. One gather per tensor
   * (indexSelect), not one copy per row: a batch costs a few kernel calls whatever its size.
   */
  rows(indices: Int32Array): Tensor[] {
    const index = Tensor.fromArray(indices, [indices.length], "int64"); // copied into int64 storage
    return this.tensors.map((t) => t.indexSelect(0, index));
  }
}
