/**
 * In-place ops, PyTorch's way: `x.add_(y)` computes `x + y` with the ordinary op, writes the
 * result into x's storage (every view of x sees it), raises x's version counter, and, when a
 * graph is recorded, gives x the op's node as its new `gradFn`. The new node's inputs are x's
 * old history, so gradients flow as if x had been replaced by a new tensor.
 *
 * A backward that saved x before the change would read the new values; the version counter
 * catches it (autograd/node.ts). An op that needs x's old values itself (mul_, div_, pow_,
 * clamp_) computes from a copy of them that keeps x's history.
 *
 * On a view of a tensor that is part of a graph, the base's history changes too: its new node,
 * CopySlices, sends the gradient of the view's region through the op and the rest of it to the
 * base's old history (PyTorch's CopySlices), and the view becomes a strided view of that.
 */
import ndarray, { type NdArray } from "ndarray";
import ops from "ndarray-ops";
import { type DType, type TypedArray, allocate, isFloating, scalarTypeName } from "../dtype";
import { broadcastShapes, numelOf, sameShape } from "../shape";
import { isGradEnabled } from "../autograd/grad-mode";
import { type Grad, Node, gradEdge, record } from "../autograd/node";
import { Tensor } from "../tensor-core";
import { defaultGenerator } from "../random";
import { type ClampOptions, type DivOptions, add, clamp, div, exp, mul, neg, pow, scalarTensor, sub, toDtype } from "./elementwise";
import { copyOf, expand, reshape, unsqueeze } from "./shape";
import { sumTo } from "./elementwise";
import { type Strided, asStrided, asStridedScatter, zerosWith } from "./index-strided";
import { type IndexItem, advancedIndexPut, applySelect, applySlice, applySlicing, castScalar, maskedFill, parseItem } from "./index";
import { tensorArg, typeName } from "../arguments";

type Operand = Tensor | number;

/** PyTorch's checks before an in-place op: never on a leaf that requires grad (or a view of one) while recording. */
function checkInPlace(x: Tensor): void {
  if (!isGradEnabled()) return;
  if (x.isLeaf && x.requiresGrad) throw new Error("a leaf Variable that requires grad is being used in an in-place operation.");
  const base = x.base;
  if (base !== null && base.isLeaf && base.requiresGrad && x.requiresGrad) {
    throw new Error("a view of a leaf Variable that requires grad is being used in an in-place operation.");
  }
}

/**
 * Runs `compute` (an out-of-place op of x and `others`) in place on x. `readsSelf`: the op's
 * backward needs x's values from before the change, so it gets a copy of them.
 */
export function inPlace(x: Tensor, others: ReadonlyArray<Tensor | null>, readsSelf: boolean, compute: (self: Tensor) => Tensor): Tensor {
  checkInPlace(x);
  const recording = isGradEnabled() && (x.requiresGrad || others.some((t) => t?.requiresGrad));
  const result = compute(recording && readsSelf ? snapshot(x) : x);
  writeInto(x, result);
  x.bumpVersion();
  const node = result.gradFn;
  if (recording && node !== null) {
    node.resaveAs(result, x);
    if (x.base !== null) rebaseView(x, node);
    else x.setGradFn(node);
  }
  return x;
}

/** A copy of x's values with x's history (so that gradients reach what x came from). */
function snapshot(x: Tensor): Tensor {
  const copy = copyOf(x);
  if (x.gradFn !== null) copy.setGradFn(x.gradFn);
  return copy;
}

/** Writes `result` into x's storage, with PyTorch's checks on its shape and dtype. */
function writeInto(x: Tensor, result: Tensor): void {
  if (!sameShape(result.shape, x.shape)) {
    throw new Error(`output with shape [${x.shape.join(", ")}] doesn't match the broadcast shape [${result.shape.join(", ")}]`);
  }
  if ((isFloating(result.dtype) && !isFloating(x.dtype)) || (x.dtype === "bool" && result.dtype !== "bool")) {
    throw new Error(`result type ${scalarTypeName(result.dtype)} can't be cast to the desired output type ${scalarTypeName(x.dtype)}`);
  }
  if (x.numel() === 0) return;
  const asNd = (t: Tensor) => (t.ndim > 0 ? t.nd : ndarray(t.nd.data, [1], [1], t.nd.offset));
  ops.assign(asNd(x), asNd(result));
}

