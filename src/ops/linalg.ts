/**
 * Matrix products: `matmul` with PyTorch's rules for 1-D, 2-D and batched operands (batch dims
 * broadcast), plus `mm`, `mv`, `dot` and `bmm`.
 *
 * Every product, forward and backward, runs through one kernel, `gemm` (kernels/matmul.ts), that
 * reads its operands through strides: a transposed operand is just the same storage with its two
 * strides swapped, so the backward `g @ B^T` and `A^T @ g` never build a transposed copy by hand.
 * The kernel decides between its WebAssembly and TypeScript implementations; both sum each element
 * over k in order in the result's type (float32 sums for float32, as PyTorch's sgemm), so they give
 * the same bits. This file plans which strided matrices a
 * product reads (batch dims broadcast, folded into rows where the strides allow) and records the
 * node.
 *
 * The ordinary backward runs the same kernel on the gradient; a recorded one (createGraph)
 * multiplies with the product ops themselves, so that its gradients can be differentiated again.
 *
 * grad_fn names follow PyTorch 1.13, whose `matmul` is a composite: 2-D @ 2-D is `mm`
 * (MmBackward0), 2-D @ 1-D `mv` (MvBackward0), 1-D @ 1-D `dot` (DotBackward0), 1-D @ 2-D
 * `unsqueeze(0).mm(b).squeeze_(0)` (SqueezeBackward3), and the batched cases end in
 * `_unsafe_view` (UnsafeViewBackward0). Here each product is one node with that name.
 */
import { type DType, type TypedArray, allocate, clearNegativeZeros, scalarTypeName } from "../dtype";
import { broadcastShapes, broadcastStrides, numelOf } from "../shape";
import { record } from "../autograd/node";
import { isGradEnabled } from "../autograd/grad-mode";
import { Tensor } from "../tensor-core";
import { sumTo } from "./elementwise";
import { type Mat, dotProduct, transposed } from "../kernels/matmul";
// The kernel with the rows of large products shared among threads (the same bits on any number).
import { threadedGemm as gemm } from "../parallel/gemm";
import { tensorArg } from "../arguments";

// ---- batches ----------------------------------------------------------------------------

/**
 * `out[β] = A[β] @ B[β]` for every index β of `batch`, where each operand's batch dims are read
 * through `aBatch`/`bBatch` strides (0 where broadcast) and `out` is contiguous (batch..., M, N).
 */
function batchedGemm(
  batch: readonly number[],
  M: number,
  N: number,
  K: number,
  A: Mat,
  aBatch: readonly number[],
  B: Mat,
  bBatch: readonly number[],
  out: TypedArray,
): void {
  const count = numelOf(batch);
  const nd = batch.length;
  const index = new Array<number>(nd).fill(0);
  let aOff = A.off;
  let bOff = B.off;
  for (let n = 0; n < count; n++) {
    gemm(M, N, K, { data: A.data, off: aOff, rs: A.rs, cs: A.cs }, { data: B.data, off: bOff, rs: B.rs, cs: B.cs }, out, n * M * N, N, 1);
    for (let d = nd - 1; d >= 0; d--) {
      index[d]++;
      aOff += aBatch[d];
      bOff += bBatch[d];
      if (index[d] < batch[d]) break;
      aOff -= aBatch[d] * batch[d];
      bOff -= bBatch[d] * batch[d];
      index[d] = 0;
    }
  }
}

// ---- operands ---------------------------------------------------------------------------

/**
 * How a product sees its operands: `a` as (batch..., n, m) and `b` as (batch..., m, p), a 1-D
 * `a` being one row and a 1-D `b` one column; batch dims broadcast against each other.
 */
interface Plan {
  batch: number[];
  n: number;
  m: number;
  p: number;
  aMat: Mat;
  aBatch: number[];
  bMat: Mat;
  bBatch: number[];
  outShape: number[];
}

