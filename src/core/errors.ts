export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** What a failed command prints on stdout with --json (its one line is on stderr as always). */
export interface JsonErrorDocument {
  error: { message: string; hint?: string; exitCode: number };
}

export interface CliErrorOptions {
  hint?: string;
  exitCode?: ExitCode;
  cause?: unknown;
}

/**
 * An error the user can act on: printed as one line plus its hint, never with a stack trace.
 * Anything that is not a CliError is treated as a bug by the error boundary in cli.ts.
 */
export class CliError extends Error {
  readonly hint?: string;
  readonly exitCode: ExitCode;

  constructor(message: string, options: CliErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? ExitCode.failure;
  }
}

/** Bad input, flags or configuration: exit 2. */
export class UserError extends CliError {
  constructor(message: string, options: Omit<CliErrorOptions, 'exitCode'> & { exitCode?: ExitCode } = {}) {
    super(message, { exitCode: ExitCode.usage, ...options });
  }
}

/** Something outside the user's input failed at run time (unreachable server, provisioning failure): exit 1. */
export class OperationError extends CliError {
  constructor(message: string, options: Omit<CliErrorOptions, 'exitCode'> = {}) {
    super(message, { ...options, exitCode: ExitCode.failure });
  }
}

/** The user pressed Ctrl-C (or the process got SIGINT/SIGTERM): exit 130. */
export class InterruptedError extends CliError {
  constructor(message = 'Interrupted', options: Omit<CliErrorOptions, 'exitCode'> = {}) {
    super(message, { ...options, exitCode: ExitCode.interrupted });
  }
}

export function isCliError(error: unknown): error is CliError {
  return error instanceof CliError;
}

/** A thrown value as an Error (a library may throw a string). */
export function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/**
 * Node error codes of failures outside the program: system errors (ECONNREFUSED, ENOENT, EAI_AGAIN, …; not Node's
 * own ERR_* codes, most of which mean a wrong call), a peer that does not speak HTTP (HPE_*), the network and TLS
 * failures Node reports as ERR_*, and OpenSSL's certificate verdicts.
 */
const OUTSIDE_FAILURE_CODE =
  /^(E(?!RR_)[A-Z0-9_]+|HPE_|ERR_(HTTP2_|TLS_|SSL_|SOCKET_|STREAM_PREMATURE_CLOSE$)|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_(GET|VERIFY)_)/;

/**
 * Errors the project knows how to describe to a user: its own CliErrors, the errors of the libraries it talks to
 * the outside world through (kafkajs, the MongoDB driver), Node's system, network and TLS errors, timeouts and
 * aborts of a request, and fetch's "fetch failed" for any of those. Wrappers add context only to these; anything
 * else is a bug and must reach the boundary in cli.ts unchanged, so it prints as "unexpected failure".
 */
export function isClassifiedError(error: unknown): error is Error {
  if (isCliError(error)) return true;
  if (!(error instanceof Error)) return false;
  if (/^(KafkaJS|Mongo)/.test(error.name)) return true;
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return true;
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && OUTSIDE_FAILURE_CODE.test(code)) return true;
  // undici rejects every network failure with TypeError('fetch failed') and the real reason as its cause.
  return error.name === 'TypeError' && error.message === 'fetch failed' && isClassifiedError(error.cause);
}
