/**
 * RMSprop with PyTorch 1.13's single-tensor update (`_single_tensor_rmsprop`), element by element:
 *
 *   g = grad                                    (negated when maximize)
 *   g = g + weightDecay * p                     (when weightDecay != 0)
 *   s = s * alpha;  s = s + (1 - alpha) * g * g
 *   centered:  a = a * alpha;  a = a + (1 - alpha) * g;  avg = sqrt(s - a * a)
 *   otherwise: avg = sqrt(s)
 *   avg = avg + eps
 *   momentum > 0: b = b * momentum;  b = b + g / avg;  p = p + (-lr) * b
 *   otherwise:    p = p + (-lr) * g / avg
 *
 * rounded op by op as adam.ts describes. The step count is a plain number, as in PyTorch's
 * RMSprop. A row-sparse gradient is read dense: `s` (and `a`, `b`) decay in every row at every
 * step.
 */
import type { TypedArray } from "../dtype";
import { rounderFor } from "../dtype";
import type { Tensor } from "../tensor";
import { bufferLike, denseGrad, storageOf } from "./buffers";
import { checkNonNegative } from "./options";
import { Optimizer, type ParamGroup, type Params, type PerParamState } from "./optimizer";
import { checkOptions as checkKeys, optionKeys } from "../options";

export interface RMSpropOptions {
  lr?: number;
  alpha?: number;
  eps?: number;
  weightDecay?: number;
  momentum?: number;
  centered?: boolean;
  maximize?: boolean;
}

export type RMSpropParamGroup = ParamGroup & Required<RMSpropOptions>;

/** Per parameter: PyTorch's `step`, `square_avg`, `momentum_buffer` (momentum) and `grad_avg` (centered). */
interface RMSpropState {
  step: number;
  squareAvg: Tensor;
  momentumBuffer?: Tensor;
  gradAvg?: Tensor;
}

/** RMSprop's checks, in PyTorch's order and words. */
function checkOptions(o: Partial<RMSpropOptions>): void {
  checkNonNegative(o.lr, "learning rate");
  checkNonNegative(o.eps, "epsilon value");
  checkNonNegative(o.momentum, "momentum value");
  checkNonNegative(o.weightDecay, "weight_decay value");
  checkNonNegative(o.alpha, "alpha value");
}

/** `new optim.RMSprop(params, {lr = 1e-2, alpha = 0.99, eps = 1e-8, weightDecay = 0, momentum = 0, centered, maximize})`. */
const RMSPROP_KEYS = optionKeys<RMSpropOptions>({
  lr: true,
  alpha: true,
  eps: true,
  weightDecay: true,
  momentum: true,
  centered: true,
  maximize: true,
});

export class RMSprop extends Optimizer {
  constructor(params: Params, options: RMSpropOptions = {}) {
    checkKeys("RMSprop", options, RMSPROP_KEYS);
    const { lr = 1e-2, alpha = 0.99, eps = 1e-8, weightDecay = 0, momentum = 0, centered = false, maximize = false } = options ?? {};
    const defaults = { lr, momentum, alpha, eps, centered, weightDecay, maximize };
    checkOptions(defaults);
    super(params, defaults);
  }

  protected override checkGroup(group: Record<string, unknown>): void {
    checkOptions(group as Partial<RMSpropOptions>);
  }

  override step(closure?: () => Tensor | number): Tensor | number | undefined {
    return this.updateEach<RMSpropParamGroup>(closure, (p, slot, group, state) =>
      update(p, denseGrad(p, slot), stateFor(p, state, group), group),
    );
  }
}

/** The state of `p`, initialised on its first step (zeros); the step counted here. */
function stateFor(p: Tensor, state: PerParamState, group: RMSpropParamGroup): RMSpropState {
  if (Object.keys(state).length === 0) {
    state.step = 0;
    state.squareAvg = bufferLike(p);
  }
  if (group.momentum > 0) state.momentumBuffer ??= bufferLike(p);
  if (group.centered) state.gradAvg ??= bufferLike(p);
  state.step = (state.step as number) + 1;
  return state as unknown as RMSpropState;
}

/** One step of `p` in place (see the file comment). */
function update(p: Tensor, grad: TypedArray, state: RMSpropState, group: RMSpropParamGroup): void {
  const round = rounderFor(p.dtype);
  const sign = group.maximize ? -1 : 1;
  const wd = round(group.weightDecay);
  const alpha = round(group.alpha);
  const keep = round(1 - group.alpha);
  const eps = round(group.eps);
  const momentum = round(group.momentum);
  const negLr = round(-group.lr);

  const pd = storageOf(p, "parameters");
  const s = storageOf(state.squareAvg, "squareAvg");
  const a = group.centered ? storageOf(state.gradAvg!, "gradAvg") : null;
  const b = group.momentum > 0 ? storageOf(state.momentumBuffer!, "momentumBuffer") : null;
  for (let i = 0; i < pd.length; i++) {
    let g = sign * grad[i];
    if (group.weightDecay !== 0) g = round(g + wd * pd[i]);
    s[i] = round(round(s[i] * alpha) + round(keep * g) * g);
    let avg: number;
    if (a !== null) {
      a[i] = round(round(a[i] * alpha) + keep * g);
      avg = round(Math.sqrt(round(s[i] - a[i] * a[i]))); // addcmul(a, a, value=-1), fused, then sqrt_
    } else {
      avg = round(Math.sqrt(s[i]));
    }
    avg = round(avg + eps);
    if (b !== null) {
      b[i] = round(round(b[i] * momentum) + round(g / avg));
      pd[i] = round(pd[i] + negLr * b[i]);
    } else {
      pd[i] = round(pd[i] + round(round(negLr * g) / avg));
    }
  }
}
