/**
 * Strict parsers for option values: a value that is not a number, or out of range, is a usage
 * error that commander reports as `option '--epochs <n>' argument '0' is invalid. ...`.
 */
import { InvalidArgumentError } from "commander";

const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function integer(value: string): number {
  const n = Number(value.trim());
  if (!INTEGER.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError("Expected an integer.");
  return n;
}

function number(value: string): number {
  const n = Number(value.trim());
  if (!NUMBER.test(value.trim()) || !Number.isFinite(n)) throw new InvalidArgumentError("Expected a number.");
  return n;
}

/** An integer >= 1. */
export function positiveInt(value: string): number {
  const n = integer(value);
  if (n < 1) throw new InvalidArgumentError("It must be at least 1.");
  return n;
}

/** An integer >= 0. */
export function nonNegativeInt(value: string): number {
  const n = integer(value);
  if (n < 0) throw new InvalidArgumentError("It must be 0 or more.");
  return n;
}

/** A seed: an integer in [0, 2^32). */
export function seed(value: string): number {
  const n = integer(value);
  if (n < 0 || n > 0xffffffff) throw new InvalidArgumentError("It must be an integer from 0 to 4294967295.");
  return n;
}

/** A number > 0. */
export function positiveNumber(value: string): number {
  const n = number(value);
  if (!(n > 0)) throw new InvalidArgumentError("It must be greater than 0.");
  return n;
}

/** A probability in [0, 1]. */
export function probability(value: string): number {
  const n = number(value);
  if (n < 0 || n > 1) throw new InvalidArgumentError("It must be between 0 and 1.");
  return n;
}

/** Label smoothing in [0, 1). */
export function smoothing(value: string): number {
  const n = number(value);
  if (n < 0 || n >= 1) throw new InvalidArgumentError("It must be at least 0 and less than 1.");
  return n;
}

/** How many labels to predict: an integer >= 1, or -1 for all of them (as in fastText). */
export function topK(value: string): number {
  const n = integer(value);
  if (n !== -1 && n < 1) throw new InvalidArgumentError("It must be at least 1, or -1 for all labels.");
  return n;
}
