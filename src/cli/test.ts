/**
 * `torchlet test MODEL FILE`: a few examples, then accuracy (single-label) or P@k, R@k and
 * micro-F1 (multi-label), then a per-class table. Labels the model never saw are reported and
 * counted as wrong, not refused.
 */
import { classificationReport, precisionAtK, precisionRecallF1, recallAtK } from "../data/metrics";
import { type Format, LABEL_PREFIX, readDataset } from "./formats";
import { type Io, Reporter, formatNumber, snippet } from "./output";
import { loadModel } from "./model";

export interface TestCommandOptions {
  k?: number;
  threshold?: number;
  format: Format | "auto";
  textColumn?: string;
  labelColumn?: string;
  examples: number;
  quiet?: boolean;
  json?: boolean;
}

export interface ClassRow {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
  seen: boolean;
}

export async function testCommand(modelFile: string, dataFile: string, o: TestCommandOptions, io: Io): Promise<void> {
  const classifier = loadModel(modelFile);
  const data = readDataset(dataFile, o);
  const out = new Reporter(io, o);
  const { task, loss, labels: known } = classifier.config;
  const multilabel = task === "multilabel";
  const threshold = o.threshold ?? 0.5;
  const C = known.length;
  const k = o.k === undefined ? 1 : o.k === -1 ? C : Math.min(o.k, C);
  const examples = data.examples;

  // Labels of the test data that the model has no output for: extra columns, never predicted.
  const unseen = new Map<string, number>();
  for (const e of examples) for (const l of e.labels) if (classifier.labelSet.indexOf(l) < 0) unseen.set(l, (unseen.get(l) ?? 0) + 1);
  const names = [...known, ...unseen.keys()];
  const column = (l: string) => (classifier.labelSet.indexOf(l) >= 0 ? classifier.labelSet.indexOf(l) : C + [...unseen.keys()].indexOf(l));
  const W = names.length;

  const probabilities = classifier.probabilities(examples.map((e) => e.text));
  const evaluation = classifier.evaluate(examples, threshold);
  const scores = new Float64Array(examples.length * W).fill(-1);
  const truth = new Float64Array(examples.length * W);
  examples.forEach((e, i) => {
    scores.set(probabilities[i], i * W);
    for (const l of e.labels) truth[i * W + column(l)] = 1;
  });
  const pAtK = precisionAtK(scores, truth, k, W);
  const rAtK = recallAtK(scores, truth, k, W);

  let rows: ClassRow[];
  let table: string;
  if (multilabel) {
    const predicted = (i: number, c: number) => c < C && probabilities[i][c] >= threshold;
    rows = names.map((label, c) => {
      let tp = 0;
      let fp = 0;
      let fn = 0;
      examples.forEach((_, i) => {
        const t = truth[i * W + c] === 1;
        const p = predicted(i, c);
        if (t && p) tp++;
        else if (p) fp++;
        else if (t) fn++;
      });
      const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
      const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
      const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
      return { label, precision, recall, f1, support: tp + fn, seen: c < C };
    });
    table = multiLabelTable(rows, evaluation.microF1 ?? 0);
  } else {
    const yTrue = Int32Array.from(examples, (e) => column(e.labels[0]));
    const yPred = evaluation.yPred!;
    const scoresPerClass = precisionRecallF1(yTrue, yPred, W);
    rows = names.map((label, c) => ({
      label,
      precision: scoresPerClass.precision[c],
      recall: scoresPerClass.recall[c],
      f1: scoresPerClass.f1[c],
      support: scoresPerClass.support[c],
      seen: c < C,
    }));
    table = classificationReport(
      yTrue,
      yPred,
      names.map((n, c) => display(n, c < C)),
    );
  }

  out.info(`${modelFile}: ${task} model (${loss}), ${C} labels`);
  out.info(`${data.file}: ${examples.length} examples (${data.format})`);
  if (!o.quiet && !o.json && o.examples > 0) {
    out.info();
    out.info("examples:");
    for (let i = 0; i < Math.min(o.examples, examples.length); i++) {
      const e = examples[i];
      const p = probabilities[i];
      const order = [...p.keys()].sort((a, b) => p[b] - p[a]);
      const shown = multilabel ? order.filter((c) => p[c] >= threshold) : order.slice(0, 1);
      const predictedNames = new Set(shown.map((c) => known[c]));
      const right = multilabel
        ? e.labels.length === predictedNames.size && e.labels.every((l) => predictedNames.has(l))
        : predictedNames.has(e.labels[0]);
      const predictedText = shown.length
        ? shown.map((c) => `${LABEL_PREFIX}${known[c]} ${p[c].toFixed(3)}`).join(" ")
        : "(no label above the threshold)";
      out.info(`  ${right ? "✓" : "✗"} line ${e.line}: ${JSON.stringify(snippet(e.text, 50))}`);
      out.info(`      true ${e.labels.map((l) => LABEL_PREFIX + l).join(" ")}  predicted ${predictedText}`);
    }
  }
  if (!o.json) {
    if (!o.quiet) out.info();
    const lines: Array<[string, string]> = [["N", String(examples.length)]];
    if (multilabel) {
      lines.push([`P@${k}`, formatNumber(pAtK)], [`R@${k}`, formatNumber(rAtK)]);
      lines.push([`micro-F1`, `${formatNumber(evaluation.microF1 ?? 0)} (threshold ${threshold})`]);
      lines.push([`exact match`, formatNumber(evaluation.accuracy)]);
    } else {
      lines.push(["accuracy", formatNumber(evaluation.accuracy)]);
      if (o.k !== undefined && k > 1) lines.push([`P@${k}`, formatNumber(pAtK)], [`R@${k}`, formatNumber(rAtK)]);
    }
    // The summary is what --quiet keeps.
    for (const [name, value] of lines) io.stdout.write(`${name.padEnd(12)}${value}\n`);
    out.info();
    out.info(table);
  }
  if (unseen.size > 0) {
    const list = [...unseen].map(([l, n]) => `${LABEL_PREFIX}${l} (${n})`).join(", ");
    const message = `${data.file}: ${unseen.size} label${unseen.size === 1 ? "" : "s"} the model never saw, counted as wrong: ${list}`;
    if (o.json) io.stderr.write(`warning: ${message}\n`);
    else {
      out.info();
      io.stdout.write(`note: ${message}\n`);
    }
  }
  out.json({
    command: "test",
    model: modelFile,
    file: data.file,
    format: data.format,
    task,
    loss,
    examples: examples.length,
    accuracy: evaluation.accuracy,
    k,
    precisionAtK: pAtK,
    recallAtK: rAtK,
    ...(multilabel ? { threshold, microF1: evaluation.microF1 ?? 0 } : {}),
    // No example with a label the model knows: there is no loss, rather than a loss of 0.
    meanLoss: evaluation.scored === 0 ? null : evaluation.loss,
    perClass: rows,
    unseenLabels: Object.fromEntries(unseen),
  });
}

