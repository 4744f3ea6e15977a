/**
 * The regression losses and the KL divergence, as PyTorch 1.13 builds them.
 *
 * `mseLoss`, `smoothL1Loss` and `huberLoss` are fused ops (MseLossBackward0, ...): a loss of
 * d = input - target per element, reduced. Their backward is itself a recorded op
 * (`MseLossBackwardBackward0`, ...), PyTorch's `*_loss_backward`, whose own backward is written
 * in ops, so a gradient taken with `createGraph` can be differentiated again. `l1Loss` and
 * `klDiv` are composed from plain ops, as PyTorch composes them, so their outputs carry those
 * ops' names (AbsBackward0, MeanBackward0, SubBackward0, DivBackward0, ...).
 *
 * Like PyTorch's functional forms, the three fused losses and `l1Loss` warn when the target's
 * size differs from the input's, then broadcast the two (failing with the broadcast's message).
 */
import { type DType, allocate, floatOf, isFloating, promoteTypes, rounderFor, scalarTypeName } from "../dtype";
import { broadcastShapes, formatSize, sameShape } from "../shape";
import { freshGradient, record } from "../autograd/node";
import { Tensor } from "../tensor-core";
import { broadcastView, exp, mapUnary, scalarTensor, sub, sumTo, toDtype } from "./elementwise";
import { mean, sum } from "./reduction";
import { expand } from "./shape";
import { type Reduction, checkLossArgs, checkReduction } from "./loss";
import { optionKeys } from "../options";

export interface RegressionLossOptions {
  /** `"mean"` (default), `"sum"` or `"none"` (the per-element losses). */
  reduction?: Reduction;
}

export interface SmoothL1LossOptions extends RegressionLossOptions {
  /** Where the loss turns from quadratic (0.5 d^2 / beta) to linear (|d| - 0.5 beta). Default 1; 0 gives L1. */
  beta?: number;
}

export interface HuberLossOptions extends RegressionLossOptions {
  /** Where the loss turns from quadratic (0.5 d^2) to linear (delta (|d| - 0.5 delta)). Default 1, must be > 0. */
  delta?: number;
}

export type KLDivReduction = Reduction | "batchmean";

export interface KLDivOptions {
  /** `"batchmean"` is the divergence's definition (the sum over the batch size); PyTorch's default `"mean"` divides by every element. */
  reduction?: KLDivReduction;
  /** The target holds log-probabilities rather than probabilities. */
  logTarget?: boolean;
}

export const REGRESSION_LOSS_KEYS = optionKeys<RegressionLossOptions>({ reduction: true });
export const SMOOTH_L1_LOSS_KEYS = optionKeys<SmoothL1LossOptions>({ reduction: true, beta: true });
export const HUBER_LOSS_KEYS = optionKeys<HuberLossOptions>({ reduction: true, delta: true });
export const KL_DIV_KEYS = optionKeys<KLDivOptions>({ reduction: true, logTarget: true });

// ---- warnings ------------------------------------------------------------------------------

const warned = new Set<string>();

/**
 * PyTorch's `warnings.warn`: Python shows a given warning text once per place that issues it, so
 * a training loop that warns at every step prints it once. Each distinct text is printed once.
 */
function warnOnce(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  console.warn(message);
}

const KL_MEAN_WARNING =
  "reduction: 'mean' divides the total loss by both the batch size and the support size." +
  "'batchmean' divides only by the batch size, and aligns with the KL div math definition." +
  "'mean' will be changed to behave the same as 'batchmean' in the next major release.";

/**
 * `torch.broadcast_tensors(input, target)` after PyTorch's warning about differing sizes; both
 * then in their common dtype (the cast is differentiable, as PyTorch's type promotion is).
 */
function broadcastPair(input: Tensor, target: Tensor): [Tensor, Tensor] {
  if (!sameShape(input.shape, target.shape)) {
    warnOnce(
      `Using a target size (${formatSize(target.shape)}) that is different to the input size (${formatSize(input.shape)}). ` +
        "This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.",
    );
  }
  const shape = broadcastShapes(input.shape, target.shape);
  const widen = (t: Tensor) => (sameShape(t.shape, shape) ? t : expand(t, shape));
  return [widen(input), widen(target)];
}

function promotePair(input: Tensor, target: Tensor): [Tensor, Tensor] {
  const dtype = promoteTypes(input.dtype, target.dtype);
  return [toDtype(input, dtype), toDtype(target, dtype)];
}

/** PyTorch's `apply_loss_reduction` for losses built from ops. */
function applyReduction(losses: Tensor, reduction: Reduction): Tensor {
  if (reduction === "mean") return mean(losses);
  if (reduction === "sum") return sum(losses);
  return losses;
}

