#!/usr/bin/env node
/**
 * The `torchlet` command: train, test and predict with the fastText-style text classifier on a
 * user's own files. `run` is the whole program as a function of its arguments and streams (the
 * tests call it in-process); the bin entry at the bottom hands it the process's.
 *
 * Exit codes: 0 success, 1 bad data or model (or any other failure, a failing standard output
 * included), 2 wrong usage, 130 and 143 for SIGINT and SIGTERM during a save. Errors are one
 * line on stderr, never a stack trace.
 */
import * as fs from "fs";
import * as path from "path";
import { Command, CommanderError, Option } from "commander";
import { ModelFileError } from "../text/model-file";
import { SafetensorsError } from "../io/safetensors";
import { positiveInt, positiveNumber, seed, smoothing, probability, topK, nonNegativeInt } from "./args";
import { DataError } from "./formats";
import { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, Interrupted, type Io, UsageError } from "./output";
import { trainCommand } from "./train";
import { testCommand } from "./test";
import { predictCommand } from "./predict";

export type { Io } from "./output";

function packageVersion(): string {
  for (const up of ["../..", "../../.."]) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, up, "package.json"), "utf8"));
      if (pkg.name === "torchlet") return String(pkg.version);
    } catch {
      // not there: try the next folder up
    }
  }
  return "unknown";
}

const formatOption = () =>
  new Option("--format <format>", "input format; auto picks from the extension (.csv, .jsonl) and the first line")
    .choices(["auto", "fasttext", "csv", "jsonl"])
    .default("auto");
const textColumnOption = () => new Option("--text-column <name>", 'CSV column (or JSON key) of the text (default "text")');
const labelColumnOption = () =>
  new Option("--label-column <name>", 'CSV column (or JSON key) of the label(s), several separated by | in CSV (default "label")');

function buildProgram(io: Io): Command {
  const program = new Command("torchlet");
  program
    .description("Train, test and use fastText-style text classifiers (torchlet, autograd in TypeScript).")
    .version(packageVersion(), "-V, --version")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
    })
    .showSuggestionAfterError(true)
    .allowExcessArguments(false);

  program
    .command("train")
    .description("train a classifier on labelled text and save it as a .safetensors model")
    .requiredOption("--input <file>", "training data (fastText lines, CSV with a header, or JSON lines)")
    .requiredOption("--output <model>", "the model file to write (safetensors), written only when training succeeds")
    .option("--validation <file>", "labelled data to evaluate after every epoch")
    .addOption(formatOption())
    .addOption(textColumnOption())
    .addOption(labelColumnOption())
    .addOption(
      new Option("--task <task>", "auto: several labels on an example -> multilabel, two classes -> binary, else multiclass")
        .choices(["auto", "multiclass", "multilabel", "binary"])
        .default("auto"),
    )
    .addOption(
      new Option("--loss <loss>", "override the task's loss (multiclass: cross-entropy, binary and multilabel: bce-with-logits)").choices([
        "cross-entropy",
        "bce-with-logits",
      ]),
    )
    .option("--epochs <n>", "passes over the data (default 10)", positiveInt)
    .option(
      "--lr <x>",
      "initial learning rate, decaying linearly to 0 (default 2 for cross-entropy, 3.2 per output for bce-with-logits; less for a --batch-size under 20 or a --pos-weight over 1)",
      positiveNumber,
    )
    .option("--dim <d>", "embedding size (default 10)", positiveInt)
    .option("--ngrams <n>", "word n-grams up to this length (default 1: words only)", positiveInt)
    .option("--buckets <n>", "hash buckets shared by the word n-grams (default 1048576 with --ngrams 2 or more)", positiveInt)
    .option("--min-count <n>", "ignore words seen fewer times (default 1)", positiveInt)
    .option("--batch-size <n>", "examples per SGD step (default 32)", positiveInt)
    .option("--pos-weight <x>", "bce-with-logits: weight of the positive term (> 1 trades precision for recall)", positiveNumber)
    .option("--label-smoothing <x>", "cross-entropy: label smoothing in [0, 1)", smoothing)
    .option("--seed <n>", "random seed (default 0)", seed)
    .option("--threads <n>", "threads to train on (default: the number of cores); a run depends on its seed and this number", positiveInt)
    .option("--quiet", "print nothing but errors")
    .option("--json", "print a machine-readable summary (JSON) instead of text")
    .action(async (options) => trainCommand(options, io));

  program
    .command("test")
    .description("evaluate a model on labelled data: examples, accuracy or P@k/R@k/micro-F1, a per-class table")
    .argument("<model>", "a model written by torchlet train")
    .argument("<file>", "labelled data")
    .option("--k <n>", "labels per example for P@k and R@k (default 1; -1 for all)", topK)
    .option("--threshold <p>", "multilabel: a label is predicted when its probability is at least this (default 0.5)", probability)
    .addOption(formatOption())
    .addOption(textColumnOption())
    .addOption(labelColumnOption())
    .option("--examples <n>", "how many examples to show (default 5)", nonNegativeInt, 5)
    .option("--quiet", "print only the summary metrics")
    .option("--json", "print a machine-readable summary (JSON) instead of text")
    .action(async (model: string, file: string, options) => testCommand(model, file, options, io));

  program
    .command("predict")
    .description("predict the labels of each line of FILE (or standard input with - or no FILE)")
    .argument("<model>", "a model written by torchlet train")
    .argument("[file]", "text, one example per line; - for standard input")
    .option("--k <n>", "labels per line (default 1; multilabel: all above the threshold; -1 for all)", topK)
    .option("--threshold <p>", "only labels with at least this probability (default 0.5 for multilabel, else 0)", probability)
    .option("--probabilities", "print each label's probability after it")
    .option("--json", "one JSON object per line: {labels, probabilities}")
    .action(async (model: string, file: string | undefined, options) => predictCommand(model, file, options, io));

  return program;
}

