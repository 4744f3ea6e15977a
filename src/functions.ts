/** The ops as free functions, `torch.NAME(tensor, ...)`, next to the Tensor methods. */
import type { Tensor } from "./tensor";
import { sizesArg } from "./shape";
import { tensorArg } from "./arguments";

export { add, sub, rsub, mul, div, pow, neg, exp, log, sqrt, abs, clamp } from "./ops/elementwise";
export { sigmoid, tanh, relu, softmax, logSoftmax } from "./ops/activation";
export { sum, mean, max, logsumexp, argmax } from "./ops/reduction";
export { matmul, mm, mv, dot, bmm } from "./ops/linalg";
export { transpose, t, unsqueeze, squeeze, flatten, clone } from "./ops/shape";
export { gather, scatter, scatterAdd, indexSelect, indexAdd, embeddingBag } from "./ops/indexing";
export type { EmbeddingBagOptions } from "./ops/indexing";
export { add_, sub_, mul_, div_, pow_, neg_, exp_, clamp_, zero_, fill_, copy_, uniform_, normal_ } from "./ops/inplace";
// indexing (ops/index.ts)
export { select, narrow, maskedFill, maskedSelect, take } from "./ops/index";
export type { IndexItem } from "./ops/index";
export { maskedFill_, indexPut_ } from "./ops/inplace";
// joining, comparing, selecting (ops/join.ts, ops/compare.ts, ops/sort.ts)
export { cat, stack, split, chunk, flip, where } from "./ops/join";
export { eq, ne, gt, ge, lt, le, logicalNot, logicalAnd, logicalOr, isnan, isinf, isfinite, maximum, minimum } from "./ops/compare";
export { min, argmin, any, all } from "./ops/reduction";
export { topk, sort, argsort } from "./ops/sort";
// more math (ops/math.ts)
export { sin, cos, tan, log1p, expm1, log2, log10, square, reciprocal, rsqrt, sign, floor, ceil, round, trunc, erf } from "./ops/math";
export { prod, std, variance as var, norm, cumsum, cumprod, amax, amin } from "./ops/math";
export { linspace, logspace, randLike, randnLike, emptyLike, randperm } from "./creation";

export function reshape(x: Tensor, ...sizes: Array<number | number[]>): Tensor {
  tensorArg(x, "reshape");
  return x.reshape(sizesArg(sizes, "reshape", "shape"));
}
export function view(x: Tensor, ...sizes: Array<number | number[]>): Tensor {
  tensorArg(x, "view");
  return x.view(sizesArg(sizes, "view"));
}
export function expand(x: Tensor, ...sizes: Array<number | number[]>): Tensor {
  tensorArg(x, "expand");
  return x.expand(sizesArg(sizes, "expand"));
}
export function permute(x: Tensor, ...dims: Array<number | number[]>): Tensor {
  tensorArg(x, "permute");
  return x.permute(sizesArg(dims, "permute", "dims"));
}
export function detach(x: Tensor): Tensor {
  tensorArg(x, "detach");
  return x.detach();
}
