/**
 * The four losses, computed as PyTorch 1.13 computes them. Every argument is checked, in
 * PyTorch's order and words, before anything is computed; then each loss is a fused kernel over
 * typed arrays (kernels/nll.ts, probability-targets.ts, bce.ts, bce-with-logits.ts) with its
 * backward recorded beside it. Cross entropy is log-softmax then NLL, two nodes, as in PyTorch.
 *
 * Each backward keeps its kernel when it runs without grad mode (an ordinary backward: compact
 * one-hot rows, gradients computed in the forward), and when it is recorded (createGraph) returns
 * gradients that can be differentiated again: NLL and the label-smoothing term are linear in
 * their input, so their gradient is an op of the upstream whose own gradient is the loss itself
 * (PyTorch's NllLossBackwardBackward0); the other losses compose their gradient from ops, as
 * PyTorch 1.13 does for BCEWithLogits.
 */
import { type DType, type TypedArray, allocate, isFloating, rounderFor, scalarTypeName } from "../dtype";
import { broadcastShapes, formatSize, normalizeDim, numelOf, sameShape } from "../shape";
import { type Grad, freshGradient, record } from "../autograd/node";
import { optionKeys, checkOptions } from "../options";
import { tensorArg, tensorOrList } from "../arguments";
import { Tensor } from "../tensor-core";
import { OneHotRowsGrad } from "../autograd/sparse";
import { isGradEnabled } from "../autograd/grad-mode";
import { logSoftmax } from "./activation";
import { logSigmoid } from "./activation-functions";
import { broadcastView, clamp, rsub, scalarTensor } from "./elementwise";
import { binaryCrossEntropyBackward, binaryCrossEntropyForward } from "../kernels/bce";
import { type Periodic, bceWithLogits, scaledBy, weightedBceWithLogits, weightedBceWithLogitsBackward } from "../kernels/bce-with-logits";
import { nllForward, nllGrad, nllOneHotGrad, smoothingBackward, smoothingForward } from "../kernels/nll";
import { probabilityTargetBackward, probabilityTargetForward } from "../kernels/probability-targets";

export type Reduction = "none" | "mean" | "sum";

export interface NllLossOptions {
  /** One weight per class, shape (C): a tensor or an array of numbers. */
  weight?: Tensor | readonly number[] | null;
  /** Targets equal to this contribute nothing (and are not counted by "mean"). Default -100. */
  ignoreIndex?: number;
  reduction?: Reduction;
}

export interface CrossEntropyOptions extends NllLossOptions {
  /** In [0, 1]: the target becomes (1 - e) * one-hot + e / C. */
  labelSmoothing?: number;
}

export interface BinaryCrossEntropyOptions {
  /** Broadcast over the input: a tensor or an array of numbers. */
  weight?: Tensor | readonly number[] | null;
  reduction?: Reduction;
}

export interface BinaryCrossEntropyWithLogitsOptions extends BinaryCrossEntropyOptions {
  /** Weight of the positive term, broadcast against the input's last dimension(s): a tensor or an array of numbers. */
  posWeight?: Tensor | readonly number[] | null;
}

export const NLL_LOSS_KEYS = optionKeys<NllLossOptions>({ weight: true, ignoreIndex: true, reduction: true });
export const CROSS_ENTROPY_KEYS = optionKeys<CrossEntropyOptions>({
  weight: true,
  ignoreIndex: true,
  reduction: true,
  labelSmoothing: true,
});
export const BCE_KEYS = optionKeys<BinaryCrossEntropyOptions>({ weight: true, reduction: true });
export const BCE_WITH_LOGITS_KEYS = optionKeys<BinaryCrossEntropyWithLogitsOptions>({ weight: true, reduction: true, posWeight: true });

/** A loss function's two tensors and its options, checked at its entry (`fn` as PyTorch names the op, `call` as the user wrote it). */
export function checkLossArgs(input: unknown, target: unknown, fn: string, call: string, options: unknown, keys: readonly string[]): void {
  tensorArg(input, fn, "input", 1);
  tensorArg(target, fn, "target", 2);
  checkOptions(call, options, keys);
}

