/**
 * Reading labelled text for the command line: fastText lines, CSV with a header, JSON lines.
 * Every problem is a one-line DataError that names the file and, where there is one, the line
 * (for a CSV record spanning several lines, the line it starts on).
 */
import * as fs from "fs";
import * as path from "path";
import { parse as parseCsv } from "csv-parse/sync";
import type { Example } from "../text/classifier";

export type Format = "fasttext" | "csv" | "jsonl";
export const FORMATS: readonly Format[] = ["fasttext", "csv", "jsonl"];
export const LABEL_PREFIX = "__label__";

/** Bad input data (exit code 1): the message starts with the file name, and the line when known. */
export class DataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DataError";
  }
}

export interface ReadOptions {
  format?: Format | "auto";
  /** CSV column / JSON key holding the text (default "text"). */
  textColumn?: string;
  /** CSV column / JSON key holding the label(s) (default "label", else "labels"). */
  labelColumn?: string;
}

export interface LabelledExample extends Example {
  /** 1-based line of the file the example starts on. */
  line: number;
}

export interface Dataset {
  file: string;
  format: Format;
  examples: LabelledExample[];
}

/** Reads a whole file as UTF-8 text; fs errors become one-line DataErrors naming the file. */
export function readText(file: string): string {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw new DataError(`${file}: ${describeFsError(err)}`);
  }
  const text = bytes.toString("utf8");
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

export function describeFsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e?.code) {
    case "ENOENT":
      return "no such file";
    case "EISDIR":
      return "is a directory, not a file";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "ENOTDIR":
      return "a part of the path is not a directory";
    default:
      return e?.message ? e.message.split("\n")[0] : String(err);
  }
}

/**
 * The format of a file: `.csv` is CSV, `.jsonl`/`.ndjson`/`.json` JSON lines; any other name is
 * decided by the first non-blank line: `{` starts JSON, `__label__` a fastText line, and a
 * comma-separated header naming the text column (or a label column) a CSV file. Everything
 * else is read as fastText (whose reader then says which line lacks a label).
 */
export function detectFormat(file: string, text: string, options: ReadOptions = {}): Format {
  const ext = path.extname(file).toLowerCase();
  if (ext === ".csv") return "csv";
  if (ext === ".jsonl" || ext === ".ndjson" || ext === ".json") return "jsonl";
  const first =
    text
      .split("\n")
      .find((l) => l.trim() !== "")
      ?.trim() ?? "";
  if (first.startsWith("{")) return "jsonl";
  if (first.startsWith(LABEL_PREFIX)) return "fasttext";
  if (ext !== ".txt" && ext !== ".ft") {
    const cells = first.split(",").map((c) =>
      c
        .trim()
        .replace(/^"(.*)"$/, "$1")
        .toLowerCase(),
    );
    const wanted = [options.textColumn ?? "text", options.labelColumn ?? "label", "labels"].map((c) => c.toLowerCase());
    if (cells.length >= 2 && cells.some((c) => wanted.includes(c))) return "csv";
  }
  return "fasttext";
}

/** Reads labelled examples; `display` is the file name used in messages. */
export function readDataset(file: string, options: ReadOptions = {}): Dataset {
  const text = readText(file);
  const format = options.format && options.format !== "auto" ? options.format : detectFormat(file, text, options);
  return { file, format, examples: parseDataset(file, text, format, options) };
}

export function parseDataset(file: string, text: string, format: Format, options: ReadOptions = {}): LabelledExample[] {
  if (text.trim() === "") throw new DataError(`${file}: the file is empty`);
  let examples: LabelledExample[];
  if (format === "fasttext") examples = parseFastText(file, text);
  else if (format === "csv") examples = parseCsvExamples(file, text, options);
  else examples = parseJsonLines(file, text, options);
  if (examples.length === 0) throw new DataError(`${file}: no examples (only a header or blank lines)`);
  return examples;
}

/** Splits a fastText line into its labels (every `__label__x` token) and the rest of the text. */
export function splitFastTextLine(line: string): { labels: string[]; text: string } {
  const labels: string[] = [];
  const words: string[] = [];
  for (const token of line.split(/\s+/)) {
    if (token === "") continue;
    if (token.startsWith(LABEL_PREFIX)) labels.push(token.slice(LABEL_PREFIX.length));
    else words.push(token);
  }
  return { labels, text: words.join(" ") };
}

function parseFastText(file: string, text: string): LabelledExample[] {
  const out: LabelledExample[] = [];
  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === "") continue;
    const { labels, text: body } = splitFastTextLine(lines[i]);
    if (labels.length === 0) throw new DataError(`${file}:${i + 1}: no ${LABEL_PREFIX} found`);
    if (labels.includes("")) throw new DataError(`${file}:${i + 1}: empty label (a bare ${LABEL_PREFIX})`);
    out.push({ text: body, labels: unique(labels), line: i + 1 });
  }
  return out;
}

/** Lines without their terminators (\n or \r\n); a final terminator does not start a line. */
export function splitLines(text: string): string[] {
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines.map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
}

