/**
 * Element-wise arithmetic with NumPy broadcasting. Forward kernels run through ndarray-ops on
 * views whose broadcast dims have stride 0; a broadcast input's gradient is the output gradient
 * summed back to the input's shape (`sumTo`).
 */
import type { NdArray } from "ndarray";
import ops from "ndarray-ops";
import { type DType, type TypedArray, allocate, floatOf, isFloating, promoteTypes, promoteWithScalar, rounderFor } from "../dtype";
import { broadcastShapes, broadcastStrides, contiguousStrides, numelOf, sameShape } from "../shape";
import { record } from "../autograd/node";
import { ndview } from "../ndview";
import { Tensor } from "../tensor-core";
import type { Operand } from "../tensor";
import { sum } from "./reduction";

type NdKernel = (out: NdArray<TypedArray>, ...args: Array<NdArray<TypedArray> | number>) => void;

/** `t` read as `shape` (stride 0 along broadcast dims); 0-d becomes shape [1] for ndarray-ops. */
export function broadcastView(t: Tensor, shape: readonly number[]): NdArray<TypedArray> {
  if (shape.length === 0) return ndview(t.nd.data, [1], [0], t.nd.offset);
  return ndview(t.nd.data, shape, broadcastStrides(t.nd.shape, t.nd.stride, shape), t.nd.offset);
}

/** The arithmetic of one element of an ndarray-ops kernel (a unary one ignores `y`): its small-operand form. */
type Element = (x: number, y: number) => number;

const ELEMENTS = new Map<NdKernel, Element>([
  [ops.add as NdKernel, (x, y) => x + y],
  [ops.adds as NdKernel, (x, s) => x + s],
  [ops.subs as NdKernel, (x, s) => x - s],
  [ops.mul as NdKernel, (x, y) => x * y],
  [ops.muls as NdKernel, (x, s) => x * s],
  [ops.div as NdKernel, (x, y) => x / y],
  [ops.divs as NdKernel, (x, s) => x / s],
  [ops.pow as NdKernel, Math.pow],
  [ops.pows as NdKernel, Math.pow],
  [ops.neg as NdKernel, (x) => -x],
  [ops.exp as NdKernel, Math.exp],
  [ops.log as NdKernel, Math.log],
  [ops.sqrt as NdKernel, Math.sqrt],
  [ops.abs as NdKernel, Math.abs],
]);

/**
 * Up to this many elements, operands that need no broadcasting skip ndarray-ops: its views and
 * per-call set-up cost more than a few elements' arithmetic (a small model's ops, a scalar graph).
 */
const FLAT_LIMIT = 64;

/** Whether `inputs` (a tensor, then an optional tensor or number) are contiguous with `n` elements each, read in the output's order. */
function flatOperands(n: number, inputs: Array<Tensor | number>): boolean {
  if (n > FLAT_LIMIT || inputs.length > 2) return false;
  const a = inputs[0];
  const b = inputs.length > 1 ? inputs[1] : undefined;
  if (typeof a === "number" || !a.isContiguous() || a.numel() !== n) return false;
  return b instanceof Tensor ? b.isContiguous() && b.numel() === n : b === undefined || typeof b === "number";
}

/** out[i] = element(a[i], b[i] or the number b), stored into out's typed array as ndarray-ops stores it. */
function computeFlat(out: TypedArray, element: Element, a: Tensor, b: Tensor | number | undefined): void {
  const x = a.nd.data;
  const xo = a.nd.offset;
  if (b instanceof Tensor) {
    const y = b.nd.data;
    const yo = b.nd.offset;
    for (let i = 0; i < out.length; i++) out[i] = element(x[xo + i], y[yo + i]);
  } else {
    const s = b ?? 0;
    for (let i = 0; i < out.length; i++) out[i] = element(x[xo + i], s);
  }
}