/** PyTorch's `_Reduction.get_enum`, which runs before any other check. */
export function checkReduction(reduction: unknown = "mean"): Reduction {
  if (reduction === "none" || reduction === "mean" || reduction === "sum") return reduction;
  throw new Error(`${String(reduction)} is not a valid value for reduction`);
}

const sizes = (shape: readonly number[]) => `[${shape.join(", ")}]`;

/** A double printed the way C++ streams print it in PyTorch's messages (6 significant digits). */
function formatDouble(v: number): string {
  return Number.isNaN(v) ? "nan" : String(Number(v.toPrecision(6)));
}

/** The 0-d result of "sum", or of "mean" (the sum over `divisor`). */
function reduced(dtype: DType, sum: number, divisor: number, reduction: Reduction): Tensor {
  return scalarTensor(reduction === "mean" ? sum / divisor : sum, dtype);
}

// ---- class-index targets: NLL and cross entropy ------------------------------------------

/**
 * Input (C), (N, C) or (N, C, d1, ...) read as `n` samples of `c` classes at `d` positions:
 * element (s, k, p) is at `(s * c + k) * d + p` and its target at `s * d + p`.
 */
interface ClassLayout {
  n: number;
  c: number;
  d: number;
  targets: TypedArray;
  /** Shape of the unreduced loss: [] for (C) input, else (N, d1, ...). */
  outShape: number[];
  /** NllLossBackward0 for 1-d and 2-d input, NllLoss2DBackward0 above. */
  name: string;
  /**
   * PyTorch runs 3-d and 5+-d input through its 4-d kernel and views the unreduced result
   * back, so that result's grad_fn is ViewBackward0; we keep that shape of graph.
   */
  viewBack: boolean;
}

/** All of nll_loss_nd's checks, in its order, including every target's bounds. */
function checkClassTargets(input: Tensor, target: Tensor, weight: Tensor | null, ignoreIndex: number, reduction: Reduction): ClassLayout {
  const nd = input.ndim;
  const ishape = input.shape;
  const tshape = target.shape;
  if (nd < 1) throw new Error(`Expected 1 or more dimensions (got ${nd})`);
  if (nd !== 1) {
    if (target.ndim === 0) throw new Error("dimension specified as 0 but tensor has no dimensions");
    if (ishape[0] !== tshape[0]) {
      throw new Error(`Expected input batch_size (${ishape[0]}) to match target batch_size (${tshape[0]}).`);
    }
  }
  const c = ishape[nd === 1 ? 0 : 1];
  if (nd <= 2) {
    if (target.ndim > 1) throw new Error("0D or 1D target tensor expected, multi-target not supported");
    const noBatchDim = nd === 1 && target.ndim === 0;
    if (!noBatchDim && ishape[0] !== tshape[0]) {
      throw new Error(`size mismatch (got input: ${sizes(ishape)}, target: ${sizes(tshape)})`);
    }
    if (weight && (weight.ndim !== 1 || weight.numel() !== c)) {
      throw new Error(
        `weight tensor should be defined either for all ${c} classes or no classes but got weight tensor of shape: ${sizes(weight.shape)}`,
      );
    }
  } else {
    const spatial = ishape.slice(2);
    if (nd !== 4 && !sameShape(tshape.slice(1), spatial)) {
      throw new Error(`Expected target size ${sizes([ishape[0], ...spatial])}, got ${sizes(tshape)}`);
    }
    if (nd === 4 && target.ndim !== 3) {
      throw new Error(`only batches of spatial targets supported (3D tensors) but got targets of dimension: ${target.ndim}`);
    }
    if (weight && weight.numel() !== c) throw new Error("weight tensor should be defined either for all or no classes");
    if (nd === 4 && !sameShape(tshape, [ishape[0], ishape[2], ishape[3]])) {
      // sic: PyTorch's message has this spacing and no closing parenthesis.
      throw new Error(`size mismatch (got input: ${sizes(ishape)} , target: ${sizes(tshape)}`);
    }
  }
  if (!isFloating(input.dtype)) throw new Error(`"nll_loss_out_frame" not implemented for '${scalarTypeName(input.dtype)}'`);
  if (target.dtype !== "int64") throw new Error(`expected scalar type Long but found ${scalarTypeName(target.dtype)}`);
  const targets = target.toArray();
  for (let i = 0; i < targets.length; i++) {
    const k = targets[i];
    if (k !== ignoreIndex && (k < 0 || k >= c)) throw new Error(`Target ${k} is out of bounds.`);
  }
  return {
    n: nd === 1 ? 1 : ishape[0],
    c,
    d: numelOf(ishape.slice(2)),
    targets,
    outShape: nd === 1 ? [] : [ishape[0], ...ishape.slice(2)],
    name: nd <= 2 ? "NllLossBackward0" : "NllLoss2DBackward0",
    viewBack: nd >= 3 && nd !== 4 && reduction === "none",
  };
}

