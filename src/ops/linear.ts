/**
 * `linear(x, weight, bias)` = x @ weight^T + bias, as one fused node the way PyTorch records
 * `nn.Linear` on a 2-D input (`AddmmBackward0`, or `MmBackward0` without a bias). Its kernels
 * (kernels/linear.ts) never materialise the weight's transpose and visit only the non-zeros of a
 * mostly-zero `x` (bag-of-words counts). Inputs of other ranks go through a 2-D view:
 * (..., in) -> (prod(...), in).
 *
 * The ordinary backward runs the kernels; a recorded one (createGraph) is built from `mm` and
 * `sum`, so that its gradients can be differentiated again.
 */
import { type DType, type TypedArray, allocate, isFloating, scalarTypeName } from "../dtype";
import { freshGradient, record } from "../autograd/node";
import { isGradEnabled } from "../autograd/grad-mode";
import { Tensor } from "../tensor-core";
import { mm } from "./linalg";
import { linearBiasGrad, linearForward, linearInputGrad, linearWeightGrad } from "../kernels/linear";
import { tensorArg } from "../arguments";

function checkLinear(x: Tensor, weight: Tensor, bias: Tensor | null): void {
  tensorArg(x, "linear", "input", 1);
  tensorArg(weight, "linear", "weight", 2);
  if (weight.ndim !== 2 && weight.ndim !== 1) throw new Error(`weight should be 1-D or 2-D, but got ${weight.ndim}-D`);
  if (x.ndim === 0) throw new Error("both arguments to linear need to be at least 1D, but they are 0D and 2D");
  if (x.dtype !== weight.dtype || !isFloating(x.dtype)) {
    throw new Error(`mat1 and mat2 must have the same dtype, but got ${scalarTypeName(x.dtype)} and ${scalarTypeName(weight.dtype)}`);
  }
  if (bias !== null) {
    tensorArg(bias, "linear", "bias", 3);
    if (bias.dtype !== x.dtype) {
      throw new Error(`expected scalar type ${scalarTypeName(x.dtype)} but found ${scalarTypeName(bias.dtype)}`);
    }
  }
}

/** PyTorch's `torch.nn.functional.linear`. */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  checkLinear(x, weight, bias ?? null);
  if (weight.ndim === 1) {
    // A 1-D weight is a single output feature without its dim: x @ w (+ b).
    const out = linear(x, weight.unsqueeze(0), null).squeeze(-1);
    return bias ? out.add(bias) : out;
  }
  const inFeatures = weight.shape[1];
  const outFeatures = weight.shape[0];
  if (x.shape[x.ndim - 1] !== inFeatures) {
    const rows = x.ndim === 1 ? 1 : x.numel() / x.shape[x.ndim - 1];
    throw new Error(`mat1 and mat2 shapes cannot be multiplied (${rows}x${x.shape[x.ndim - 1]} and ${inFeatures}x${outFeatures})`);
  }
  if (bias && !(bias.ndim <= 1 && (bias.numel() === outFeatures || bias.numel() === 1))) {
    throw new Error(
      `The size of tensor a (${outFeatures}) must match the size of tensor b (${bias.shape[bias.ndim - 1]}) at non-singleton dimension ${x.ndim - 1}`,
    );
  }
  if (x.ndim === 2) return addmm(x, weight, bias ?? null);
  const lead = x.shape.slice(0, -1);
  const flat = x.ndim === 1 ? x.unsqueeze(0) : x.reshape([-1, inFeatures]);
  const out = addmm(flat, weight, bias ?? null);
  return x.ndim === 1 ? out.squeeze(0) : out.reshape([...lead, outFeatures]);
}

/** out (N,O) = bias (O,) + x (N,I) @ weight (O,I)^T, accumulated in double, stored in the dtype. */
function addmm(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  const [n, inF] = x.shape;
  const outF = weight.shape[0];
  const dtype = x.dtype;
  const xs = x.toArray();
  const ws = weight.toArray();
  const out = allocate(dtype, n * outF);
  linearForward(xs, ws, bias ? expandBias(bias, outF) : null, n, inF, outF, out);
  const result = Tensor.fromArray(out, [n, outF], dtype);
  const biasShape = bias ? bias.shape : [];
  // As PyTorch: each of x and the weight is read for the other's gradient.
  const saved = [weight.requiresGrad ? x : null, x.requiresGrad ? weight : null];
  const backward = (g: Tensor): Array<Tensor | null> => {
    if (isGradEnabled()) return recordedGrads(g, x, weight, bias);
    const gs = g.contiguous().toArray();
    const grads: Array<Tensor | null> = [
      x.requiresGrad ? gradInput(gs, ws, n, inF, outF, dtype) : null,
      weight.requiresGrad ? gradWeight(gs, xs, n, inF, outF, dtype) : null,
    ];
    if (bias) grads.push(bias.requiresGrad ? gradBias(gs, n, outF, dtype, biasShape) : null);
    return grads;
  };
  return record(bias ? "AddmmBackward0" : "MmBackward0", result, bias ? [x, weight, bias] : [x, weight], backward, { saved });
}

/** g @ weight, g^T @ x and g summed over the batch (to the bias's own shape), from recorded ops. */
function recordedGrads(g: Tensor, x: Tensor, weight: Tensor, bias: Tensor | null): Array<Tensor | null> {
  const grads = [x.requiresGrad ? mm(g, weight) : null, weight.requiresGrad ? mm(g.t(), x) : null];
  if (bias) grads.push(bias.requiresGrad ? (bias.numel() === g.shape[1] ? g.sum(0) : g.sum()).reshape(bias.shape) : null);
  return grads;
}

function expandBias(bias: Tensor, outF: number): TypedArray {
  const values = bias.toArray();
  if (values.length === outF) return values;
  const out = allocate(bias.dtype, outF);
  out.fill(values[0]);
  return out;
}

/** g (N,O) @ weight (O,I). */
function gradInput(gs: TypedArray, ws: TypedArray, n: number, inF: number, outF: number, dtype: DType): Tensor {
  const out = allocate(dtype, n * inF);
  linearInputGrad(gs, ws, n, inF, outF, out);
  return freshGradient(Tensor.fromArray(out, [n, inF], dtype));
}

/** g^T (O,N) @ x (N,I). */
function gradWeight(gs: TypedArray, xs: TypedArray, n: number, inF: number, outF: number, dtype: DType): Tensor {
  const out = allocate(dtype, outF * inF);
  linearWeightGrad(gs, xs, n, inF, outF, out);
  return freshGradient(Tensor.fromArray(out, [outF, inF], dtype));
}

/** g summed over the batch, in the bias's own shape (one value for a bias of one value broadcast). */
function gradBias(gs: TypedArray, n: number, outF: number, dtype: DType, shape: number[]): Tensor {
  const total = shape.length === 0 || (shape.length === 1 && shape[0] === 1 && outF !== 1);
  const out = allocate(dtype, total ? 1 : outF);
  linearBiasGrad(gs, n, outF, out, total);
  return freshGradient(Tensor.fromArray(out, shape, dtype));
}
