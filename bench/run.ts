/**
 * `npm run bench`: torchlet against TensorFlow.js (wasm and cpu backends) on the workloads of
 * issue 6, on the same inputs, in this process. Prints a table on stdout (progress goes to
 * stderr) and writes results.json next to this file's source.
 *
 *   npm run bench                       all workloads, all peers -> bench/results.json
 *   npm run bench -- --quick            smaller sizes, one training run (about a minute)
 *                                       -> bench/results-quick.json
 *   npm run bench -- --only W1,W3       some workloads       -> bench/results-partial.json
 *   npm run bench -- --peers none       torchlet alone (for profiling with node --cpu-prof)
 *   npm run bench -- --out FILE         write the JSON elsewhere
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { type Context, type Row, errorText, ratioVsWasm } from "./harness";
import { PEER_NAMES, type Peer, type PeerName, loadPeers } from "./peers";
import { crossEntropyWorkload } from "./w1-cross-entropy";
import { bceWithLogitsWorkload } from "./w2-bce-with-logits";
import { matmulWorkload } from "./w3-matmul";
import { sparseSgdWorkload } from "./w4-sparse-sgd";
import { spamAssassinWorkload } from "./w5-spam-assassin";
import { memoryWorkload } from "./w6-memory";
import { smallModelsWorkload } from "./w7-small-models";
import { threadsWorkload } from "./threads";

const WORKLOADS: Record<string, (ctx: Context) => Promise<Row[]>> = {
  W1: crossEntropyWorkload,
  W2: bceWithLogitsWorkload,
  W3: matmulWorkload,
  W4: sparseSgdWorkload,
  W5: spamAssassinWorkload,
  W6: memoryWorkload,
  W7: smallModelsWorkload,
  TH: threadsWorkload, // 1 thread against 2, and fastText (bench/threads.ts)
};

/** bench/ in the source tree: this file runs from dist/bench/. */
const BENCH_DIR = path.resolve(__dirname, "..", "..", "bench");

function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    node: process.version,
    v8: process.versions.v8,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    memoryGB: Math.round(os.totalmem() / 2 ** 30),
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
    torchletCommit: gitCommit(),
  };
}

/** The commit the build came from ("+dirty" when src/ has uncommitted changes), if this is a git checkout. */
function gitCommit(): string | null {
  try {
    const root = path.resolve(BENCH_DIR, "..");
    const run = (args: string[]): string =>
      execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const dirty = run(["status", "--porcelain", "--", "src"]) !== "";
    return `${run(["rev-parse", "--short", "HEAD"])}${dirty ? "+dirty" : ""}`;
  } catch {
    return null;
  }
}

// ---- formatting ---------------------------------------------------------------------------

