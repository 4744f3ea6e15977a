/**
 * Learning-rate schedulers (`torch.optim.lr_scheduler`). Each `step()` advances `lastEpoch` and
 * writes the new rate into every param group's `lr`, using PyTorch's recursive ("chainable")
 * formulas, so that schedulers can be stacked on one optimizer the way PyTorch allows, and the
 * rates come out as PyTorch's, to the last bit of the double where the platform's cosine agrees.
 * Constructing one records `initialLr` in each group and takes the first step (epoch 0).
 * `ReduceLROnPlateau` is apart, as in PyTorch: it steps on a metric, not on a count.
 */
import type { Optimizer, ParamGroup } from "./optimizer";
import { pythonFloat } from "./options";
import { checkOptions, optionKeys } from "../options";

/** PyTorch's check that the first argument is an optimizer. */
function checkOptimizer(optimizer: Optimizer): void {
  if (!optimizer || !Array.isArray(optimizer.paramGroups)) throw new TypeError(`${typeof optimizer} is not an Optimizer`);
}

/** A scheduler's state for checkpoints: every field but the optimizer (arrays copied). */
function stateOfScheduler(scheduler: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(scheduler)) if (k !== "optimizer") out[k] = Array.isArray(v) ? v.slice() : v;
  return out;
}

/** Restores what `stateOfScheduler` saved (PyTorch's `__dict__.update`). */
function restoreScheduler(scheduler: object, state: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(state))
    if (k !== "optimizer") (scheduler as Record<string, unknown>)[k] = Array.isArray(v) ? v.slice() : v;
}

export abstract class LRScheduler {
  readonly optimizer: Optimizer;
  /** The learning rates the schedule starts from (each group's `initialLr`). */
  baseLrs: number[];
  /** The number of `step()` calls so far, starting at 0 after construction. */
  lastEpoch: number;
  protected lastLr: number[] = [];

  /** How many times `step()` ran, the constructor's included (PyTorch's `_step_count`). */
  stepCount = 0;

  constructor(optimizer: Optimizer, lastEpoch = -1) {
    checkOptimizer(optimizer);
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
    this.stepCount += 1;
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
    return stateOfScheduler(this);
  }

  loadStateDict(state: Record<string, unknown>): void {
    restoreScheduler(this, state);
  }

  /** Every group's current rate: what a step that changes nothing returns. */
  protected currentLrs(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** Every group's current rate times `factor`. */
  protected scaledLrs(factor: number): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr * factor);
  }
}

/** Multiplies the rate by `gamma` every `stepSize` epochs: lr = initialLr * gamma^floor(epoch / stepSize). */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;

  constructor(optimizer: Optimizer, options: { stepSize: number; gamma?: number; lastEpoch?: number }) {
    checkOptions("StepLR", options, ["stepSize", "gamma", "lastEpoch"]);
    super(optimizer, options?.lastEpoch ?? -1);
    const { stepSize, gamma = 0.1 } = options ?? {};
    if (!Number.isInteger(stepSize) || stepSize <= 0) throw new Error(`StepLR: stepSize must be a positive integer, got ${stepSize}`);
    this.stepSize = stepSize;
    this.gamma = gamma;
    this.initialStep();
  }

  protected getLr(): number[] {
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return this.currentLrs();
    return this.scaledLrs(this.gamma);
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
    checkOptions("LinearLR", options, ["startFactor", "endFactor", "totalIters", "lastEpoch"]);
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
    if (this.lastEpoch === 0) return this.scaledLrs(this.startFactor);
    if (this.lastEpoch > this.totalIters) return this.currentLrs();
    const delta = this.endFactor - this.startFactor;
    return this.scaledLrs(1 + delta / (this.totalIters * this.startFactor + (this.lastEpoch - 1) * delta));
  }

  /** The closed form, `initialLr * (start + (end - start) * min(totalIters, lastEpoch) / totalIters)`. */
  closedFormLr(): number[] {
    const t = Math.min(this.totalIters, this.lastEpoch);
    return this.baseLrs.map((base) => base * (this.startFactor + ((this.endFactor - this.startFactor) * t) / this.totalIters));
  }
}