/** What NLL and cross entropy's smoothing term read, besides their input: checked once. */
interface ClassLoss {
  layout: ClassLayout;
  target: Tensor;
  weight: Tensor | null;
  ignoreIndex: number;
  reduction: Reduction;
}

/**
 * loss = -w[t] * x[t] per position (0 where t is ignoreIndex); "mean" divides the sum by the sum
 * of w[t] over kept positions, so all ignored (or all weight 0) gives 0/0 = NaN, as in PyTorch.
 */
function nllChecked(input: Tensor, spec: ClassLoss): Tensor {
  const { layout } = spec;
  const recorded = nllRecorded(input, spec);
  return layout.viewBack ? recorded.view(layout.outShape) : recorded;
}

/** NLL's node, its unreduced output (N, 1, d) when `viewBack`. */
function nllRecorded(input: Tensor, spec: ClassLoss): Tensor {
  const { layout, weight, ignoreIndex, reduction } = spec;
  const { n, d } = layout;
  const w = weight ? weight.toArray() : null;
  const dtype = input.dtype;
  const losses = reduction === "none" ? allocate(dtype, n * d) : null;
  const { sum, totalWeight } = nllForward(input.toArray(), layout, w, ignoreIndex, losses);
  const out = losses
    ? Tensor.fromArray(losses, layout.viewBack ? [n, 1, d] : layout.outShape, dtype)
    : reduced(dtype, sum, totalWeight, reduction);
  const inputShape = input.shape;
  const backward = (g: Tensor): Grad[] => {
    if (d !== 1 || isGradEnabled()) return [nllGradient(g, inputShape, dtype, spec, totalWeight)];
    // Rows of classes: one non-zero per row, handed over as such (autograd/sparse.ts).
    const { perElement, common } = upstreamOf(g, totalWeight, reduction);
    const cols = new Int32Array(n);
    const values = new Float64Array(n);
    nllOneHotGrad(layout, w, ignoreIndex, perElement, common, rounderFor(dtype), cols, values);
    return [new OneHotRowsGrad(inputShape, dtype, cols, values)];
  };
  return record(layout.name, out, [input], backward, { saved: [input, spec.target, weight] });
}

/**
 * nll_loss_backward as an op of the upstream g: -w[t] * g at each kept position's target (over
 * the total weight for "mean"), zero elsewhere. Linear in g, so g's gradient is NLL of gg.
 */
function nllGradient(g: Tensor, shape: number[], dtype: DType, spec: ClassLoss, totalWeight: number): Tensor {
  const { perElement, common } = upstreamOf(g, totalWeight, spec.reduction);
  const grad = allocate(dtype, numelOf(shape));
  nllGrad(spec.layout, spec.weight ? spec.weight.toArray() : null, spec.ignoreIndex, perElement, common, grad);
  const name = spec.layout.name.replace(/0$/, "Backward0");
  return record(name, freshGradient(Tensor.fromArray(grad, shape, dtype)), [g], (gg) => [nllRecorded(gg, spec)], {
    saved: [spec.target, spec.weight],
  });
}

export function nllLoss(input: Tensor, target: Tensor, options: NllLossOptions = {}): Tensor {
  checkLossArgs(input, target, "nll_loss_nd", "nllLoss", options, NLL_LOSS_KEYS);
  const reduction = checkReduction(options.reduction);
  const ignoreIndex = options.ignoreIndex ?? -100;
  const weight = tensorOrList(options.weight, "nllLoss", "weight", input.dtype);
  const layout = checkClassTargets(input, target, weight, ignoreIndex, reduction);
  return nllChecked(input, { layout, target, weight, ignoreIndex, reduction });
}