// ---- the fused element-wise losses ---------------------------------------------------------

type Round = (v: number) => number;

/**
 * A loss of d = input - target per element. Each function computes what PyTorch's CPU kernel
 * computes, in its order, every step rounded to the dtype (`r`): that is what makes a float32
 * loss and its gradient PyTorch's to the last bit.
 */
interface ElementwiseLoss {
  /** The loss's gradFn name; its backward op's is `...BackwardBackward0`. */
  name: string;
  backwardName: string;
  /** PyTorch's kernel name, in the error for an integer dtype. */
  kernel: string;
  /** The loss of one element. `param` is beta or delta (already in the dtype). */
  value(d: number, param: number, r: Round): number;
  /**
   * d loss / d input times the upstream value `g` (`norm` is 1/n for "mean", else 1), as
   * PyTorch's vectorised backward kernel computes it: every element but the last few.
   */
  slope(d: number, g: number, norm: number, param: number, r: Round): number;
  /**
   * The same as PyTorch's scalar loop computes it for the elements after the last whole pair of
   * vectors, where beta and delta are still doubles (`exactParam`).
   */
  tailSlope(d: number, g: number, norm: number, param: number, exactParam: number, r: Round): number;
  /** The second derivative in d (piecewise constant), which the backward's own backward multiplies by. */
  curvature(d: number, param: number): number;
}

/** +1 or -1 by the sign of d (0 counts as negative), as the vectorised kernels' blend picks it. */
const signOf = (d: number) => (d > 0 ? 1 : -1);

const mseSlope = (d: number, g: number, norm: number, _: number, r: Round) => r(r(r(2 * norm) * d) * g);

const MSE: ElementwiseLoss = {
  name: "MseLossBackward0",
  backwardName: "MseLossBackwardBackward0",
  kernel: "mse_cpu",
  value: (d, _, r) => r(d * d),
  // PyTorch: scale * (input - target) * grad, with scale = 2/n ("mean") or 2 in the dtype.
  slope: mseSlope,
  tailSlope: (d, g, norm, param, _, r) => mseSlope(d, g, norm, param, r),
  curvature: () => 2,
};

const SMOOTH_L1: ElementwiseLoss = {
  name: "SmoothL1LossBackward0",
  backwardName: "SmoothL1LossBackwardBackward0",
  kernel: "smooth_l1_cpu",
  value(d, beta, r) {
    const z = Math.abs(d);
    return z < beta ? r(r(r(0.5 * z) * z) / beta) : r(z - r(0.5 * beta));
  },
  // norm * (±1 outside, d / beta inside) * g; with beta = 0 a zero difference gives -norm * g, as in PyTorch.
  slope: (d, g, norm, beta, r) => r(r(r(norm) * (Math.abs(d) >= beta ? signOf(d) : r(d / beta))) * g),
  tailSlope(d, g, norm, beta, exactBeta, r) {
    const scale = r(norm);
    if (d <= -beta) return r(-scale * g);
    if (d >= beta) return r(scale * g);
    return r(r(r(scale * d) * g) / exactBeta);
  },
  // PyTorch returns zeros for beta = 0 rather than dividing by it.
  curvature: (d, beta) => (beta > 0 && Math.abs(d) < beta ? 1 / beta : 0),
};

const HUBER: ElementwiseLoss = {
  name: "HuberLossBackward0",
  backwardName: "HuberLossBackwardBackward0",
  kernel: "huber_cpu",
  value(d, delta, r) {
    const z = Math.abs(d);
    return z < delta ? r(r(0.5 * z) * z) : r(delta * r(z - r(0.5 * delta)));
  },
  // norm * (d clamped to ±delta) * g.
  slope: (d, g, norm, delta, r) => r(r(r(norm) * (Math.abs(d) >= delta ? signOf(d) * delta : d)) * g),
  tailSlope(d, g, norm, delta, exactDelta, r) {
    const scale = r(norm);
    if (d <= -delta) return r(r(-scale * g) * exactDelta);
    if (d >= delta) return r(r(scale * g) * exactDelta);
    return r(r(scale * d) * g);
  },
  curvature: (d, delta) => (Math.abs(d) < delta ? 1 : 0),
};

/**
 * Where PyTorch's vectorised loop stops: it takes two vectors (2 x 8 floats or 2 x 4 doubles on
 * AVX2) at a time and leaves the rest to its scalar loop. (Above 32768 elements PyTorch splits the
 * work between threads, each with its own tail; there a few tail elements may differ by an ulp.)
 */
function vectorEnd(n: number, dtype: DType): number {
  const block = dtype === "float32" ? 16 : 8;
  return n - (n % block);
}

