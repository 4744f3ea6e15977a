/** Factories: tensors from data, filled tensors, ranges, and random tensors from the one seeded generator. */
import { type DType, type IndexArray, type TypedArray, INT64_EXACT, allocate, checkDtype, isFloating, rounderFor } from "./dtype";
import { numelOf, sizesArg } from "./shape";
import { defaultGenerator, manualSeed as reseed } from "./random";
import { Tensor, type NestedArray } from "./tensor";
import { checkOptions, isOptionsObject, optionKeys } from "./options";
import { intArg, invalidCombination, tensorArg, typeName } from "./arguments";

export interface TensorOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

const TENSOR_OPTION_KEYS = optionKeys<TensorOptions>({ dtype: true, requiresGrad: true });

/** A factory's options, checked: only `dtype` and `requiresGrad`. */
function factoryOptions(fn: string, options: unknown): TensorOptions {
  checkOptions(fn, options, TENSOR_OPTION_KEYS);
  return (options ?? {}) as TensorOptions;
}

type Shape = number | readonly number[];
/** A factory's arguments as PyTorch takes them: sizes as one array or as separate numbers, then options. */
type SizesAndOptions = [shape: Shape, options?: TensorOptions] | Array<number | TensorOptions>;

/**
 * `zeros([2, 3])`, `zeros(2, 3)`, `randn(3, 5, {requiresGrad: true})`: the sizes and the options
 * of a factory called either way, with PyTorch's message for anything else.
 */
function sizesAndOptions(fn: string, args: readonly unknown[]): { shape: Shape; options: TensorOptions } {
  const hasOptions = isOptionsObject(args[args.length - 1]);
  const sizes = hasOptions ? args.slice(0, -1) : args;
  const options = factoryOptions(fn, hasOptions ? args[args.length - 1] : undefined);
  if (sizes.length === 1 && (Array.isArray(sizes[0]) || typeof sizes[0] === "number")) return { shape: sizes[0] as Shape, options };
  if (sizes.length === 0) throw new TypeError(`${fn}() missing 1 required positional arguments: "size"`);
  sizes.forEach((s, i) => {
    if (typeof s !== "number") {
      throw new TypeError(`${fn}(): argument 'size' must be tuple of ints, but found element of type ${typeName(s)} at pos ${i + 1}`);
    }
  });
  return { shape: sizes as number[], options };
}

function finish(t: Tensor, options: TensorOptions): Tensor {
  if (options.requiresGrad) t.requiresGrad_(true);
  return t;
}

function resolveDtype(options: TensorOptions, fallback: DType = "float32"): DType {
  return options.dtype === undefined ? fallback : checkDtype(options.dtype);
}

function shapeOf(shape: Shape): number[] {
  const dims = typeof shape === "number" ? [shape] : [...shape];
  for (const s of dims) {
    if (!Number.isInteger(s) || s < 0) throw new Error(`Trying to create tensor with negative dimension ${s}: [${dims.join(", ")}]`);
  }
  return dims;
}

function beyondInt64(value: number): Error {
  return new Error(
    `int64 value ${BigInt(value)} cannot be stored exactly: torchlet holds int64 integers exactly up to 2^53 = ${INT64_EXACT} in magnitude`,
  );
}

/** Stores `value` into `out[i]` for `dtype`, rejecting what the dtype cannot hold. */
function store(out: TypedArray, i: number, value: number | boolean, dtype: DType): void {
  const v = Number(value);
  if (dtype === "int64") {
    if (!Number.isFinite(v)) throw new Error(`value cannot be converted to type int64 without overflow: ${v}`);
    // A fraction truncates, as PyTorch's does; past 2^53 a double no longer tells one integer from
    // its neighbours, so such a value is refused rather than stored rounded.
    const whole = Math.trunc(v) + 0;
    if (Math.abs(whole) > INT64_EXACT) throw beyondInt64(whole);
    out[i] = whole;
    return;
  } else if (dtype === "bool") {
    out[i] = v !== 0 ? 1 : 0;
    return;
  }
  out[i] = v;
}

