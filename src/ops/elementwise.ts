/**
 * Element-wise arithmetic with NumPy broadcasting. Forward kernels run through ndarray-ops on
 * views whose broadcast dims have stride 0; a broadcast input's gradient is the output gradient
 * summed back to the input's shape (`sumTo`).
 */
import type { NdArray } from "ndarray";
import ops from "ndarray-ops";
import {
  type DType,
  type TypedArray,
  allocate,
  checkDtype,
  clearNegativeZeros,
  floatOf,
  isFloating,
  promoteTypes,
  promoteWithScalar,
  rounderFor,
  toInt64,
} from "../dtype";
import { broadcastShapes, broadcastStrides, contiguousStrides, numelOf, sameShape } from "../shape";
import { record } from "../autograd/node";
import { ndview } from "../ndview";
import { Tensor } from "../tensor-core";
import type { Operand } from "../tensor";
import { sum } from "./reduction";
import { invalidCombination, numberArg, operandArg, tensorArg } from "../arguments";
import { checkOptions, isOptionsObject, optionKeys } from "../options";

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

/**
 * A new contiguous tensor of `shape` filled by `kernel(outView, ...inputViews)`. int64 results are
 * exact integers up to 2^53 in doubles; only the sign of a zero (0 * -1) needs undoing.
 */
