/** Numbers in module summaries, printed as Python prints them in PyTorch's `extra_repr`. */

/** Python's repr of a float: `1.0`, `0.5`, `1e-05`, `inf` (scientific below 1e-4 and from 1e16, two exponent digits). */
export function pyFloat(v: number): string {
  if (Number.isNaN(v)) return "nan";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-4 || a >= 1e16)) {
    const [mantissa, exponent] = v.toExponential().split("e");
    const e = Number(exponent);
    return `${mantissa}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
  }
  return Number.isInteger(v) ? v.toFixed(1) : String(v);
}

/** A Python tuple of ints: `(6,)`, `(3, 4)`. */
export function pyTuple(values: readonly number[]): string {
  return values.length === 1 ? `(${values[0]},)` : `(${values.join(", ")})`;
}
