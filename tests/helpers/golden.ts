/** Reading the PyTorch golden cases (tests/fixtures/pytorch) and comparing with PyTorch's tolerances. */
import * as fs from "node:fs";
import * as path from "node:path";
import * as torch from "torchlet";

export interface JsonTensor {
  shape: number[];
  dtype: "float32" | "float64" | "int64" | "bool";
  data: Array<number | string | boolean>;
  requiresGrad?: boolean;
}

export interface GoldenCase {
  id: string;
  op: string;
  args: unknown[];
  options: Record<string, unknown>;
  inputs: JsonTensor[];
  output: JsonTensor | null;
  gradFn: string | null;
  upstream: JsonTensor | null;
  grads: Array<JsonTensor | null> | null;
  error: { pytorchMessage: string; type: string } | null;
  steps?: Array<{ op: string; args: unknown[]; options?: Record<string, unknown>; extraInputs?: number[] }>;
  indices?: JsonTensor;
  [extra: string]: unknown;
}

export function loadCases<T = GoldenCase>(file: string): T[] {
  const full = path.join(__dirname, "..", "fixtures", "pytorch", file);
  return JSON.parse(fs.readFileSync(full, "utf8")).cases as T[];
}

export function decodeValue(v: number | string | boolean): number {
  if (v === "nan") return NaN;
  if (v === "inf") return Infinity;
  if (v === "-inf") return -Infinity;
  return Number(v);
}

/** The golden tensor as a torchlet tensor (a fresh leaf, requiring grad when the case says so). */
export function toTensor(t: JsonTensor): torch.Tensor {
  const values = t.data.map(decodeValue);
  const flat = torch.tensor(values, { dtype: t.dtype });
  const shaped = flat.reshape(t.shape).detach();
  if (t.requiresGrad) shaped.requiresGrad_(true);
  return shaped;
}

/** Options with encoded tensors (weight, posWeight, ...) decoded. */
export function decodeOptions(options: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options ?? {})) {
    out[k] = v && typeof v === "object" && "shape" in (v as object) ? toTensor(v as JsonTensor) : v;
  }
  return out;
}

export const TOLERANCES = {
  float32: { rtol: 1.3e-6, atol: 1e-5 },
  float64: { rtol: 1e-7, atol: 1e-7 },
  int64: { rtol: 0, atol: 0 },
  bool: { rtol: 0, atol: 0 },
} as const;

/**
 * torch.testing.assert_close: same shape and dtype, |a - e| <= atol + rtol * |e| elementwise,
 * NaN equal to NaN, infinities equal only to themselves. Throws a readable message on failure.
 */
export function expectClose(
  actual: torch.Tensor,
  expected: JsonTensor,
  label = "",
  tol: { rtol: number; atol: number } = TOLERANCES[expected.dtype],
): void {
  const where = label ? `${label}: ` : "";
  if (actual.shape.join(",") !== expected.shape.join(",")) {
    throw new Error(`${where}shape [${actual.shape}] differs from PyTorch's [${expected.shape}]`);
  }
  if (actual.dtype !== expected.dtype) throw new Error(`${where}dtype ${actual.dtype} differs from PyTorch's ${expected.dtype}`);
  const got = actual.toArray();
  expected.data.forEach((raw, i) => {
    const e = decodeValue(raw);
    const a = got[i];
    const ok =
      (Number.isNaN(e) && Number.isNaN(a)) ||
      (!Number.isFinite(e) && a === e) ||
      (Number.isFinite(e) && Number.isFinite(a) && Math.abs(a - e) <= tol.atol + tol.rtol * Math.abs(e));
    if (!ok) throw new Error(`${where}element ${i}: got ${a}, PyTorch gives ${e} (rtol ${tol.rtol}, atol ${tol.atol})`);
  });
}