/** Multiplies the rate by `gamma` at each milestone epoch (by gamma^k at a milestone listed k times). */
export class MultiStepLR extends LRScheduler {
  /** The milestones in increasing order, repeats kept (PyTorch's `Counter`). */
  readonly milestones: number[];
  readonly gamma: number;

  constructor(optimizer: Optimizer, options: { milestones: number[]; gamma?: number; lastEpoch?: number }) {
    checkOptions("MultiStepLR", options, ["milestones", "gamma", "lastEpoch"]);
    super(optimizer, options?.lastEpoch ?? -1);
    const { milestones, gamma = 0.1 } = options ?? {};
    if (!Array.isArray(milestones)) throw new TypeError(`MultiStepLR: milestones must be a list of epochs, got ${String(milestones)}`);
    this.milestones = [...milestones].sort((a, b) => a - b);
    this.gamma = gamma;
    this.initialStep();
  }

  protected getLr(): number[] {
    const hits = this.milestones.filter((m) => m === this.lastEpoch).length;
    return hits === 0 ? this.currentLrs() : this.scaledLrs(this.gamma ** hits);
  }

  /** The closed form, `initialLr * gamma ** (milestones passed)`. */
  closedFormLr(): number[] {
    const passed = this.milestones.filter((m) => m <= this.lastEpoch).length;
    return this.baseLrs.map((base) => base * this.gamma ** passed);
  }
}

/** Multiplies the rate by `gamma` every epoch. */
export class ExponentialLR extends LRScheduler {
  readonly gamma: number;

  constructor(optimizer: Optimizer, options: { gamma: number; lastEpoch?: number }) {
    checkOptions("ExponentialLR", options, ["gamma", "lastEpoch"]);
    super(optimizer, options?.lastEpoch ?? -1);
    if (typeof options?.gamma !== "number") throw new TypeError(`ExponentialLR: gamma must be a number, got ${String(options?.gamma)}`);
    this.gamma = options.gamma;
    this.initialStep();
  }

  protected getLr(): number[] {
    return this.lastEpoch === 0 ? this.currentLrs() : this.scaledLrs(this.gamma);
  }

  /** The closed form, `initialLr * gamma ** lastEpoch`. */
  closedFormLr(): number[] {
    return this.baseLrs.map((base) => base * this.gamma ** this.lastEpoch);
  }
}

/**
 * Anneals the rate from `initialLr` to `etaMin` along half a cosine over `tMax` epochs, then
 * back up (no restart): lr_t = etaMin + (initialLr - etaMin) * (1 + cos(pi * t / tMax)) / 2.
 * Each step scales the previous rate (PyTorch's recursive form), which is what makes the
 * numbers match PyTorch's rather than the closed form's.
 */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;

  constructor(optimizer: Optimizer, options: { tMax: number; etaMin?: number; lastEpoch?: number }) {
    checkOptions("CosineAnnealingLR", options, ["tMax", "etaMin", "lastEpoch"]);
    super(optimizer, options?.lastEpoch ?? -1);
    const { tMax, etaMin = 0 } = options ?? {};
    if (typeof tMax !== "number" || !(tMax > 0)) throw new Error(`CosineAnnealingLR: tMax must be a positive number, got ${String(tMax)}`);
    this.tMax = tMax;
    this.etaMin = etaMin;
    this.initialStep();
  }

  protected getLr(): number[] {
    const { tMax, etaMin, lastEpoch: t } = this;
    if (t === 0) return this.currentLrs();
    // Resuming (constructed with lastEpoch >= 0): the first step has no previous rate to scale.
    if (this.stepCount === 1 && t > 0) return this.closedFormLr();
    const groups = this.optimizer.paramGroups;
    // At the bottom of the cosine the recursive ratio is 0 / 0: PyTorch adds the first rise instead.
    if ((t - 1 - tMax) % (2 * tMax) === 0) {
      return groups.map((g, i) => g.lr + ((this.baseLrs[i] - etaMin) * (1 - Math.cos(Math.PI / tMax))) / 2);
    }
    const ratio = (1 + Math.cos((Math.PI * t) / tMax)) / (1 + Math.cos((Math.PI * (t - 1)) / tMax));
    return groups.map((g) => ratio * (g.lr - etaMin) + etaMin);
  }

  /** The closed form, `etaMin + (initialLr - etaMin) * (1 + cos(pi * lastEpoch / tMax)) / 2`. */
  closedFormLr(): number[] {
    const cosine = 1 + Math.cos((Math.PI * this.lastEpoch) / this.tMax);
    return this.baseLrs.map((base) => this.etaMin + ((base - this.etaMin) * cosine) / 2);
  }
}