/** The shape of nested arrays, failing on ragged input in PyTorch's words. */
function inferShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let level: NestedArray = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0];
  }
  const check = (node: NestedArray, dim: number): void => {
    if (dim === shape.length) {
      if (Array.isArray(node)) throw new Error(`expected sequence of length ${shape[dim - 1]} at dim ${dim - 1} (got ${node.length})`);
      if (typeof node !== "number" && typeof node !== "boolean") {
        throw new TypeError(`Could not infer dtype of ${node === null ? "null" : typeof node}`);
      }
      return;
    }
    if (!Array.isArray(node)) throw new Error(`expected sequence of length ${shape[dim]} at dim ${dim} (got a number)`);
    if (node.length !== shape[dim]) throw new Error(`expected sequence of length ${shape[dim]} at dim ${dim} (got ${node.length})`);
    for (const child of node) check(child, dim + 1);
  };
  check(data, 0);
  return shape;
}

function flatten(data: NestedArray, out: Array<number | boolean>): void {
  if (Array.isArray(data)) for (const d of data) flatten(d, out);
  else out.push(data);
}

/** A tensor from a number, a boolean, nested arrays, a typed array (1-D) or another tensor (copied). */
export function tensor(data: NestedArray | IndexArray | Tensor, options: TensorOptions = {}): Tensor {
  factoryOptions("tensor", options);
  if (data instanceof Tensor) {
    const copy = data.detach().to(resolveDtype(options, data.dtype)).clone().detach();
    return finish(copy, options);
  }
  if (ArrayBuffer.isView(data)) data = Array.from(data as IndexArray);
  const shape = inferShape(data);
  const flat: Array<number | boolean> = [];
  flatten(data, flat);
  const fallback: DType = flat.length > 0 && flat.every((v) => typeof v === "boolean") ? "bool" : "float32";
  const dtype = resolveDtype(options, fallback);
  const out = allocate(dtype, flat.length);
  flat.forEach((v, i) => store(out, i, v, dtype));
  return finish(Tensor.fromArray(out, shape, dtype), options);
}

export function full(size: Shape, fillValue: number | boolean, options?: TensorOptions): Tensor;
export function full(...args: unknown[]): Tensor {
  const [shape, value, options = {}] = args as [Shape, number | boolean, TensorOptions?];
  // full(2, 3, 1.5) is not a 2x3 tensor of 1.5: PyTorch takes the size as one tuple, and so does torchlet.
  if (args.length > 3 || args.length < 2 || !isOptionsObject(options) || (typeof shape !== "number" && !Array.isArray(shape))) {
    throw invalidCombination("full", args, "(size: number[], fillValue: number, options?)");
  }
  if (typeof value !== "number" && typeof value !== "boolean") {
    throw new TypeError(`full(): argument 'fill_value' (position 2) must be Number, not ${typeName(value)}`);
  }
  factoryOptions("full", options);
  const dims = shapeOf(shape);
  const dtype = resolveDtype(options, typeof value === "boolean" ? "bool" : "float32");
  const out = allocate(dtype, numelOf(dims));
  if (out.length > 0) store(out, 0, value, dtype);
  out.fill(out.length > 0 ? out[0] : 0);
  return finish(Tensor.fromArray(out, dims, dtype), options);
}

/** An uninitialized tensor in PyTorch; torchlet's are zeros. */
export function empty(...args: SizesAndOptions): Tensor {
  const { shape, options } = sizesAndOptions("empty", args);
  return full(shape, 0, options);
}

export function zeros(...args: SizesAndOptions): Tensor {
  const { shape, options } = sizesAndOptions("zeros", args);
  return full(shape, 0, options);
}

export function ones(...args: SizesAndOptions): Tensor {
  const { shape, options } = sizesAndOptions("ones", args);
  return full(shape, 1, options);
}

/** A `*Like` factory's arguments: a tensor to copy the shape of, then options. */
function likeArgs(fn: string, t: unknown, options: unknown): void {
  tensorArg(t, fn.replace(/Like$/, "_like"), "input", 1);
  factoryOptions(fn, options);
}

export function zerosLike(t: Tensor, options: TensorOptions = {}): Tensor {
  likeArgs("zerosLike", t, options);
  return zeros(t.shape, { dtype: t.dtype, ...options });
}

export function onesLike(t: Tensor, options: TensorOptions = {}): Tensor {
  likeArgs("onesLike", t, options);
  return ones(t.shape, { dtype: t.dtype, ...options });
}