/**
 * The loss of (same-shape, same-dtype) `input` and `target`, reduced. The per-element losses are
 * computed in the inputs' dtype and stored in `outDtype` (PyTorch's Huber loss keeps the input's
 * dtype even when the target's is wider).
 */
function elementwiseLoss(
  kind: ElementwiseLoss,
  input: Tensor,
  target: Tensor,
  reduction: Reduction,
  param: number,
  outDtype: DType,
): Tensor {
  const dtype = input.dtype;
  if (!isFloating(dtype)) throw new Error(`"${kind.kernel}" not implemented for '${scalarTypeName(dtype)}'`);
  const r = rounderFor(dtype);
  const p = r(param);
  const x = input.toArray();
  const t = target.toArray();
  const n = x.length;
  const losses = allocate(outDtype, n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    losses[i] = kind.value(r(x[i] - t[i]), p, r);
    total += losses[i];
  }
  const out =
    reduction === "none"
      ? Tensor.fromArray(losses, input.shape, outDtype)
      : scalarTensor(reduction === "mean" ? total / n : total, outDtype);
  // PyTorch differentiates the target by the same backward with the two arguments swapped.
  return record(
    kind.name,
    out,
    [input, target],
    (g) => [
      input.requiresGrad ? lossBackward(kind, g, input, target, reduction, param) : null,
      target.requiresGrad ? lossBackward(kind, g, target, input, reduction, param) : null,
    ],
    { saved: [input, target] },
  );
}

/**
 * PyTorch's `*_loss_backward(grad, self, other)`: the gradient of the loss of d = self - other with
 * respect to `self`, for the upstream gradient `g` (0-d unless the reduction is "none"). A
 * recorded op, so that `createGraph` can differentiate it: with respect to `g` it is linear (the
 * same op again), with respect to `self` and `other` it is the curvature times g and its upstream.
 */
function lossBackward(kind: ElementwiseLoss, g: Tensor, self: Tensor, other: Tensor, reduction: Reduction, exactParam: number): Tensor {
  const dtype = self.dtype;
  const r = rounderFor(dtype);
  const param = r(exactParam);
  const s = self.toArray();
  const o = other.toArray();
  const gv = g.toArray();
  const n = s.length;
  const norm = reduction === "mean" ? 1 / n : 1;
  const perElement = reduction === "none";
  const out = allocate(dtype, n);
  const split = vectorEnd(n, dtype);
  for (let i = 0; i < split; i++) out[i] = kind.slope(r(s[i] - o[i]), perElement ? gv[i] : gv[0], norm, param, r);
  for (let i = split; i < n; i++) out[i] = kind.tailSlope(r(s[i] - o[i]), perElement ? gv[i] : gv[0], norm, param, exactParam, r);
  const grad = freshGradient(Tensor.fromArray(out, self.shape, dtype));
  return record(
    kind.backwardName,
    grad,
    [g, self, other],
    (gg) => {
      const curvature = mapUnary(self, dtype, (v, i, others) => kind.curvature(r(v - others[i]), param) * norm, other);
      const second = self.requiresGrad || other.requiresGrad ? gg.mul(g).mul(curvature) : null;
      return [
        g.requiresGrad ? upstreamGradient(kind, g, gg, self, other, reduction, exactParam) : null,
        self.requiresGrad ? second : null,
        other.requiresGrad ? second!.neg() : null,
      ];
    },
    { saved: [g, self, other] },
  );
}

/** The backward's gradient with respect to its upstream `g`: the backward of `gg` itself, or for a reduced loss its sum against `gg`. */
function upstreamGradient(
  kind: ElementwiseLoss,
  g: Tensor,
  gg: Tensor,
  self: Tensor,
  other: Tensor,
  reduction: Reduction,
  param: number,
): Tensor {
  if (reduction === "none") return lossBackward(kind, gg, self, other, reduction, param);
  const ones = Tensor.fromArray(allocate(g.dtype, 1).fill(1), [], g.dtype);
  return sum(lossBackward(kind, ones, self, other, reduction, param).mul(gg));
}

/** Checks and broadcasting shared by the fused losses, in PyTorch's order; then the loss. */
function fusedLoss(
  kind: ElementwiseLoss,
  input: Tensor,
  target: Tensor,
  reduction: unknown,
  param: number,
  checkParam?: () => void,
): Tensor {
  const [a, b] = broadcastPair(input, target);
  const checked = checkReduction(reduction);
  checkParam?.();
  const [x, t] = promotePair(a, b);
  const outDtype = kind === HUBER ? input.dtype : x.dtype;
  return elementwiseLoss(kind, x, t, checked, param, isFloating(outDtype) ? outDtype : x.dtype);
}

