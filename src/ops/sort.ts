/**
 * `sort`, `argsort` and `topk` along a dim, with PyTorch's order for ties and NaN.
 *
 * PyTorch 1.13's CPU kernels sort (value, index) pairs with the C++ standard library: `sort` with
 * `std::sort`, `topk` with `std::partial_sort` when k * 64 <= n, else `std::nth_element` and
 * `std::sort` of the first k - 1. None of these is stable, so which of two equal values comes
 * first (the `indices` PyTorch returns) is whatever libstdc++'s introsort, introselect and heap
 * routines leave. They are reproduced here step for step, so that ties come out as in PyTorch.
 * NaN counts as larger than every number (last ascending, first descending).
 */
import ndarray from "ndarray";
import ops from "ndarray-ops";
import { type TypedArray, allocate, scalarTypeName } from "../dtype";
import { normalizeDim } from "../shape";
import { record } from "../autograd/node";
import { Tensor } from "../tensor-core";
import { requireTensor } from "./compare";
import { permutedValues, placeAlong } from "./reduction";
import { flagArg } from "../arguments";

type Less = (a: number, b: number) => boolean;

/** PyTorch's comparators: NaN sorts above every number. */
const ascending: Less = (a, b) => (!Number.isNaN(a) && Number.isNaN(b)) || a < b;
const descending: Less = (a, b) => (Number.isNaN(a) && !Number.isNaN(b)) || a > b;

/** libstdc++'s _S_threshold: introsort leaves partitions this small to a final insertion sort. */
const THRESHOLD = 16;

/** floor(log2(n)) for n >= 1 (libstdc++'s __lg). */
function lg(n: number): number {
  return 31 - Math.clz32(n);
}

/** One row of (value, original position) pairs, moved together as the C++ iterators move them. */
class Pairs {
  constructor(
    readonly keys: Float64Array,
    readonly positions: Int32Array,
    readonly less: Less,
  ) {}

  lessAt(i: number, j: number): boolean {
    return this.less(this.keys[i], this.keys[j]);
  }

  swap(i: number, j: number): void {
    const { keys, positions } = this;
    [keys[i], keys[j]] = [keys[j], keys[i]];
    [positions[i], positions[j]] = [positions[j], positions[i]];
  }

  /** `*to = std::move(*from)`. */
  move(from: number, to: number): void {
    this.keys[to] = this.keys[from];
    this.positions[to] = this.positions[from];
  }

  set(to: number, key: number, position: number): void {
    this.keys[to] = key;
    this.positions[to] = position;
  }
}

// ---- libstdc++ <bits/stl_algo.h> ----------------------------------------------------------------

/** std::sort: introsort down to THRESHOLD, then insertion sort over the whole range. */
function stdSort(p: Pairs, first: number, last: number): void {
  if (first === last) return;
  introsortLoop(p, first, last, lg(last - first) * 2);
  finalInsertionSort(p, first, last);
}

function introsortLoop(p: Pairs, first: number, last: number, depth: number): void {
  while (last - first > THRESHOLD) {
    if (depth === 0) {
      partialSort(p, first, last, last);
      return;
    }
    depth--;
    const cut = partitionPivot(p, first, last);
    introsortLoop(p, cut, last, depth);
    last = cut;
  }
}

function partitionPivot(p: Pairs, first: number, last: number): number {
  const mid = first + Math.trunc((last - first) / 2);
  moveMedianToFirst(p, first, first + 1, mid, last - 1);
  return unguardedPartition(p, first + 1, last, first);
}

function moveMedianToFirst(p: Pairs, result: number, a: number, b: number, c: number): void {
  if (p.lessAt(a, b)) {
    if (p.lessAt(b, c)) p.swap(result, b);
    else if (p.lessAt(a, c)) p.swap(result, c);
    else p.swap(result, a);
  } else if (p.lessAt(a, c)) p.swap(result, a);
  else if (p.lessAt(b, c)) p.swap(result, c);
  else p.swap(result, b);
}

function unguardedPartition(p: Pairs, first: number, last: number, pivot: number): number {
  for (;;) {
    while (p.lessAt(first, pivot)) first++;
    last--;
    while (p.lessAt(pivot, last)) last--;
    if (!(first < last)) return first;
    p.swap(first, last);
    first++;
  }
}