export function fullLike(t: Tensor, value: number, options: TensorOptions = {}): Tensor {
  likeArgs("fullLike", t, options);
  return full(t.shape, value, { dtype: t.dtype, ...options });
}

/**
 * `arange(end)`, `arange(start, end)` or `arange(start, end, step)`, PyTorch-style, options last
 * after any of them: integer arguments give int64 unless a dtype is given, any fractional
 * argument gives float32.
 */
export function arange(end: number, options?: TensorOptions): Tensor;
export function arange(start: number, end: number, options?: TensorOptions): Tensor;
export function arange(start: number, end: number, step: number, options?: TensorOptions): Tensor;
export function arange(...args: Array<number | TensorOptions | undefined>): Tensor {
  const { values, options } = numbersAndOptions(
    "arange",
    args,
    1,
    3,
    "(end: number, options?), (start: number, end: number, step?: number, options?)",
  );
  let [start, end] = values;
  if (end === undefined) [start, end] = [0, start];
  const stride = values[2] ?? 1;
  if (stride === 0) throw new Error("step must be nonzero");
  if ((end - start) / stride < 0) throw new Error("upper bound and larger bound inconsistent with step sign");
  const allInt = [start, end, stride].every(Number.isInteger);
  const dtype = resolveDtype(options, allInt ? "int64" : "float32");
  const n = Math.max(0, Math.ceil((end - start) / stride));
  // Past 2^53, start + i * step would round onto a neighbour (2^53 + 1 becomes 2^53) unseen.
  if (dtype === "int64" && n > 0 && Math.abs(start + (n - 1) * stride) >= INT64_EXACT) {
    throw beyondInt64(Math.max(Math.abs(start), Math.abs(end)) * Math.sign(end));
  }
  const out = allocate(dtype, n);
  for (let i = 0; i < n; i++) store(out, i, start + i * stride, dtype);
  return finish(Tensor.fromArray(out, [n], dtype), options);
}

export function eye(n: number, options?: TensorOptions): Tensor;
export function eye(n: number, m: number, options?: TensorOptions): Tensor;
export function eye(...args: Array<number | TensorOptions | undefined>): Tensor {
  const { values, options } = numbersAndOptions("eye", args, 1, 2, "(n: number, m?: number, options?)");
  const [n, m = n] = values;
  const dtype = resolveDtype(options);
  const out = allocate(dtype, n * m);
  for (let i = 0; i < Math.min(n, m); i++) out[i * m + i] = 1;
  return finish(Tensor.fromArray(out, [n, m], dtype), options);
}

/**
 * The leading numbers of a call like `arange(start, end, step, options)` and its options: between
 * `min` and `max` numbers, then at most an options object, else PyTorch's "invalid combination".
 */
function numbersAndOptions(
  fn: string,
  raw: readonly unknown[],
  min: number,
  max: number,
  expected: string,
): { values: number[]; options: TensorOptions } {
  let args = raw;
  while (args.length > 0 && args[args.length - 1] === undefined) args = args.slice(0, -1);
  const hasOptions = isOptionsObject(args[args.length - 1]);
  const values = hasOptions ? args.slice(0, -1) : args;
  if (values.length < min || values.length > max || values.some((v) => typeof v !== "number")) {
    throw invalidCombination(fn, raw, `one of ${expected}`);
  }
  return { values: values as number[], options: factoryOptions(fn, hasOptions ? args[args.length - 1] : undefined) };
}

function floatDtype(options: TensorOptions, name: string): DType {
  const dtype = resolveDtype(options);
  if (!isFloating(dtype)) throw new Error(`"${name}" not implemented for '${dtype === "int64" ? "Long" : "Bool"}'`);
  return dtype;
}

/** Standard normal samples from the seeded generator. */
export function randn(...args: SizesAndOptions): Tensor {
  const { shape, options } = sizesAndOptions("randn", args);
  const dims = shapeOf(shape);
  const dtype = floatDtype(options, "normal_kernel_cpu");
  const out = allocate(dtype, numelOf(dims));
  for (let i = 0; i < out.length; i++) out[i] = defaultGenerator.normal();
  return finish(Tensor.fromArray(out, dims, dtype), options);
}

