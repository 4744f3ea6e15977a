/** Shape and stride arithmetic, broadcasting and dim normalisation, with PyTorch's messages. */
import { typeName } from "./options";

export function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let step = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = step;
    step *= shape[i];
  }
  return strides;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}

export function formatSize(shape: readonly number[]): string {
  return `torch.Size([${shape.join(", ")}])`;
}

/** NumPy broadcasting of two shapes, failing in PyTorch's words. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const ndim = Math.max(a.length, b.length);
  const out = new Array<number>(ndim);
  // From the last dim backwards, as PyTorch checks, so that its message names the same dim.
  for (let i = ndim - 1; i >= 0; i--) {
    const sa = a[a.length - ndim + i] ?? 1;
    const sb = b[b.length - ndim + i] ?? 1;
    if (sa !== sb && sa !== 1 && sb !== 1) {
      throw new Error(`The size of tensor a (${sa}) must match the size of tensor b (${sb}) at non-singleton dimension ${i}`);
    }
    out[i] = sa === 1 ? sb : sa;
  }
  return out;
}

/** Strides that read a tensor of `shape`/`strides` as if it had `target` shape (stride 0 where broadcast). */
export function broadcastStrides(shape: readonly number[], strides: readonly number[], target: readonly number[]): number[] {
  const offset = target.length - shape.length;
  if (offset < 0) throw new Error(`cannot broadcast shape [${shape.join(", ")}] to [${target.join(", ")}]`);
  return target.map((size, i) => {
    const j = i - offset;
    if (j < 0) return 0;
    if (shape[j] === size) return strides[j];
    if (shape[j] === 1) return 0;
    throw new Error(
      `The expanded size of the tensor (${size}) must match the existing size (${shape[j]}) at non-singleton dimension ${i}.  Target sizes: [${target.join(", ")}].  Tensor sizes: [${shape.join(", ")}]`,
    );
  });
}

/** A dim in [-ndim, ndim) mapped to [0, ndim). Scalars accept dims -1 and 0, like PyTorch. */
/**
 * A dim given as something else than a number: most often PyTorch's keyword form written as an
 * object (`x.sum({dim: 0})`), which would otherwise read as a dim out of range or a crash.
 */
function notADim(dim: unknown): TypeError {
  return new TypeError(`argument 'dim' must be int, not ${typeName(dim)} (dims are positional: x.sum(0, true), not x.sum({dim: 0}))`);
}

export function normalizeDim(dim: number, ndim: number): number {
  if (typeof dim !== "number") throw notADim(dim);
  const n = Math.max(ndim, 1);
  if (!Number.isInteger(dim) || dim < -n || dim >= n) {
    throw new Error(`Dimension out of range (expected to be in range of [${-n}, ${n - 1}], but got ${dim})`);
  }
  return dim < 0 ? dim + n : dim;
}

/** Reduction dims: undefined or [] means all; duplicates are an error as in PyTorch. */
export function normalizeDims(dim: number | readonly number[] | undefined | null, ndim: number): number[] {
  if (dim === undefined || dim === null) return [...Array(ndim).keys()];
  if (typeof dim !== "number" && !Array.isArray(dim)) throw notADim(dim);
  const list = typeof dim === "number" ? [dim] : [...dim];
  if (list.length === 0) return [...Array(ndim).keys()];
  const out = list.map((d) => normalizeDim(d, ndim)).map((d) => Math.min(d, Math.max(ndim - 1, 0)));
  const seen = new Set<number>();
  for (const d of out) {
    if (seen.has(d)) throw new Error(`dim ${d} appears multiple times in the list of dims`);
    seen.add(d);
  }
  return ndim === 0 ? [] : out.sort((x, y) => x - y);
}

/** The shape after reducing `dims`: kept as size 1 with keepdim, dropped otherwise. */
export function reducedShape(shape: readonly number[], dims: readonly number[], keepdim: boolean): number[] {
  // An options object in keepdim's place (`x.max(1, {keepdim: false})`) would read as true.
  if (typeof keepdim !== "boolean") throw new TypeError(`argument 'keepdim' must be bool, not ${typeName(keepdim)}`);
  const out: number[] = [];
  shape.forEach((s, i) => {
    if (!dims.includes(i)) out.push(s);
    else if (keepdim) out.push(1);
  });
  return out;
}

/** Resolves one -1 in a requested shape, checking that the element count matches. */
export function inferShape(requested: readonly number[], numel: number): number[] {
  let unknown = -1;
  let known = 1;
  requested.forEach((s, i) => {
    if (s === -1) {
      if (unknown >= 0) throw new Error("only one dimension can be inferred");
      unknown = i;
    } else if (!Number.isInteger(s) || s < 0) {
      throw new Error(`invalid shape dimension ${s}`);
    } else known *= s;
  });
  const out = [...requested];
  if (unknown >= 0) {
    if (known === 0 || numel % known !== 0) {
      throw new Error(`shape '[${requested.join(", ")}]' is invalid for input of size ${numel}`);
    }
    out[unknown] = numel / known;
  } else if (known !== numel) {
    throw new Error(`shape '[${requested.join(", ")}]' is invalid for input of size ${numel}`);
  }
  return out;
}

/**
 * Accepts sizes as one array or as separate numbers: `reshape([2, 3])` or `reshape(2, 3)`; anything
 * else fails with PyTorch's message for `fn`'s argument `arg`.
 */
export function sizesArg(args: ReadonlyArray<number | readonly number[]>, fn = "view", arg = "size"): number[] {
  const sizes = args.length === 1 && Array.isArray(args[0]) ? (args[0] as readonly unknown[]) : args;
  sizes.forEach((s, i) => {
    if (typeof s !== "number") {
      throw new TypeError(`${fn}(): argument '${arg}' must be tuple of ints, but found element of type ${typeName(s)} at pos ${i + 1}`);
    }
  });
  return [...(sizes as number[])];
}
