/**
 * Adagrad with PyTorch 1.13's single-tensor dense update (`_single_tensor_adagrad`), element by
 * element; t is the step count, kept in a float32 tensor as PyTorch does:
 *
 *   g = grad                                    (negated when maximize)
 *   g = g + weightDecay * p                     (when weightDecay != 0)
 *   clr = lr / (1 + (t - 1) * lrDecay)
 *   sum = sum + g * g
 *   std = sqrt(sum) + eps
 *   p = p + (-clr) * g / std
 *
 * rounded op by op as adam.ts describes. PyTorch creates every parameter's state (`sum` filled
 * with initialAccumulatorValue, step 0) in the constructor, so the state dict has it at once.
 *
 * Sparse fast path: where a row of the gradient is zero, the dense update leaves the row as it
 * was, bit for bit: sum + 0 * 0 = sum, and p + (-clr * 0) / std = p + (-0) = p, provided
 * std > 0 (sum >= 0 and eps > 0 in the parameter's dtype; with std = 0 it would be 0 / 0 = NaN).
 * So with a row-sparse gradient only the rows it touched are updated. Weight decay makes every
 * row's g non-zero, and maximize turns the zeros into -0 (which moves a parameter of -0 to +0),
 * so those take the dense path.
 */
import type { TypedArray } from "../dtype";
import { rounderFor } from "../dtype";
import type { GradSlot } from "../autograd/grad-slot";
import type { Tensor } from "../tensor";
import { advance, bufferLike, denseGrad, stepCounter, storageOf } from "./buffers";
import { checkNonNegative } from "./options";
import { Optimizer, type ParamGroup, type ParamGroupInput, type Params, type PerParamState } from "./optimizer";
import { checkOptions as checkKeys, optionKeys } from "../options";

export interface AdagradOptions {
  lr?: number;
  lrDecay?: number;
  weightDecay?: number;
  initialAccumulatorValue?: number;
  eps?: number;
  maximize?: boolean;
}

export type AdagradParamGroup = ParamGroup & Required<AdagradOptions>;

/** Per parameter: PyTorch's `step` and `sum`. */
interface AdagradState {
  step: Tensor;
  sum: Tensor;
}

/** Adagrad's checks, in PyTorch's order and words. */
function checkOptions(o: Partial<AdagradOptions>): void {
  checkNonNegative(o.lr, "learning rate");
  checkNonNegative(o.lrDecay, "lr_decay value");
  checkNonNegative(o.weightDecay, "weight_decay value");
  checkNonNegative(o.initialAccumulatorValue, "initial_accumulator_value value");
  checkNonNegative(o.eps, "epsilon value");
}

/** `new optim.Adagrad(params, {lr = 1e-2, lrDecay = 0, weightDecay = 0, initialAccumulatorValue = 0, eps = 1e-10, maximize})`. */
const ADAGRAD_KEYS = optionKeys<AdagradOptions>({
  lr: true,
  lrDecay: true,
  weightDecay: true,
  initialAccumulatorValue: true,
  eps: true,
  maximize: true,
});

export class Adagrad extends Optimizer {
  constructor(params: Params, options: AdagradOptions = {}) {
    checkKeys("Adagrad", options, ADAGRAD_KEYS);
    const { lr = 1e-2, lrDecay = 0, weightDecay = 0, initialAccumulatorValue = 0, eps = 1e-10, maximize = false } = options ?? {};
    const defaults = { lr, lrDecay, eps, weightDecay, initialAccumulatorValue, maximize };
    checkOptions(defaults);
    super(params, defaults);
  }

  /** Adds the group and creates its parameters' state, as PyTorch's constructor does for its groups. */
  override addParamGroup(group: ParamGroupInput): void {
    super.addParamGroup(group);
    const added = this.paramGroups[this.paramGroups.length - 1] as AdagradParamGroup;
    for (const p of added.params) stateFor(p, this.stateOf(p), added);
  }

  protected override checkGroup(group: Record<string, unknown>): void {
    checkOptions(group as Partial<AdagradOptions>);
  }

  override step(closure?: () => Tensor | number): Tensor | number | undefined {
    return this.updateEach<AdagradParamGroup>(closure, (p, slot, group, state) => update(p, slot, stateFor(p, state, group), group));
  }
}

/** The state of `p`: step 0 and `sum` filled with initialAccumulatorValue, unless it has them. */
function stateFor(p: Tensor, state: PerParamState, group: AdagradParamGroup): AdagradState {
  state.step ??= stepCounter();
  state.sum ??= bufferLike(p, group.initialAccumulatorValue);
  return state as unknown as AdagradState;
}

/** One step of `p` in place: over the touched rows only where that is sound (file comment), else densely. */
function update(p: Tensor, slot: GradSlot, state: AdagradState, group: AdagradParamGroup): void {
  const round = rounderFor(p.dtype);
  const t = advance(state.step);
  const coefficients: Coefficients = {
    round,
    sign: group.maximize ? -1 : 1,
    wd: round(group.weightDecay),
    eps: round(group.eps),
    negClr: round(-group.lr / (1 + (t - 1) * group.lrDecay)),
  };
  const pd = storageOf(p, "parameters");
  const sum = storageOf(state.sum, "sum");
  const rowsSuffice = group.weightDecay === 0 && !group.maximize && coefficients.eps > 0;
  if (rowsSuffice) slot.forEachRow((at, values, from, length) => updateRange(pd, sum, values, at, from, length, coefficients));
  else updateRange(pd, sum, denseGrad(p, slot), 0, 0, pd.length, coefficients);
}

interface Coefficients {
  round: (v: number) => number;
  sign: number;
  wd: number;
  eps: number;
  negClr: number;
}

/** The update of elements at..at+length-1, whose gradient is grad[from..from+length-1]. */
function updateRange(pd: TypedArray, sum: TypedArray, grad: TypedArray, at: number, from: number, length: number, k: Coefficients): void {
  const { round, sign, wd, eps, negClr } = k;
  for (let j = 0; j < length; j++) {
    const i = at + j;
    let g = sign * grad[from + j];
    if (wd !== 0) g = round(g + wd * pd[i]);
    sum[i] = round(sum[i] + g * g); // addcmul_(grad, grad, value=1), fused
    const std = round(round(Math.sqrt(sum[i])) + eps);
    pd[i] = round(pd[i] + round(round(negClr * g) / std));
  }
}