/** Uniform samples in [0, 1) from the seeded generator. */
export function rand(...args: SizesAndOptions): Tensor {
  const { shape, options } = sizesAndOptions("rand", args);
  const dims = shapeOf(shape);
  const dtype = floatDtype(options, "check_uniform_bounds");
  const out = allocate(dtype, numelOf(dims));
  for (let i = 0; i < out.length; i++) {
    // Rounding to float32 can give 1.0; PyTorch's rand never returns its upper bound.
    let v = defaultGenerator.random();
    if (dtype === "float32" && Math.fround(v) >= 1) v = 0.99999994;
    out[i] = v;
  }
  return finish(Tensor.fromArray(out, dims, dtype), options);
}

/** Integers uniform in [low, high) (low 0 unless given), int64 unless a dtype is given. */
export function randint(high: number, size: Shape, options?: TensorOptions): Tensor;
export function randint(low: number, high: number, size: Shape, options?: TensorOptions): Tensor;
export function randint(...args: unknown[]): Tensor {
  const { low, high, shape, options } = randintArgs(args);
  const dims = shapeOf(shape);
  const dtype = resolveDtype(options, "int64");
  const out = allocate(dtype, numelOf(dims));
  for (let i = 0; i < out.length; i++) store(out, i, defaultGenerator.randint(low, high), dtype);
  return finish(Tensor.fromArray(out, dims, dtype), options);
}

/**
 * randint's two forms, `(high, size, options?)` and `(low, high, size, options?)`; anything else,
 * such as `randint(0, 5, 3, 4)` for a 3x4 tensor, is refused rather than misread.
 */
function randintArgs(args: readonly unknown[]): { low: number; high: number; shape: Shape; options: TensorOptions } {
  const hasOptions = isOptionsObject(args[args.length - 1]);
  const plain = hasOptions ? args.slice(0, -1) : args;
  const isSize = (v: unknown): v is Shape => typeof v === "number" || Array.isArray(v);
  const [a, b, c] = plain;
  const options = factoryOptions("randint", hasOptions ? args[args.length - 1] : undefined);
  if (plain.length === 2 && typeof a === "number" && Array.isArray(b)) return { low: 0, high: a, shape: b as number[], options };
  if (plain.length === 3 && typeof a === "number" && typeof b === "number" && isSize(c)) return { low: a, high: b, shape: c, options };
  throw invalidCombination(
    "randint",
    args,
    "one of (high: number, size: number[], options?), (low: number, high: number, size: number[], options?)",
  );
}

export function manualSeed(seed: number): void {
  reseed(seed);
}

export { sizesArg };

// ---- more factories: linspace, logspace, rand/randn/emptyLike, randperm ----------------------

/** Lanes of PyTorch's AVX2 vectors (its build here): its linspace kernel fills whole vectors of them. */
const SIMD_LANES: Record<DType, number> = { float32: 8, float64: 4, int64: 4, bool: 32 };

/** Veltkamp's split: `v` as hi + lo with 26-bit halves, whose products are exact. */
function split(v: number): [number, number] {
  const c = 134217729 * v; // 2^27 + 1
  const hi = c - (c - v);
  return [hi, v - hi];
}

/**
 * a * b + c rounded once, as the fused multiply-add PyTorch's compiler emits for `start + step * i`,
 * by error-free transformations (Dekker's product, Knuth's sum).
 */
function fusedMultiplyAdd(a: number, b: number, c: number): number {
  const p = a * b;
  const [ah, al] = split(a);
  const [bh, bl] = split(b);
  const productError = ah * bh - p + ah * bl + al * bh + al * bl;
  const s = p + c;
  const z = s - p;
  const sumError = p - (s - z) + (c - z);
  return s + (sumError + productError);
}

/**
 * PyTorch's CPU linspace, value for value: the step is computed in the dtype (in double for
 * integers), the first half counts up from `start` and the second half down from `end`, and
 * the kernel fills pairs of SIMD vectors, each from its first element plus k steps, before
 * finishing one by one. Integer results truncate toward zero.
 */