/**
 * The label-smoothing part of cross entropy, already scaled by e / C:
 * smooth = -sum_k w[k] * logp[k] per position, 0 at ignored positions, and "mean" divides by
 * the same denominator as the NLL part (kept positions, or the sum of their w[t]).
 */
function smoothingTerm(logp: Tensor, spec: ClassLoss, scale: number): Tensor {
  const { layout, weight, ignoreIndex, reduction } = spec;
  const { n, d } = layout;
  const w = weight ? weight.toArray() : null;
  const dtype = logp.dtype;
  const losses = reduction === "none" ? allocate(dtype, n * d) : null;
  const { sum, denominator } = smoothingForward(logp.toArray(), layout, w, ignoreIndex, scale, losses);
  const out = losses ? Tensor.fromArray(losses, layout.outShape, dtype) : reduced(dtype, scale * sum, denominator, reduction);
  const inputShape = logp.shape;
  return record("MulBackward0", out, [logp], (g) => [smoothingGradient(g, inputShape, dtype, spec, scale, denominator)], {
    saved: [spec.target, weight],
  });
}

/** The smoothing term's gradient as an op of its upstream g; linear in g, so g's gradient is the term of gg. */
function smoothingGradient(g: Tensor, shape: number[], dtype: DType, spec: ClassLoss, scale: number, denominator: number): Tensor {
  const gv = g.toArray();
  const common = spec.reduction === "mean" ? (scale * gv[0]) / denominator : scale * gv[0];
  const grad = allocate(dtype, numelOf(shape));
  const perPosition = spec.reduction === "none" ? gv : null;
  smoothingBackward(spec.layout, spec.weight ? spec.weight.toArray() : null, spec.ignoreIndex, scale, perPosition, common, grad);
  return record("MulBackward0", Tensor.fromArray(grad, shape, dtype), [g], (gg) => [smoothingTerm(gg, spec, scale)], {
    saved: [spec.target, spec.weight],
  });
}

// ---- class-probability targets ------------------------------------------------------------

/**
 * loss = -sum_k w[k] * logp[k] * q[k] per position, with q = (1 - e) * target + e / C. "mean"
 * divides by the number of positions (N * d1 * ...), never by the weights. PyTorch builds this
 * from tensor ops, so its grad_fn is DivBackward1 ("mean") or NegBackward0; we fuse it into one
 * node under that name.
 */
function probabilityTargetLoss(logp: Tensor, target: Tensor, weight: Tensor | null, reduction: Reduction, smoothing: number): Tensor {
  const shape = logp.shape;
  const classDim = shape.length === 1 ? 0 : 1;
  const grid = { n: shape.length === 1 ? 1 : shape[0], c: shape[classDim], d: numelOf(shape.slice(2)) };
  const { n, d } = grid;
  const x = logp.toArray();
  const t = target.toArray();
  const w = weight ? weight.toArray() : null;
  const dtype = logp.dtype;
  const losses = reduction === "none" ? allocate(dtype, n * d) : null;
  const sum = probabilityTargetForward(x, t, grid, w, smoothing, losses);
  const outShape = shape.filter((_, i) => i !== classDim);
  const out = losses ? Tensor.fromArray(losses, outShape, dtype) : reduced(dtype, sum, n * d, reduction);
  const size = logp.numel();
  const backward = (g: Tensor): Array<Tensor | null> => {
    if (isGradEnabled()) return probabilityTargetGrads(g, logp, target, weight, reduction, smoothing);
    const gv = g.toArray();
    const common = reduction === "mean" ? gv[0] / (n * d) : gv[0];
    const gradLogp = logp.requiresGrad ? allocate(dtype, size) : null;
    const gradTarget = target.requiresGrad ? allocate(target.dtype, size) : null;
    probabilityTargetBackward(x, t, grid, w, smoothing, losses ? gv : null, common, gradLogp, gradTarget);
    return [gradLogp && Tensor.fromArray(gradLogp, shape, dtype), gradTarget && Tensor.fromArray(gradTarget, target.shape, target.dtype)];
  };
  return record(reduction === "mean" ? "DivBackward1" : "NegBackward0", out, [logp, target], backward, {
    saved: [target.requiresGrad ? logp : null, target, weight],
  });
}