/** A new contiguous tensor of `shape` filled by `kernel(outView, ...inputViews)`. */
function compute(shape: readonly number[], dtype: DType, kernel: NdKernel, ...inputs: Array<Tensor | number>): Tensor {
  const out = allocate(dtype, numelOf(shape));
  const element = ELEMENTS.get(kernel);
  if (element !== undefined && flatOperands(out.length, inputs)) {
    computeFlat(out, element, inputs[0] as Tensor, inputs.length > 1 ? inputs[1] : undefined);
  } else if (out.length > 0) {
    const outView = shape.length ? ndview(out, shape, contiguousStrides(shape)) : ndview(out, [1], [1]);
    kernel(outView, ...inputs.map((x) => (typeof x === "number" ? x : broadcastView(x, shape))));
  }
  return Tensor.fromArray(out, shape, dtype);
}

/** Sums a broadcast gradient back down to `shape` (leading dims and dims of size 1). */
export function sumTo(grad: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(grad.nd.shape, shape)) return grad;
  const lead = grad.ndim - shape.length;
  const dims: number[] = [];
  grad.nd.shape.forEach((size, i) => {
    if (i < lead || (shape[i - lead] === 1 && size !== 1)) dims.push(i);
  });
  const reduced = dims.length ? sum(grad, dims, true) : grad;
  return reduced.reshape([...shape]);
}

export function scalarTensor(value: number, dtype: DType): Tensor {
  const data = allocate(dtype, 1);
  data[0] = value;
  return Tensor.fromArray(data, [], dtype);
}

function checkOperand(x: unknown, name: string): void {
  if (!(x instanceof Tensor) && typeof x !== "number" && typeof x !== "boolean") {
    throw new TypeError(`${name}(): argument 'other' must be a Tensor or a number, not ${x === null ? "null" : typeof x}`);
  }
}

/** Broadcast shape and promoted dtype of `a op b`, b a tensor or a plain number. */
function resultOf(a: Tensor, b: Operand, name: string): { shape: number[]; dtype: DType } {
  checkOperand(b, name);
  if (typeof b !== "number" && typeof b !== "boolean") {
    return { shape: broadcastShapes(a.nd.shape, b.nd.shape), dtype: promoteTypes(a.dtype, b.dtype) };
  }
  return { shape: a.shape, dtype: promoteWithScalar(a.dtype, b) };
}

export function add(a: Tensor, b: Operand, alpha = 1): Tensor {
  const { shape, dtype } = resultOf(a, b, "add");
  if (typeof b === "number") {
    const out = compute(shape, dtype, ops.adds as NdKernel, a, b * alpha);
    return record("AddBackward0", out, [a], (g) => [g], { savesTensors: false });
  }
  const out = alpha === 1 ? compute(shape, dtype, ops.add as NdKernel, a, b) : compute(shape, dtype, addScaled, a, b, alpha);
  return record("AddBackward0", out, [a, b], (g) => [sumTo(g, a.shape), sumTo(alpha === 1 ? g : g.mul(alpha), b.shape)], {
    savesTensors: false,
  });
}

export function sub(a: Tensor, b: Operand, alpha = 1): Tensor {
  const { shape, dtype } = resultOf(a, b, "sub");
  if (typeof b === "number") {
    const out = compute(shape, dtype, ops.subs as NdKernel, a, b * alpha);
    return record("SubBackward0", out, [a], (g) => [g], { savesTensors: false });
  }
  const out = compute(shape, dtype, addScaled, a, b, -alpha);
  return record("SubBackward0", out, [a, b], (g) => [sumTo(g, a.shape), sumTo(g.mul(-alpha), b.shape)], {
    savesTensors: false,
  });
}

/** `other - alpha * input`: what PyTorch records for `1 - p` (RsubBackward1) or `b - a` written this way. */
export function rsub(a: Tensor, other: Operand, alpha = 1): Tensor {
  const { shape, dtype } = resultOf(a, other, "rsub");
  if (typeof other === "number") {
    const out = compute(shape, dtype, addScaled, scalarTensor(other, dtype), a, -alpha);
    return record("RsubBackward1", out, [a], (g) => [g.mul(-alpha)], { savesTensors: false });
  }
  const out = compute(shape, dtype, addScaled, other, a, -alpha);
  return record("RsubBackward0", out, [a, other], (g) => [sumTo(g.mul(-alpha), a.shape), sumTo(g, other.shape)], {
    savesTensors: false,
  });
}

