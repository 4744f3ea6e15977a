/**
 * Argument types, checked at an op's entry with PyTorch's message instead of failing deep inside
 * with `Cannot read properties of undefined`. Each check is one typeof/instanceof test on the
 * success path; the message is only built when it fails. Values are named the JavaScript way
 * (`must be Tensor, not number`), where PyTorch names Python's types (`not int`).
 */
import { type DType, allocate } from "./dtype";
import { Tensor } from "./tensor-core";
import { typeName } from "./options";

export { typeName };

/** PyTorch's message for a non-tensor where a tensor belongs. */
export function notTensor(fn: string, arg: string, position: number, v: unknown): TypeError {
  return new TypeError(`${fn}(): argument '${arg}' (position ${position}) must be Tensor, not ${typeName(v)}`);
}

/** `v` must be a tensor: `mul(): argument 'input' (position 1) must be Tensor, not number`. */
export function tensorArg(v: unknown, fn: string, arg = "input", position = 1): asserts v is Tensor {
  if (!(v instanceof Tensor)) throw notTensor(fn, arg, position, v);
}

/** `v` must be a tensor or a number (or boolean), as PyTorch takes a Python scalar for `other`. */
export function operandArg(v: unknown, fn: string, arg = "other", position = 2): void {
  if (!(v instanceof Tensor) && typeof v !== "number" && typeof v !== "boolean") throw notTensor(fn, arg, position, v);
}

/** `v` must be a number: an options object in its place (`F.elu(x, {alpha: 2})`) would compute NaN. */
export function numberArg(v: unknown, fn: string, arg: string, position?: number): asserts v is number {
  if (typeof v === "number") return;
  const at = position === undefined ? "" : ` (position ${position})`;
  throw new TypeError(`${fn}(): argument '${arg}'${at} must be Number, not ${typeName(v)}`);
}

/** `v` must be a boolean: an options object in a flag's place (`x.std(0, {unbiased: false})`) would read as true. */
export function flagArg(v: unknown, fn: string, arg: string): asserts v is boolean {
  if (typeof v !== "boolean") throw new TypeError(`${fn}(): argument '${arg}' must be bool, not ${typeName(v)}`);
}

/** The name of a value given where an int belongs: a fractional number is a float, as PyTorch says. */
export function intTypeName(v: unknown): string {
  return typeof v === "number" ? "float" : typeName(v);
}

/** `v` must be an integer: `select(): argument 'dim' (position 2) must be int, not float`. */
export function intArg(v: unknown, fn: string, arg: string, position: number): number {
  if (typeof v === "number" && Number.isInteger(v)) return v;
  throw new TypeError(`${fn}(): argument '${arg}' (position ${position}) must be int, not ${intTypeName(v)}`);
}

/**
 * A tensor option that a user naturally types as a list (a class `weight`, `posWeight`): an array
 * of numbers becomes the 1-D tensor PyTorch would be given; a tensor, null or undefined passes.
 */
export function tensorOrList(v: unknown, fn: string, option: string, dtype: DType = "float32"): Tensor | null {
  if (v === undefined || v === null) return null;
  if (v instanceof Tensor) return v;
  if (Array.isArray(v) && v.every((e) => typeof e === "number")) {
    const data = allocate(dtype, v.length);
    v.forEach((e: number, i) => (data[i] = e));
    return Tensor.fromArray(data, [v.length], dtype);
  }
  throw new TypeError(`${fn}(): option '${option}' must be Tensor or an array of numbers, not ${typeName(v)}`);
}

/** PyTorch's message for arguments that fit none of a call's forms: `full() received an invalid combination of arguments - got (number, number, number), ...`. */
export function invalidCombination(fn: string, args: readonly unknown[], expected: string): TypeError {
  return new TypeError(
    `${fn}() received an invalid combination of arguments - got (${args.map(typeName).join(", ")}), but expected ${expected}`,
  );
}