/**
 * `view` was changed in place by the op whose node is `node` (its first input was the view).
 * The base's new history is CopySlices: the base's old gradient everywhere but the view's region,
 * where the gradient goes through `node`. The view becomes a strided view of the new base.
 */
function rebaseView(view: Tensor, node: Node): void {
  const base = view.base!;
  if (!base.isContiguous()) {
    throw new Error("in-place operations on a view of a non-contiguous tensor that requires grad are not supported");
  }
  // ndarray-ops needs at least one dim: a 0-d view (x[0] of a vector) is read as one element.
  const viewShape = view.ndim > 0 ? view.nd.shape.slice() : [1];
  const viewStrides = view.ndim > 0 ? view.nd.stride.slice() : [1];
  const region = (g: Tensor) => ndarray(g.nd.data, viewShape, viewStrides, g.nd.offset + view.nd.offset - base.nd.offset);
  const baseEdge = base.requiresGrad ? gradEdge(base) : null;
  const baseShape = base.shape;
  const offset = view.nd.offset - base.nd.offset;
  const strided: Strided = { shape: view.shape, strides: [...view.nd.stride], offset };
  const copySlices = new Node(
    "torch::autograd::CopySlices",
    [[baseEdge, 0], ...node.nextFunctions.slice(1)],
    (g) => {
      if (isGradEnabled()) return copySlicesRecorded(g, node, baseShape, strided);
      const res = copyOf(g);
      const slice = Tensor.fromArray(allocate(g.dtype, view.numel()), view.shape, g.dtype);
      if (slice.numel() > 0) ops.assign(slice.ndim > 0 ? slice.nd : ndarray(slice.nd.data, [1]), region(res));
      const [viewGrad, ...rest] = node.apply(slice);
      const dense = viewGrad === null ? null : denseOf(viewGrad);
      if (res.numel() > 0) {
        if (dense === null) ops.assigns(region(res), 0);
        else ops.assign(region(res), atLeast1d(dense));
      }
      return [res, ...rest];
    },
    true,
  );
  base.setGradFn(copySlices);
  view.setGradFn(
    new Node("AsStridedBackward0", [[copySlices, 0]], (g) => {
      if (isGradEnabled()) return [asStridedScatter(g, baseShape, strided)];
      const full = Tensor.fromArray(allocate(g.dtype, base.numel()), baseShape, g.dtype);
      if (g.numel() > 0) ops.assign(ndarray(full.nd.data, viewShape, viewStrides, offset), atLeast1d(g));
      return [full];
    }),
  );
}

/**
 * CopySlices' backward composed of ops, for createGraph: the gradient outside the view's region
 * as it is, inside it what the op's backward gives, so that it can be differentiated again.
 */
function copySlicesRecorded(g: Tensor, node: Node, baseShape: number[], strided: Strided): Array<Grad | null> {
  const [viewGrad, ...rest] = node.apply(asStrided(g, strided));
  // Zeroed by a mask, not by subtraction, so that an infinite gradient in the region stays exact.
  const everywhere = Tensor.fromArray(allocate("bool", numelOf(strided.shape)).fill(1), strided.shape, "bool");
  const outside = maskedFill(g, zerosWith(everywhere, baseShape, strided), 0);
  return [viewGrad === null ? outside : outside.add(asStridedScatter(denseOf(viewGrad), baseShape, strided)), ...rest];
}

/** A tensor's values as a contiguous ndarray with at least one dim (what ndarray-ops can assign from). */
function atLeast1d(t: Tensor): NdArray<TypedArray> {
  return t.ndim > 0 ? t.contiguous().nd : ndarray(t.toArray(), [1]);
}

function denseOf(g: Grad): Tensor {
  return g instanceof Tensor ? g : g.dense();
}

const tensorsOf = (...values: unknown[]): Tensor[] => values.filter((v): v is Tensor => v instanceof Tensor);

// ---- the ops ---------------------------------------------------------------------------