/** Mean squared error: (input - target)^2 per element, reduced. grad_fn `MseLossBackward0`. */
export function mseLoss(input: Tensor, target: Tensor, options: RegressionLossOptions = {}): Tensor {
  checkLossArgs(input, target, "mse_loss", "mseLoss", options, REGRESSION_LOSS_KEYS);
  return fusedLoss(MSE, input, target, options.reduction, 0);
}

/**
 * 0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere (d = input - target).
 * grad_fn `SmoothL1LossBackward0`.
 */
export function smoothL1Loss(input: Tensor, target: Tensor, options: SmoothL1LossOptions = {}): Tensor {
  checkLossArgs(input, target, "smooth_l1_loss", "smoothL1Loss", options, SMOOTH_L1_LOSS_KEYS);
  const beta = options.beta ?? 1;
  return fusedLoss(SMOOTH_L1, input, target, options.reduction, beta, () => {
    if (!(beta >= 0)) throw new Error("smooth_l1_loss does not support negative values for beta.");
  });
}

/** 0.5 d^2 where |d| < delta, delta (|d| - 0.5 delta) elsewhere. grad_fn `HuberLossBackward0`. */
export function huberLoss(input: Tensor, target: Tensor, options: HuberLossOptions = {}): Tensor {
  checkLossArgs(input, target, "huber_loss", "huberLoss", options, HUBER_LOSS_KEYS);
  const delta = options.delta ?? 1;
  return fusedLoss(HUBER, input, target, options.reduction, delta, () => {
    if (!(delta > 0)) throw new Error("huber_loss does not support non-positive values for delta.");
  });
}

// ---- losses composed from ops --------------------------------------------------------------

/** |input - target|, reduced; PyTorch 1.13 builds it from ops (AbsBackward0, MeanBackward0, SumBackward0). */
export function l1Loss(input: Tensor, target: Tensor, options: RegressionLossOptions = {}): Tensor {
  checkLossArgs(input, target, "l1_loss", "l1Loss", options, REGRESSION_LOSS_KEYS);
  const [a, b] = broadcastPair(input, target);
  return applyReduction(sub(a, b).abs(), checkReduction(options.reduction));
}

/**
 * x * log(y), 0 where x is 0 (unless y is NaN), as torch.xlogy; grad_fn `XlogyBackward0`.
 * KL divergence uses it for target * log(target).
 */
export function xlogy(x: Tensor, y: Tensor): Tensor {
  const shape = broadcastShapes(x.shape, y.shape);
  const dtype = floatOf(promoteTypes(x.dtype, y.dtype));
  const r = rounderFor(dtype);
  const xs = new Tensor(broadcastView(x, shape), x.dtype).toArray();
  const ys = new Tensor(broadcastView(y, shape), y.dtype).toArray();
  const out = allocate(dtype, xs.length);
  for (let i = 0; i < out.length; i++) {
    const a = xs[i];
    const b = ys[i];
    out[i] = Number.isNaN(b) ? NaN : a === 0 ? 0 : r(a * r(Math.log(b)));
  }
  // d/dx = xlogy(x != 0, y), so 0 where x is 0; d/dy = x / y.
  return record(
    "XlogyBackward0",
    Tensor.fromArray(out, shape, dtype),
    [x, y],
    (g) => [
      x.requiresGrad
        ? sumTo(
            g.mul(
              xlogy(
                mapUnary(x, dtype, (v) => (v !== 0 ? 1 : 0)),
                y,
              ),
            ),
            x.shape,
          )
        : null,
      y.requiresGrad ? sumTo(g.mul(x).div(y), y.shape) : null,
    ],
    { saved: [x, y] },
  );
}

/**
 * KL divergence of `target` from the distribution whose log-probabilities are `input`:
 * target * (log(target) - input) per element, or exp(target) * (target - input) with `logTarget`,
 * reduced. "batchmean" sums and divides by the batch size (the first dim); "mean" divides by every
 * element and warns, as PyTorch does.
 */
export function klDiv(input: Tensor, target: Tensor, options: KLDivOptions = {}): Tensor {
  checkLossArgs(input, target, "kl_div", "klDiv", options, KL_DIV_KEYS);
  const reduction = options.reduction ?? "mean";
  if (reduction === "mean") warnOnce(KL_MEAN_WARNING);
  const checked = checkReduction(reduction === "batchmean" ? "sum" : reduction);
  if (!isFloating(input.dtype) || !isFloating(target.dtype)) throw new Error("kl_div: Integral inputs not supported.");
  const pointwise = options.logTarget ? exp(target).mul(target.sub(input)) : xlogy(target, target).sub(target.mul(input));
  const reduced = applyReduction(pointwise, checked);
  return reduction === "batchmean" && input.ndim !== 0 ? reduced.div(input.shape[0]) : reduced;
}
