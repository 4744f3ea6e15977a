/**
 * `torchlet predict MODEL [FILE|-]`: one output line per input line, the predicted labels in
 * fastText's `__label__x` form, each followed by its probability with --probabilities.
 */
import { LABEL_PREFIX, readText, splitFastTextLine, splitLines } from "./formats";
import { CliError, type Io } from "./output";
import { loadModel } from "./model";

export interface PredictCommandOptions {
  k?: number;
  threshold?: number;
  probabilities?: boolean;
  json?: boolean;
}

export interface Prediction {
  label: string;
  probability: number;
}

/** One output line: `__label__a __label__b`, or `__label__a 0.912345 __label__b 0.081234`. */
export function formatPrediction(predictions: readonly Prediction[], probabilities = false): string {
  return predictions
    .map((p) => (probabilities ? `${LABEL_PREFIX}${p.label} ${p.probability.toFixed(6)}` : `${LABEL_PREFIX}${p.label}`))
    .join(" ");
}

async function readStdin(io: Io): Promise<string> {
  if (!io.stdin) throw new CliError("no standard input to read from");
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin as AsyncIterable<string | Buffer>) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  const text = Buffer.concat(chunks).toString("utf8");
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

export async function predictCommand(modelFile: string, input: string | undefined, o: PredictCommandOptions, io: Io): Promise<void> {
  const classifier = loadModel(modelFile);
  const text = input === undefined || input === "-" ? await readStdin(io) : readText(input);
  // Labels on an input line (a test file given as is) are not part of its text, as in fastText.
  const texts = splitLines(text).map((line) => splitFastTextLine(line).text);
  const multilabel = classifier.config.task === "multilabel";
  const k = o.k ?? (multilabel ? -1 : 1);
  const predictions = classifier.predict(texts, { k, ...(o.threshold !== undefined ? { threshold: o.threshold } : {}) });
  const lines = predictions.map((p) =>
    o.json
      ? JSON.stringify({ labels: p.map((x) => x.label), probabilities: p.map((x) => x.probability) })
      : formatPrediction(p, o.probabilities),
  );
  if (lines.length > 0) io.stdout.write(lines.join("\n") + "\n");
}