function planOf(a: Tensor, b: Tensor, batch: number[]): Plan {
  const sa = a.nd.shape;
  const sb = b.nd.shape;
  const ta = a.nd.stride;
  const tb = b.nd.stride;
  const d1 = sa.length;
  const d2 = sb.length;
  const n = d1 > 1 ? sa[d1 - 2] : 1;
  const m = sa[d1 - 1];
  const p = d2 > 1 ? sb[d2 - 1] : 1;
  const aMat: Mat = { data: a.nd.data, off: a.nd.offset, rs: d1 > 1 ? ta[d1 - 2] : 0, cs: ta[d1 - 1] };
  const bMat: Mat = { data: b.nd.data, off: b.nd.offset, rs: d2 > 1 ? tb[d2 - 2] : tb[0], cs: d2 > 1 ? tb[d2 - 1] : 0 };
  const outShape = [...batch, ...(d1 > 1 ? [n] : []), ...(d2 > 1 ? [p] : [])];
  return {
    batch,
    n,
    m,
    p,
    aMat,
    aBatch: batchStrides(sa.slice(0, Math.max(d1 - 2, 0)), ta.slice(0, Math.max(d1 - 2, 0)), batch),
    bMat,
    bBatch: batchStrides(sb.slice(0, Math.max(d2 - 2, 0)), tb.slice(0, Math.max(d2 - 2, 0)), batch),
    outShape,
  };
}

function batchStrides(shape: readonly number[], strides: readonly number[], batch: readonly number[]): number[] {
  return batch.length === 0 ? [] : broadcastStrides(shape, strides, batch);
}

/** The merged stride of the `batch..., n` dims of a left operand (batch strides given), or null. */
function foldedRowStride(batch: readonly number[], batchStrides: readonly number[], n: number, rs: number): number | null {
  const sizes = [...batch, n];
  const strides = [...batchStrides, rs];
  // Nesting check: each non-trivial dim's stride equals the next non-trivial dim's stride times its size.
  let next = -1;
  for (let d = sizes.length - 1; d >= 0; d--) {
    if (sizes[d] === 1) continue;
    if (next === -1) {
      next = d;
      continue;
    }
    if (strides[d] !== strides[next] * sizes[next]) return null;
    next = d;
  }
  if (next === -1) return rs;
  // The innermost non-trivial dim of the merged run gives the row stride.
  for (let d = sizes.length - 1; d >= 0; d--) if (sizes[d] !== 1) return strides[d];
  return rs;
}

/** `A @ B` for a plan, into a fresh contiguous array of `dtype`. */
function product(plan: Plan, dtype: DType): TypedArray {
  const { batch, n, m, p } = plan;
  const count = numelOf(batch);
  const out = allocate(dtype, count * n * p);
  if (out.length === 0) return out;
  if (batch.length > 0 && plan.bBatch.every((s) => s === 0)) {
    // B is shared by every batch: fold the batch into the rows of A when its strides allow.
    const rs = foldedRowStride(batch, plan.aBatch, n, plan.aMat.rs);
    if (rs !== null) {
      gemm(count * n, p, m, { ...plan.aMat, rs }, plan.bMat, out, 0, p, 1);
      return out;
    }
  }
  batchedGemm(batch, n, p, m, plan.aMat, plan.aBatch, plan.bMat, plan.bBatch, out);
  return out;
}

/**
 * Gradients of `out = a @ b` given `g` (shape of out): `g @ b^T` summed back to a's shape and
 * `a^T @ g` summed back to b's shape, each computed only when that input needs it.
 */