/** A factor of the epoch: `LambdaLR` sets lr = initialLr * fn(epoch). */
export type LrLambda = (epoch: number) => number;

/**
 * `new LambdaLR(optimizer, fn)` or `(optimizer, [fn per group])`: lr = initialLr * fn(lastEpoch).
 * The functions are not part of the state dict (PyTorch saves `None` for plain functions).
 */
export class LambdaLR extends LRScheduler {
  readonly lrLambdas: LrLambda[];

  constructor(optimizer: Optimizer, lrLambda: LrLambda | LrLambda[], options: { lastEpoch?: number } = {}) {
    checkOptions("LambdaLR", options, ["lastEpoch"]);
    super(optimizer, options?.lastEpoch ?? -1);
    const groups = optimizer.paramGroups.length;
    if (Array.isArray(lrLambda) && lrLambda.length !== groups) {
      throw new Error(`Expected ${groups} lr_lambdas, but got ${lrLambda.length}`);
    }
    this.lrLambdas = Array.isArray(lrLambda) ? [...lrLambda] : new Array<LrLambda>(groups).fill(lrLambda);
    if (this.lrLambdas.some((fn) => typeof fn !== "function"))
      throw new TypeError("LambdaLR: lrLambda must be a function or a list of functions");
    this.initialStep();
  }

  protected getLr(): number[] {
    return this.baseLrs.map((base, i) => base * this.lrLambdas[i](this.lastEpoch));
  }

  override stateDict(): Record<string, unknown> {
    return { ...super.stateDict(), lrLambdas: this.lrLambdas.map(() => null) };
  }

  /** Restores everything but the functions, which stay the ones this scheduler was built with. */
  override loadStateDict(state: Record<string, unknown>): void {
    const rest = { ...state };
    delete rest.lrLambdas;
    super.loadStateDict(rest);
  }
}

export interface OneCycleLROptions {
  /** The peak rate, or one per group. */
  maxLr: number | number[];
  /** The length of the cycle; or give `epochs` and `stepsPerEpoch`. */
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  pctStart?: number;
  annealStrategy?: "cos" | "linear";
  cycleMomentum?: boolean;
  baseMomentum?: number | number[];
  maxMomentum?: number | number[];
  divFactor?: number;
  finalDivFactor?: number;
  threePhase?: boolean;
  lastEpoch?: number;
}

/** One leg of the cycle: up to `endStep`, anneal from one group value to another. */
const ONE_CYCLE_KEYS = optionKeys<OneCycleLROptions>({
  maxLr: true,
  totalSteps: true,
  epochs: true,
  stepsPerEpoch: true,
  pctStart: true,
  annealStrategy: true,
  cycleMomentum: true,
  baseMomentum: true,
  maxMomentum: true,
  divFactor: true,
  finalDivFactor: true,
  threePhase: true,
  lastEpoch: true,
});

interface Phase {
  endStep: number;
  startLr: "initialLr" | "maxLr" | "minLr";
  endLr: "initialLr" | "maxLr" | "minLr";
  startMomentum: "maxMomentum" | "baseMomentum";
  endMomentum: "maxMomentum" | "baseMomentum";
}