/**
 * The recorded backward of the probability-target loss, from ops: -w[k] * g * q[k] for the log
 * probabilities and -w[k] * g * logp[k] * (1 - e) for the target, g spread along the class dim.
 * The weight is a constant here, as in the fused node.
 */
function probabilityTargetGrads(
  g: Tensor,
  logp: Tensor,
  target: Tensor,
  weight: Tensor | null,
  reduction: Reduction,
  smoothing: number,
): Array<Tensor | null> {
  const classDim = logp.ndim === 1 ? 0 : 1;
  const c = logp.shape[classDim];
  const positions = logp.numel() / c;
  const spread = reduction === "none" ? (logp.ndim === 1 ? g : g.unsqueeze(classDim)) : reduction === "mean" ? g.div(positions) : g;
  // The weight along the class dim: (C) or (C, 1, ..., 1).
  const perClass = weight && weight.detach().reshape([c, ...logp.shape.slice(2).map(() => 1)]);
  const scaled = perClass ? spread.mul(perClass.neg()) : spread.neg();
  const q = smoothing > 0 ? target.mul(1 - smoothing).add(smoothing / c) : target;
  return [
    logp.requiresGrad ? scaled.mul(q) : null,
    target.requiresGrad ? (smoothing > 0 ? scaled.mul(logp).mul(1 - smoothing) : scaled.mul(logp)) : null,
  ];
}

/**
 * Class indices (int64, shape (N), () or (N, d1, ...)) or class probabilities (float, the
 * input's shape). Label smoothing with indices is (1 - e) * nll + (e / C) * smooth, an
 * AddBackward0 node, as in PyTorch.
 */
export function crossEntropy(input: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  checkLossArgs(input, target, "cross_entropy_loss", "crossEntropy", options, CROSS_ENTROPY_KEYS);
  const reduction = checkReduction(options.reduction);
  const ignoreIndex = options.ignoreIndex ?? -100;
  const weight = tensorOrList(options.weight, "crossEntropy", "weight", input.dtype);
  const smoothing = options.labelSmoothing ?? 0;
  const classDim = input.ndim === 1 ? 0 : normalizeDim(1, input.ndim);
  if (!isFloating(input.dtype)) {
    throw new Error(`"log_softmax_lastdim_kernel_impl" not implemented for '${scalarTypeName(input.dtype)}'`);
  }
  if (sameShape(input.shape, target.shape)) {
    if (!isFloating(target.dtype)) {
      throw new Error(`Expected floating point type for target with class probabilities, got ${scalarTypeName(target.dtype)}`);
    }
    if (ignoreIndex >= 0) throw new Error("ignore_index is not supported for floating point target");
    const c = input.shape[classDim];
    if (weight && (weight.ndim !== 1 || weight.numel() !== c)) {
      throw new Error(
        `cross_entropy: weight tensor should be defined either for all ${c} classes or no classes but got weight tensor of shape: ${sizes(weight.shape)}`,
      );
    }
    if (!(smoothing >= 0 && smoothing <= 1)) {
      throw new Error(`label_smoothing must be between 0.0 and 1.0. Got: ${formatDouble(smoothing)}`);
    }
    return probabilityTargetLoss(logSoftmax(input, classDim), target, weight, reduction, smoothing);
  }
  // As in PyTorch, a negative label smoothing is only rejected for probability targets.
  if (smoothing > 1) throw new Error(`label_smoothing must be between 0.0 and 1.0. Got: ${formatDouble(smoothing)}`);
  const layout = checkClassTargets(input, target, weight, ignoreIndex, reduction);
  const spec: ClassLoss = { layout, target, weight, ignoreIndex, reduction };
  const logp = logSoftmax(input, classDim);
  const nll = nllChecked(logp, spec);
  if (!(smoothing > 0)) return nll;
  const smooth = smoothingTerm(logp, spec, smoothing / layout.c);
  return nll.mul(1 - smoothing).add(smooth);
}

// ---- binary cross entropy ---------------------------------------------------------------

/**
 * Checks that `t` broadcasts to exactly `shape`, as PyTorch's in-place multiply needs. `first`
 * says whether `t` is PyTorch's left operand, which decides the wording of its error.
 */
