/**
 * fastText's training format, as pasted into the page: one example a line, its labels as
 * `__label__NAME` tokens (anywhere on the line, usually first), the rest its text.
 */
import type { text } from "torchlet";

const PREFIX = "__label__";

export interface Parsed {
  examples: text.Example[];
  /** 1-based numbers of non-blank lines with no label, which are left out. */
  unlabelled: number[];
}

export function parseFastText(input: string): Parsed {
  const examples: text.Example[] = [];
  const unlabelled: number[] = [];
  input.split(/\r?\n/).forEach((line, i) => {
    const tokens = line
      .trim()
      .split(/\s+/)
      .filter((t) => t !== "");
    if (tokens.length === 0) return;
    const labels = tokens.filter((t) => t.startsWith(PREFIX) && t.length > PREFIX.length).map((t) => t.slice(PREFIX.length));
    if (labels.length === 0) {
      unlabelled.push(i + 1);
      return;
    }
    examples.push({ text: tokens.filter((t) => !t.startsWith(PREFIX)).join(" "), labels: [...new Set(labels)] });
  });
  return { examples, unlabelled };
}
