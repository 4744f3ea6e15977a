/** The four dtypes torchlet knows and the typed arrays that hold them. */
export type DType = "float32" | "float64" | "int64" | "bool";
export type TypedArray = Float32Array | Float64Array | Uint8Array;

export const DTYPES: readonly DType[] = ["float32", "float64", "int64", "bool"];

/**
 * int64 lives in a Float64Array that only ever holds integers: every integer up to 2^53 in
 * magnitude is exact, which covers any index, count or id a tensor here can hold. PyTorch wraps
 * at 2^63; results beyond 2^53 round as float64 arithmetic does instead (see README).
 */
export function allocate(dtype: DType, length: number): TypedArray {
  switch (dtype) {
    case "float32":
      return new Float32Array(length);
    case "float64":
      return new Float64Array(length);
    case "int64":
      return new Float64Array(length);
    case "bool":
      return new Uint8Array(length);
  }
}

/**
 * What `Tensor.fromArray` takes besides the storage types: an Int32Array of indices for an int64
 * tensor, which it copies into int64's storage.
 */
export type IndexArray = TypedArray | Int32Array;

/**
 * The largest magnitude int64 storage holds exactly, 2^53: every integer up to it is a double.
 * Creation refuses anything larger (2^53 + 1 written in JavaScript is already 2^53 before torchlet
 * sees it; that rounding is the language's).
 */
export const INT64_EXACT = 2 ** 53;

/** What PyTorch's x86 build gives for a float that no int64 holds (NaN, infinities, |v| >= 2^63): INT64_MIN. */
const INT64_MIN = -9223372036854775808;

/**
 * A float converted to int64 as PyTorch does it: truncated toward zero, NaN, infinities and
 * anything beyond 2^63 giving INT64_MIN (the x86 conversion's answer), never -0.
 */
export function toInt64(v: number): number {
  return Math.abs(v) < 9223372036854775808 ? Math.trunc(v) + 0 : INT64_MIN;
}

/** A number as a tensor of `dtype` stores it (bool: any nonzero is true; int64: truncated toward zero). */
export function castScalar(value: number | boolean, dtype: DType): number {
  if (dtype === "bool") return Number(Number(value) !== 0);
  return dtype === "int64" ? toInt64(Number(value)) : Number(value);
}

/**
 * Rewrites -0 as 0 in int64 storage, in place: a Float64Array keeps the sign of a zero that
 * JavaScript arithmetic produces (0 * -1, -0 % 3), which int64 has not, and which would print,
 * compare with Object.is, and divide (1 / -0 is -inf) unlike PyTorch's 0.
 */
export function clearNegativeZeros(values: TypedArray): void {
  for (let i = 0; i < values.length; i++) values[i] += 0;
}

export function checkDtype(dtype: unknown): DType {
  if (typeof dtype === "string") {
    const name = dtype.startsWith("torch.") ? dtype.slice(6) : dtype;
    const alias: Record<string, DType> = { float: "float32", double: "float64", long: "int64" };
    const resolved = (alias[name] ?? name) as DType;
    if (DTYPES.includes(resolved)) return resolved;
  }
  throw new TypeError(`Unknown dtype ${JSON.stringify(dtype)}: expected one of ${DTYPES.join(", ")}`);
}

const asIs = (v: number): number => v;
// Math.fround itself, called through a variable, is never inlined by V8 (a builtin reached that
// way stays a call: 14 ns an element in an optimizer's loop); wrapped in a function of our own it
// is inlined, and so is the fround inside (1.5 ns).
const toFloat32 = (v: number): number => Math.fround(v);

/**
 * Rounds a double to the precision a floating tensor of `dtype` stores: Math.fround for
 * float32, nothing for float64. Where PyTorch computes in float32, torchlet rounds here.
 */
export function rounderFor(dtype: DType): (v: number) => number {
  return dtype === "float32" ? toFloat32 : asIs;
}

/**
 * `v` rounded to float32 when `float32` is true, else as it is: `rounderFor` for long element
 * loops (an optimizer's update). V8 inlines this direct call completely, where a rounder called
 * through a variable still costs a check and a call each time (SGD's loop runs twice as fast).
 */
export function roundIf(float32: boolean, v: number): number {
  return float32 ? Math.fround(v) : v;
}

export function isFloating(dtype: DType): boolean {
  return dtype === "float32" || dtype === "float64";
}

const RANK: Record<DType, number> = { bool: 0, int64: 1, float32: 2, float64: 3 };

/** PyTorch's type promotion for two tensors of these dtypes. */
export function promoteTypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/** The dtype of `tensor op number`: a Python float turns integer tensors into float32. */
export function promoteWithScalar(dtype: DType, scalar: number | boolean): DType {
  if (typeof scalar === "boolean") return dtype;
  if (!Number.isInteger(scalar) && !isFloating(dtype)) return "float32";
  if (dtype === "bool") return Number.isInteger(scalar) ? "int64" : "float32";
  return dtype;
}

/** The float dtype an op like exp or division produces from `dtype`. */
export function floatOf(dtype: DType): DType {
  return isFloating(dtype) ? dtype : "float32";
}

export function pytorchName(dtype: DType): string {
  return `torch.${dtype}`;
}

/** PyTorch's scalar-type names, as its error messages spell them. */
export function scalarTypeName(dtype: DType): string {
  return { float32: "Float", float64: "Double", int64: "Long", bool: "Bool" }[dtype];
}

/**
 * How PyTorch names a CPU tensor's type in messages: the legacy class name where one exists
 * (`torch.FloatTensor`), and `CPUBoolType` for bool, which has none.
 */
export function tensorTypeName(dtype: DType): string {
  return dtype === "bool" ? "CPUBoolType" : `torch.${scalarTypeName(dtype)}Tensor`;
}