function checkBroadcast(t: Tensor | null | undefined, shape: number[], first: boolean): void {
  if (!t) return;
  const full = first ? broadcastShapes(t.shape, shape) : broadcastShapes(shape, t.shape);
  if (!sameShape(full, shape)) throw new Error(`output with shape ${sizes(shape)} doesn't match the broadcast shape ${sizes(full)}`);
}

/**
 * Values of `t` (checked by `checkBroadcast`) at every element of `shape`, as
 * `values[i % period]`. A tensor that only lacks leading dims of `shape` (the usual per-class
 * weight) is read in place; any other broadcast is expanded once.
 */
function broadcastValues(t: Tensor, shape: number[]): Periodic {
  let own = t.shape;
  while (own.length > 0 && own[0] === 1) own = own.slice(1);
  if (sameShape(own, shape.slice(shape.length - own.length))) return { values: t.toArray(), period: Math.max(t.numel(), 1) };
  return { values: new Tensor(broadcastView(t, shape), t.dtype).toArray(), period: Math.max(numelOf(shape), 1) };
}

/** Per-element losses kept ("none") or reduced. */
function finishElementwise(losses: TypedArray, sum: number, shape: number[], dtype: DType, reduction: Reduction): Tensor {
  return reduction === "none" ? Tensor.fromArray(losses, shape, dtype) : reduced(dtype, sum, losses.length, reduction);
}

/** The upstream gradient: one value per element for "none", else the 0-d value (over n for "mean") common to all. */
function upstreamOf(g: Tensor, n: number, reduction: Reduction): { perElement: TypedArray | null; common: number } {
  const gv = g.toArray();
  if (reduction === "none") return { perElement: gv, common: 0 };
  return { perElement: null, common: reduction === "mean" ? gv[0] / n : gv[0] };
}

/**
 * BCELoss: l = -w * [y * log(x) + (1 - y) * log(1 - x)], each log clamped at -100 so that
 * x = 0 with y = 1 gives exactly 100 (and a finite gradient).
 */
export function binaryCrossEntropy(input: Tensor, target: Tensor, options: BinaryCrossEntropyOptions = {}): Tensor {
  checkLossArgs(input, target, "binary_cross_entropy", "binaryCrossEntropy", options, BCE_KEYS);
  const reduction = checkReduction(options.reduction);
  const weightTensor = tensorOrList(options.weight, "binaryCrossEntropy", "weight", input.dtype);
  const shape = input.shape;
  if (!sameShape(target.shape, shape)) {
    throw new Error(
      `Using a target size (${formatSize(target.shape)}) that is different to the input size (${formatSize(shape)}) is deprecated. Please ensure they have the same size.`,
    );
  }
  checkBroadcast(weightTensor, shape, false);
  if (!isFloating(input.dtype)) throw new Error(`"binary_cross_entropy" not implemented for '${scalarTypeName(input.dtype)}'`);
  const x = input.toArray();
  for (let i = 0; i < x.length; i++) {
    if (!(x[i] >= 0 && x[i] <= 1)) throw new Error("all elements of input should be between 0 and 1");
  }
  const weight = weightTensor ? broadcastValues(weightTensor, shape) : null;
  const y = target.toArray();
  const dtype = input.dtype;
  const losses = allocate(dtype, x.length);
  const sum = binaryCrossEntropyForward(x, y, weight, losses);
  const out = finishElementwise(losses, sum, shape, dtype, reduction);
  const backward = (g: Tensor): Array<Tensor | null> => {
    if (isGradEnabled()) return bceGrads(g, input, target, weightTensor, reduction);
    const { perElement, common } = upstreamOf(g, x.length, reduction);
    const gradInput = input.requiresGrad ? allocate(dtype, x.length) : null;
    const gradTarget = target.requiresGrad ? allocate(target.dtype, x.length) : null;
    binaryCrossEntropyBackward(x, y, weight, perElement, common, gradInput, gradTarget);
    return [gradInput && Tensor.fromArray(gradInput, shape, dtype), gradTarget && Tensor.fromArray(gradTarget, shape, target.dtype)];
  };
  return record("BinaryCrossEntropyBackward0", out, [input, target], backward, { saved: [input, target, weightTensor] });
}

/**
 * An elementwise loss's gradient `perElement` (already times the upstream) as PyTorch finishes
 * it: times the weight (a constant: the weights are not differentiated), over n for "mean".
 */
