/**
 * Learning-rate schedulers (`torch.optim.lr_scheduler`). Each `step()` advances `lastEpoch` and
 * writes the new rate into every param group's `lr`, using PyTorch's recursive ("chainable")
 * formulas, so that schedulers can be stacked on one optimizer the way PyTorch allows.
 * Constructing one records `initialLr` in each group and takes the first step (epoch 0).
 */
import type { Optimizer } from "./optimizer";

export abstract class LRScheduler {
  readonly optimizer: Optimizer;
  /** The learning rates the schedule starts from (each group's `initialLr`). */
  baseLrs: number[];
  /** The number of `step()` calls so far, starting at 0 after construction. */
  lastEpoch: number;
  protected lastLr: number[] = [];

  constructor(optimizer: Optimizer, lastEpoch = -1) {
    if (!optimizer || !Array.isArray(optimizer.paramGroups)) throw new TypeError(`${typeof optimizer} is not an Optimizer`);
    this.optimizer = optimizer;
    if (lastEpoch === -1) {
      for (const group of optimizer.paramGroups) group.initialLr ??= group.lr;
    } else {
      optimizer.paramGroups.forEach((group, i) => {
        if (group.initialLr === undefined) {
          throw new Error(`param 'initial_lr' is not specified in param_groups[${i}] when resuming an optimizer`);
        }
      });
    }
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr as number);
    this.lastEpoch = lastEpoch;
  }

  /** Subclasses call this at the end of their constructor: PyTorch's `_initial_step`. */
  protected initialStep(): void {
    this.step();
  }

  /** The rates for `lastEpoch`, computed from the groups' current rates. */
  protected abstract getLr(): number[];

  /** Advances one epoch and sets each group's `lr`. */
  step(): void {
    this.lastEpoch += 1;
    const lrs = this.getLr();
    this.optimizer.paramGroups.forEach((group, i) => {
      group.lr = lrs[i];
    });
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The rates the last `step()` set, one per param group. */
  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  /** Everything but the optimizer, for checkpoints. */
  stateDict(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(this)) if (k !== "optimizer") out[k] = Array.isArray(v) ? v.slice() : v;
    return out;
  }

  loadStateDict(state: Record<string, unknown>): void {
    for (const [k, v] of Object.entries(state))
      if (k !== "optimizer") (this as Record<string, unknown>)[k] = Array.isArray(v) ? v.slice() : v;
  }
}

/** Multiplies the rate by `gamma` every `stepSize` epochs: lr = initialLr * gamma^floor(epoch / stepSize). */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;

  constructor(optimizer: Optimizer, options: { stepSize: number; gamma?: number; lastEpoch?: number }) {
    super(optimizer, options?.lastEpoch ?? -1);
    const { stepSize, gamma = 0.1 } = options ?? {};
    if (!Number.isInteger(stepSize) || stepSize <= 0) throw new Error(`StepLR: stepSize must be a positive integer, got ${stepSize}`);
    this.stepSize = stepSize;
    this.gamma = gamma;
    this.initialStep();
  }

  protected getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * this.gamma);
  }

  /** The closed form, `initialLr * gamma ** floor(lastEpoch / stepSize)`. */
  closedFormLr(): number[] {
    return this.baseLrs.map((base) => base * this.gamma ** Math.floor(this.lastEpoch / this.stepSize));
  }
}

/**
 * Scales the rate linearly from `startFactor` to `endFactor` over `totalIters` steps, then
 * keeps it: PyTorch's recursive form, lr_k = lr_{k-1} * (1 + (end - start) / (total * start + (k - 1) * (end - start))).
 */
export class LinearLR extends LRScheduler {
  readonly startFactor: number;
  readonly endFactor: number;
  readonly totalIters: number;

  constructor(optimizer: Optimizer, options: { startFactor?: number; endFactor?: number; totalIters?: number; lastEpoch?: number } = {}) {
    const { startFactor = 1 / 3, endFactor = 1, totalIters = 5, lastEpoch = -1 } = options;
    if (!(startFactor > 0 && startFactor <= 1)) {
      throw new Error("Starting multiplicative factor expected to be greater than 0 and less or equal to 1.");
    }
    if (!(endFactor >= 0 && endFactor <= 1)) throw new Error("Ending multiplicative factor expected to be between 0 and 1.");
    super(optimizer, lastEpoch);
    this.startFactor = startFactor;
    this.endFactor = endFactor;
    this.totalIters = totalIters;
    this.initialStep();
  }

  protected getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    if (this.lastEpoch === 0) return groups.map((g) => g.lr * this.startFactor);
    if (this.lastEpoch > this.totalIters) return groups.map((g) => g.lr);
    const delta = this.endFactor - this.startFactor;
    const factor = 1 + delta / (this.totalIters * this.startFactor + (this.lastEpoch - 1) * delta);
    return groups.map((g) => g.lr * factor);
  }

  /** The closed form, `initialLr * (start + (end - start) * min(totalIters, lastEpoch) / totalIters)`. */
  closedFormLr(): number[] {
    const t = Math.min(this.totalIters, this.lastEpoch);
    return this.baseLrs.map((base) => base * (this.startFactor + ((this.endFactor - this.startFactor) * t) / this.totalIters));
  }
}
