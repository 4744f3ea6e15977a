/**
 * Comparisons (`eq ne gt ge lt le`), logic (`logicalNot/And/Or`) and the NaN tests, which give
 * bool tensors and no gradient, and the element-wise `maximum`/`minimum`, which do have one.
 * Operands meet in PyTorch's common dtype (`resultType`) before they are compared: a float32
 * tensor equals the number 0.1 because 0.1 is first rounded to float32, as in PyTorch.
 */
import { type DType, type TypedArray, allocate, isFloating, promoteTypes, rounderFor } from "../dtype";
import { broadcastShapes, numelOf, sameShape } from "../shape";
import { record } from "../autograd/node";
import { Tensor } from "../tensor-core";
import { broadcastView, mapUnary, sumTo } from "./elementwise";
import { notTensor, typeName } from "../arguments";

/** A Python scalar as JavaScript spells it. */
export type Scalar = number | boolean;
/** An operand of a comparison or of `where`: a tensor or a scalar. */
export type Value = Tensor | Scalar;

// ---- promotion ------------------------------------------------------------------------------

/** The dtype PyTorch wraps a Python scalar into: bool, int64, or the default float dtype. */
function scalarDtype(v: Scalar): DType {
  if (typeof v === "boolean") return "bool";
  return Number.isInteger(v) ? "int64" : "float32";
}

/**
 * PyTorch's combine_categories: the higher tier's dtype wins unless the lower tier is of a
 * higher category (bool < integer < floating), in which case the two are promoted.
 */
function combine(higher: DType | null, lower: DType | null): DType | null {
  if (higher === null) return lower;
  if (lower === null || isFloating(higher)) return higher;
  if (higher === "bool" || isFloating(lower)) return promoteTypes(higher, lower);
  return higher;
}

/**
 * PyTorch's result_type: tensors with dims outrank 0-d tensors, which outrank scalars, within a
 * category: `float32 tensor` with a 0-d float64 tensor stays float32, an int64 tensor with 0.5
 * becomes float32.
 */
export function resultType(operands: readonly Value[]): DType {
  const tiers: Array<DType | null> = [null, null, null];
  for (const v of operands) {
    const tier = v instanceof Tensor ? (v.ndim > 0 ? 0 : 1) : 2;
    const dtype = v instanceof Tensor ? v.dtype : scalarDtype(v);
    tiers[tier] = tiers[tier] === null ? dtype : promoteTypes(tiers[tier]!, dtype);
  }
  return combine(tiers[0], combine(tiers[1], tiers[2])) ?? "float32";
}

// ---- arguments ------------------------------------------------------------------------------

/** PyTorch's message for a non-tensor where its signature takes only a tensor. */
export function requireTensor(v: unknown, fn: string, arg: string, position: number): Tensor {
  if (v instanceof Tensor) return v;
  throw notTensor(fn, arg, position, v);
}

/** PyTorch's message for an operand that is neither a tensor nor a number (its two overloads). */
function requireValue(v: unknown, fn: string): Value {
  if (v instanceof Tensor || typeof v === "number" || typeof v === "boolean") return v;
  const type = typeName(v);
  const mismatch = `      didn't match because some of the arguments have invalid types: (!${type}!)\n`;
  throw new TypeError(
    `${fn}() received an invalid combination of arguments - got (${type}), but expected one of:\n` +
      ` * (Tensor other)\n${mismatch} * (Number other)\n${mismatch}`,
  );
}

// ---- element loops ----------------------------------------------------------------------------

/** `t`'s values read as `shape` (broadcast) in row-major order; its own storage when nothing moves (read-only). */
export function valuesAs(t: Tensor, shape: readonly number[]): TypedArray {
  if (sameShape(t.nd.shape, shape)) return t.toArray();
  return new Tensor(broadcastView(t, shape), t.dtype).toArray();
}

type Cast = (x: number) => number;
const asIs: Cast = (x) => x;

/** Reads element `i` of an operand broadcast to `shape`, converted as `cast` says. */
function reader(v: Value, shape: readonly number[], cast: Cast): (i: number) => number {
  if (!(v instanceof Tensor)) {
    const value = cast(Number(v));
    return () => value;
  }
  const values = valuesAs(v, shape);
  return (i) => cast(values[i]);
}

/** A new tensor of `shape` and `dtype` with `fn(a[i], b[i])`, both operands first converted by `cast`. */
function zip(shape: number[], dtype: DType, cast: Cast, a: Value, b: Value, fn: (x: number, y: number) => number): Tensor {
  const x = reader(a, shape, cast);
  const y = reader(b, shape, cast);
  const out = allocate(dtype, numelOf(shape));
  for (let i = 0; i < out.length; i++) out[i] = fn(x(i), y(i));
  return Tensor.fromArray(out, shape, dtype);
}