export function add_(x: Tensor, other: Operand, alpha = 1): Tensor {
  tensorArg(x, "add_");
  return inPlace(x, tensorsOf(other), false, (self) => add(self, other, alpha));
}

export function sub_(x: Tensor, other: Operand, alpha = 1): Tensor {
  tensorArg(x, "sub_");
  return inPlace(x, tensorsOf(other), false, (self) => sub(self, other, alpha));
}

export function mul_(x: Tensor, other: Operand): Tensor {
  tensorArg(x, "mul_");
  return inPlace(x, tensorsOf(other), other instanceof Tensor && other.requiresGrad, (self) => mul(self, other));
}

export function div_(x: Tensor, other: Operand, options?: DivOptions): Tensor {
  tensorArg(x, "div_");
  return inPlace(x, tensorsOf(other), other instanceof Tensor && other.requiresGrad, (self) => div(self, other, options));
}

export function pow_(x: Tensor, exponent: Operand): Tensor {
  tensorArg(x, "pow_");
  return inPlace(x, tensorsOf(exponent), true, (self) => pow(self, exponent));
}

export function neg_(x: Tensor): Tensor {
  tensorArg(x, "neg_");
  return inPlace(x, [], false, neg);
}

export function exp_(x: Tensor): Tensor {
  tensorArg(x, "exp_");
  return inPlace(x, [], false, exp);
}

export function clamp_(x: Tensor, min?: number | null | ClampOptions, max?: number | null): Tensor {
  tensorArg(x, "clamp_");
  return inPlace(x, [], true, (self) => clamp(self, min, max));
}

/** Fills with `value`; the old values get a zero gradient (FillBackward2, ZeroBackward0 for zero_). */
export function fill_(x: Tensor, value: number | boolean, name = "FillBackward2"): Tensor {
  tensorArg(x, "fill_");
  return inPlace(x, [], false, (self) => {
    const out = Tensor.fromArray(allocate(x.dtype, x.numel()).fill(castScalar(value, x.dtype)), x.shape, x.dtype);
    return record(name, out, [self], (g) => [zerosOf(g)], { savesTensors: false });
  });
}

export function zero_(x: Tensor): Tensor {
  tensorArg(x, "zero_");
  return fill_(x, 0, "ZeroBackward0");
}

/** Copies `source` (broadcast to x's shape, cast to x's dtype) into x (CopyBackwards). */
export function copy_(x: Tensor, source: Tensor): Tensor {
  tensorArg(x, "copy_");
  tensorArg(source, "copy_", "other", 2);
  return inPlace(x, [source], false, (self) => {
    const out = copyOf(toDtype(expand(source, x.shape), x.dtype).detach());
    const sourceShape = source.shape;
    const sourceDtype = source.dtype;
    return record("torch::autograd::CopyBackwards", out, [self, source], (g) => [zerosOf(g), toDtype(sumTo(g, sourceShape), sourceDtype)], {
      savesTensors: false,
    });
  });
}

/** Uniform samples in [low, high) from the default generator (UniformBackward0: no gradient to the old values). */
export function uniform_(x: Tensor, low = 0, high = 1): Tensor {
  tensorArg(x, "uniform_");
  return randomFill(x, "UniformBackward0", (values) => {
    for (let i = 0; i < values.length; i++) values[i] = low + (high - low) * defaultGenerator.random();
  });
}

/** Normal samples with the given mean and standard deviation (NormalBackward0). */
export function normal_(x: Tensor, mean = 0, std = 1): Tensor {
  tensorArg(x, "normal_");
  return randomFill(x, "NormalBackward0", (values) => {
    for (let i = 0; i < values.length; i++) values[i] = mean + std * defaultGenerator.normal();
  });
}

function randomFill(x: Tensor, name: string, fill: (values: Float64Array) => void): Tensor {
  if (!isFloating(x.dtype))
    throw new Error(`"${name === "UniformBackward0" ? "uniform" : "normal"}_kernel_cpu" not implemented for '${scalarTypeName(x.dtype)}'`);
  return inPlace(x, [], false, (self) => {
    const values = new Float64Array(x.numel());
    fill(values);
    const out = Tensor.fromArray(allocate(x.dtype, values.length), x.shape, x.dtype);
    out.nd.data.set(values);
    return record(name, out, [self], (g) => [zerosOf(g)], { savesTensors: false });
  });
}

