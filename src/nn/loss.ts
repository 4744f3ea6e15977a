/**
 * Loss modules. Like PyTorch's, they only store their settings (weights as buffers, so they
 * appear in `stateDict()`); every check runs when `forward` is called, where PyTorch runs it,
 * so the errors and their order are PyTorch's.
 */
import { Module } from "./module";
import type { Tensor } from "../tensor";
import * as F from "./functional";
import {
  type BinaryCrossEntropyOptions,
  type BinaryCrossEntropyWithLogitsOptions,
  type CrossEntropyOptions,
  type NllLossOptions,
  type Reduction,
  BCE_KEYS,
  BCE_WITH_LOGITS_KEYS,
  CROSS_ENTROPY_KEYS,
  NLL_LOSS_KEYS,
} from "../ops/loss";
import {
  type HuberLossOptions,
  type KLDivOptions,
  type KLDivReduction,
  type RegressionLossOptions,
  type SmoothL1LossOptions,
  HUBER_LOSS_KEYS,
  KL_DIV_KEYS,
  REGRESSION_LOSS_KEYS,
  SMOOTH_L1_LOSS_KEYS,
} from "../ops/regression-loss";
import { checkOptions } from "../options";
import { tensorOrList } from "../arguments";

/** PyTorch's `_Loss`: a reduction, checked when the loss is computed; options checked at construction. */
abstract class Loss<R extends string = Reduction> extends Module {
  readonly reduction: R;

  constructor(name: string, options: { reduction?: R }, keys: readonly string[], fallback: R) {
    super();
    checkOptions(name, options, keys);
    this.reduction = options.reduction ?? fallback;
  }
}

/** PyTorch's `_WeightedLoss`: also a weight (a tensor or an array of numbers), registered as a buffer when given. */
abstract class WeightedLoss extends Loss {
  /** Per-class (or broadcast) weight; registered as a buffer when given. */
  declare readonly weight: Tensor | null;

  constructor(name: string, options: { weight?: Tensor | readonly number[] | null; reduction?: Reduction }, keys: readonly string[]) {
    super(name, options, keys, "mean");
    this.setBuffer("weight", tensorOrList(options.weight, name, "weight"));
  }

  /** A buffer when present, a plain null field otherwise (PyTorch keeps `None` out of the state dict). */
  protected setBuffer(name: string, value: Tensor | null): void {
    if (value) this.registerBuffer(name, value);
    else (this as Record<string, unknown>)[name] = null;
  }
}

export class NLLLoss extends WeightedLoss {
  readonly ignoreIndex: number;
  constructor(options: NllLossOptions = {}) {
    super("NLLLoss", options, NLL_LOSS_KEYS);
    this.ignoreIndex = options.ignoreIndex ?? -100;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.nllLoss(input, target, { weight: this.weight, ignoreIndex: this.ignoreIndex, reduction: this.reduction });
  }
}

export class CrossEntropyLoss extends WeightedLoss {
  readonly ignoreIndex: number;
  readonly labelSmoothing: number;
  constructor(options: CrossEntropyOptions = {}) {
    super("CrossEntropyLoss", options, CROSS_ENTROPY_KEYS);
    this.ignoreIndex = options.ignoreIndex ?? -100;
    this.labelSmoothing = options.labelSmoothing ?? 0;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.crossEntropy(input, target, {
      weight: this.weight,
      ignoreIndex: this.ignoreIndex,
      reduction: this.reduction,
      labelSmoothing: this.labelSmoothing,
    });
  }
}

export class BCELoss extends WeightedLoss {
  constructor(options: BinaryCrossEntropyOptions = {}) {
    super("BCELoss", options, BCE_KEYS);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.binaryCrossEntropy(input, target, { weight: this.weight, reduction: this.reduction });
  }
}

export class BCEWithLogitsLoss extends WeightedLoss {
  declare readonly posWeight: Tensor | null;
  constructor(options: BinaryCrossEntropyWithLogitsOptions = {}) {
    super("BCEWithLogitsLoss", options, BCE_WITH_LOGITS_KEYS);
    this.setBuffer("posWeight", tensorOrList(options.posWeight, "BCEWithLogitsLoss", "posWeight"));
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.binaryCrossEntropyWithLogits(input, target, {
      weight: this.weight,
      posWeight: this.posWeight,
      reduction: this.reduction,
    });
  }
}

/** Mean squared error, (input - target)^2 per element, reduced. grad_fn `MseLossBackward0`. */
export class MSELoss extends Loss {
  constructor(options: RegressionLossOptions = {}) {
    super("MSELoss", options, REGRESSION_LOSS_KEYS, "mean");
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.mseLoss(input, target, { reduction: this.reduction });
  }
}

/** |input - target| per element, reduced (PyTorch composes it from ops: AbsBackward0, MeanBackward0, SumBackward0). */
export class L1Loss extends Loss {
  constructor(options: RegressionLossOptions = {}) {
    super("L1Loss", options, REGRESSION_LOSS_KEYS, "mean");
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.l1Loss(input, target, { reduction: this.reduction });
  }
}

/** Quadratic below `beta` (0.5 d^2 / beta), linear above (|d| - 0.5 beta). grad_fn `SmoothL1LossBackward0`. */
export class SmoothL1Loss extends Loss {
  readonly beta: number;
  constructor(options: SmoothL1LossOptions = {}) {
    super("SmoothL1Loss", options, SMOOTH_L1_LOSS_KEYS, "mean");
    this.beta = options.beta ?? 1;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.smoothL1Loss(input, target, { reduction: this.reduction, beta: this.beta });
  }
}

/** Quadratic below `delta` (0.5 d^2), linear above (delta (|d| - 0.5 delta)). grad_fn `HuberLossBackward0`. */
export class HuberLoss extends Loss {
  readonly delta: number;
  constructor(options: HuberLossOptions = {}) {
    super("HuberLoss", options, HUBER_LOSS_KEYS, "mean");
    this.delta = options.delta ?? 1;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.huberLoss(input, target, { reduction: this.reduction, delta: this.delta });
  }
}

/**
 * KL divergence of `target` from the log-probabilities `input`. Use `reduction: "batchmean"` for
 * the divergence itself; PyTorch's default `"mean"` divides by every element (and warns so).
 */
export class KLDivLoss extends Loss<KLDivReduction> {
  readonly logTarget: boolean;
  constructor(options: KLDivOptions = {}) {
    super("KLDivLoss", options, KL_DIV_KEYS, "mean");
    this.logTarget = options.logTarget ?? false;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.klDiv(input, target, { reduction: this.reduction, logTarget: this.logTarget });
  }
}
