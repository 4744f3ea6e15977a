/**
 * What the optimizer needs to know about a dense `.grad` built from row-sparse gradients (see
 * autograd/sparse.ts; one still pending as rows is handled without these): which rows can be
 * non-zero, and how to zero only those.
 */
import ops from "ndarray-ops";
import { sameShape } from "../shape";
import type { Tensor } from "../tensor";
import { touchedRows } from "../autograd/sparse";

export { touchedRows };

/** Whether `t`'s typed array is exactly its values, row-major, from index 0. */
export function isDense(t: Tensor): boolean {
  return t.isContiguous() && t.nd.offset === 0 && t.nd.data.length === t.numel();
}

/** The rows outside of which `grad` is zero, when it is a row-sparse gradient of `param`'s shape. */
export function rowsOf(grad: Tensor | null, param: Tensor): Int32Array | null {
  if (grad === null || param.ndim < 1) return null;
  const rows = touchedRows.get(grad);
  if (!rows || !isDense(grad) || !sameShape(grad.nd.shape, param.nd.shape)) return null;
  return rows;
}

/**
 * `zeroGrad` for one parameter, as Module and Optimizer do it in PyTorch: drop the gradient
 * (`setToNone`), or detach it and zero it in place (`zero_()`: +0 everywhere, NaN and inf
 * included, and the same tensor stays `.grad`). A pending row-sparse gradient just loses its rows.
 */
export function zeroGradOf(p: Tensor, setToNone: boolean): void {
  if (!p.hasGrad()) return;
  if (setToNone) {
    p.grad = null;
  } else if (p.pendingRowSparseGrad() !== null) {
    p.zeroPendingRowSparseGrad();
  } else {
    if (p.grad!.gradFn !== null) p.grad = p.grad!.detach();
    zeroGradInPlace(p, p.grad!);
  }
}

/** Zeroes a gradient in place, row by row when only some rows can be non-zero. */
export function zeroGradInPlace(param: Tensor, grad: Tensor): void {
  const rows = rowsOf(grad, param);
  if (rows !== null) {
    const width = grad.numel() / grad.nd.shape[0];
    zeroRows(grad.nd.data as Float32Array, rows, width);
  } else if (grad.isContiguous()) {
    const { data, offset } = grad.nd;
    data.fill(0, offset, offset + grad.numel());
  } else if (grad.ndim > 0) {
    ops.assigns(grad.nd, 0);
  }
  if (isDense(grad)) touchedRows.set(grad, new Int32Array(0));
  else touchedRows.delete(grad);
}

/** data[rows[k]] = 0 for each row: a plain loop over locals (a fill() call per short row costs more). */
function zeroRows(data: Float32Array, rows: Int32Array, width: number): void {
  for (let k = 0; k < rows.length; k++) {
    const base = rows[k] * width;
    for (let j = base; j < base + width; j++) data[j] = 0;
  }
}
