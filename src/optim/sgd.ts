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
 * Plain SGD (no momentum, no weight decay) updates only the rows the gradient slot says may be
 * non-zero (the rows an embedding lookup touched): every other row's update is p - lr * 0 = p, so
 * the result is identical, and a row-sparse gradient is read as rows, never made dense.
 */
import { roundIf, rounderFor } from "../dtype";
import type { GradSlot } from "../autograd/grad-slot";
import type { Tensor } from "../tensor";
import { checkNonNegative, pythonFloat } from "./options";
import { Optimizer, type ParamGroup, type Params, required } from "./optimizer";
import { checkOptions as checkKeys, optionKeys } from "../options";

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
  maximize?: boolean;
}

export type SGDParamGroup = ParamGroup & Required<SGDOptions>;

const SGD_KEYS = optionKeys<SGDOptions>({ lr: true, momentum: true, dampening: true, weightDecay: true, nesterov: true, maximize: true });

export class SGD extends Optimizer {
  constructor(params: Params, options: SGDOptions) {
    checkKeys("SGD", options, SGD_KEYS);
    const { lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false, maximize = false } = options ?? ({} as SGDOptions);
    checkOptions({ lr, momentum, dampening, weightDecay, nesterov });
    super(params, { lr: lr ?? required, momentum, dampening, weightDecay, nesterov, maximize });
  }

  protected override checkGroup(group: Record<string, unknown>): void {
    checkOptions(group as Partial<SGDOptions>);
  }

  override step(closure?: () => Tensor | number): Tensor | number | undefined {
    return this.updateEach<SGDParamGroup>(closure, (p, slot, group, state) => {
      const buffer = (state.momentumBuffer as Tensor | null | undefined) ?? null;
      const plain = group.momentum === 0 && group.weightDecay === 0;
      state.momentumBuffer = plain ? plainUpdate(p, slot, group) : updateParameter(p, slot.dense()!, buffer, group);
    });
  }
}

function checkOptions(o: Partial<SGDOptions>): void {
  const { lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false } = o;
  if (lr !== undefined && lr !== null) checkNonNegative(lr, "learning rate");
  checkNonNegative(momentum, "momentum value");
  checkNonNegative(weightDecay, "weight_decay value");
  if (typeof dampening !== "number" || Number.isNaN(dampening)) throw new Error(`Invalid dampening value: ${pythonFloat(dampening)}`);
  if (nesterov && (momentum <= 0 || dampening !== 0)) throw new Error("Nesterov momentum requires a momentum and zero dampening");
}

/** Plain SGD, p += -lr * grad, over the parts of the gradient that may be non-zero; no momentum buffer. */
function plainUpdate(p: Tensor, slot: GradSlot, group: SGDParamGroup): null {
  if (!p.isContiguous()) throw new Error("SGD: parameters must be contiguous to be updated in place");
  // Python floats become the tensor's scalar type inside PyTorch's kernels.
  const step = rounderFor(p.dtype)(-group.lr) * (group.maximize ? -1 : 1);
  const { data, offset } = p.nd;
  slot.forEachRow((at, values, from, length) => axpy(data as Float32Array, offset + at, values as Float32Array, from, length, step));
  return null;
}

/** One SGD update of `p` in place; returns the momentum buffer (null without momentum). */
function updateParameter(p: Tensor, grad: Tensor, buffer: Tensor | null, group: SGDParamGroup): Tensor | null {
  if (!p.isContiguous()) throw new Error("SGD: parameters must be contiguous to be updated in place");
  const f32 = p.dtype === "float32";
  // Python floats become the tensor's scalar type inside PyTorch's kernels.
  const lr = roundIf(f32, -group.lr);
  const momentum = roundIf(f32, group.momentum);
  const keep = roundIf(f32, 1 - group.dampening);
  const wd = roundIf(f32, group.weightDecay);
  const sign = group.maximize ? -1 : 1;
  const { data: pd, offset: po } = p.nd;
  const n = p.numel();

  const gd = (grad.dtype === p.dtype ? grad : grad.to(p.dtype)).toArray();
  if (gd.length !== n) throw new Error(`SGD: gradient of shape [${grad.shape}] for a parameter of shape [${p.shape}]`);

  if (group.momentum === 0) {
    if (wd === 0) {
      const step = lr * sign;
      for (let i = 0; i < n; i++) pd[po + i] += step * gd[i];
    } else {
      for (let i = 0; i < n; i++) {
        const d = roundIf(f32, sign * gd[i] + wd * pd[po + i]);
        pd[po + i] = roundIf(f32, pd[po + i] + lr * d);
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
    if (wd !== 0) d = roundIf(f32, d + wd * pd[po + i]);
    let b: number;
    if (first) b = d;
    else b = roundIf(f32, roundIf(f32, bd[bo + i] * momentum) + keep * d);
    bd[bo + i] = b;
    if (nesterov) d = roundIf(f32, d + momentum * b);
    else d = b;
    pd[po + i] = roundIf(f32, pd[po + i] + lr * d);
  }
  return buf;
}

/**
 * p[at + j] += step * values[from + j] for j < length: a plain function over locals so that V8
 * compiles it to one tight loop. The typed-array types are nominal (float64 parameters take the
 * same code), and the store into p's array rounds to its dtype, so no Math.fround is needed.
 */
function axpy(pd: Float32Array, at: number, values: Float32Array, from: number, length: number, step: number): void {
  for (let j = 0; j < length; j++) pd[at + j] += step * values[from + j];
}