function productGrads(a: Tensor, b: Tensor, g: Tensor, plan: Plan): [Tensor | null, Tensor | null] {
  const { batch, n, m, p } = plan;
  const dtype = g.dtype;
  const d1 = a.ndim;
  const d2 = b.ndim;
  const gs = g.nd.stride;
  const gd = g.ndim;
  // g seen as (batch..., n, p).
  const gMat: Mat = {
    data: g.nd.data,
    off: g.nd.offset,
    rs: d1 > 1 ? gs[gd - (d2 > 1 ? 2 : 1)] : 0,
    cs: d2 > 1 ? gs[gd - 1] : 0,
  };
  const gBatch = gs.slice(0, batch.length);
  const count = numelOf(batch);
  let ga: Tensor | null = null;
  let gb: Tensor | null = null;
  if (a.requiresGrad) {
    const bT = transposed(plan.bMat);
    const values = allocate(dtype, count * n * m);
    const rs = batch.length > 0 && plan.bBatch.every((s) => s === 0) ? foldedRowStride(batch, gBatch, n, gMat.rs) : null;
    if (values.length > 0) {
      if (rs !== null) gemm(count * n, m, p, { ...gMat, rs }, bT, values, 0, m, 1);
      else batchedGemm(batch, n, m, p, gMat, gBatch, bT, plan.bBatch, values);
    }
    const full = Tensor.fromArray(values, [...batch, n, m], dtype);
    const aBatchShape = a.shape.slice(0, Math.max(d1 - 2, 0));
    ga = sumTo(full, [...aBatchShape, n, m]).reshape(a.shape);
  }
  if (b.requiresGrad) {
    const aT = transposed(plan.aMat);
    const values = allocate(dtype, m * p * (d2 > 2 ? count : 1));
    if (values.length > 0) {
      if (d2 <= 2) {
        // b is shared by every batch: its gradient sums over the batch, one product over merged rows.
        const aRs = foldedRowStride(batch, plan.aBatch, n, plan.aMat.rs);
        const gRs = foldedRowStride(batch, gBatch, n, gMat.rs);
        if (aRs !== null && gRs !== null) {
          gemm(m, p, count * n, { ...aT, cs: aRs }, { ...gMat, rs: gRs }, values, 0, p, 1);
        } else {
          const perBatch = allocate(dtype, count * m * p);
          batchedGemm(batch, m, p, n, aT, plan.aBatch, gMat, gBatch, perBatch);
          const summed = sumTo(Tensor.fromArray(perBatch, [...batch, m, p], dtype), [m, p]);
          values.set(summed.contiguous().toArray());
        }
      } else {
        batchedGemm(batch, m, p, n, aT, plan.aBatch, gMat, gBatch, values);
      }
    }
    const full = Tensor.fromArray(values, d2 > 2 ? [...batch, m, p] : [m, p], dtype);
    const bBatchShape = b.shape.slice(0, Math.max(d2 - 2, 0));
    gb = (d2 > 2 ? sumTo(full, [...bBatchShape, m, p]) : full).reshape(b.shape);
  }
  return [ga, gb];
}

// ---- checks -----------------------------------------------------------------------------

type Kind = "dot" | "mv" | "mm" | "bmm";

/** PyTorch does not promote in matrix products: both operands must share a dtype, and not bool. */
function checkDtypes(a: Tensor, b: Tensor, kind: Kind): DType {
  if (a.dtype !== b.dtype) {
    if (kind === "dot") {
      throw new Error(
        `dot : expected both vectors to have same dtype, but found ${scalarTypeName(a.dtype)} and ${scalarTypeName(b.dtype)}`,
      );
    }
    throw new Error(`expected scalar type ${scalarTypeName(a.dtype)} but found ${scalarTypeName(b.dtype)}`);
  }
  if (a.dtype === "bool") {
    const kernel = { dot: "dot", mv: "addmv_impl_cpu", mm: "addmm_impl_cpu_", bmm: "bmm" }[kind];
    throw new Error(`"${kernel}" not implemented for 'Bool'`);
  }
  return a.dtype;
}

function mmShapeError(rows: number, inner: number, inner2: number, cols: number): Error {
  return new Error(`mat1 and mat2 shapes cannot be multiplied (${rows}x${inner} and ${inner2}x${cols})`);
}

function mvShapeError(rows: number, inner: number, vec: number): Error {
  return new Error(`size mismatch, got ${rows}, ${rows}x${inner},${vec}`);
}

/**
 * The gradients of `a @ b` from products recorded as ops: `g @ b^T` and `a^T @ g` on the operands
 * seen as (batch..., n, m) and (batch..., m, p), summed back to each operand's shape.
 */
function recordedProductGrads(a: Tensor, b: Tensor, g: Tensor, plan: Plan): [Tensor | null, Tensor | null] {
  const left = a.ndim === 1 ? a.unsqueeze(0) : a;
  const right = b.ndim === 1 ? b.unsqueeze(1) : b;
  const upstream = g.reshape([...plan.batch, plan.n, plan.p]);
  return [
    a.requiresGrad ? sumTo(matmul(upstream, right.transpose(-1, -2)), left.shape).reshape(a.shape) : null,
    b.requiresGrad ? sumTo(matmul(left.transpose(-1, -2), upstream), right.shape).reshape(b.shape) : null,
  ];
}