function finishGradient(perElement: Tensor, weight: Tensor | null, reduction: Reduction): Tensor {
  const weighted = weight ? perElement.mul(weight.detach()) : perElement;
  return reduction === "mean" ? weighted.div(perElement.numel()) : weighted;
}

/**
 * BCELoss' recorded backward, from ops: g * (x - y) / max((1 - x) * x, 1e-12) for the input and
 * g * (log(1 - x) - log(x)) for the target, as PyTorch's binary_cross_entropy_backward and
 * binary_cross_entropy_target_backward compute them.
 */
function bceGrads(g: Tensor, input: Tensor, target: Tensor, weight: Tensor | null, reduction: Reduction): Array<Tensor | null> {
  const oneMinus = rsub(input, 1);
  return [
    input.requiresGrad ? finishGradient(g.mul(input.sub(target)).div(clamp(oneMinus.mul(input), 1e-12)), weight, reduction) : null,
    target.requiresGrad ? finishGradient(oneMinus.log().sub(input.log()).mul(g), weight, reduction) : null,
  ];
}

/**
 * BCEWithLogitsLoss from the logits x: l = -w * [p * y * log(sigmoid(x)) + (1 - y) * log(1 - sigmoid(x))]
 * = w * [(1 - y) * x + (1 + (p - 1) * y) * softplus(-x)], finite for any finite x.
 */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, options: BinaryCrossEntropyWithLogitsOptions = {}): Tensor {
  checkLossArgs(input, target, "binary_cross_entropy_with_logits", "binaryCrossEntropyWithLogits", options, BCE_WITH_LOGITS_KEYS);
  const reduction = checkReduction(options.reduction);
  const weights: BceWeights = {
    weight: tensorOrList(options.weight, "binaryCrossEntropyWithLogits", "weight", input.dtype),
    posWeight: tensorOrList(options.posWeight, "binaryCrossEntropyWithLogits", "posWeight", input.dtype),
  };
  const shape = input.shape;
  if (!sameShape(target.shape, shape)) {
    throw new Error(`Target size (${formatSize(target.shape)}) must be the same as input size (${formatSize(shape)})`);
  }
  // PyTorch computes (posWeight - 1) * target first, then multiplies the loss by weight.
  checkBroadcast(weights.posWeight, shape, true);
  checkBroadcast(weights.weight, shape, false);
  if (!isFloating(input.dtype)) throw new Error(`"binary_cross_entropy_with_logits" not implemented for '${scalarTypeName(input.dtype)}'`);
  if (!weights.posWeight && !weights.weight) return unweightedBceWithLogits(input, target, reduction);
  const pos = weights.posWeight ? broadcastValues(weights.posWeight, shape) : null;
  const weight = weights.weight ? broadcastValues(weights.weight, shape) : null;
  const x = input.toArray();
  const y = target.toArray();
  const dtype = input.dtype;
  const losses = allocate(dtype, x.length);
  const sum = weightedBceWithLogits(x, y, pos, weight, losses);
  const out = finishElementwise(losses, sum, shape, dtype, reduction);
  const backward = (g: Tensor): Array<Tensor | null> => {
    if (isGradEnabled()) return bceWithLogitsGrads(g, input, target, weights, reduction);
    const { perElement, common } = upstreamOf(g, x.length, reduction);
    const gradInput = input.requiresGrad ? allocate(dtype, x.length) : null;
    const gradTarget = target.requiresGrad ? allocate(target.dtype, x.length) : null;
    weightedBceWithLogitsBackward(x, y, pos, weight, perElement, common, gradInput, gradTarget);
    return [gradInput && Tensor.fromArray(gradInput, shape, dtype), gradTarget && Tensor.fromArray(gradTarget, shape, target.dtype)];
  };
  return record("BinaryCrossEntropyWithLogitsBackward0", out, [input, target], backward, {
    saved: [input, target, weights.weight, weights.posWeight],
  });
}

/** BCEWithLogits' two weights, as tensors. */
interface BceWeights {
  weight: Tensor | null;
  posWeight: Tensor | null;
}

/**
 * BCEWithLogits' recorded backward, from ops as PyTorch 1.13 composes it: with t = p * y,
 * ((t + 1 - y) * sigmoid(x) - t) * g for the input (sigmoid(x) - y without p) and
 * (log_sigmoid(-x) - p * log_sigmoid(x)) * g for the target (-x without p).
 */
