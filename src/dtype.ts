/** The four dtypes torchlet knows and the typed arrays that hold them. */
export type DType = "float32" | "float64" | "int64" | "bool";
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

export const DTYPES: readonly DType[] = ["float32", "float64", "int64", "bool"];

/**
 * int64 lives in an Int32Array: class indices and counts fit, and integer typed
 * arrays keep index arithmetic exact and fast. Values beyond int32 are rejected.
 */
export function allocate(dtype: DType, length: number): TypedArray {
  switch (dtype) {
    case "float32":
      return new Float32Array(length);
    case "float64":
      return new Float64Array(length);
    case "int64":
      return new Int32Array(length);
    case "bool":
      return new Uint8Array(length);
  }
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
