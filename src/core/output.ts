import type { Writable } from 'node:stream';
import { escapeControl, escapeControlKeeping, escapeJsonControl } from './escape.js';
import type { SecretRegistry } from './redact.js';

export interface OutputOptions {
  json: boolean;
  verbose: boolean;
  color: boolean;
  /** Whether stderr is an interactive terminal: spinners and in-place updates only then. */
  interactive: boolean;
  stdout: Writable;
  stderr: Writable;
  secrets: SecretRegistry;
}

export interface Spinner {
  update(text: string): void;
  /** A permanent line printed above the spinner (the spinner keeps running). */
  log(line: string): void;
  succeed(text?: string): void;
  fail(text?: string): void;
  stop(): void;
}

type Paint = (text: string) => string;
interface Palette {
  green: Paint;
  red: Paint;
  yellow: Paint;
  cyan: Paint;
  dim: Paint;
  bold: Paint;
}

const plain: Palette = {
  green: (t) => t,
  red: (t) => t,
  yellow: (t) => t,
  cyan: (t) => t,
  dim: (t) => t,
  bold: (t) => t,
};

/**
 * The only way commands talk to the user. Human text goes to stderr, machine results to stdout, and every byte
 * passes through the secret registry first, then has its control characters written out (src/core/escape.ts).
 */
export class Output {
  readonly json: boolean;
  readonly verbose: boolean;
  readonly color: boolean;
  readonly interactive: boolean;
  private palette: Palette = plain;
  private readonly stdout: Writable;
  private readonly stderr: Writable;
  private readonly secrets: SecretRegistry;

  constructor(options: OutputOptions) {
    this.json = options.json;
    this.verbose = options.verbose;
    this.color = options.color;
    this.interactive = options.interactive;
    this.stdout = options.stdout;
    this.stderr = options.stderr;
    this.secrets = options.secrets;
  }

  /** chalk is loaded only when colour is actually wanted, keeping --help and --version fast. */
  async enableColor(): Promise<void> {
    if (!this.color) return;
    const { Chalk } = await import('chalk');
    const chalk = new Chalk({ level: 1 });
    this.palette = {
      green: chalk.green,
      red: chalk.red,
      yellow: chalk.yellow,
      cyan: chalk.cyan,
      dim: chalk.dim,
      bold: chalk.bold,
    };
  }

  get paint(): Palette {
    return this.palette;
  }

  redact(text: string): string {
    return this.secrets.redact(text);
  }

  /** Plain human line on stderr. */
  info(message: string): void {
    this.writeErr(`${message}\n`);
  }

  success(message: string): void {
    this.writeErr(`${this.palette.green('✔')} ${message}\n`);
  }

  warn(message: string): void {
    this.writeErr(`${this.palette.yellow('!')} ${message}\n`);
  }

  failure(message: string): void {
    this.writeErr(`${this.palette.red('✖')} ${message}\n`);
  }

  /** Detail shown only with --verbose. */
  debug(message: string): void {
    if (this.verbose) this.writeErr(`${this.palette.dim(message)}\n`);
  }

  /** A result line for humans; with --json nothing (the JSON result carries it instead). */
  result(message: string): void {
    if (!this.json) this.writeErr(`${message}\n`);
  }

  /** Data that is the product of a command even without --json (a row stream, a Mermaid chart): stdout. */
  data(text: string): void {
    this.stdout.write(escapeControl(this.secrets.redact(text), { lines: true }));
  }

  printJson(value: unknown): void {
    const text = JSON.stringify(this.secrets.redactValue(value), exactBigint, 2);
    this.stdout.write(`${escapeJsonControl(text)}\n`);
  }

  /** Aligned columns for listings; widths from the content. */
  table(headers: string[], rows: string[][]): void {
    const widths = headers.map((header, i) =>
      Math.max(header.length, ...rows.map((row) => visibleLength(row[i] ?? ''))),
    );
    const line = (cells: string[]) =>
      cells
        .map((cell, i) => cell + ' '.repeat(Math.max(0, (widths[i] ?? 0) - visibleLength(cell))))
        .join('  ')
        .trimEnd();
    this.writeErr(`${this.palette.bold(line(headers))}\n`);
    for (const row of rows) this.writeErr(`${line(row)}\n`);
  }

  /** An ora spinner on a TTY; on pipes a start line and a final line only, so logs stay readable. */
  async spinner(text: string): Promise<Spinner> {
    if (!this.interactive || !this.color || this.json) {
      this.info(`… ${text}`);
      let current = text;
      return {
        update: (next) => {
          current = next;
        },
        log: (line) => this.info(line),
        succeed: (final) => this.success(final ?? current),
        fail: (final) => this.failure(final ?? current),
        stop: () => undefined,
      };
    }
    const { default: ora } = await import('ora');
    const spinner = ora({ text: this.spinnerText(text), stream: this.stderr as NodeJS.WriteStream }).start();
    return {
      update: (next) => {
        spinner.text = this.spinnerText(next);
      },
      log: (line) => {
        spinner.clear();
        this.writeErr(`${line}\n`);
        spinner.render();
      },
      succeed: (final) => {
        spinner.succeed(final === undefined ? undefined : this.spinnerText(final));
      },
      fail: (final) => {
        spinner.fail(final === undefined ? undefined : this.spinnerText(final));
      },
      stop: () => {
        spinner.stop();
      },
    };
  }

  writeErr(text: string): void {
    this.stderr.write(escapeControlKeeping(this.secrets.redact(text), this.color || this.interactive));
  }

  /** Spinner text, which ora writes itself: redacted and on one line. */
  private spinnerText(text: string): string {
    return escapeControl(this.redact(text));
  }
}

/** A bigint (ksqlDB BIGINT) as a JSON number when exact, else as its digits in a string. */
function exactBigint(_key: string, value: unknown): unknown {
  if (typeof value !== 'bigint') return value;
  return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
export function visibleLength(text: string): number {
  return text.replace(ANSI, '').length;
}

/**
 * Colour is on only for a TTY that is not TERM=dumb (a terminal that shows escape codes as text, such as Emacs'
 * shell), and never with NO_COLOR (any value) or --no-color; FORCE_COLOR overrides the terminal checks.
 */
export function colorWanted(env: NodeJS.ProcessEnv, isTty: boolean, flag: boolean | undefined): boolean {
  if (flag === false) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return isTty && env.TERM !== 'dumb';
}
