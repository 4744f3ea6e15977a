/**
 * PyTorch-style printing: `formatTensor` reproduces `repr(tensor)` of PyTorch 1.13
 * (torch/_tensor_str.py) with the default print options. Pure: it sees only flat values,
 * a shape and a dtype, so it does not depend on Tensor.
 */

export type PrintDtype = "float32" | "float64" | "int64" | "bool";
export interface PrintSuffix {
  gradFn?: string | null;
  requiresGrad?: boolean;
}

// PyTorch's default print options.
const PRECISION = 4;
const THRESHOLD = 1000; // more elements than this are summarised with "..."
const EDGE_ITEMS = 3; // elements kept at each end of a summarised dimension
const LINE_WIDTH = 80;

/** values: row-major flat values (for bool: 0/1), shape: sizes ([] = scalar). */
export function formatTensor(values: ArrayLike<number>, shape: readonly number[], dtype: PrintDtype, suffix: PrintSuffix = {}): string {
  const prefix = "tensor(";
  const indent = prefix.length;
  const numel = shape.reduce((a, b) => a * b, 1);
  const suffixes: string[] = [];
  let body: string;
  if (numel === 0) {
    // Nothing to infer the dtype or the shape from, so PyTorch states both
    // (the shape only when it is not the plain (0,)).
    if (shape.length !== 1) suffixes.push(`size=(${shape.join(", ")})`);
    if (dtype !== "float32") suffixes.push(`dtype=torch.${dtype}`);
    body = "[]";
  } else {
    // float32 is the default dtype; int64 and bool are inferred from how values look.
    if (dtype === "float64") suffixes.push("dtype=torch.float64");
    // PyTorch formats float32 values after widening them to double, so round first.
    const vals = dtype === "float32" ? Array.from(values, Math.fround) : Array.from(values);
    body = formatBody(vals, shape, dtype, indent);
  }
  if (suffix.gradFn) suffixes.push(`grad_fn=<${suffix.gradFn}>`);
  else if (suffix.requiresGrad) suffixes.push("requires_grad=True");
  return addSuffixes(prefix + body, suffixes, indent);
}

/** The bracketed contents: one formatter (shared width) for all the elements shown. */
function formatBody(vals: number[], shape: readonly number[], dtype: PrintDtype, indent: number): string {
  const ndim = shape.length;
  const summarize = vals.length > THRESHOLD;
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));

  // Indices shown along a dimension; -1 stands for the "..." of a summarised one.
  const shown = (size: number): number[] => {
    const all = Array.from({ length: size }, (_, i) => i);
    if (!summarize || size <= 2 * EDGE_ITEMS) return all;
    return [...all.slice(0, EDGE_ITEMS), -1, ...all.slice(size - EDGE_ITEMS)];
  };

  // The formatter only looks at the elements that will be printed, as PyTorch does.
  const printed: number[] = [];
  const collect = (d: number, offset: number): void => {
    for (const i of shown(shape[d])) {
      if (i < 0) continue;
      if (d === ndim - 1) printed.push(vals[offset + i * strides[d]]);
      else collect(d + 1, offset + i * strides[d]);
    }
  };
  if (ndim === 0) printed.push(vals[0]);
  else collect(0, 0);
  const fmt = makeFormatter(printed, dtype);

  const render = (d: number, offset: number, ind: number): string => {
    const idx = shown(shape[d]);
    if (d === ndim - 1) {
      // Rows wrap so that each line holds as many whole ", "-separated elements as fit,
      // with continuation lines aligned under the first element.
      const items = idx.map((i) => (i < 0 ? " ..." : fmt.format(vals[offset + i * strides[d]])));
      const perLine = Math.max(1, Math.floor((LINE_WIDTH - ind) / (fmt.width + 2)));
      const lines: string[] = [];
      for (let k = 0; k < items.length; k += perLine) lines.push(items.slice(k, k + perLine).join(", "));
      return "[" + lines.join(",\n" + " ".repeat(ind + 1)) + "]";
    }
    // Sub-tensors go one per line; a 3-D slice and above is separated by blank lines.
    const slices = idx.map((i) => (i < 0 ? "..." : render(d + 1, offset + i * strides[d], ind + 1)));
    return "[" + slices.join("," + "\n".repeat(ndim - d - 1) + " ".repeat(ind + 1)) + "]";
  };
  return ndim === 0 ? fmt.format(vals[0]) : render(0, 0, indent);
}

interface Formatter {
  width: number;
  format(v: number): string;
}

/**
 * An int64 value in full, through BigInt: String would write 1e+21 past 1e21. Only arithmetic
 * that overflows (10 ** 400) makes a non-finite one, which String spells.
 */
function integerDigits(v: number): string {
  return Number.isFinite(v) ? BigInt(v).toString() : String(v);
}