function finalInsertionSort(p: Pairs, first: number, last: number): void {
  if (last - first > THRESHOLD) {
    insertionSort(p, first, first + THRESHOLD);
    for (let i = first + THRESHOLD; i < last; i++) unguardedLinearInsert(p, i);
  } else insertionSort(p, first, last);
}

function insertionSort(p: Pairs, first: number, last: number): void {
  if (first === last) return;
  for (let i = first + 1; i < last; i++) {
    if (p.lessAt(i, first)) {
      const key = p.keys[i];
      const position = p.positions[i];
      for (let j = i; j > first; j--) p.move(j - 1, j);
      p.set(first, key, position);
    } else unguardedLinearInsert(p, i);
  }
}

function unguardedLinearInsert(p: Pairs, last: number): void {
  const key = p.keys[last];
  const position = p.positions[last];
  let next = last - 1;
  while (p.less(key, p.keys[next])) {
    p.move(next, last);
    last = next;
    next--;
  }
  p.set(last, key, position);
}

/** std::nth_element (introselect): the nth element in place, nothing after it smaller. */
function nthElement(p: Pairs, first: number, nth: number, last: number): void {
  if (first === last || nth === last) return;
  let depth = lg(last - first) * 2;
  while (last - first > 3) {
    if (depth === 0) {
      heapSelect(p, first, nth + 1, last);
      p.swap(first, nth);
      return;
    }
    depth--;
    const cut = partitionPivot(p, first, last);
    if (cut <= nth) first = cut;
    else last = cut;
  }
  insertionSort(p, first, last);
}

/** std::partial_sort: the smallest (middle - first) elements, sorted, at the front. */
function partialSort(p: Pairs, first: number, middle: number, last: number): void {
  heapSelect(p, first, middle, last);
  sortHeap(p, first, middle);
}

function heapSelect(p: Pairs, first: number, middle: number, last: number): void {
  makeHeap(p, first, middle);
  for (let i = middle; i < last; i++) if (p.lessAt(i, first)) popHeap(p, first, middle, i);
}

// ---- libstdc++ <bits/stl_heap.h> -----------------------------------------------------------------

function pushHeap(p: Pairs, first: number, hole: number, top: number, key: number, position: number): void {
  let parent = Math.trunc((hole - 1) / 2);
  while (hole > top && p.less(p.keys[first + parent], key)) {
    p.move(first + parent, first + hole);
    hole = parent;
    parent = Math.trunc((hole - 1) / 2);
  }
  p.set(first + hole, key, position);
}

function adjustHeap(p: Pairs, first: number, hole: number, length: number, key: number, position: number): void {
  const top = hole;
  let child = hole;
  while (child < Math.trunc((length - 1) / 2)) {
    child = 2 * (child + 1);
    if (p.lessAt(first + child, first + child - 1)) child--;
    p.move(first + child, first + hole);
    hole = child;
  }
  if ((length & 1) === 0 && child === Math.trunc((length - 2) / 2)) {
    child = 2 * (child + 1);
    p.move(first + child - 1, first + hole);
    hole = child - 1;
  }
  pushHeap(p, first, hole, top, key, position);
}

function makeHeap(p: Pairs, first: number, last: number): void {
  const length = last - first;
  if (length < 2) return;
  for (let parent = Math.trunc((length - 2) / 2); ; parent--) {
    adjustHeap(p, first, parent, length, p.keys[first + parent], p.positions[first + parent]);
    if (parent === 0) return;
  }
}

function popHeap(p: Pairs, first: number, last: number, result: number): void {
  const key = p.keys[result];
  const position = p.positions[result];
  p.move(first, result);
  adjustHeap(p, first, 0, last - first, key, position);
}

function sortHeap(p: Pairs, first: number, last: number): void {
  while (last - first > 1) {
    last--;
    popHeap(p, first, last, last);
  }
}

// ---- the ops ------------------------------------------------------------------------------------

interface Selection {
  values: Tensor;
  indices: Tensor;
}

/**
 * Runs `arrange` on every row of `x` along `d` and keeps each row's first `k` pairs: values and
 * positions in `x`'s layout, with `k` in place of the size at `d`. A 0-d `x` is one row of one.
 */