function bceWithLogitsGrads(g: Tensor, input: Tensor, target: Tensor, weights: BceWeights, reduction: Reduction): Array<Tensor | null> {
  const pos = weights.posWeight ? weights.posWeight.detach() : null;
  const weight = weights.weight;
  let gradInput: Tensor | null = null;
  if (input.requiresGrad) {
    const p = input.sigmoid();
    const t = pos && pos.mul(target);
    gradInput = finishGradient((t ? t.add(1).sub(target).mul(p).sub(t) : p.sub(target)).mul(g), weight, reduction);
  }
  let gradTarget: Tensor | null = null;
  if (target.requiresGrad) {
    const perElement = pos ? logSigmoid(input.neg()).sub(logSigmoid(input).mul(pos)) : input.neg();
    gradTarget = finishGradient(perElement.mul(g), weight, reduction);
  }
  return [gradInput, gradTarget];
}

/**
 * BCEWithLogitsLoss without weight or posWeight, the common case, in one pass of two
 * transcendentals per element (kernels/bce-with-logits.ts); "mean"/"sum" allocate no per-element
 * losses.
 *
 * When the input's gradient will be needed, the same pass stores it for an upstream gradient of
 * 1 (what `loss.backward()` sends): round(scale * round(sigmoid(x) - y)) with scale 1/n for
 * "mean", 1 for "sum" and "none", bit for bit what the backward would compute. The backward hands
 * that array out once as it is when the upstream is 1 (or, for "none", scales it per element);
 * any other upstream has sigmoid(x) - y recomputed.
 */
function unweightedBceWithLogits(input: Tensor, target: Tensor, reduction: Reduction): Tensor {
  const shape = input.shape;
  const x = input.toArray();
  const y = target.toArray();
  const n = x.length;
  const dtype = input.dtype;
  const losses = reduction === "none" ? allocate(dtype, n) : null;
  let unitGrad = isGradEnabled() && input.requiresGrad ? allocate(dtype, n) : null;
  const sum = bceWithLogits(x, y, losses, unitGrad, reduction === "mean" ? 1 / n : 1);
  const out = losses !== null ? Tensor.fromArray(losses, shape, dtype) : reduced(dtype, sum, n, reduction);
  const backward = (g: Tensor): Array<Tensor | null> => {
    if (isGradEnabled()) return bceWithLogitsGrads(g, input, target, { weight: null, posWeight: null }, reduction);
    const gv = g.toArray();
    // "mean" and "sum" scale every element by one upstream value; "none" by its own.
    const perElement = reduction === "none" ? gv : null;
    const common = reduction === "mean" ? gv[0] / n : gv[0];
    let gradInput: Tensor | null = null;
    if (input.requiresGrad) {
      let values: TypedArray;
      if (perElement !== null) {
        // "none": sigmoid(x) - y, stored or recomputed, times each element's upstream value.
        values = scaledBy(unitGrad ?? bceGradient(x, y, dtype, 1), 1, perElement, 1, allocate(dtype, n));
      } else if (unitGrad !== null && gv[0] === 1) {
        values = unitGrad;
        unitGrad = null; // handed out once: a second backward (retainGraph) must not give the same array again
      } else {
        values = bceGradient(x, y, dtype, common);
      }
      gradInput = freshGradient(Tensor.fromArray(values, shape, dtype));
    }
    let gradTarget: Tensor | null = null;
    if (target.requiresGrad) {
      // d/dy = softplus(-x) - softplus(x) = -x.
      gradTarget = freshGradient(Tensor.fromArray(scaledBy(x, -1, perElement, common, allocate(target.dtype, n)), shape, target.dtype));
    }
    return [gradInput, gradTarget];
  };
  return record("BinaryCrossEntropyWithLogitsBackward0", out, [input, target], backward, { saved: [input, target] });
}

/** round(scale * round(sigmoid(x) - y)) per element, on the kernel the forward pass uses. */
function bceGradient(x: TypedArray, y: TypedArray, dtype: DType, scale: number): TypedArray {
  const grad = allocate(dtype, x.length);
  bceWithLogits(x, y, null, grad, scale);
  return grad;
}