function compute(shape: readonly number[], dtype: DType, kernel: NdKernel, ...inputs: Array<Tensor | number>): Tensor {
  const out = allocate(dtype, numelOf(shape));
  const element = ELEMENTS.get(kernel);
  if (element !== undefined && flatOperands(out.length, inputs)) {
    computeFlat(out, element, inputs[0] as Tensor, inputs.length > 1 ? inputs[1] : undefined);
  } else if (out.length > 0) {
    const outView = shape.length ? ndview(out, shape, contiguousStrides(shape)) : ndview(out, [1], [1]);
    kernel(outView, ...inputs.map((x) => (typeof x === "number" ? x : broadcastView(x, shape))));
  }
  if (dtype === "int64") clearNegativeZeros(out);
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

const BOOL_SUBTRACTION =
  "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.";

/**
 * The shape and dtype of `a op b`, and `b` as the op computes with it: a JavaScript boolean (which
 * PyTorch takes as a bool scalar, keeping the tensor's dtype) becomes the number 0 or 1.
 */
function resultOf(a: Tensor, b: Operand, name: string): { shape: number[]; dtype: DType; other: Operand } {
  tensorArg(a, name, "input", 1);
  operandArg(b, name, name === "pow" ? "exponent" : "other", 2);
  if (
    (name === "sub" || name === "rsub") &&
    (a.dtype === "bool" || typeof b === "boolean" || (b instanceof Tensor && b.dtype === "bool"))
  ) {
    throw new Error(BOOL_SUBTRACTION);
  }
  if (typeof b !== "number" && typeof b !== "boolean") {
    return { shape: broadcastShapes(a.nd.shape, b.nd.shape), dtype: promoteTypes(a.dtype, b.dtype), other: b };
  }
  return { shape: a.shape, dtype: promoteWithScalar(a.dtype, b), other: Number(b) };
}

/** An integer result cannot take a fractional alpha (PyTorch refuses rather than truncate it). */
function checkAlpha(dtype: DType, alpha: number): void {
  if (!isFloating(dtype) && !Number.isInteger(alpha)) {
    throw new Error("For integral input tensors, argument alpha must not be a floating point number.");
  }
}

export function add(a: Tensor, operand: Operand, alpha = 1): Tensor {
  const { shape, dtype, other: b } = resultOf(a, operand, "add");
  checkAlpha(dtype, alpha);
  if (typeof b === "number") {
    const out = compute(shape, dtype, ops.adds as NdKernel, a, b * alpha);
    return record("AddBackward0", out, [a], (g) => [g], { savesTensors: false });
  }
  const out = alpha === 1 ? compute(shape, dtype, ops.add as NdKernel, a, b) : compute(shape, dtype, addScaled, a, b, alpha);
  return record("AddBackward0", out, [a, b], (g) => [sumTo(g, a.shape), sumTo(alpha === 1 ? g : g.mul(alpha), b.shape)], {
    savesTensors: false,
  });
}

export function sub(a: Tensor, operand: Operand, alpha = 1): Tensor {
  const { shape, dtype, other: b } = resultOf(a, operand, "sub");
  checkAlpha(dtype, alpha);
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
export function rsub(a: Tensor, operand: Operand, alpha = 1): Tensor {
  const { shape, dtype, other } = resultOf(a, operand, "rsub");
  checkAlpha(dtype, alpha);
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

export function mul(a: Tensor, operand: Operand): Tensor {
  const { shape, dtype, other: b } = resultOf(a, operand, "mul");
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

export interface DivOptions {
  /** "trunc" or "floor": the quotient rounded, in the inputs' promoted dtype (int64 stays int64). */
  roundingMode?: "trunc" | "floor" | null;
}

const DIV_OPTIONS = optionKeys<DivOptions>({ roundingMode: true });

/**
 * True division: integer inputs give float32, as `torch.div` does, each integer converted to
 * float32 first (as PyTorch converts its operands), then divided. With a `roundingMode`, the
 * rounded quotient (`roundedDiv`).
 */
export function div(a: Tensor, operand: Operand, options: DivOptions = {}): Tensor {
  checkOptions("div", options, DIV_OPTIONS);
  const mode = options.roundingMode ?? null;
  if (mode !== null) return roundedDiv(a, operand, mode);
  const { shape, dtype, other: b } = resultOf(a, operand, "div");
  const outDtype = floatOf(dtype);
  const asFloat = (t: Tensor): Tensor => (isFloating(t.dtype) ? t : toDtype(t, outDtype));
  if (typeof b === "number") {
    const divisor = isFloating(a.dtype) ? b : rounderFor(outDtype)(b);
    const out = compute(shape, outDtype, ops.divs as NdKernel, asFloat(a), divisor);
    return record("DivBackward0", out, [a], (g) => [g.div(b)], { savesTensors: false });
  }
  const out = compute(shape, outDtype, ops.div as NdKernel, asFloat(a), asFloat(b));
  // d/db (a / b) = -a / b^2, computed as PyTorch does: -g * ((a / b) / b).
  return record(
    "DivBackward0",
    out,
    [a, b],
    (g) => [a.requiresGrad ? sumTo(g.div(b), a.shape) : null, b.requiresGrad ? sumTo(g.neg().mul(a.div(b).div(b)), b.shape) : null],
    { saved: [b, b.requiresGrad ? a : null] },
  );
}

/** C's integer power, which PyTorch's int64 pow is: a negative exponent gives 0 unless the base is 1 or -1. */
function integerPow(base: number, exponent: number): number {
  if (exponent >= 0) return base ** exponent;
  return base === 1 ? 1 : base === -1 ? (exponent % 2 === 0 ? 1 : -1) : 0;
}

/**
 * PyTorch's floor division of floats (Python's): from the exact remainder fmod(a, b), so that
 * a // b agrees with a % b; each step rounded to the dtype by `round`. b = 0 gives a / b.
 */
function floorQuotient(a: number, b: number, round: (v: number) => number): number {
  if (b === 0) return a / b;
  const mod = a % b;
  let quotient = round(round(a - mod) / b);
  if (mod !== 0 && b < 0 !== mod < 0) quotient = round(quotient - 1);
  if (quotient === 0) return a / b < 0 || Object.is(a / b, -0) ? -0 : 0;
  const floored = Math.floor(quotient);
  return quotient - floored > 0.5 ? floored + 1 : floored;
}

/**
 * `div(a, b, {roundingMode})`: the quotient truncated or floored, in the promoted dtype. For
 * int64 a / b in doubles is exact enough: below 2^53 it never rounds onto the next integer, so
 * truncating or flooring it is C's integer division (or Python's floor division). Dividing an
 * integer by zero is refused, as in PyTorch; its gradient is zero (DivBackward2).
 */
function roundedDiv(a: Tensor, operand: Operand, mode: string): Tensor {
  if (mode !== "trunc" && mode !== "floor") {
    throw new Error(`div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '${mode}'`);
  }
  const { shape, dtype, other: b } = resultOf(a, operand, "div");
  if (dtype === "bool") throw new Error(`"div_${mode}_cpu" not implemented for 'Bool'`);
  const divisor = typeof b === "number" ? scalarTensor(b, dtype) : b;
  const round = rounderFor(dtype);
  const integral = dtype === "int64";
  if (integral && divisor.toArray().includes(0)) throw new Error("ZeroDivisionError");
  const quotient =
    mode === "trunc"
      ? (x: number, y: number) => Math.trunc(integral ? x / y : round(x / y))
      : (x: number, y: number) => (integral ? Math.floor(x / y) : floorQuotient(x, y, round));
  const out = mapUnary(broadcastTo(a, shape), dtype, (v, i, d) => quotient(round(v), round(d[i])), divisor);
  const zerosLike = (t: Tensor): Tensor => Tensor.fromArray(allocate(t.dtype, t.numel()), t.shape, t.dtype);
  const inputs = typeof b === "number" ? [a] : [a, b];
  return record("DivBackward2", out, inputs, () => inputs.map(zerosLike), { savesTensors: false });
}

export function pow(a: Tensor, operand: Operand): Tensor {
  const { shape, dtype, other: exponent } = resultOf(a, operand, "pow");
  if (typeof exponent === "number") {
    if (dtype === "int64" && exponent < 0) throw new Error("Integers to negative integer powers are not allowed.");
    const out = compute(shape, dtype, ops.pows as NdKernel, a, exponent);
    // d/da a^p = p * a^(p-1); p = 0 gives exactly 0, as in PyTorch.
    return record("PowBackward0", out, [a], (g) => [exponent === 0 ? g.mul(0) : g.mul(a.pow(exponent - 1)).mul(exponent)], {
      saved: [a],
    });
  }
  const out =
    dtype === "int64"
      ? mapUnary(broadcastTo(a, shape), dtype, (v, i, e) => integerPow(v, e[i]), exponent)
      : compute(shape, dtype, ops.pow as NdKernel, a, exponent);
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
  if (dtype === "int64") clearNegativeZeros(out);
  return Tensor.fromArray(out, x.shape, dtype);
}

function broadcastTo(t: Tensor, shape: readonly number[]): Tensor {
  return sameShape(t.nd.shape, shape) ? t : new Tensor(broadcastView(t, shape), t.dtype).contiguous();
}

export function neg(x: Tensor): Tensor {
  tensorArg(x, "neg");
  if (x.dtype === "bool")
    throw new Error(
      "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.",
    );
  const out = compute(x.shape, x.dtype, ops.neg as NdKernel, x);
  return record("NegBackward0", out, [x], (g) => [g.neg()], { savesTensors: false });
}

export function exp(x: Tensor): Tensor {
  tensorArg(x, "exp");
  const out = compute(x.shape, floatOf(x.dtype), ops.exp as NdKernel, x);
  return record("ExpBackward0", out, [x], (g) => [g.mul(out)], { saved: [out] });
}

export function log(x: Tensor): Tensor {
  tensorArg(x, "log");
  const out = compute(x.shape, floatOf(x.dtype), ops.log as NdKernel, x);
  return record("LogBackward0", out, [x], (g) => [g.div(x)], { saved: [x] });
}

export function sqrt(x: Tensor): Tensor {
  tensorArg(x, "sqrt");
  const out = compute(x.shape, floatOf(x.dtype), ops.sqrt as NdKernel, x);
  return record("SqrtBackward0", out, [x], (g) => [g.div(out.mul(2))], { saved: [out] });
}

export function abs(x: Tensor): Tensor {
  tensorArg(x, "abs");
  const out = compute(x.shape, x.dtype, ops.abs as NdKernel, x);
  // sign(x), with sign(0) = 0 as in PyTorch.
  return record("AbsBackward0", out, [x], (g) => [g.mul(mapUnary(x, g.dtype, (v) => (v > 0 ? 1 : v < 0 ? -1 : 0)))], { saved: [x] });
}

export interface ClampOptions {
  min?: number | null;
  max?: number | null;
}

/**
 * Clamps into [min, max]; the gradient passes where min <= x <= max (bounds included, as in
 * PyTorch). The bounds come as numbers, or as PyTorch's keywords: `clamp(x, {min: 0})`.
 */
export function clamp(x: Tensor, min?: number | null | ClampOptions, max?: number | null): Tensor {
  tensorArg(x, "clamp");
  if (isOptionsObject(min)) {
    checkOptions("clamp", min, ["min", "max"]);
    if (max !== undefined) throw invalidCombination("clamp", [min, max], "(min?: number, max?: number) or ({min?, max?})");
    ({ min, max } = min);
  }
  if (min !== undefined && min !== null) numberArg(min, "clamp", "min");
  if (max !== undefined && max !== null) numberArg(max, "clamp", "max");
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
  tensorArg(x, "to");
  if (x.dtype === dtype) return x;
  checkDtype(dtype);
  // A plain copy, except where the value itself changes: to bool (nonzero), float to int64 (truncated).
  const out =
    dtype === "bool" || (dtype === "int64" && isFloating(x.dtype))
      ? mapUnary(x, dtype, dtype === "bool" ? (v) => (v !== 0 ? 1 : 0) : toInt64)
      : compute(x.shape, dtype, ops.assign as NdKernel, x);
  if (!isFloating(dtype)) return out;
  return record("ToCopyBackward0", out, [x], (g) => [g.toDtype(x.dtype)], { savesTensors: false });
}