function selectRows(x: Tensor, d: number, k: number, less: Less, arrange: (p: Pairs, n: number) => void): Selection {
  const shape = x.shape;
  const n = x.ndim > 0 ? shape[d] : 1;
  const order = [...shape.keys()].filter((i) => i !== d).concat(x.ndim > 0 ? [d] : []);
  const rows = permutedValues(x, order);
  const count = n > 0 ? rows.length / n : 0;
  const values = allocate(x.dtype, count * k);
  const indices = allocate("int64", count * k);
  const p = new Pairs(new Float64Array(n), new Int32Array(n), less);
  for (let row = 0; row < count; row++) {
    p.keys.set(rows.subarray(row * n, (row + 1) * n));
    for (let j = 0; j < n; j++) p.positions[j] = j;
    arrange(p, n);
    values.set(p.keys.subarray(0, k), row * k);
    indices.set(p.positions.subarray(0, k), row * k);
  }
  const outShape = x.ndim > 0 ? shape.map((s, i) => (i === d ? k : s)) : [];
  return {
    values: Tensor.fromArray(restoreOrder(values, outShape, order), outShape, x.dtype),
    indices: Tensor.fromArray(restoreOrder(indices, outShape, order), outShape, "int64"),
  };
}

/** Row-major values laid out with dims in `order` (the sorted dim last), put back in dim order. */
function restoreOrder(data: TypedArray, shape: number[], order: number[]): TypedArray {
  if (order.every((d, i) => d === i) || data.length === 0) return data;
  const out = data.slice();
  const target = ndarray(out, shape).transpose(...order);
  ops.assign(target, ndarray(data, target.shape.slice()));
  return out;
}

/** Records a selection's values as differentiable: the gradient goes back to the positions chosen. */
function recordSelection(name: string, x: Tensor, d: number, s: Selection): Selection {
  const inputShape = x.shape;
  const values = record(name, s.values, [x], (g) => [x.ndim === 0 ? g : placeAlong(g, s.indices, d, inputShape)], {
    saved: [s.indices],
  });
  return { values, indices: s.indices };
}

/** The values along `dim` in order, with their positions (SortBackward0); ties as PyTorch leaves them. */
export function sort(x: Tensor, dim = -1, descendingOrder = false): Selection {
  requireTensor(x, "sort", "input", 1);
  flagArg(descendingOrder, "sort", "descending");
  const d = normalizeDim(dim, x.ndim);
  const n = x.ndim > 0 ? x.nd.shape[d] : 1;
  const s = selectRows(x, d, n, descendingOrder ? descending : ascending, (p) => stdSort(p, 0, n));
  return recordSelection("SortBackward0", x, d, s);
}

/** The positions that sort `x` along `dim` (sort's indices; not differentiable). */
export function argsort(x: Tensor, dim = -1, descendingOrder = false): Tensor {
  requireTensor(x, "argsort", "input", 1);
  return sort(x.detach(), dim, descendingOrder).indices;
}

/**
 * The `k` largest (or smallest) values along `dim` and their positions (TopkBackward0). With
 * `sorted` false they come in the order PyTorch's selection leaves them.
 */
export function topk(x: Tensor, k: number, dim = -1, largest = true, sorted = true): Selection {
  requireTensor(x, "topk", "input", 1);
  flagArg(largest, "topk", "largest");
  flagArg(sorted, "topk", "sorted");
  const d = normalizeDim(dim, x.ndim);
  if (x.dtype === "bool") throw new Error(`"topk_cpu" not implemented for '${scalarTypeName(x.dtype)}'`);
  const n = x.ndim > 0 ? x.nd.shape[d] : 1;
  if (!Number.isInteger(k) || k < 0 || k > n) throw new Error("selected index k out of range");
  // A 0-d input gives its one value whether k is 0 or 1, as in PyTorch.
  const s = selectRows(x, d, x.ndim > 0 ? k : 1, largest ? descending : ascending, (p) => {
    if (k === 0) return;
    if (k * 64 <= n) partialSort(p, 0, k, n);
    else {
      nthElement(p, 0, k - 1, n);
      if (sorted) stdSort(p, 0, k - 1);
    }
  });
  return recordSelection("TopkBackward0", x, d, s);
}
