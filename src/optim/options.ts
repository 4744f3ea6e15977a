/**
 * Checks of optimizer options that fail in PyTorch 1.13's words. PyTorch formats the offending
 * value with Python's `str()`; its options are floats, so a number prints as Python prints a
 * float (`1.0`, `-0.01`, `1e-08`, `nan`), whatever JavaScript would have written.
 */

/** `x` as Python's `str(float(x))`: the shortest round-trip digits, `.0` on whole numbers, `e-05` exponents. */
export function pythonFloat(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  // toExponential() without an argument gives the shortest digits that read back as x.
  const [mantissa, exp] = x.toExponential().split("e");
  const exponent = Number(exp);
  // Python switches to scientific notation below 1e-4 and from 1e16 on.
  if (exponent < -4 || exponent >= 16) {
    const sign = exponent < 0 ? "-" : "+";
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  const fixed = x.toFixed(Math.max(0, mantissa.replace(/^-?\d\.?/, "").length - exponent));
  return fixed.includes(".") ? fixed : `${fixed}.0`;
}

/** How a rejected value reads in the message: numbers as Python floats, anything else as is. */
function shown(value: unknown): string {
  return typeof value === "number" ? pythonFloat(value) : String(value);
}

/** PyTorch's `if not 0.0 <= value: raise ValueError(f"Invalid {what}: {value}")` (NaN fails too). */
export function checkNonNegative(value: unknown, what: string): void {
  if (typeof value !== "number" || !(value >= 0)) throw new Error(`Invalid ${what}: ${shown(value)}`);
}

/** Adam's betas: two numbers, each in [0, 1). */
export function checkBetas(betas: unknown): void {
  if (!Array.isArray(betas) || betas.length !== 2) throw new TypeError(`betas must be a pair of numbers, got ${String(betas)}`);
  betas.forEach((beta: unknown, i) => {
    if (typeof beta !== "number" || !(beta >= 0 && beta < 1)) throw new Error(`Invalid beta parameter at index ${i}: ${shown(beta)}`);
  });
}
