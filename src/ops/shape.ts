/**
 * Shape ops. Views (reshape of a contiguous tensor, view, transpose, permute, unsqueeze,
 * squeeze, expand) share the input's storage, as in PyTorch; their backward reshapes the
 * gradient back, and expand's sums it over the broadcast dims.
 */
import { ndview } from "../ndview";
import { tensorTypeName } from "../dtype";
import { broadcastStrides, contiguousStrides, inferShape, normalizeDim, numelOf } from "../shape";
import { record } from "../autograd/node";
import { Tensor } from "../tensor-core";
import { sumTo } from "./elementwise";
import { tensorArg } from "../arguments";

/** A tensor over the same storage with another shape and strides. */
function aliasOf(x: Tensor, shape: number[], strides: number[], offset = x.nd.offset): Tensor {
  return x.viewOf(ndview(x.nd.data, shape, strides, offset));
}

/** A contiguous copy of `x`'s values (no graph): one copy, whether `x` is contiguous or not. */
export function copyOf(x: Tensor): Tensor {
  return Tensor.fromArray(x.isContiguous() ? x.toArray().slice() : x.toArray(), x.shape, x.dtype);
}

export function clone(x: Tensor): Tensor {
  tensorArg(x, "clone");
  return record("CloneBackward0", copyOf(x), [x], (g) => [g], { savesTensors: false });
}

export function contiguous(x: Tensor): Tensor {
  tensorArg(x, "contiguous");
  return x.isContiguous() ? x : clone(x);
}

export function reshape(x: Tensor, sizes: number[]): Tensor {
  tensorArg(x, "reshape");
  const shape = inferShape(sizes, x.numel());
  const inputShape = x.shape;
  const out = x.isContiguous() ? aliasOf(x, shape, contiguousStrides(shape)) : Tensor.fromArray(x.toArray(), shape, x.dtype);
  const name = x.isContiguous() ? "ReshapeAliasBackward0" : "UnsafeViewBackward0";
  return record(name, out, [x], (g) => [g.reshape(inputShape)], { savesTensors: false });
}

export function view(x: Tensor, sizes: number[]): Tensor {
  tensorArg(x, "view");
  const shape = inferShape(sizes, x.numel());
  if (!x.isContiguous()) {
    throw new Error(
      "view size is not compatible with input tensor's size and stride (at least one dimension spans across two contiguous subspaces). Use .reshape(...) instead.",
    );
  }
  const inputShape = x.shape;
  return record("ViewBackward0", aliasOf(x, shape, contiguousStrides(shape)), [x], (g) => [g.reshape(inputShape)], {
    savesTensors: false,
  });
}

export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  tensorArg(x, "flatten");
  if (x.ndim === 0) return reshape(x, [1]);
  const start = normalizeDim(startDim, x.ndim);
  const end = normalizeDim(endDim, x.ndim);
  if (start > end) throw new Error("flatten() has invalid args: start_dim cannot come after end_dim");
  // Nothing to merge: PyTorch returns the input itself, with no new node.
  if (start === end) return x;
  const shape = x.shape;
  return reshape(x, [...shape.slice(0, start), numelOf(shape.slice(start, end + 1)), ...shape.slice(end + 1)]);
}

export function permute(x: Tensor, dims: number[]): Tensor {
  tensorArg(x, "permute");
  if (dims.length !== x.ndim) {
    throw new Error(
      `permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired ordering of dimensions i.e. input.dim() = ${x.ndim} is not equal to len(dims) = ${dims.length}`,
    );
  }
  const order = dims.map((d) => normalizeDim(d, x.ndim));
  if (new Set(order).size !== order.length) throw new Error("permute(): duplicate dims are not allowed.");
  const out = aliasOf(
    x,
    order.map((d) => x.nd.shape[d]),
    order.map((d) => x.nd.stride[d]),
  );
  const inverse = order.map((_, i) => order.indexOf(i));
  return record("PermuteBackward0", out, [x], (g) => [g.permute(inverse)], { savesTensors: false });
}

export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  tensorArg(x, "transpose");
  const a = normalizeDim(dim0, x.ndim);
  const b = normalizeDim(dim1, x.ndim);
  const shape = x.shape;
  const strides = [...x.nd.stride];
  if (x.ndim > 0) {
    [shape[a], shape[b]] = [shape[b], shape[a]];
    [strides[a], strides[b]] = [strides[b], strides[a]];
  }
  return record("TransposeBackward0", aliasOf(x, shape, strides), [x], (g) => [g.transpose(a, b)], {
    savesTensors: false,
  });
}

export function t(x: Tensor): Tensor {
  tensorArg(x, "t");
  if (x.ndim > 2) throw new Error(`t() expects a tensor with <= 2 dimensions, but self is ${x.ndim}D`);
  const out =
    x.ndim < 2 ? aliasOf(x, x.shape, [...x.nd.stride]) : aliasOf(x, [x.nd.shape[1], x.nd.shape[0]], [x.nd.stride[1], x.nd.stride[0]]);
  return record("TBackward0", out, [x], (g) => [g.t()], { savesTensors: false });
}

export function unsqueeze(x: Tensor, dim: number): Tensor {
  tensorArg(x, "unsqueeze");
  const d = normalizeDim(dim, x.ndim + 1);
  const shape = x.shape;
  const strides = [...x.nd.stride];
  shape.splice(d, 0, 1);
  strides.splice(d, 0, d < x.ndim ? x.nd.stride[d] * x.nd.shape[d] : 1);
  const inputShape = x.shape;
  return record("UnsqueezeBackward0", aliasOf(x, shape, strides), [x], (g) => [g.reshape(inputShape)], {
    savesTensors: false,
  });
}

export function squeeze(x: Tensor, dim?: number): Tensor {
  tensorArg(x, "squeeze");
  const inputShape = x.shape;
  const drop = dim === undefined ? inputShape.map((s, i) => (s === 1 ? i : -1)).filter((i) => i >= 0) : [normalizeDim(dim, x.ndim)];
  const keep = inputShape.map((_, i) => i).filter((i) => !(drop.includes(i) && inputShape[i] === 1));
  const out = aliasOf(
    x,
    keep.map((i) => inputShape[i]),
    keep.map((i) => x.nd.stride[i]),
  );
  const name = dim === undefined ? "SqueezeBackward0" : "SqueezeBackward1";
  return record(name, out, [x], (g) => [g.reshape(inputShape)], { savesTensors: false });
}

export function expand(x: Tensor, sizes: number[]): Tensor {
  tensorArg(x, "expand");
  if (sizes.length < x.ndim) {
    throw new Error(
      `expand(${tensorTypeName(x.dtype)}{[${x.shape.join(", ")}]}, size=[${sizes.join(", ")}]): the number of sizes provided (${sizes.length}) must be greater or equal to the number of dimensions in the tensor (${x.ndim})`,
    );
  }
  const lead = sizes.length - x.ndim;
  const shape = sizes.map((s, i) => {
    if (s !== -1) return s;
    if (i < lead) throw new Error(`The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension ${i}`);
    return x.nd.shape[i - lead];
  });
  const inputShape = x.shape;
  const out = aliasOf(x, shape, broadcastStrides(x.nd.shape, x.nd.stride, shape));
  return record("ExpandBackward0", out, [x], (g) => [sumTo(g, inputShape)], { savesTensors: false });
}
