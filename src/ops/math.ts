/**
 * More math, in one import: the element-wise functions (math-unary.ts), the reductions
 * (math-reduce.ts) and the cumulative ops (math-along.ts).
 */
export { sin, cos, tan, log1p, expm1, log2, log10, square, reciprocal, rsqrt, sign, floor, ceil, round, trunc, erf } from "./math-unary";
export { prod, std, variance, norm, amax, amin } from "./math-reduce";
export { cumsum, cumprod } from "./math-along";