function zerosOf(g: Tensor, dtype: DType = g.dtype): Tensor {
  return Tensor.fromArray(allocate(dtype, g.numel()), g.shape, dtype);
}

// ---- masks and assignment (reading the items is ops/index.ts's) -------------------------------

/** `x.maskedFill_(mask, value)`: `value` where the bool mask, broadcast to x's shape, is true (MaskedFillBackward0/1). */
export function maskedFill_(x: Tensor, mask: Tensor, value: number | boolean | Tensor): Tensor {
  tensorArg(x, "maskedFill_");
  // In place, PyTorch broadcasts x with the mask (x is "tensor a" in the message); a mask that
  // would grow x fails when the result is written back.
  if (mask instanceof Tensor) broadcastShapes(x.shape, mask.shape);
  return inPlace(x, tensorsOf(value), false, (self) => maskedFill(self, mask, value));
}

/**
 * `x.indexPut_(items, value)`: PyTorch's `x[items] = value`, following its set_item. Basic items
 * select a view of x, which is then filled or copied into (on a graph, x's history becomes
 * CopySlices); tensor items write through index_put_ (IndexPutBackward0). Returns x.
 */
export function indexPut_(x: Tensor, items: readonly IndexItem[], value: number | boolean | Tensor): Tensor {
  if (!Array.isArray(items)) throw new TypeError("indexPut_(): argument 'items' must be an array of index items");
  const parsed = items.map(parseItem);
  const source = assignedValue(x, value);
  const item = parsed.length === 1 ? parsed[0] : null;
  if (item?.kind === "bool" && !item.value) return x;
  if (item?.kind === "ellipsis") copyTo(x, source);
  else if (item?.kind === "none" || item?.kind === "bool") copyTo(unsqueeze(x, 0), source);
  else if (item?.kind === "int") copyTo(applySelect(x, 0, item.value, 0), source);
  else if (item?.kind === "slice") copyTo(applySlice(x, 0, item, true), source);
  else {
    const { view, indices } = applySlicing(x, parsed, true);
    if (indices.length === 0) copyTo(view, source);
    else {
      const values = withoutLeadingOnes(source);
      inPlace(view, [values], false, (self) => advancedIndexPut(self, indices, values, false));
    }
  }
  return x;
}

/** The value of an assignment as a tensor: a number becomes a 0-d tensor of x's dtype, as in PyTorch. */
function assignedValue(x: Tensor, value: unknown): Tensor {
  if (value instanceof Tensor) return value;
  if (typeof value === "number" || typeof value === "boolean") return scalarTensor(castScalar(value, x.dtype), x.dtype);
  throw new TypeError(`can't assign a ${typeName(value)} to a torch.${scalarTypeName(x.dtype)}Tensor`);
}

/** PyTorch's copy_to: copy_ for the same shape, fill_ from a 0-d value, else copy_ of the value broadcast. */
function copyTo(dst: Tensor, src: Tensor): void {
  if (sameShape(dst.shape, src.shape)) copy_(dst, src);
  else if (src.ndim === 0) fillFrom_(dst, src);
  else copy_(dst, withoutLeadingOnes(src));
}

/** The value with its leading dims of size 1 dropped, as PyTorch views it before broadcasting it to the target. */
function withoutLeadingOnes(value: Tensor): Tensor {
  const shape = value.shape;
  const lead = shape.findIndex((s) => s !== 1);
  const kept = lead < 0 ? [] : shape.slice(lead);
  return kept.length === shape.length ? value : reshape(value, kept);
}

/** fill_ from a 0-d tensor (FillBackward3): the value's gradient is the sum of x's. */
function fillFrom_(x: Tensor, value: Tensor): Tensor {
  return inPlace(x, [value], false, (self) => {
    const out = Tensor.fromArray(allocate(x.dtype, x.numel()).fill(castScalar(value.item(), x.dtype)), x.shape, x.dtype);
    const dtype = value.dtype;
    return record("FillBackward3", out, [self, value], (g) => [zerosOf(g), toDtype(g.sum(), dtype)], { savesTensors: false });
  });
}
