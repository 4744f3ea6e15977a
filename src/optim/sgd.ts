/**
 * Stochastic gradient descent with PyTorch's update, element by element:
 *
 *   g = grad                       (negated when maximize)
 *   g = g + weightDecay * p        (when weightDecay != 0)
 *   buf = g                        (first step with momentum: a copy, no dampening)
 *   buf = momentum * buf + (1 - dampening) * g   (later steps)
 *   g = nesterov ? g + momentum * buf : buf
 *   p = p - lr * g
 *
 * Each line is one PyTorch op on float32 tensors, so each result is rounded to float32 (for a
 * float32 parameter) at the same place PyTorch rounds it; `a + alpha * b` is PyTorch's fused
 * multiply-add. The parameters' own typed arrays are updated in place.
 *
 * A row-sparse gradient (from an embedding bag) with no momentum and no weight decay updates
 * only the rows it touched: the other rows' update is p - lr * 0 = p, so the result is identical.
 * While the gradient is still pending as rows (autograd/sparse.ts), the update reads them without
 * building the dense `.grad`.
 */
import { rounderFor } from "../dtype";
import type { RowSparseGrad } from "../autograd/sparse";
import { rowsOf } from "../ops/row-sparse";
import type { Tensor } from "../tensor";
import { Optimizer, type ParamGroup, type Params, required, withoutGrad } from "./optimizer";

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
  maximize?: boolean;
}

export type SGDParamGroup = ParamGroup & Required<SGDOptions>;


export class SGD extends Optimizer {
  constructor(params: Params, options: SGDOptions) {
    const { lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false, maximize = false } = options ?? ({} as SGDOptions);
    checkOptions({ lr, momentum, dampening, weightDecay, nesterov });
    super(params, { lr: lr ?? required, momentum, dampening, weightDecay, nesterov, maximize });
  }

  protected override checkGroup(group: Record<string, unknown>): void {
    checkOptions(group as Partial<SGDOptions>);
  }

  override step(closure?: () => Tensor | number): Tensor | number | undefined {
    const loss = this.evaluate(closure);
    withoutGrad(() => {
      for (const group of this.paramGroups as SGDParamGroup[]) {
        for (const p of group.params) {
          if (!p.hasGrad()) continue;
          const state = this.state.get(p) ?? {};
          const buffer = (state.momentumBuffer as Tensor | null | undefined) ?? null;
          const pending = group.momentum === 0 && group.weightDecay === 0 ? p.pendingRowSparseGrad() : null;
          state.momentumBuffer = pending !== null ? updateRows(p, pending, group) : updateParameter(p, p.grad!, buffer, group);
          this.state.set(p, state);
        }
      }
    });
    return loss;
  }
}

function checkOptions(o: Partial<SGDOptions>): void {
  const { lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false } = o;
  if (lr !== undefined && lr !== null && (typeof lr !== "number" || !(lr >= 0))) throw new Error(`Invalid learning rate: ${lr}`);
  if (typeof momentum !== "number" || !(momentum >= 0)) throw new Error(`Invalid momentum value: ${momentum}`);
  if (typeof weightDecay !== "number" || !(weightDecay >= 0)) throw new Error(`Invalid weight_decay value: ${weightDecay}`);
  if (typeof dampening !== "number" || Number.isNaN(dampening)) throw new Error(`Invalid dampening value: ${dampening}`);
  if (nesterov && (momentum <= 0 || dampening !== 0)) throw new Error("Nesterov momentum requires a momentum and zero dampening");
}

/** The step `p += step * grad` of plain SGD (no momentum, no weight decay), in p's scalar type. */
function plainStep(p: Tensor, group: SGDParamGroup): number {
  // Python floats become the tensor's scalar type inside PyTorch's kernels.
  return rounderFor(p.dtype)(-group.lr) * (group.maximize ? -1 : 1);
}