/** What a product's backward reads: each operand when the other one needs its gradient (as PyTorch saves them). */
function savedOperands(a: Tensor, b: Tensor): Array<Tensor | null> {
  return [b.requiresGrad ? a : null, a.requiresGrad ? b : null];
}

/** One node named `name` for the product `a @ b` described by `plan`. */
function recordProduct(name: string, a: Tensor, b: Tensor, plan: Plan, dtype: DType): Tensor {
  const values = product(plan, dtype);
  if (dtype === "int64") clearNegativeZeros(values); // sums of products like 0 * -1
  const out = Tensor.fromArray(values, plan.outShape, dtype);
  return record(name, out, [a, b], (g) => (isGradEnabled() ? recordedProductGrads(a, b, g, plan) : productGrads(a, b, g, plan)), {
    saved: savedOperands(a, b),
  });
}

// ---- the ops ----------------------------------------------------------------------------

/** The dot product of two 1-D tensors (DotBackward0). */
export function dot(a: Tensor, b: Tensor): Tensor {
  tensorArg(a, "dot", "input", 1);
  tensorArg(b, "dot", "tensor", 2);
  if (a.ndim !== 1 || b.ndim !== 1) throw new Error(`1D tensors expected, but got ${a.ndim}D and ${b.ndim}D tensors`);
  return dotOf(a, b);
}

function dotOf(a: Tensor, b: Tensor): Tensor {
  const dtype = checkDtypes(a, b, "dot");
  const n = a.nd.shape[0];
  const k = b.nd.shape[0];
  if (n !== k) {
    throw new Error(
      `inconsistent tensor size, expected tensor [${n}] and src [${k}] to have the same number of elements, but got ${n} and ${k} elements respectively`,
    );
  }
  const out = allocate(dtype, 1);
  out[0] = dotProduct(n, a.nd.data, a.nd.offset, a.nd.stride[0], b.nd.data, b.nd.offset, b.nd.stride[0]);
  if (dtype === "int64") clearNegativeZeros(out);
  return record(
    "DotBackward0",
    Tensor.fromArray(out, [], dtype),
    [a, b],
    (g) => [a.requiresGrad ? b.mul(g) : null, b.requiresGrad ? a.mul(g) : null],
    { saved: savedOperands(a, b) },
  );
}

/** Matrix (n x m) times vector (m) (MvBackward0). */
export function mv(a: Tensor, v: Tensor): Tensor {
  tensorArg(a, "mv", "input", 1);
  tensorArg(v, "mv", "vec", 2);
  if (a.ndim !== 2 || v.ndim !== 1) throw new Error(`vector + matrix @ vector expected, got 1, ${a.ndim}, ${v.ndim}`);
  return mvOf(a, v);
}

function mvOf(a: Tensor, v: Tensor): Tensor {
  const [n, m] = a.nd.shape;
  if (m !== v.nd.shape[0]) throw mvShapeError(n, m, v.nd.shape[0]);
  const dtype = checkDtypes(a, v, "mv");
  return recordProduct("MvBackward0", a, v, planOf(a, v, []), dtype);
}

/** Matrix product of two 2-D tensors (MmBackward0). */
export function mm(a: Tensor, b: Tensor): Tensor {
  tensorArg(a, "mm", "input", 1);
  tensorArg(b, "mm", "mat2", 2);
  if (a.ndim !== 2) throw new Error("self must be a matrix");
  if (b.ndim !== 2) throw new Error("mat2 must be a matrix");
  return mmOf(a, b);
}

function mmOf(a: Tensor, b: Tensor): Tensor {
  const [n, m] = a.nd.shape;
  const [m2, p] = b.nd.shape;
  if (m !== m2) throw mmShapeError(n, m, m2, p);
  const dtype = checkDtypes(a, b, "mm");
  return recordProduct("MmBackward0", a, b, planOf(a, b, []), dtype);
}

