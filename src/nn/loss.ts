/**
 * Loss modules. Like PyTorch's, they only store their settings (weights as buffers, so they
 * appear in `stateDict()`); every check runs when `forward` is called, where PyTorch runs it,
 * so the errors and their order are PyTorch's.
 */
import { Module } from "./module";
import type { Tensor } from "../tensor";
import * as F from "./functional";
import type {
  BinaryCrossEntropyOptions,
  BinaryCrossEntropyWithLogitsOptions,
  CrossEntropyOptions,
  NllLossOptions,
  Reduction,
} from "../ops/loss";

abstract class Loss extends Module {
  readonly reduction: Reduction;
  /** Per-class (or broadcast) weight; registered as a buffer when given. */
  declare readonly weight: Tensor | null;

  constructor(options: { weight?: Tensor | null; reduction?: Reduction }) {
    super();
    this.reduction = options.reduction ?? "mean";
    this.setBuffer("weight", options.weight ?? null);
  }

  /** A buffer when present, a plain null field otherwise (PyTorch keeps `None` out of the state dict). */
  protected setBuffer(name: string, value: Tensor | null): void {
    if (value) this.registerBuffer(name, value);
    else (this as Record<string, unknown>)[name] = null;
  }
}

export class NLLLoss extends Loss {
  readonly ignoreIndex: number;
  constructor(options: NllLossOptions = {}) {
    super(options);
    this.ignoreIndex = options.ignoreIndex ?? -100;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.nllLoss(input, target, { weight: this.weight, ignoreIndex: this.ignoreIndex, reduction: this.reduction });
  }
}

export class CrossEntropyLoss extends Loss {
  readonly ignoreIndex: number;
  readonly labelSmoothing: number;
  constructor(options: CrossEntropyOptions = {}) {
    super(options);
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

export class BCELoss extends Loss {
  constructor(options: BinaryCrossEntropyOptions = {}) {
    super(options);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.binaryCrossEntropy(input, target, { weight: this.weight, reduction: this.reduction });
  }
}

export class BCEWithLogitsLoss extends Loss {
  declare readonly posWeight: Tensor | null;
  constructor(options: BinaryCrossEntropyWithLogitsOptions = {}) {
    super(options);
    this.setBuffer("posWeight", options.posWeight ?? null);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.binaryCrossEntropyWithLogits(input, target, {
      weight: this.weight,
      posWeight: this.posWeight,
      reduction: this.reduction,
    });
  }
}