/**
 * The 1cycle policy: the rate rises from maxLr / divFactor to maxLr over the first `pctStart` of
 * `totalSteps`, then falls to initialLr / finalDivFactor (with `threePhase`, back down to the
 * initial rate first, then to the minimum); the momentum (Adam's betas[0]) moves the opposite
 * way between maxMomentum and baseMomentum. Not chainable: each rate is computed afresh.
 * The constructor takes the first step (step 0), and at most `totalSteps` steps follow.
 */
export class OneCycleLR extends LRScheduler {
  readonly totalSteps: number;
  readonly phases: Phase[];
  readonly annealStrategy: "cos" | "linear";
  readonly cycleMomentum: boolean;
  /** The momentum cycled is Adam's `betas[0]` (the optimizer has betas) rather than `momentum`. */
  readonly useBeta1: boolean;

  constructor(optimizer: Optimizer, options: OneCycleLROptions) {
    checkOptions("OneCycleLR", options, ONE_CYCLE_KEYS);
    checkOptimizer(optimizer);
    const { pctStart = 0.3, annealStrategy = "cos", cycleMomentum = true, threePhase = false, lastEpoch = -1 } = options ?? {};
    const totalSteps = totalStepsOf(options ?? {});
    const phases = phasesOf(pctStart, totalSteps, threePhase);
    if (typeof pctStart !== "number" || !(pctStart >= 0 && pctStart <= 1)) {
      throw new Error(
        `Expected float between 0 and 1 pct_start, but got ${typeof pctStart === "number" ? pythonFloat(pctStart) : String(pctStart)}`,
      );
    }
    if (annealStrategy !== "cos" && annealStrategy !== "linear") {
      throw new Error(`anneal_strategy must by one of 'cos' or 'linear', instead got ${String(annealStrategy)}`);
    }
    if (typeof options.maxLr !== "number" && !Array.isArray(options.maxLr)) throw new TypeError("OneCycleLR: maxLr is required");
    if (lastEpoch === -1) setRateBounds(optimizer, options);
    const useBeta1 = cycleMomentum && setUpMomentum(optimizer, options, lastEpoch);
    super(optimizer, lastEpoch);
    this.totalSteps = totalSteps;
    this.phases = phases;
    this.annealStrategy = annealStrategy;
    this.cycleMomentum = cycleMomentum;
    this.useBeta1 = useBeta1;
    this.initialStep();
  }

  protected getLr(): number[] {
    const step = this.lastEpoch;
    if (step > this.totalSteps)
      throw new Error(`Tried to step ${step + 1} times. The specified number of total steps is ${this.totalSteps}`);
    const { phase, pct } = this.phaseAt(step);
    return this.optimizer.paramGroups.map((group) => {
      if (this.cycleMomentum) {
        const momentum = this.anneal(group[phase.startMomentum] as number, group[phase.endMomentum] as number, pct);
        if (this.useBeta1) group.betas = [momentum, ...(group.betas as number[]).slice(1)];
        else group.momentum = momentum;
      }
      return this.anneal(group[phase.startLr] as number, group[phase.endLr] as number, pct);
    });
  }

  /** The phase `step` falls in (the last one past its end) and how far through it, 0 to 1. */
  private phaseAt(step: number): { phase: Phase; pct: number } {
    let start = 0;
    for (let i = 0; ; i++) {
      const phase = this.phases[i];
      if (step <= phase.endStep || i === this.phases.length - 1) return { phase, pct: (step - start) / (phase.endStep - start) };
      start = phase.endStep;
    }
  }

  /** From `start` (pct 0) to `end` (pct 1), along half a cosine or a line. */
  private anneal(start: number, end: number, pct: number): number {
    if (this.annealStrategy === "linear") return (end - start) * pct + start;
    const cosOut = Math.cos(Math.PI * pct) + 1;
    return end + ((start - end) / 2.0) * cosOut;
  }
}