/** The message of an error as one line. */
function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split("\n")[0];
}

/** Runs the command line `argv` (without node and the script) and returns the exit code. */
export async function run(argv: string[], io: Io): Promise<number> {
  const program = buildProgram(io);
  try {
    if (argv.length === 0) {
      io.stderr.write(program.helpInformation());
      return EXIT_USAGE;
    }
    await program.parseAsync(argv, { from: "user" });
    return EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already written its message (or the help or version asked for).
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version") return EXIT_OK;
      if (err.code === "commander.help") return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE; // `torchlet help [command]`
      return EXIT_USAGE;
    }
    if (err instanceof Interrupted) {
      io.stderr.write(`error: ${oneLine(err)}\n`);
      return err.exitCode;
    }
    if (err instanceof UsageError) {
      io.stderr.write(`error: ${oneLine(err)}\n`);
      return EXIT_USAGE;
    }
    if (err instanceof DataError || err instanceof CliError || err instanceof ModelFileError || err instanceof SafetensorsError) {
      io.stderr.write(`error: ${oneLine(err)}\n`);
      return EXIT_FAILURE;
    }
    // An unexpected failure: still one line; the stack only when asked for.
    io.stderr.write(`error: ${oneLine(err)}\n`);
    if (process.env.TORCHLET_DEBUG && err instanceof Error && err.stack) io.stderr.write(err.stack + "\n");
    return EXIT_FAILURE;
  }
}

/**
 * Watches the process's standard output for write errors, which Node reports asynchronously.
 * A reader that stops early (`torchlet predict model | head`: EPIPE) is not an error and stays
 * quiet; any other failure (a full disk, /dev/full) is one line on stderr and exit code 1, once
 * the command has finished. Nothing exits early, so a save in progress always completes or
 * cleans up after itself.
 */
function watchOutput(): { failed: () => boolean } {
  let failed = false;
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE" || failed) return;
    failed = true;
    process.stderr.write(`error: cannot write to standard output: ${oneLine(err)}\n`);
  });
  // A failing stderr leaves no one to tell; the exit code still says what happened.
  process.stderr.on("error", () => {});
  return { failed: () => failed };
}

if (require.main === module) {
  const output = watchOutput();
  run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }).then((code) => {
    process.exitCode = code === EXIT_OK && output.failed() ? EXIT_FAILURE : code;
  });
  // An error reported after the command finished still decides the exit code.
  process.on("beforeExit", () => {
    if (output.failed() && process.exitCode === EXIT_OK) process.exitCode = EXIT_FAILURE;
  });
}
