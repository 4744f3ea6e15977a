/**
 * `linear(x, weight, bias)` = x @ weight^T + bias, as one fused node the way PyTorch records
 * `nn.Linear` on a 2-D input (`AddmmBackward0`, or `MmBackward0` without a bias). The weight's
 * transpose is never materialised: the forward is a dot product of contiguous rows of `x` and
 * `weight`; forward and backward visit only the non-zeros of a mostly-zero `x` (bag-of-words counts).
 * Inputs of other ranks go through a 2-D view: (..., in) -> (prod(...), in).
 */
import { type TypedArray, allocate, isFloating, scalarTypeName } from "../dtype";
import { record } from "../autograd/node";
import { Tensor } from "../tensor-core";
import { gemmWasm, wasmAvailable, wasmThreshold } from "../kernels/wasm-matmul";

/** Whether a dense float32 product of `madds` multiply-adds over these arrays runs on the wasm kernel. */
function onWasm(madds: number, ...arrays: TypedArray[]): boolean {
  return madds > 0 && madds >= wasmThreshold() && arrays.every((a) => a instanceof Float32Array) && wasmAvailable();
}

function checkLinear(x: Tensor, weight: Tensor, bias: Tensor | null): void {
  if (!(x instanceof Tensor)) throw new TypeError(`linear(): argument 'input' must be Tensor, not ${x === null ? "None" : typeof x}`);
  if (!(weight instanceof Tensor)) throw new TypeError(`linear(): argument 'weight' must be Tensor, not ${weight === null ? "None" : typeof weight}`);
  if (weight.ndim !== 2 && weight.ndim !== 1) throw new Error(`weight should be 1-D or 2-D, but got ${weight.ndim}-D`);
  if (x.ndim === 0) throw new Error("both arguments to linear need to be at least 1D, but they are 0D and 2D");
  if (x.dtype !== weight.dtype || !isFloating(x.dtype)) {
    throw new Error(
      `mat1 and mat2 must have the same dtype, but got ${scalarTypeName(x.dtype)} and ${scalarTypeName(weight.dtype)}`,
    );
  }
  if (bias !== null) {
    if (!(bias instanceof Tensor)) throw new TypeError(`linear(): argument 'bias' must be Tensor, not ${typeof bias}`);
    if (bias.dtype !== x.dtype) {
      throw new Error(`expected scalar type ${scalarTypeName(x.dtype)} but found ${scalarTypeName(bias.dtype)}`);
    }
  }
}

/** PyTorch's `torch.nn.functional.linear`. */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  checkLinear(x, weight, bias ?? null);
  if (weight.ndim === 1) {
    // A 1-D weight is a single output feature without its dim: x @ w (+ b).
    const out = linear(x, weight.unsqueeze(0), null).squeeze(-1);
    return bias ? out.add(bias) : out;
  }
  const inFeatures = weight.shape[1];
  const outFeatures = weight.shape[0];
  if (x.shape[x.ndim - 1] !== inFeatures) {
    const rows = x.ndim === 1 ? 1 : x.numel() / x.shape[x.ndim - 1];
    throw new Error(
      `mat1 and mat2 shapes cannot be multiplied (${rows}x${x.shape[x.ndim - 1]} and ${inFeatures}x${outFeatures})`,
    );
  }
  if (bias && !(bias.ndim <= 1 && (bias.numel() === outFeatures || bias.numel() === 1))) {
    throw new Error(
      `The size of tensor a (${outFeatures}) must match the size of tensor b (${bias.shape[bias.ndim - 1]}) at non-singleton dimension ${x.ndim - 1}`,
    );
  }
  if (x.ndim === 2) return addmm(x, weight, bias ?? null);
  const lead = x.shape.slice(0, -1);
  const flat = x.ndim === 1 ? x.unsqueeze(0) : x.reshape([-1, inFeatures]);
  const out = addmm(flat, weight, bias ?? null);
  return x.ndim === 1 ? out.squeeze(0) : out.reshape([...lead, outFeatures]);
}

/** out (N,O) = bias (O,) + x (N,I) @ weight (O,I)^T, accumulated in double, stored in the dtype. */
function addmm(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  const [n, inF] = x.shape;
  const outF = weight.shape[0];
  const dtype = x.dtype;
  const xs = x.toArray();
  const ws = weight.toArray();
  const bs = bias ? expandBias(bias, outF) : null;
  const out = allocate(dtype, n * outF);
  // Mostly-zero inputs (bag-of-words counts) visit only their non-zeros. Skipping 0 * w is exact
  // unless w is infinite or NaN, so a weight with such values takes the dense loop, as BLAS would.
  const sparse = outF > 1 && nonZeroCount(xs) * 4 < xs.length && allFinite(ws) ? csrOf(xs, n, inF) : null;
  const acc = !sparse && onWasm(n * inF * outF, xs, ws, out) ? new Float64Array(n * outF) : null;
  if (acc && gemmWasm(n, outF, inF, xs, 0, inF, 1, ws, 0, 1, inF, acc, 0, outF, 1)) {
    // x @ weight^T ran on the wasm kernel, summed in doubles; the bias is added before rounding once.
    if (bs) {
      for (let r = 0; r < n; r++) for (let o = 0, p = r * outF; o < outF; o++, p++) out[p] = bs[o] + acc[p];
    } else {
      out.set(acc);
    }
  } else {
    for (let r = 0; r < n; r++) {
      const xBase = r * inF;
      for (let o = 0; o < outF; o++) {
        const wBase = o * inF;
        let acc = 0;
        if (sparse) {
          const { rowStart, cols, vals } = sparse;
          for (let k = rowStart[r], end = rowStart[r + 1]; k < end; k++) acc += vals[k] * ws[wBase + cols[k]];
        } else {
          for (let i = 0; i < inF; i++) acc += xs[xBase + i] * ws[wBase + i];
        }
        out[r * outF + o] = bs ? bs[o] + acc : acc;
      }
    }
  }
  const result = Tensor.fromArray(out, [n, outF], dtype);
  const biasShape = bias ? bias.shape : [];
  return record(bias ? "AddmmBackward0" : "MmBackward0", result, bias ? [x, weight, bias] : [x, weight], (g) => {
    const gs = g.contiguous().toArray();
    const grads: Array<Tensor | null> = [
      x.requiresGrad ? gradInput(gs, ws, n, inF, outF, dtype) : null,
      weight.requiresGrad ? gradWeight(gs, xs, n, inF, outF, dtype) : null,
    ];
    if (bias) grads.push(bias.requiresGrad ? gradBias(gs, n, outF, dtype, biasShape) : null);
    return grads;
  });
}

