/**
 * What the command line shows: the streams it writes to, its errors and exit codes, the
 * training progress bar, the loss curve, and the number formats shared by the commands.
 */
import * as os from "os";
import { SingleBar } from "cli-progress";
import * as asciichart from "asciichart";
import type { BatchProgress } from "../text/classifier";

export interface Out {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

export interface Io {
  stdout: Out;
  stderr: Out;
  /** Where `predict -` reads from. */
  stdin?: AsyncIterable<string | Buffer> | NodeJS.ReadableStream;
}

/** Wrong use of the command (exit code 2): bad or conflicting options. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Anything else that stops a command (exit code 1): the message is the whole story. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}

/**
 * The command was stopped by SIGINT or SIGTERM (while saving: the only time it catches them).
 * Its exit code is the shell's for a signal: 128 + the signal's number (130, 143).
 */
export class Interrupted extends CliError {
  constructor(
    readonly signal: NodeJS.Signals,
    message: string,
  ) {
    super(message);
    this.name = "Interrupted";
  }

  get exitCode(): number {
    return 128 + (os.constants.signals[this.signal] ?? 0);
  }
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Human output on stdout unless --quiet or --json; JSON alone on stdout with --json. */
export class Reporter {
  constructor(
    readonly io: Io,
    readonly options: { quiet?: boolean; json?: boolean } = {},
  ) {}

  get human(): boolean {
    return !this.options.quiet && !this.options.json;
  }

  /** A line of human output. */
  info(line = ""): void {
    if (this.human) this.io.stdout.write(line + "\n");
  }

  json(value: unknown): void {
    if (this.options.json) this.io.stdout.write(JSON.stringify(value, null, 2) + "\n");
  }
}

/**
 * The training progress bar on stderr: epoch, running loss, tokens/s and the time left for the
 * whole run. Only shown on a terminal (and never with --quiet or --json); elsewhere every
 * method does nothing. Epoch summaries are written between bars so that the two never mix.
 */
export class TrainingProgress {
  private bar: SingleBar | null = null;
  private started = 0;

  constructor(private readonly stream: Out | null) {}

  static for(io: Io, options: { quiet?: boolean; json?: boolean }): TrainingProgress {
    const enabled = io.stderr.isTTY === true && !options.quiet && !options.json;
    return new TrainingProgress(enabled ? io.stderr : null);
  }

  get active(): boolean {
    return this.stream !== null;
  }

  update(p: BatchProgress): void {
    if (!this.stream) return;
    const now = performance.now();
    if (this.started === 0) this.started = now;
    const total = p.epochs * p.batches;
    const done = (p.epoch - 1) * p.batches + p.batch;
    const secondsLeft = ((now - this.started) / 1000 / done) * (total - done);
    const payload = {
      epochText: `epoch ${String(p.epoch).padStart(String(p.epochs).length)}/${p.epochs}`,
      lossText: formatNumber(p.loss),
      speed: formatRate(p.tokensPerSecond),
      left: formatDuration(secondsLeft),
    };
    if (!this.bar) {
      this.bar = new SingleBar({
        stream: this.stream as unknown as NodeJS.WritableStream,
        format: "{epochText} [{bar}] {percentage}% | loss {lossText} | {speed} tokens/s | ETA {left}",
        barsize: 24,
        clearOnComplete: true,
        hideCursor: false,
        // The training loop never yields to the event loop: no signal handlers that could
        // only run after it, and Ctrl-C keeps its usual meaning.
        gracefulExit: false,
        fps: 10,
      });
      this.bar.start(total, done, payload);
    } else {
      this.bar.update(done, payload);
    }
  }

  /** Clears the bar (if any) so a line can be written; the next update draws it again. */
  pause(): void {
    if (this.bar) {
      this.bar.stop();
      this.bar = null;
    }
  }

  stop(): void {
    this.pause();
  }
}

/**
 * The loss per epoch as a terminal chart. A handful of epochs is spread over the chart's width
 * by linear interpolation, so the curve reads as a line, not as a few dots.
 */
export function lossChart(losses: readonly number[], options: { width?: number; height?: number } = {}): string {
  const finite = losses.filter((l) => Number.isFinite(l));
  if (finite.length < 2) return "";
  const width = Math.max(options.width ?? 60, finite.length);
  const points: number[] = [];
  for (let x = 0; x < width; x++) {
    const t = (x / (width - 1)) * (finite.length - 1);
    const i = Math.min(Math.floor(t), finite.length - 2);
    points.push(finite[i] + (finite[i + 1] - finite[i]) * (t - i));
  }
  const chart = asciichart.plot(points, {
    height: options.height ?? 10,
    format: (x: number) => formatNumber(x).padStart(8),
  });
  const axis = `${" ".repeat(9)}epoch 1${" ".repeat(Math.max(1, width - 6 - String(finite.length).length - 7))}epoch ${finite.length}`;
  return `${chart}\n${axis}`;
}

/** Four decimals, the precision fastText's test output and the classification report use. */
export function formatNumber(x: number): string {
  return Number.isFinite(x) ? x.toFixed(4) : String(x);
}

/** A rate with a k/M suffix: 12.3k. */
export function formatRate(x: number): string {
  if (!Number.isFinite(x)) return "-";
  if (x >= 1e6) return `${(x / 1e6).toFixed(1)}M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)}k`;
  return x.toFixed(0);
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "-";
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  if (seconds < 90) return `${Math.round(seconds)}s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return m < 60 ? `${m}m${String(s).padStart(2, "0")}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

export function formatBytes(n: number): string {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} kB`;
  return `${n} B`;
}

/** A text on one line, cut to `max` characters, for showing examples. */
export function snippet(text: string, max = 60): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : flat.slice(0, max - 1) + "…";
}