function shapeOf(a: Tensor, b: Value): number[] {
  return b instanceof Tensor ? broadcastShapes(a.nd.shape, b.nd.shape) : a.shape;
}

// ---- comparisons ------------------------------------------------------------------------------

function comparison(name: string, test: (x: number, y: number) => boolean): (a: Tensor, b: Value) => Tensor {
  return (a, b) => {
    requireTensor(a, name, "input", 1);
    requireValue(b, name);
    return zip(shapeOf(a, b), "bool", rounderFor(resultType([a, b])), a, b, (x, y) => (test(x, y) ? 1 : 0));
  };
}

/** Element-wise `a == b` as a bool tensor; `b` a tensor (broadcast) or a number. */
export const eq = comparison("eq", (x, y) => x === y);
/** Element-wise `a != b` (true where either is NaN). */
export const ne = comparison("ne", (x, y) => x !== y);
export const gt = comparison("gt", (x, y) => x > y);
export const ge = comparison("ge", (x, y) => x >= y);
export const lt = comparison("lt", (x, y) => x < y);
export const le = comparison("le", (x, y) => x <= y);

// ---- logic and NaN tests -----------------------------------------------------------------------

/** An element-wise test of one tensor, as a bool tensor. */
function predicate(name: string, holds: (v: number) => boolean): (x: Tensor) => Tensor {
  return (x) => mapUnary(requireTensor(x, name, "input", 1), "bool", (v) => (holds(v) ? 1 : 0));
}

/** True where `x` is zero (NaN is not zero, so it is false there). */
export const logicalNot = predicate("logical_not", (v) => v === 0);

function logical(name: string, test: (x: boolean, y: boolean) => boolean): (a: Tensor, b: Tensor) => Tensor {
  return (a, b) => {
    requireTensor(a, name, "input", 1);
    requireTensor(b, name, "other", 2);
    return zip(shapeOf(a, b), "bool", asIs, a, b, (x, y) => (test(x !== 0, y !== 0) ? 1 : 0));
  };
}

export const logicalAnd = logical("logical_and", (x, y) => x && y);
export const logicalOr = logical("logical_or", (x, y) => x || y);

export const isnan = predicate("isnan", (v) => Number.isNaN(v));
export const isinf = predicate("isinf", (v) => v === Infinity || v === -Infinity);
export const isfinite = predicate("isfinite", (v) => Number.isFinite(v));

// ---- maximum / minimum ---------------------------------------------------------------------------

/** A gradient `g` of a broadcast result, summed back to `t`'s shape and given `t`'s dtype. */
export function gradFor(t: Tensor, g: Tensor): Tensor {
  const reduced = sumTo(g, t.shape);
  return reduced.dtype === t.dtype ? reduced : reduced.toDtype(t.dtype);
}

/**
 * PyTorch's maximum/minimum gradient for one side: `g`, halved where the two are equal, zero
 * where this side lost (`where(a == b, g / 2, g).masked_fill_(lost, 0)`). Where either is NaN
 * nothing is equal and nothing lost, so both sides get all of `g`, as in PyTorch.
 */
function tieSplit(g: Tensor, tie: Tensor, lost: Tensor): Tensor {
  return g.div(2).where(tie, g).where(lost.logicalNot(), 0);
}

function extremum(
  name: string,
  node: string,
  pick: (x: number, y: number) => number,
  loses: (a: Tensor, b: Tensor) => Tensor,
): (a: Tensor, b: Tensor) => Tensor {
  return (a, b) => {
    requireTensor(a, name, "input", 1);
    requireTensor(b, name, "other", 2);
    const dtype = resultType([a, b]);
    const out = zip(shapeOf(a, b), dtype, rounderFor(dtype), a, b, (x, y) => (Number.isNaN(x) || Number.isNaN(y) ? NaN : pick(x, y)));
    return record(
      node,
      out,
      [a, b],
      (g) => {
        const tie = a.eq(b);
        return [
          a.requiresGrad ? gradFor(a, tieSplit(g, tie, loses(a, b))) : null,
          b.requiresGrad ? gradFor(b, tieSplit(g, tie, loses(b, a))) : null,
        ];
      },
      { saved: [a, b] },
    );
  };
}

/** The element-wise larger of `a` and `b` (NaN if either is); ties split the gradient in half. */
export const maximum = extremum("maximum", "MaximumBackward0", (x, y) => (x < y ? y : x), lt);
/** The element-wise smaller of `a` and `b` (NaN if either is); ties split the gradient in half. */
export const minimum = extremum("minimum", "MinimumBackward0", (x, y) => (y < x ? y : x), gt);