/** `totalSteps`, or `epochs * stepsPerEpoch`, checked in PyTorch's words. */
function totalStepsOf(o: Partial<OneCycleLROptions>): number {
  const positiveInteger = (value: unknown, name: string): number => {
    if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
      throw new Error(`Expected positive integer ${name}, but got ${value === undefined ? "None" : String(value)}`);
    }
    return value;
  };
  if (o.totalSteps === undefined && o.epochs === undefined && o.stepsPerEpoch === undefined) {
    throw new Error("You must define either totalSteps OR (epochs AND stepsPerEpoch)");
  }
  if (o.totalSteps !== undefined) return positiveInteger(o.totalSteps, "totalSteps");
  return positiveInteger(o.epochs, "epochs") * positiveInteger(o.stepsPerEpoch, "stepsPerEpoch");
}

/** The legs of the cycle; each ends at a (possibly fractional) step. */
function phasesOf(pctStart: number, totalSteps: number, threePhase: boolean): Phase[] {
  const up: Phase = {
    endStep: pctStart * totalSteps - 1,
    startLr: "initialLr",
    endLr: "maxLr",
    startMomentum: "maxMomentum",
    endMomentum: "baseMomentum",
  };
  if (!threePhase)
    return [up, { endStep: totalSteps - 1, startLr: "maxLr", endLr: "minLr", startMomentum: "baseMomentum", endMomentum: "maxMomentum" }];
  return [
    up,
    {
      endStep: 2 * pctStart * totalSteps - 2,
      startLr: "maxLr",
      endLr: "initialLr",
      startMomentum: "baseMomentum",
      endMomentum: "maxMomentum",
    },
    { endStep: totalSteps - 1, startLr: "initialLr", endLr: "minLr", startMomentum: "maxMomentum", endMomentum: "maxMomentum" },
  ];
}

/** One value per param group: a list (of the right length) or one value for all (PyTorch's `_format_param`). */
function perGroup(name: string, optimizer: Optimizer, value: number | number[]): number[] {
  const groups = optimizer.paramGroups.length;
  if (!Array.isArray(value)) return new Array<number>(groups).fill(value);
  if (value.length !== groups) throw new Error(`expected ${groups} values for ${name}, got ${value.length}`);
  return value;
}

/** Writes each group's `initialLr`, `maxLr` and `minLr` (a fresh cycle). */
function setRateBounds(optimizer: Optimizer, o: OneCycleLROptions): void {
  const { divFactor = 25, finalDivFactor = 1e4 } = o;
  const maxLrs = perGroup("maxLr", optimizer, o.maxLr);
  optimizer.paramGroups.forEach((group, i) => {
    group.initialLr = maxLrs[i] / divFactor;
    group.maxLr = maxLrs[i];
    group.minLr = group.initialLr / finalDivFactor;
  });
}

/**
 * Checks that the optimizer has a momentum to cycle and, on a fresh cycle, starts it at
 * maxMomentum in each group. Returns whether that momentum is Adam's `betas[0]`.
 */
function setUpMomentum(optimizer: Optimizer, o: OneCycleLROptions, lastEpoch: number): boolean {
  const { defaults } = optimizer;
  if (!("momentum" in defaults) && !("betas" in defaults))
    throw new Error("optimizer must support momentum with `cycleMomentum` option enabled");
  const useBeta1 = "betas" in defaults;
  const maxMomentums = perGroup("maxMomentum", optimizer, o.maxMomentum ?? 0.95);
  const baseMomentums = perGroup("baseMomentum", optimizer, o.baseMomentum ?? 0.85);
  if (lastEpoch === -1) {
    optimizer.paramGroups.forEach((group: ParamGroup, i) => {
      if (useBeta1) group.betas = [maxMomentums[i], ...(group.betas as number[]).slice(1)];
      else group.momentum = maxMomentums[i];
      group.maxMomentum = maxMomentums[i];
      group.baseMomentum = baseMomentums[i];
    });
  }
  return useBeta1;
}

export interface ReduceLROnPlateauOptions {
  /** "min": the metric should fall (a loss); "max": rise (an accuracy). */
  mode?: "min" | "max";
  factor?: number;
  patience?: number;
  threshold?: number;
  thresholdMode?: "rel" | "abs";
  cooldown?: number;
  /** A floor for the rate, or one per group. */
  minLr?: number | number[];
  eps?: number;
}