/** Plain SGD from a pending row-sparse gradient: only its rows, read from its compact values. */
function updateRows(p: Tensor, grad: RowSparseGrad, group: SGDParamGroup): null {
  if (!p.isContiguous()) throw new Error("SGD: parameters must be contiguous to be updated in place");
  sgdCompactRows(p.nd.data as Float32Array, p.nd.offset, grad.values as Float32Array, grad.rows, grad.width, plainStep(p, group));
  return null;
}

/** One SGD update of `p` in place; returns the momentum buffer (null without momentum). */
function updateParameter(p: Tensor, grad: Tensor, buffer: Tensor | null, group: SGDParamGroup): Tensor | null {
  if (!p.isContiguous()) throw new Error("SGD: parameters must be contiguous to be updated in place");
  const round = rounderFor(p.dtype);
  // Python floats become the tensor's scalar type inside PyTorch's kernels.
  const lr = round(-group.lr);
  const momentum = round(group.momentum);
  const keep = round(1 - group.dampening);
  const wd = round(group.weightDecay);
  const sign = group.maximize ? -1 : 1;
  const { data: pd, offset: po } = p.nd;
  const n = p.numel();

  const sparseRows = group.momentum === 0 && group.weightDecay === 0 ? rowsOf(grad, p) : null;
  if (sparseRows !== null) {
    sgdDenseRows(pd as Float32Array, po, grad.nd.data as Float32Array, sparseRows, n / p.nd.shape[0], plainStep(p, group));
    return null;
  }

  const gd = (grad.dtype === p.dtype ? grad : grad.to(p.dtype)).toArray();
  if (gd.length !== n) throw new Error(`SGD: gradient of shape [${grad.shape}] for a parameter of shape [${p.shape}]`);

  if (group.momentum === 0) {
    if (wd === 0) {
      const step = lr * sign;
      for (let i = 0; i < n; i++) pd[po + i] += step * gd[i];
    } else {
      for (let i = 0; i < n; i++) {
        const d = round(sign * gd[i] + wd * pd[po + i]);
        pd[po + i] = round(pd[po + i] + lr * d);
      }
    }
    return null;
  }

  const first = buffer === null;
  const buf = first ? p.detach().clone().detach() : buffer;
  if (buf.numel() !== n || !buf.isContiguous()) throw new Error("SGD: momentum buffer does not match its parameter");
  const bd = buf.nd.data;
  const bo = buf.nd.offset;
  const nesterov = group.nesterov;
  for (let i = 0; i < n; i++) {
    let d = sign * gd[i];
    if (wd !== 0) d = round(d + wd * pd[po + i]);
    let b: number;
    if (first) b = d;
    else b = round(round(bd[bo + i] * momentum) + keep * d);
    bd[bo + i] = b;
    if (nesterov) d = round(d + momentum * b);
    else d = b;
    pd[po + i] = round(pd[po + i] + lr * d);
  }
  return buf;
}

/*
 * The two row updates below are plain functions over locals so that V8 compiles each to one tight
 * loop; the typed-array types are nominal (float64 parameters take the same code), and the store
 * into p's array rounds to its dtype, so no per-element Math.fround is needed.
 */

/** p[rows[k]] += step * values[k]: a row-sparse gradient's compact values, read in order. */
function sgdCompactRows(pd: Float32Array, po: number, values: Float32Array, rows: Int32Array, width: number, step: number): void {
  for (let k = 0, from = 0; k < rows.length; k++, from += width) {
    const base = po + rows[k] * width;
    for (let j = 0; j < width; j++) pd[base + j] += step * values[from + j];
  }
}

/** p[row] += step * grad[row] for the listed rows of a dense, zero-offset gradient (zero elsewhere). */
function sgdDenseRows(pd: Float32Array, po: number, gd: Float32Array, rows: Int32Array, width: number, step: number): void {
  for (let k = 0; k < rows.length; k++) {
    const from = rows[k] * width;
    const base = po + from;
    for (let j = 0; j < width; j++) pd[base + j] += step * gd[from + j];
  }
}