function significant(v: number, digits = 3): string {
  if (v === 0) return "0";
  const magnitude = Math.floor(Math.log10(Math.abs(v)));
  const decimals = Math.max(0, digits - 1 - magnitude);
  return v.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

function formatValue(v: number | boolean | null | undefined, unit: string): string {
  if (v === null || v === undefined) return "—";
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (!Number.isFinite(v)) return String(v);
  switch (unit) {
    case "tokens/s":
      return v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : `${(v / 1e3).toFixed(0)}k`;
    case "accuracy":
      return v.toFixed(4);
    case "%":
      return `${v >= 0 ? "+" : ""}${v.toFixed(2)}%`;
    default:
      return significant(v);
  }
}

function cell(row: Row, who: "torchlet" | PeerName, loaded: boolean): string {
  if (row.errors?.[who]) return "error";
  const value = who === "torchlet" ? row.torchlet : row.peers[who];
  if (value === undefined && who !== "torchlet" && !loaded) return "not run";
  return formatValue(value, row.unit);
}

/** PyTorch's figure (W7 runs bench/pytorch/*.py), when the row has one. */
function pytorchCell(row: Row): string {
  if (row.errors?.pytorch) return "error";
  return typeof row.pytorch === "number" ? formatValue(row.pytorch, row.unit) : "—";
}

function printTable(rows: Row[], peers: readonly Peer[]): string {
  const loaded = new Set(peers.map((p) => p.name));
  const header = ["workload", "unit", "torchlet", ...PEER_NAMES, "PyTorch 1.13, 1 thread", "vs tfjs-wasm", "target", "met?"];
  const lines = rows.map((row) => {
    if (row.static) {
      const ft = row.fastText as { tokensPerSecond: number; accuracy: number };
      return [row.name, "tokens/s, acc", `${ft.tokensPerSecond / 1e6}M, ${ft.accuracy}`, "", "", "", "", "", ""];
    }
    const ratio = typeof row.ratio === "number" ? `${significant(row.ratio, 2)}×` : "—";
    return [
      row.name,
      row.unit,
      cell(row, "torchlet", true),
      ...PEER_NAMES.map((p) => (row.unit === "check" || row.unit === "%" || row.name.startsWith("W5") ? "—" : cell(row, p, loaded.has(p)))),
      pytorchCell(row),
      ratio,
      row.target ?? "",
      row.met === true ? "yes" : row.met === false ? "NO" : "—",
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cols: string[]): string =>
    `| ${cols.map((c, i) => (i >= 2 && i <= 6 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(" | ")} |`;
  const out = [
    fmt(header),
    `|${widths.map((w, i) => (i >= 2 && i <= 6 ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`,
    ...lines.map(fmt),
  ];
  const remarks = rows.filter((row) => row.note).map((row) => `  ${row.name}: ${row.note}`);
  if (remarks.length) out.push("", "notes:", ...remarks);
  const errors: string[] = [];
  for (const row of rows) {
    for (const [who, message] of Object.entries(row.errors ?? {})) errors.push(`  ${row.name} [${who}]: ${message}`);
  }
  if (errors.length) out.push("", "errors:", ...errors);
  return out.join("\n");
}

// ---- main ---------------------------------------------------------------------------------

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      peers: { type: "string" },
      out: { type: "string" },
    },
  });
  const quick = values.quick ?? false;
  const only = values.only ? values.only.split(",").map((s) => s.trim().toUpperCase()) : Object.keys(WORKLOADS);
  for (const id of only) if (!WORKLOADS[id]) throw new Error(`unknown workload ${id} (known: ${Object.keys(WORKLOADS).join(", ")})`);
  const peerNames: PeerName[] =
    values.peers === undefined
      ? [...PEER_NAMES]
      : values.peers === "none"
        ? []
        : (values.peers.split(",").map((s) => s.trim()) as PeerName[]);
  for (const p of peerNames) if (!PEER_NAMES.includes(p)) throw new Error(`unknown peer ${p} (known: ${PEER_NAMES.join(", ")}, none)`);
  const partial = values.only !== undefined || values.peers !== undefined;
  const outFile = values.out ?? path.join(BENCH_DIR, quick ? "results-quick.json" : partial ? "results-partial.json" : "results.json");

  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const info = machine();
  log(
    `torchlet bench${quick ? " (quick)" : ""} on ${info.cpu}, ${info.cores} cores, Node ${info.node}, load ${String(info.loadAverageAtStart)}`,
  );
  let peers: Peer[] = [];
  const peerErrors: Record<string, string> = {};
  try {
    const started = performance.now();
    peers = await loadPeers(peerNames);
    if (peers.length)
      log(`peers loaded in ${((performance.now() - started) / 1000).toFixed(1)} s: ${peers.map((p) => p.describe()).join("; ")}`);
  } catch (e) {
    for (const p of peerNames) peerErrors[p] = `could not load: ${errorText(e)}`;
    log(`peers failed to load: ${errorText(e)}`);
  }
  const ctx: Context = { quick, peers, peerNames: PEER_NAMES, log };

  const rows: Row[] = [];
  const startedAll = performance.now();
  for (const id of only) {
    const started = performance.now();
    log(`${id} ...`);
    let produced: Row[];
    try {
      produced = await WORKLOADS[id](ctx);
    } catch (e) {
      produced = [{ name: id, unit: "", better: "lower", torchlet: null, peers: {}, errors: { torchlet: errorText(e) } }];
    }
    for (const row of produced) {
      if (!row.static) Object.assign((row.errors ??= {}), peerErrors);
      row.ratio = ratioVsWasm(row);
      if (typeof row.targetRatio === "number") row.met = typeof row.ratio === "number" ? row.ratio >= row.targetRatio : null;
      // W7's second target: faster than PyTorch (one thread), when PyTorch ran.
      if (row.met === true && typeof row.pytorch === "number" && typeof row.torchlet === "number") row.met = row.torchlet < row.pytorch;
      if (row.errors && Object.keys(row.errors).length === 0) delete row.errors;
      rows.push(row);
    }
    log(`${id} done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }

  const table = printTable(rows, peers);
  const heading =
    `Machine: ${info.cpu}, ${info.cores} cores, Node ${info.node}, ${info.os}; load average at start ${(info.loadAverageAtStart as number[]).join(" ")}` +
    `${quick ? " (--quick: smaller sizes)" : ""}.\n` +
    "Times in ms (median after warm-up); vs tfjs-wasm = how many times better torchlet is (> 1: torchlet wins).";
  process.stdout.write(`\n${heading}\n\n${table}\n\n`);
  const result = {
    machine: info,
    quick,
    date: new Date().toISOString(),
    peers: Object.fromEntries(peers.map((p) => [p.name, p.describe()])),
    notes: [
      "times in milliseconds, the median of the timed runs after warm-up; ratio = how many times better torchlet is than tfjs-wasm",
      "all implementations get the same seeded inputs; each peer's loss/product/gradients must agree with torchlet's within 1e-3 relative before it is timed",
    ],
    totalSeconds: (performance.now() - startedAll) / 1000,
    workloads: rows,
  };
  fs.writeFileSync(
    outFile,
    `${JSON.stringify(result, (_, v) => (typeof v === "number" && !Number.isInteger(v) ? Number(v.toPrecision(6)) : v), 2)}\n`,
  );
  log(`wrote ${path.relative(process.cwd(), outFile)} (${result.totalSeconds.toFixed(0)} s)`);
  const failed = rows.some((r) => r.errors && Object.keys(r.errors).length > 0);
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`bench: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exitCode = 2;
  },
);