const PLATEAU_KEYS = optionKeys<ReduceLROnPlateauOptions>({
  mode: true,
  factor: true,
  patience: true,
  threshold: true,
  thresholdMode: true,
  cooldown: true,
  minLr: true,
  eps: true,
});

/**
 * Multiplies the rate by `factor` when the metric given to `step(metric)` has not improved (by
 * more than `threshold`) for more than `patience` steps, then waits `cooldown` steps before
 * counting again. A reduction smaller than `eps` is skipped. Not an `LRScheduler`, as in PyTorch.
 */
export class ReduceLROnPlateau {
  readonly optimizer: Optimizer;
  mode: "min" | "max";
  factor: number;
  patience: number;
  threshold: number;
  thresholdMode: "rel" | "abs";
  cooldown: number;
  minLrs: number[];
  eps: number;
  /** The best metric so far (the worst possible value before the first step). */
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  lastEpoch = 0;
  private lastLr: number[];

  constructor(optimizer: Optimizer, options: ReduceLROnPlateauOptions = {}) {
    checkOptions("ReduceLROnPlateau", options, PLATEAU_KEYS);
    const {
      mode = "min",
      factor = 0.1,
      patience = 10,
      threshold = 1e-4,
      thresholdMode = "rel",
      cooldown = 0,
      minLr = 0,
      eps = 1e-8,
    } = options ?? {};
    if (factor >= 1.0) throw new Error("Factor should be < 1.0.");
    checkOptimizer(optimizer);
    this.optimizer = optimizer;
    const groups = optimizer.paramGroups.length;
    if (Array.isArray(minLr) && minLr.length !== groups) throw new Error(`expected ${groups} min_lrs, got ${minLr.length}`);
    this.minLrs = Array.isArray(minLr) ? [...minLr] : new Array<number>(groups).fill(minLr);
    this.factor = factor;
    this.patience = patience;
    this.cooldown = cooldown;
    this.eps = eps;
    this.mode = checkMode(mode, thresholdMode);
    this.thresholdMode = thresholdMode;
    this.threshold = threshold;
    this.best = this.worst();
    this.lastLr = optimizer.paramGroups.map((g) => g.lr);
  }

  /** Records the metric of one epoch (a number or a 0-d tensor) and reduces the rates after a plateau. */
  step(metric: number | { item(): number }): void {
    const current = typeof metric === "number" ? metric : metric.item();
    this.lastEpoch += 1;
    if (this.isBetter(current, this.best)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.inCooldown) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0; // bad epochs in cooldown do not count
    }
    if (this.numBadEpochs > this.patience) {
      this.reduceLr();
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The rates after the last `step` (the optimizer's rates before any). */
  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  /** Whether metric `a` improves on `best` by more than the threshold. */
  isBetter(a: number, best: number): boolean {
    const rel = this.thresholdMode === "rel";
    if (this.mode === "min") return rel ? a < best * (1 - this.threshold) : a < best - this.threshold;
    return rel ? a > best * (this.threshold + 1) : a > best + this.threshold;
  }

  stateDict(): Record<string, unknown> {
    return stateOfScheduler(this);
  }

  loadStateDict(state: Record<string, unknown>): void {
    restoreScheduler(this, state);
    checkMode(this.mode, this.thresholdMode);
    // JSON has no infinity: a saved "no best yet" comes back as null.
    if (typeof this.best !== "number") this.best = this.worst();
  }

  private worst(): number {
    return this.mode === "min" ? Infinity : -Infinity;
  }

  private reduceLr(): void {
    this.optimizer.paramGroups.forEach((group, i) => {
      const old = group.lr;
      const reduced = Math.max(old * this.factor, this.minLrs[i]);
      if (old - reduced > this.eps) group.lr = reduced;
    });
  }
}

function checkMode(mode: string, thresholdMode: string): "min" | "max" {
  if (mode !== "min" && mode !== "max") throw new Error(`mode ${mode} is unknown!`);
  if (thresholdMode !== "rel" && thresholdMode !== "abs") throw new Error(`threshold mode ${thresholdMode} is unknown!`);
  return mode;
}
