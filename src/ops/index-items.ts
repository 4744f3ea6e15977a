/**
 * The items of `x.index(...items)` (PyTorch's `x[items]`) read into PyTorch's TensorIndex kinds:
 * an integer, a slice (Python syntax in a string), an ellipsis, None (`null`), a Python bool, or
 * a tensor (a plain array of numbers or booleans becomes one, as PyTorch turns a list into a
 * tensor). Reading happens before any item is applied, so a zero slice step fails first, as in
 * PyTorch, whose Slice constructor checks it.
 */
import { type DType, allocate } from "../dtype";
import { Tensor } from "../tensor-core";

/** What a user may pass as one index item. */
export type IndexItem = number | string | null | boolean | Tensor | NestedIndexArray;
export interface NestedIndexArray extends ReadonlyArray<number | boolean | NestedIndexArray> {}

/** A slice's bounds as PyTorch's Slice holds them: a missing stop is "as far as it goes". */
export interface SliceItem {
  kind: "slice";
  start: number;
  stop: number;
  step: number;
}

export type Item =
  | { kind: "int"; value: number }
  | SliceItem
  | { kind: "ellipsis" }
  | { kind: "none" }
  | { kind: "bool"; value: boolean }
  | { kind: "tensor"; tensor: Tensor };

/** PyTorch's INDEX_MAX: the stop of `a:`, which no dimension size equals. */
const UNBOUNDED = Number.MAX_SAFE_INTEGER;

const SLICE = /^(-?\d+)?:(-?\d+)?(?::(-?\d+)?)?$/;

export function parseItem(item: IndexItem): Item {
  if (item === null) return { kind: "none" };
  if (typeof item === "boolean") return { kind: "bool", value: item };
  if (typeof item === "number") {
    if (!Number.isInteger(item)) throw invalidItem("float");
    return { kind: "int", value: item };
  }
  if (item instanceof Tensor) return { kind: "tensor", tensor: item };
  if (typeof item === "string") return parseString(item);
  if (Array.isArray(item)) return { kind: "tensor", tensor: tensorOfList(item) };
  throw invalidItem(typeof item);
}

function invalidItem(what: string): Error {
  return new Error(`only integers, slices (\`:\`), ellipsis (\`...\`), None and long or byte Variables are valid indices (got ${what})`);
}

/** `"..."` or Python slice syntax (`"1:3"`, `"::2"`, `"-3:"`); spaces are ignored as Python does. */
function parseString(text: string): Item {
  const compact = text.replace(/\s+/g, "");
  if (compact === "...") return { kind: "ellipsis" };
  const match = SLICE.exec(compact);
  if (match === null) throw invalidItem(`str ${JSON.stringify(text)}`);
  const [, start, stop, step] = match;
  const stepValue = step === undefined ? 1 : Number(step);
  if (stepValue === 0) throw new Error("slice step cannot be zero");
  return {
    kind: "slice",
    start: start === undefined ? 0 : Number(start),
    stop: stop === undefined ? UNBOUNDED : Number(stop),
    step: stepValue,
  };
}

/**
 * A (nested) list as PyTorch's indexing tensor: bool when its values are booleans, int64 when
 * they are integers (an empty list too), else floating (which indexing then refuses).
 */
function tensorOfList(list: NestedIndexArray): Tensor {
  const shape: number[] = [];
  for (let level: unknown = list; Array.isArray(level); level = level[0]) shape.push(level.length);
  const flat: Array<number | boolean> = [];
  const visit = (value: unknown, depth: number): void => {
    if (depth === shape.length) {
      if (Array.isArray(value) || (typeof value !== "number" && typeof value !== "boolean")) throw ragged();
      flat.push(value);
      return;
    }
    if (!Array.isArray(value) || value.length !== shape[depth]) throw ragged();
    for (const v of value) visit(v, depth + 1);
  };
  visit(list, 0);
  const booleans = flat.filter((v) => typeof v === "boolean").length;
  if (booleans > 0 && booleans < flat.length) throw ragged();
  const dtype: DType = booleans > 0 ? "bool" : flat.every((v) => Number.isInteger(v)) ? "int64" : "float64";
  const data = allocate(dtype, flat.length);
  flat.forEach((v, i) => (data[i] = Number(v)));
  return Tensor.fromArray(data, shape, dtype);
}

function ragged(): TypeError {
  return new TypeError("an index list must be rectangular and hold only numbers or only booleans");
}
