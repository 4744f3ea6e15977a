/**
 * `dropout`, as PyTorch computes it on the CPU: a noise tensor of 0s and 1/(1-p)s from the one
 * seeded generator (src/random.ts), multiplied into the input, so the node is `MulBackward0`.
 */
import { allocate, isFloating, rounderFor, scalarTypeName } from "../dtype";
import { defaultGenerator } from "../random";
import { Tensor } from "../tensor-core";
import { mul } from "./elementwise";
import { checkOptions, optionKeys } from "../options";
import { tensorArg } from "../arguments";

export interface DropoutOptions {
  /** The probability of zeroing an element. Default 0.5. */
  p?: number;
  /** Only while training; otherwise the input itself is returned. Default true. */
  training?: boolean;
}

const DROPOUT_KEYS = optionKeys<DropoutOptions>({ p: true, training: true });

/** PyTorch's check, shared with the Dropout module's constructor. */
export function checkDropoutProbability(p: unknown): number {
  if (typeof p !== "number" || !(p >= 0 && p <= 1)) throw new Error(`dropout probability has to be between 0 and 1, but got ${String(p)}`);
  return p;
}

/**
 * Zeroes each element with probability `p` and scales the others by 1/(1-p). With p = 0, when not
 * training, or for an empty input, the input itself comes back (same tensor, same gradFn), as in
 * PyTorch; p = 1 multiplies by zeros.
 */
export function dropout(input: Tensor, options: DropoutOptions = {}): Tensor {
  tensorArg(input, "dropout");
  checkOptions("dropout", options, DROPOUT_KEYS);
  const p = checkDropoutProbability(options.p ?? 0.5);
  const n = input.numel();
  if (!(options.training ?? true) || p === 0 || n === 0) return input;
  const noise = allocate(input.dtype, n);
  if (p < 1) {
    // PyTorch divides a 0/1 noise tensor by (1 - p) in place, which an integer tensor cannot hold.
    if (!isFloating(input.dtype))
      throw new Error(`result type Float can't be cast to the desired output type ${scalarTypeName(input.dtype)}`);
    const r = rounderFor(input.dtype);
    const keep = 1 - p;
    const scale = r(1 / r(keep));
    for (let i = 0; i < n; i++) noise[i] = defaultGenerator.random() < keep ? scale : 0;
  }
  return mul(input, Tensor.fromArray(noise, input.shape, input.dtype));
}