/** Batched matrix product of two 3-D tensors with equal batch sizes (BmmBackward0). */
export function bmm(a: Tensor, b: Tensor): Tensor {
  tensorArg(a, "bmm", "input", 1);
  tensorArg(b, "bmm", "mat2", 2);
  if (a.ndim !== 3) throw new Error("batch1 must be a 3D tensor");
  if (b.ndim !== 3) throw new Error("batch2 must be a 3D tensor");
  const [bs, , m] = a.nd.shape;
  const [bs2, m2] = b.nd.shape;
  if (bs2 !== bs || m2 !== m) {
    throw new Error(`Expected size for first two dimensions of batch2 tensor to be: [${bs}, ${m}] but got: [${bs2}, ${m2}].`);
  }
  const dtype = checkDtypes(a, b, "bmm");
  return recordProduct("BmmBackward0", a, b, planOf(a, b, [bs]), dtype);
}

/**
 * PyTorch's `matmul`: the dot product of vectors, matrix-vector and matrix products, and batched
 * products whose batch dims broadcast (a 1-D operand gets a dim prepended or appended, then
 * removed from the result).
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  tensorArg(a, "matmul", "input", 1);
  tensorArg(b, "matmul", "other", 2);
  const d1 = a.ndim;
  const d2 = b.ndim;
  if (d1 === 0 || d2 === 0) {
    throw new Error(`both arguments to matmul need to be at least 1D, but they are ${d1}D and ${d2}D`);
  }
  if (d1 === 1 && d2 === 1) return dotOf(a, b);
  if (d1 === 2 && d2 === 1) return mvOf(a, b);
  if (d1 === 2 && d2 === 2) return mmOf(a, b);
  const sa = a.nd.shape;
  const sb = b.nd.shape;
  const m = sa[d1 - 1];
  if (d1 === 1 && d2 === 2) {
    // a.unsqueeze(0).mm(b).squeeze_(0)
    if (m !== sb[0]) throw mmShapeError(1, m, sb[0], sb[1]);
    const dtype = checkDtypes(a, b, "mm");
    return recordProduct("SqueezeBackward3", a, b, planOf(a, b, []), dtype);
  }
  if (d1 >= 3 && d2 <= 2) {
    // The batch of a folds into its rows: (batch*n x m).mm(b) or .mv(b), then _unsafe_view.
    const rows = numelOf(sa.slice(0, -1));
    const kind: Kind = d2 === 2 ? "mm" : "mv";
    if (m !== sb[0]) throw d2 === 2 ? mmShapeError(rows, m, sb[0], sb[1]) : mvShapeError(rows, m, sb[0]);
    const dtype = checkDtypes(a, b, kind);
    return recordProduct("UnsafeViewBackward0", a, b, planOf(a, b, sa.slice(0, -2)), dtype);
  }
  if (d1 <= 2 && d2 >= 3) {
    // Folded through the transpose: (b^T folded to batch*p x m2).mm(a^T) or .mv(a), as PyTorch 1.13.
    const m2 = sb[d2 - 2];
    const p = sb[d2 - 1];
    const rows = numelOf(sb.slice(0, -2)) * p;
    if (m !== m2) throw d1 === 2 ? mmShapeError(rows, m2, m, sa[0]) : mvShapeError(rows, m2, m);
    const dtype = checkDtypes(b, a, d1 === 2 ? "mm" : "mv");
    // 2-D @ N-D ends in `.mT().contiguous()`: a copy (CloneBackward0) unless that view is already contiguous.
    const n = d1 === 2 ? sa[0] : 1;
    const name = d1 === 1 ? "UnsafeViewBackward0" : n === 1 || p === 1 ? "TransposeBackward0" : "CloneBackward0";
    return recordProduct(name, a, b, planOf(a, b, sb.slice(0, -2)), dtype);
  }
  // Both batched: broadcast the batch dims, then bmm and _unsafe_view.
  const batch = broadcastShapes(sa.slice(0, -2), sb.slice(0, -2));
  const m2 = sb[d2 - 2];
  if (m !== m2) {
    const count = numelOf(batch);
    throw new Error(`Expected size for first two dimensions of batch2 tensor to be: [${count}, ${m}] but got: [${count}, ${m2}].`);
  }
  const dtype = checkDtypes(a, b, "bmm");
  return recordProduct("UnsafeViewBackward0", a, b, planOf(a, b, batch), dtype);
}