function linspaceValues(start: number, end: number, steps: number, dtype: DType): Float64Array {
  const out = new Float64Array(steps);
  const integral = dtype === "int64";
  const round = integral ? Math.trunc : rounderFor(dtype);
  const [first, last] = [round(start), round(end)];
  if (steps === 1) out[0] = first;
  if (steps <= 1) return out;
  const step = integral ? (last - first) / (steps - 1) : round(round(last - first) / (steps - 1));
  const half = Math.floor(steps / 2);
  const at = (i: number): number => round(i < half ? fusedMultiplyAdd(step, i, first) : fusedMultiplyAdd(-step, steps - i - 1, last));
  const lanes = SIMD_LANES[dtype];
  let i = 0;
  for (; i <= steps - 2 * lanes; i += 2 * lanes) {
    for (const from of [i, i + lanes]) {
      const base = at(from);
      // Vectorized::arange(base, step): base + k * step, the product rounded to the dtype first.
      for (let k = 0; k < lanes; k++) out[from + k] = integral ? Math.trunc(base + k * step) : round(base + round(k * step));
    }
  }
  for (; i < steps; i++) out[i] = at(i);
  return out;
}

/**
 * PyTorch's CPU logspace: `base` to exponents counted from both ends with a double step (the
 * bounds read and subtracted in the dtype), each power taken in double. For integers the base
 * is a float32 and the powers truncate.
 */
function logspaceValues(start: number, end: number, steps: number, base: number, dtype: DType): Float64Array {
  const out = new Float64Array(steps);
  const integral = dtype === "int64";
  const round = integral ? Math.trunc : rounderFor(dtype);
  const [first, last] = [round(start), round(end)];
  const b = integral ? Math.fround(base) : base;
  const step = round(last - first) / (steps - 1);
  const half = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) {
    const power = steps === 1 ? base ** start : b ** (i < half ? first + step * i : last - step * (steps - i - 1));
    out[i] = integral ? Math.trunc(power) : power;
  }
  return out;
}

/** A 1-D factory's result: PyTorch's checks on `steps`, the values stored in the dtype (int64 within range). */
function spaced(name: string, steps: number, options: TensorOptions, values: (dtype: DType) => Float64Array): Tensor {
  factoryOptions(name, options);
  const dtype = resolveDtype(options);
  intArg(steps, name, "steps", 3);
  if (steps < 0) throw new Error("number of steps must be non-negative");
  if (dtype === "bool") throw new Error(`"${name}_cpu" not implemented for 'Bool'`);
  const out = allocate(dtype, steps);
  values(dtype).forEach((v, i) => store(out, i, v, dtype));
  return finish(Tensor.fromArray(out, [steps], dtype), options);
}

/** `steps` evenly spaced values from `start` to `end` (both included), float32 unless a dtype is given. */
export function linspace(start: number, end: number, steps: number, options: TensorOptions = {}): Tensor {
  return spaced("linspace", steps, options, (dtype) => linspaceValues(start, end, steps, dtype));
}

/** `base` (10 unless given) to the powers linspace(start, end, steps); options may take base's place. */
export function logspace(
  start: number,
  end: number,
  steps: number,
  base: number | TensorOptions = 10,
  options: TensorOptions = {},
): Tensor {
  if (typeof base === "object") [base, options] = [10, base];
  const b = base;
  return spaced("logspace", steps, options, (dtype) => logspaceValues(start, end, steps, b, dtype));
}

/** Uniform samples in [0, 1) shaped like `t`, in its dtype unless told (a float dtype). */
export function randLike(t: Tensor, options: TensorOptions = {}): Tensor {
  likeArgs("randLike", t, options);
  return rand(t.shape, { dtype: t.dtype, ...options });
}

/** Standard normal samples shaped like `t`, in its dtype unless told (a float dtype). */
export function randnLike(t: Tensor, options: TensorOptions = {}): Tensor {
  likeArgs("randnLike", t, options);
  return randn(t.shape, { dtype: t.dtype, ...options });
}

/** An uninitialized tensor shaped like `t`: torchlet's are zeros. */
export function emptyLike(t: Tensor, options: TensorOptions = {}): Tensor {
  likeArgs("emptyLike", t, options);
  return zerosLike(t, options);
}

/** A random permutation of 0..n-1 from the seeded generator, int64 unless a dtype is given. */
export function randperm(n: number, options: TensorOptions = {}): Tensor {
  factoryOptions("randperm", options);
  const [size] = shapeOf([n]);
  const dtype = resolveDtype(options, "int64");
  const out = allocate(dtype, size);
  out.set(defaultGenerator.permutation(size));
  return finish(Tensor.fromArray(out, [size], dtype), options);
}