function parseCsvExamples(file: string, text: string, options: ReadOptions): LabelledExample[] {
  // LF line ends throughout, so that csv-parse's line count is the editor's line count.
  const input = text.replace(/\r\n/g, "\n");
  const lineStarts = input.split("\n");
  // The first line at or after `line` (1-based) that is not empty: where the next record starts.
  const nextRecordLine = (line: number) => {
    while (line <= lineStarts.length && lineStarts[line - 1] === "") line++;
    return line;
  };
  let lastEnd = 0;
  const starts: number[] = [];
  let rows: Array<{ record: string[]; line: number }>;
  try {
    const records: string[][] = parseCsv(input, {
      skip_empty_lines: true,
      // Called once per record, in order, with the line the record ends on.
      on_record: (record, context) => {
        starts.push(nextRecordLine(lastEnd + 1));
        lastEnd = context.lines;
        return record;
      },
    });
    rows = records.map((record, i) => ({ record, line: starts[i] }));
  } catch (err) {
    const e = err as Error & { code?: string };
    const line = nextRecordLine(lastEnd + 1);
    throw new DataError(`${file}:${line}: malformed CSV row: ${csvReason(e)}`);
  }
  if (rows.length === 0) throw new DataError(`${file}: the file is empty`);
  const header = rows[0].record.map((h) => h.trim());
  const headerLine = rows[0].line;
  // A name given twice is ambiguous: which of the two columns is the text (or the label)?
  const find = (name: string) => {
    const matches = header.flatMap((h, i) => (h.toLowerCase() === name.toLowerCase() ? [i] : []));
    if (matches.length > 1) {
      throw new DataError(
        `${file}:${headerLine}: the header has ${matches.length} columns named ${JSON.stringify(name)} (columns ${matches.map((i) => i + 1).join(" and ")}); rename all but one`,
      );
    }
    return matches.length ? matches[0] : -1;
  };
  const textName = options.textColumn ?? "text";
  const textIndex = find(textName);
  if (textIndex < 0) {
    throw new DataError(
      `${file}:${rows[0].line}: no column ${JSON.stringify(textName)} in the header (columns: ${header.join(", ")}); name it with --text-column`,
    );
  }
  const labelName = options.labelColumn ?? (find("label") >= 0 || find("labels") < 0 ? "label" : "labels");
  const labelIndex = find(labelName);
  if (labelIndex < 0) {
    throw new DataError(
      `${file}:${rows[0].line}: no column ${JSON.stringify(labelName)} in the header (columns: ${header.join(", ")}); name it with --label-column`,
    );
  }
  return rows.slice(1).map(({ record, line }) => {
    const labels = unique(
      record[labelIndex]
        .split("|")
        .map((l) => l.trim())
        .filter((l) => l !== ""),
    );
    if (labels.length === 0) throw new DataError(`${file}:${line}: no label in column ${JSON.stringify(header[labelIndex])}`);
    checkLabels(`${file}:${line}`, labels);
    return { text: record[textIndex], labels, line };
  });
}

/** csv-parse's reason without its own "at line N" (the message names the record's first line). */
function csvReason(e: Error & { code?: string }): string {
  const message = (e.message ?? String(e)).split("\n")[0];
  switch (e.code) {
    case "CSV_RECORD_INCONSISTENT_FIELDS_LENGTH":
    case "CSV_RECORD_DONT_MATCH_COLUMNS_LENGTH": {
      const m = /expect (\d+), got (\d+)/.exec(message);
      return m ? `expected ${m[1]} fields (as in the header), got ${m[2]}` : message.replace(/ on line \d+$/, "");
    }
    case "CSV_QUOTE_NOT_CLOSED":
      return "a quoted field is never closed";
    case "INVALID_OPENING_QUOTE":
      return "a quote inside an unquoted field (quote the whole field and double the quote)";
    case "CSV_INVALID_CLOSING_QUOTE":
      return "text after a closing quote (double a quote inside a quoted field)";
    default:
      return message.replace(/ at line \d+.*$/, "");
  }
}

function parseJsonLines(file: string, text: string, options: ReadOptions): LabelledExample[] {
  const textKey = options.textColumn ?? "text";
  const out: LabelledExample[] = [];
  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].trim();
    if (raw === "") continue;
    const where = `${file}:${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw new DataError(`${where}: not valid JSON: ${(err as Error).message.split("\n")[0]}`);
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new DataError(`${where}: expected a JSON object like {"text": "...", "label": "..."}`);
    }
    const obj = value as Record<string, unknown>;
    if (typeof obj[textKey] !== "string") {
      throw new DataError(`${where}: ${JSON.stringify(textKey)} must be a string${textKey in obj ? "" : " and is missing"}`);
    }
    const labelKey = options.labelColumn ?? ("label" in obj ? "label" : "labels");
    const raw_ = obj[labelKey];
    if (raw_ === undefined) throw new DataError(`${where}: no ${options.labelColumn ? JSON.stringify(labelKey) : '"label" or "labels"'}`);
    const list = typeof raw_ === "string" ? [raw_] : Array.isArray(raw_) ? raw_ : null;
    if (!list || list.some((l) => typeof l !== "string")) {
      throw new DataError(`${where}: ${JSON.stringify(labelKey)} must be a string or an array of strings`);
    }
    const labels = unique((list as string[]).map((l) => l.trim()).filter((l) => l !== ""));
    if (labels.length === 0) throw new DataError(`${where}: no label`);
    checkLabels(where, labels);
    out.push({ text: obj[textKey] as string, labels, line: i + 1 });
  }
  return out;
}

/**
 * Refuses a label with whitespace inside: predictions print labels as `__label__NAME`, and
 * `__label__a b` would read back as the label "a" and the word "b".
 */
function checkLabels(where: string, labels: readonly string[]): void {
  const spaced = labels.find((l) => /\s/.test(l));
  if (spaced !== undefined) {
    throw new DataError(
      `${where}: the label ${JSON.stringify(spaced)} contains whitespace, which a ${LABEL_PREFIX} label cannot hold; write it with _ or - instead`,
    );
  }
}

/** Labels without a `__label__` prefix (CSV and JSON may carry it too), each once. */
function unique(labels: string[]): string[] {
  return [...new Set(labels.map((l) => (l.startsWith(LABEL_PREFIX) ? l.slice(LABEL_PREFIX.length) : l)))];
}
