/**
 * PyTorch 1.13 as a reference column: a script under bench/pytorch/ times the same workloads on
 * the same inputs (written to a JSON file it reads) with one thread, when /usr/bin/python3 has
 * torch; otherwise the column stays empty and the rows say why.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type Context, errorText, runsFor } from "./harness";

export const PYTHON = "/usr/bin/python3";

/** bench/pytorch in the source tree (this file runs from dist/bench/). */
const SCRIPTS = path.resolve(__dirname, "..", "..", "bench", "pytorch");

/** Per workload key: the median and samples in ms, plus what the run computed for the agreement check. */
export interface PytorchResult {
  /** Why PyTorch did not run (no python3, no torch, the script failed). */
  skipped?: string;
  version?: string;
  results?: Record<string, { median: number; samples: number[]; cpuMedian: number; losses: number[]; grads: number[]; params: number[] }>;
}

/** Runs bench/pytorch/`script` on `specs` (any JSON: typed arrays become lists) with the run counts of torchlet's rows. */
export function runPytorch(script: string, specs: unknown[], ctx: Context): PytorchResult {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "torchlet-bench-"));
  const input = path.join(dir, "inputs.json");
  try {
    const { warmup, runs } = runsFor(ctx, "torchlet", { torchlet: 21, peer: 21 });
    const toJson = (_: string, v: unknown) => (ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v);
    fs.writeFileSync(input, JSON.stringify({ warmup, runs, specs }, toJson));
    ctx.log(`  PyTorch: ${PYTHON} bench/pytorch/${script} ...`);
    const out = execFileSync(PYTHON, [path.join(SCRIPTS, script), input], {
      encoding: "utf8",
      maxBuffer: 1 << 28,
      stdio: ["ignore", "pipe", "pipe"],
    });
    return JSON.parse(out) as PytorchResult;
  } catch (e) {
    const stderr = (e as { stderr?: string }).stderr ?? "";
    const reason = /No module named 'torch'/.test(stderr) ? "torch is not installed for /usr/bin/python3" : errorText(stderr.trim() || e);
    ctx.log(`  PyTorch skipped: ${reason}`);
    return { skipped: reason };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
