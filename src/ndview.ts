/**
 * `ndview(data, shape, stride, offset)`: the `ndarray(...)` view, made without ndarray()'s
 * per-call type sniffing. ndarray() finds the view class of its array on every call through
 * is-buffer (several property probes) and `Object.prototype.toString` (a string built, then
 * compared against a dozen names), which costs more than the arithmetic of a 1-element op. All
 * views of one array type and rank share one generated class, whose constructor takes
 * `(data, shape0.., stride0.., offset)` (0-d: `(data, offset)`); this module asks ndarray() for
 * each class once and then calls it directly. tests/ndview.test.ts checks that the two agree.
 */
import ndarray, { type NdArray } from "ndarray";
import type { TypedArray } from "./dtype";

type ViewClass = new (data: TypedArray, ...dimsAndOffset: number[]) => NdArray<TypedArray>;

/** The view classes of one typed-array type, by rank (0 to MAX_RANK). */
const classes = new Map<unknown, ViewClass[]>();
const MAX_RANK = 4;

function classesOf(data: TypedArray): ViewClass[] {
  let byRank = classes.get(data.constructor);
  if (byRank === undefined) {
    byRank = [];
    for (let rank = 0; rank <= MAX_RANK; rank++) {
      const sample = ndarray(data, new Array<number>(rank).fill(0), new Array<number>(rank).fill(0), 0);
      byRank.push(sample.constructor as ViewClass);
    }
    classes.set(data.constructor, byRank);
  }
  return byRank;
}

/** The same view as `ndarray(data, shape, stride, offset)`; `shape` and `stride` are copied. */
export function ndview(data: TypedArray, shape: readonly number[], stride: readonly number[], offset = 0): NdArray<TypedArray> {
  const rank = shape.length;
  if (rank > MAX_RANK) return ndarray(data, [...shape], [...stride], offset);
  const View = classesOf(data)[rank];
  switch (rank) {
    case 0:
      return new View(data, offset);
    case 1:
      return new View(data, shape[0], stride[0], offset);
    case 2:
      return new View(data, shape[0], shape[1], stride[0], stride[1], offset);
    case 3:
      return new View(data, shape[0], shape[1], shape[2], stride[0], stride[1], stride[2], offset);
    default:
      return new View(data, shape[0], shape[1], shape[2], shape[3], stride[0], stride[1], stride[2], stride[3], offset);
  }
}
