/**
 * Adam and AdamW with PyTorch 1.13's single-tensor update (`_single_tensor_adam[w]`), element
 * by element; t is the step count, which PyTorch keeps in a float32 tensor:
 *
 *   g = grad                                    (negated when maximize)
 *   g = g + weightDecay * p                     (Adam, when weightDecay != 0)
 *   p = p * (1 - lr * weightDecay)              (AdamW: decoupled weight decay)
 *   m = m * beta1;  m = m + (1 - beta1) * g
 *   v = v * beta2;  v = v + (1 - beta2) * g * g
 *   vMax = max(vMax, v)                         (amsgrad: the denominator reads vMax for v)
 *   denom = sqrt(v) / sqrt(1 - beta2^t) + eps
 *   p = p + (-lr / (1 - beta1^t)) * m / denom
 *
 * Rounding, as in sgd.ts: each PyTorch op rounds its result to the parameter's dtype
 * (`roundIf(f32, ...)`), and the Python floats it is given (beta1, 1 - beta1, eps, the step size,
 * ...) become that dtype first. `add(x, alpha)` and `addcmul` are fused multiply-adds in PyTorch's CPU kernels (GCC
 * contracts them to FMA instructions): for float32 operands the product is exact in a double, so
 * `round(a + s * b)` rounds once, as the FMA does. `addcdiv` (a + s * b / c) rounds s * b and the
 * quotient before the sum.
 *
 * A row-sparse gradient (an embedding lookup's) is read dense: every row's moments decay at
 * every step, touched or not, so no row may be skipped.
 */
import type { TypedArray } from "../dtype";
import { roundIf } from "../dtype";
import type { Tensor } from "../tensor";
import { advance, bufferLike, denseGrad, stepCounter, storageOf } from "./buffers";
import { checkBetas, checkNonNegative } from "./options";
import { Optimizer, type ParamGroup, type Params, type PerParamState } from "./optimizer";
import { checkOptions as checkKeys, optionKeys } from "../options";

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  amsgrad?: boolean;
  maximize?: boolean;
}

export type AdamParamGroup = ParamGroup & Required<AdamOptions>;

/** Per parameter: PyTorch's `step`, `exp_avg`, `exp_avg_sq` and (amsgrad) `max_exp_avg_sq`. */
interface AdamState {
  step: Tensor;
  expAvg: Tensor;
  expAvgSq: Tensor;
  maxExpAvgSq?: Tensor;
}

/** Adam's checks, in PyTorch's order and words. */
function checkOptions(o: Partial<AdamOptions>): void {
  checkNonNegative(o.lr, "learning rate");
  checkNonNegative(o.eps, "epsilon value");
  checkBetas(o.betas);
  checkNonNegative(o.weightDecay, "weight_decay value");
}

/** What Adam and AdamW share; `decoupled` selects AdamW's weight decay. */
abstract class AdamFamily extends Optimizer {
  private readonly decoupled: boolean;

  constructor(params: Params, options: AdamOptions, weightDecay: number, decoupled: boolean) {
    const { lr = 1e-3, betas = [0.9, 0.999], eps = 1e-8, amsgrad = false, maximize = false } = options ?? {};
    const defaults = { lr, betas, eps, weightDecay: options?.weightDecay ?? weightDecay, amsgrad, maximize };
    checkOptions(defaults);
    super(params, defaults);
    this.decoupled = decoupled;
  }

  protected override checkGroup(group: Record<string, unknown>): void {
    checkOptions(group as Partial<AdamOptions>);
  }

  override step(closure?: () => Tensor | number): Tensor | number | undefined {
    return this.updateEach<AdamParamGroup>(closure, (p, slot, group, state) =>
      update(p, denseGrad(p, slot), stateFor(p, state, group.amsgrad), group, this.decoupled),
    );
  }
}

/** `new optim.Adam(params, {lr = 1e-3, betas = [0.9, 0.999], eps = 1e-8, weightDecay = 0, amsgrad, maximize})`. */
const ADAM_KEYS = optionKeys<AdamOptions>({ lr: true, betas: true, eps: true, weightDecay: true, amsgrad: true, maximize: true });

export class Adam extends AdamFamily {
  constructor(params: Params, options: AdamOptions = {}) {
    checkKeys("Adam", options, ADAM_KEYS);
    super(params, options, 0, false);
  }
}

/** `new optim.AdamW(params, {...})`: Adam with decoupled weight decay, `weightDecay = 1e-2`. */
export class AdamW extends AdamFamily {
  constructor(params: Params, options: AdamOptions = {}) {
    checkKeys("AdamW", options, ADAM_KEYS);
    super(params, options, 1e-2, true);
  }
}

/** The state of `p`, initialised on its first step as PyTorch does (zeros, step 0). */
function stateFor(p: Tensor, state: PerParamState, amsgrad: boolean): AdamState {
  if (Object.keys(state).length === 0) {
    state.step = stepCounter();
    state.expAvg = bufferLike(p);
    state.expAvgSq = bufferLike(p);
  }
  if (amsgrad) state.maxExpAvgSq ??= bufferLike(p);
  return state as unknown as AdamState;
}

/** One step of `p` in place (see the file comment for the formula and its rounding). */
function update(p: Tensor, grad: TypedArray, state: AdamState, group: AdamParamGroup, decoupled: boolean): void {
  const f32 = p.dtype === "float32";
  const [beta1, beta2] = group.betas;
  const t = advance(state.step);
  const biasCorrection1 = 1 - beta1 ** t;
  const sign = group.maximize ? -1 : 1;
  const wd = decoupled ? 0 : roundIf(f32, group.weightDecay);
  const shrink = decoupled ? roundIf(f32, 1 - group.lr * group.weightDecay) : 1;
  const b1 = roundIf(f32, beta1);
  const keep1 = roundIf(f32, 1 - beta1);
  const b2 = roundIf(f32, beta2);
  const keep2 = roundIf(f32, 1 - beta2);
  const correction2 = roundIf(f32, Math.sqrt(1 - beta2 ** t));
  const eps = roundIf(f32, group.eps);
  const stepSize = roundIf(f32, -group.lr / biasCorrection1);

  const pd = storageOf(p, "parameters");
  const m = storageOf(state.expAvg, "expAvg");
  const v = storageOf(state.expAvgSq, "expAvgSq");
  const vMax = group.amsgrad ? storageOf(state.maxExpAvgSq!, "maxExpAvgSq") : null;
  for (let i = 0; i < pd.length; i++) {
    let g = sign * grad[i];
    if (wd !== 0) g = roundIf(f32, g + wd * pd[i]);
    if (shrink !== 1) pd[i] = roundIf(f32, pd[i] * shrink);
    m[i] = roundIf(f32, roundIf(f32, m[i] * b1) + keep1 * g);
    v[i] = roundIf(f32, roundIf(f32, v[i] * b2) + roundIf(f32, keep2 * g) * g);
    let second = v[i];
    if (vMax !== null) {
      vMax[i] = Math.max(vMax[i], second); // torch.maximum: NaN wins, as with Math.max
      second = vMax[i];
    }
    const denom = roundIf(f32, roundIf(f32, roundIf(f32, Math.sqrt(second)) / correction2) + eps);
    pd[i] = roundIf(f32, pd[i] + roundIf(f32, roundIf(f32, stepSize * m[i]) / denom));
  }
}