/** PyTorch's _Formatter: picks one style for the whole tensor and a shared width. */
function makeFormatter(vals: number[], dtype: PrintDtype): Formatter {
  if (dtype === "int64" || dtype === "bool") {
    const str = (v: number): string => (dtype === "bool" ? (v !== 0 ? "True" : "False") : integerDigits(v));
    const width = Math.max(1, ...vals.map((v) => str(v).length));
    return { width, format: (v) => str(v).padStart(width) };
  }

  // Style and width are decided by the finite nonzero values only; nan, inf and 0 just pad.
  const finite = vals.filter((v) => Number.isFinite(v) && v !== 0);
  let intMode = true;
  let sciMode = false;
  let width = 1;
  if (finite.length > 0) {
    const abs = finite.map(Math.abs);
    const min = Math.min(...abs);
    const max = Math.max(...abs);
    intMode = finite.every(Number.isInteger);
    // Integer-valued tensors skip the "too small" test: their smallest value is at least 1.
    sciMode = max / min > 1000 || max > 1e8 || (!intMode && min < 1e-4);
    const style = (v: number): string => (sciMode ? toExponential(v, PRECISION) : intMode ? toFixed(v, 0) + "." : toFixed(v, PRECISION));
    width = Math.max(1, ...finite.map((v) => style(v).length));
  }
  const format = (v: number): string => {
    let s: string;
    if (Number.isNaN(v)) s = "nan";
    else if (!Number.isFinite(v)) s = v > 0 ? "inf" : "-inf";
    else if (sciMode) s = toExponential(v, PRECISION);
    else if (intMode)
      s = toFixed(v, 0) + "."; // the "." tells a float from an int64
    else s = toFixed(v, PRECISION);
    return s.padStart(width);
  };
  return { width, format };
}

/**
 * Suffixes go after ", " on the last line, or on a new line indented like the contents when
 * they would pass the line width. PyTorch measures the last line two characters longer than
 * it is (`len - rfind('\n') + 1`); kept, so that wrapping decisions match.
 */
function addSuffixes(text: string, suffixes: string[], indent: number): string {
  let out = text;
  let lastLineLen = text.length - text.lastIndexOf("\n") + 1;
  for (const s of suffixes) {
    if (lastLineLen + s.length + 2 > LINE_WIDTH) {
      out += ",\n" + " ".repeat(indent) + s;
      lastLineLen = indent + s.length;
    } else {
      out += ", " + s;
      lastLineLen += s.length + 2;
    }
  }
  return out + ")";
}

// Python's "{:.4f}" / "{:.4e}" round the exact binary value half-to-even, while JS's
// toFixed/toExponential round ties away from zero (0.03125 -> "0.0313", Python "0.0312").
// So we round ourselves on the exact decimal expansion, which every finite double has.

/** |x| as an exact fraction n / 10^k. */
function exactDecimal(x: number): [bigint, number] {
  let m = Math.abs(x);
  let k = 0;
  while (!Number.isInteger(m)) {
    m *= 2; // exact: a non-integer double is far from overflow
    k++;
  }
  return [BigInt(m) * 5n ** BigInt(k), k]; // m / 2^k = m * 5^k / 10^k
}

/** round(n / 10^k * 10^decimals), ties to even; `decimals` may be negative. */
function roundScaled(n: bigint, k: number, decimals: number): bigint {
  if (decimals >= k) return n * 10n ** BigInt(decimals - k);
  const d = 10n ** BigInt(k - decimals);
  const q = n / d;
  const twiceRem = 2n * (n % d);
  return twiceRem > d || (twiceRem === d && q % 2n === 1n) ? q + 1n : q;
}

/** Negative zero keeps its sign, as in Python ("-0.0000"). */
const sign = (x: number): string => (x < 0 || Object.is(x, -0) ? "-" : "");

/** Python's "{:.Nf}".format(x) for a finite x. */
function toFixed(x: number, decimals: number): string {
  const [n, k] = exactDecimal(x);
  const digits = roundScaled(n, k, decimals)
    .toString()
    .padStart(decimals + 1, "0");
  const cut = digits.length - decimals;
  return sign(x) + digits.slice(0, cut) + (decimals > 0 ? "." + digits.slice(cut) : "");
}

/** Python's "{:.Ne}".format(x) for a finite x: exponent signed, at least two digits. */
function toExponential(x: number, decimals: number): string {
  const [n, k] = exactDecimal(x);
  let exp = n === 0n ? 0 : n.toString().length - 1 - k; // position of the leading digit
  let q = roundScaled(n, k, decimals - exp);
  if (q.toString().length > decimals + 1) {
    // rounding carried into a new digit (9.99995 -> 10.0000): renormalise
    q /= 10n;
    exp++;
  }
  const digits = q.toString().padStart(decimals + 1, "0");
  const mantissa = digits[0] + (decimals > 0 ? "." + digits.slice(1) : "");
  return `${sign(x)}${mantissa}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
}