const addScaled: NdKernel = (out, a, b, alpha) => {
  ops.muls(out, b as NdArray<TypedArray>, alpha as number);
  ops.addeq(out, a as NdArray<TypedArray>);
};

export function mul(a: Tensor, b: Operand): Tensor {
  const { shape, dtype } = resultOf(a, b, "mul");
  if (typeof b === "number") {
    const out = compute(shape, dtype, ops.muls as NdKernel, a, b);
    return record("MulBackward0", out, [a], (g) => [g.mul(b)], { savesTensors: false });
  }
  const out = compute(shape, dtype, ops.mul as NdKernel, a, b);
  return record(
    "MulBackward0",
    out,
    [a, b],
    (g) => [a.requiresGrad ? sumTo(g.mul(b), a.shape) : null, b.requiresGrad ? sumTo(g.mul(a), b.shape) : null],
    { saved: [a.requiresGrad ? b : null, b.requiresGrad ? a : null] },
  );
}

/** True division: integer inputs give float32, as `torch.div` does. */
export function div(a: Tensor, b: Operand): Tensor {
  const { shape, dtype } = resultOf(a, b, "div");
  const outDtype = floatOf(dtype);
  if (typeof b === "number") {
    const out = compute(shape, outDtype, ops.divs as NdKernel, a, b);
    return record("DivBackward0", out, [a], (g) => [g.div(b)], { savesTensors: false });
  }
  const out = compute(shape, outDtype, ops.div as NdKernel, a, b);
  // d/db (a / b) = -a / b^2, computed as PyTorch does: -g * ((a / b) / b).
  return record(
    "DivBackward0",
    out,
    [a, b],
    (g) => [a.requiresGrad ? sumTo(g.div(b), a.shape) : null, b.requiresGrad ? sumTo(g.neg().mul(a.div(b).div(b)), b.shape) : null],
    { saved: [b, b.requiresGrad ? a : null] },
  );
}

export function pow(a: Tensor, exponent: Operand): Tensor {
  const { shape, dtype } = resultOf(a, exponent, "pow");
  if (typeof exponent === "number") {
    const out = compute(shape, dtype, ops.pows as NdKernel, a, exponent);
    // d/da a^p = p * a^(p-1); p = 0 gives exactly 0, as in PyTorch.
    return record("PowBackward0", out, [a], (g) => [exponent === 0 ? g.mul(0) : g.mul(a.pow(exponent - 1)).mul(exponent)], {
      saved: [a],
    });
  }
  const out = compute(shape, dtype, ops.pow as NdKernel, a, exponent);
  return record(
    "PowBackward1",
    out,
    [a, exponent],
    (g) => [
      a.requiresGrad ? sumTo(g.mul(exponent).mul(a.pow(exponent.sub(1))), a.shape) : null,
      // d/db a^b = a^b * log(a), defined as 0 where a^b is 0 (PyTorch masks a == 0 with b >= 0).
      exponent.requiresGrad ? sumTo(g.mul(powExponentFactor(a, out)), exponent.shape) : null,
    ],
    { saved: [a, exponent, out] },
  );
}

/**
 * a^b * log(a), 0 where a^b is 0, in ops so that it can be differentiated again: the masks are
 * constants, and log reads a + 1 where the result is 0 so that no log(0) enters the graph.
 */
function powExponentFactor(a: Tensor, out: Tensor): Tensor {
  const zero = mapUnary(out, out.dtype, (v) => (v === 0 ? 1 : 0));
  const nonZero = mapUnary(out, out.dtype, (v) => (v === 0 ? 0 : 1));
  return out.mul(a.add(zero).log()).mul(nonZero);
}

