/**
 * What a SpamAssassin message is as a document, and which class its corpus group is. Pure
 * functions on strings, kept apart from the loader (spam-assassin.ts, which reads the corpus with
 * Node) so that browsers, workers and the playground's bundled sample use the same definitions.
 *
 * A document is the Subject line's value and the body (everything after the first blank line),
 * joined by a newline. The other headers (Received, Message-Id, dates, list headers) are dropped:
 * they mostly tell which mailing list or mail server a message came through, so a classifier
 * would learn the corpus's collection history instead of the text. The body is kept raw, MIME
 * parts and HTML included, as the fastText-style references did.
 */

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

/** The class names of each task, in class-index order. */
export const SPAM_ASSASSIN_LABELS: Readonly<Record<SpamAssassinTask, readonly string[]>> = {
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