function display(name: string, seen: boolean): string {
  return `${LABEL_PREFIX}${name}${seen ? "" : " (unseen)"}`;
}

/** The classification report's layout for multi-label predictions, with a micro average. */
function multiLabelTable(rows: ClassRow[], microF1: number): string {
  const names = rows.map((r) => display(r.label, r.seen));
  const nameWidth = Math.max(12, ...names.map((n) => n.length));
  const col = 9;
  const num = (v: number) => v.toFixed(4).padStart(col);
  const int = (v: number) => String(v).padStart(col);
  const row = (name: string, cells: string[]) => `${name.padStart(nameWidth)} ${cells.join(" ")}`;
  const lines = [
    row(
      "",
      ["precision", "recall", "f1-score", "support"].map((h) => h.padStart(col)),
    ),
    "",
  ];
  rows.forEach((r, i) => lines.push(row(names[i], [num(r.precision), num(r.recall), num(r.f1), int(r.support)])));
  lines.push("");
  const blank = "".padStart(col);
  const support = rows.reduce((n, r) => n + r.support, 0);
  lines.push(row("micro avg", [blank, blank, num(microF1), int(support)]));
  const mean = (f: (r: ClassRow) => number) => rows.reduce((s, r) => s + f(r), 0) / Math.max(rows.length, 1);
  lines.push(row("macro avg", [num(mean((r) => r.precision)), num(mean((r) => r.recall)), num(mean((r) => r.f1)), int(support)]));
  return lines.join("\n");
}