/** An element-wise map of a contiguous copy of `x` (with an optional second same-shape input). */
export function mapUnary(x: Tensor, dtype: DType, fn: (v: number, i: number, other: TypedArray) => number, other?: Tensor): Tensor {
  const src = x.toArray();
  const second = other ? broadcastTo(other, x.shape).toArray() : src;
  const out = allocate(dtype, src.length);
  for (let i = 0; i < src.length; i++) out[i] = fn(src[i], i, second);
  return Tensor.fromArray(out, x.shape, dtype);
}

function broadcastTo(t: Tensor, shape: readonly number[]): Tensor {
  return sameShape(t.nd.shape, shape) ? t : new Tensor(broadcastView(t, shape), t.dtype).contiguous();
}

export function neg(x: Tensor): Tensor {
  if (x.dtype === "bool")
    throw new Error(
      "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.",
    );
  const out = compute(x.shape, x.dtype, ops.neg as NdKernel, x);
  return record("NegBackward0", out, [x], (g) => [g.neg()], { savesTensors: false });
}

export function exp(x: Tensor): Tensor {
  const out = compute(x.shape, floatOf(x.dtype), ops.exp as NdKernel, x);
  return record("ExpBackward0", out, [x], (g) => [g.mul(out)], { saved: [out] });
}

export function log(x: Tensor): Tensor {
  const out = compute(x.shape, floatOf(x.dtype), ops.log as NdKernel, x);
  return record("LogBackward0", out, [x], (g) => [g.div(x)], { saved: [x] });
}

export function sqrt(x: Tensor): Tensor {
  const out = compute(x.shape, floatOf(x.dtype), ops.sqrt as NdKernel, x);
  return record("SqrtBackward0", out, [x], (g) => [g.div(out.mul(2))], { saved: [out] });
}

export function abs(x: Tensor): Tensor {
  const out = compute(x.shape, x.dtype, ops.abs as NdKernel, x);
  // sign(x), with sign(0) = 0 as in PyTorch.
  return record("AbsBackward0", out, [x], (g) => [g.mul(mapUnary(x, g.dtype, (v) => (v > 0 ? 1 : v < 0 ? -1 : 0)))], { saved: [x] });
}

/** Clamps into [min, max]; the gradient passes where min <= x <= max (bounds included, as in PyTorch). */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  if ((min ?? null) === null && (max ?? null) === null) throw new Error("torch.clamp: At least one of 'min' or 'max' must not be None");
  const dtype = [min, max].some((b) => b !== null && b !== undefined && !Number.isInteger(b)) ? floatOf(x.dtype) : x.dtype;
  // PyTorch casts the bounds to the computation's dtype first: in float32, 0.3 is 0.30000001192...
  const cast = (b: number | null | undefined): number | null => (b === null || b === undefined ? null : rounderFor(dtype)(b));
  const lo = cast(min);
  const hi = cast(max);
  const out = mapUnary(x, dtype, (v) => {
    if (Number.isNaN(v)) return v;
    if (lo !== null && v < lo) v = lo;
    if (hi !== null && v > hi) v = hi;
    return v;
  });
  return record(
    "ClampBackward1",
    out,
    [x],
    (g) => [g.mul(mapUnary(x, g.dtype, (v) => ((lo === null || v >= lo) && (hi === null || v <= hi) ? 1 : 0)))],
    {
      saved: [x],
    },
  );
}

/** A copy converted to `dtype` (the same tensor when it already has it); differentiable between floats. */
export function toDtype(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  const out = compute(x.shape, dtype, ops.assign as NdKernel, x);
  if (dtype === "bool") {
    const data = out.nd.data;
    const src = x.toArray();
    for (let i = 0; i < data.length; i++) data[i] = src[i] !== 0 ? 1 : 0;
  }
  if (!isFloating(dtype)) return out;
  return record("ToCopyBackward0", out, [x], (g) => [g.toDtype(x.dtype)], { savesTensors: false });
}
