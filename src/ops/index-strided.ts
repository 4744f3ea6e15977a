/**
 * Strided regions: where a view's elements sit inside a contiguous tensor (shape, strides and
 * offset, counted in elements). `asStrided` reads a region (PyTorch's as_strided,
 * AsStridedBackward0) and `asStridedScatter` writes one into zeros (as_strided_scatter,
 * AsStridedScatterBackward0); each is the other's backward, so gradients that pass through a view's
 * region (select and slice backward, CopySlices after an in-place op on a view) can be
 * differentiated again.
 */
import ndarray from "ndarray";
import ops from "ndarray-ops";
import { allocate } from "../dtype";
import { numelOf } from "../shape";
import { record } from "../autograd/node";
import { Tensor } from "../tensor-core";
import { contiguous } from "./shape";

export interface Strided {
  shape: number[];
  strides: number[];
  offset: number;
}

/** A new contiguous tensor of `shape`, zero except for `g` written at the region. */
export function zerosWith(g: Tensor, shape: readonly number[], region: Strided): Tensor {
  const out = Tensor.fromArray(allocate(g.dtype, numelOf(shape)), shape, g.dtype);
  if (g.numel() === 0) return out;
  if (g.ndim === 0) out.nd.data[region.offset] = g.item();
  else ops.assign(ndarray(out.nd.data, region.shape.slice(), region.strides.slice(), region.offset), g.nd);
  return out;
}

/** The region of `x` (read as contiguous), as a view (AsStridedBackward0). */
export function asStrided(x: Tensor, region: Strided): Tensor {
  const source = contiguous(x);
  const view = source.viewOf(ndarray(source.nd.data, region.shape.slice(), region.strides.slice(), source.nd.offset + region.offset));
  const shape = source.shape;
  return record("AsStridedBackward0", view, [source], (g) => [asStridedScatter(g, shape, region)], { savesTensors: false });
}

/** Zeros of `shape` with `g` at the region (AsStridedScatterBackward0: the gradient is the region again). */
export function asStridedScatter(g: Tensor, shape: readonly number[], region: Strided): Tensor {
  return record("AsStridedScatterBackward0", zerosWith(g, shape, region), [g], (gg) => [asStrided(gg, region)], { savesTensors: false });
}