function expandBias(bias: Tensor, outF: number): TypedArray {
  const values = bias.toArray();
  if (values.length === outF) return values;
  const out = allocate(bias.dtype, outF);
  out.fill(values[0]);
  return out;
}

/** g (N,O) @ weight (O,I). */
function gradInput(gs: TypedArray, ws: TypedArray, n: number, inF: number, outF: number, dtype: Tensor["dtype"]): Tensor {
  const out = allocate(dtype, n * inF);
  if (onWasm(n * inF * outF, gs, ws, out) && gemmWasm(n, inF, outF, gs, 0, outF, 1, ws, 0, inF, 1, out, 0, inF, 1)) {
    return Tensor.fromArray(out, [n, inF], dtype);
  }
  const acc = new Float64Array(inF);
  const skipZeros = allFinite(ws);
  for (let r = 0; r < n; r++) {
    acc.fill(0);
    for (let o = 0; o < outF; o++) {
      const gv = gs[r * outF + o];
      if (gv === 0 && skipZeros) continue;
      const wBase = o * inF;
      for (let i = 0; i < inF; i++) acc[i] += gv * ws[wBase + i];
    }
    out.set(acc, r * inF);
  }
  return Tensor.fromArray(out, [n, inF], dtype);
}

/** g^T (O,N) @ x (N,I), visiting only the non-zero entries of x (exact while g is finite). */
function gradWeight(gs: TypedArray, xs: TypedArray, n: number, inF: number, outF: number, dtype: Tensor["dtype"]): Tensor {
  const out = allocate(dtype, outF * inF);
  if (
    nonZeroCount(xs) * 4 >= xs.length &&
    onWasm(n * inF * outF, gs, xs, out) &&
    gemmWasm(outF, inF, n, gs, 0, 1, outF, xs, 0, inF, 1, out, 0, inF, 1)
  ) {
    // A dense x: g^T @ x ran on the wasm kernel (g read through transposed strides).
    return Tensor.fromArray(out, [outF, inF], dtype);
  }
  const acc = new Float64Array(inF);
  const sparse = allFinite(gs) ? csrOf(xs, n, inF) : null;
  for (let o = 0; o < outF; o++) {
    acc.fill(0);
    for (let r = 0; r < n; r++) {
      const gv = gs[r * outF + o];
      if (sparse) {
        if (gv === 0) continue;
        const { rowStart, cols, vals } = sparse;
        for (let k = rowStart[r], end = rowStart[r + 1]; k < end; k++) acc[cols[k]] += gv * vals[k];
      } else {
        const base = r * inF;
        for (let i = 0; i < inF; i++) acc[i] += gv * xs[base + i];
      }
    }
    out.set(acc, o * inF);
  }
  return Tensor.fromArray(out, [outF, inF], dtype);
}

interface Csr {
  rowStart: Int32Array;
  cols: Int32Array;
  vals: Float64Array;
}

/** The non-zeros of a row-major (n, width) matrix, row by row. */
function csrOf(xs: TypedArray, n: number, width: number): Csr {
  const rowStart = new Int32Array(n + 1);
  const nnz = nonZeroCount(xs);
  const cols = new Int32Array(nnz);
  const vals = new Float64Array(nnz);
  let at = 0;
  for (let r = 0; r < n; r++) {
    rowStart[r] = at;
    const base = r * width;
    for (let i = 0; i < width; i++) {
      const v = xs[base + i];
      if (v !== 0) {
        cols[at] = i;
        vals[at++] = v;
      }
    }
  }
  rowStart[n] = at;
  return { rowStart, cols, vals };
}

function nonZeroCount(xs: TypedArray): number {
  let nnz = 0;
  for (let k = 0; k < xs.length; k++) if (xs[k] !== 0) nnz++;
  return nnz;
}

function allFinite(xs: TypedArray): boolean {
  for (let k = 0; k < xs.length; k++) if (!Number.isFinite(xs[k])) return false;
  return true;
}

/** g summed over the batch, in the bias's own shape. */
function gradBias(gs: TypedArray, n: number, outF: number, dtype: Tensor["dtype"], shape: number[]): Tensor {
  const acc = new Float64Array(outF);
  for (let r = 0; r < n; r++) {
    const base = r * outF;
    for (let o = 0; o < outF; o++) acc[o] += gs[base + o];
  }
  if (shape.length === 0 || (shape.length === 1 && shape[0] === 1 && outF !== 1)) {
    let total = 0;
    for (let o = 0; o < outF; o++) total += acc[o];
    const out = allocate(dtype, 1);
    out[0] = total;
    return Tensor.fromArray(out, shape, dtype);
  }
  const out = allocate(dtype, outF);
  out.set(acc);
  return Tensor.fromArray(out, shape, dtype);
}
