import { OperationError, UserError } from '../core/errors.js';

/** Where in a statement Flink's parser or validator pointed, 1-based. */
export interface SqlPosition {
  line: number;
  column: number;
}

/** The reason Flink gave, as one line, out of the Java stack trace its REST API answers with. */
export interface RootCause {
  message: string;
  /** The exception class that carried it (simple name), e.g. SqlValidatorException. */
  exception?: string;
  position?: SqlPosition;
}

/** Flink refused the statement (parse or validation error, unknown table, wrong types): the user fixes it; exit 2. */
export class FlinkStatementError extends UserError {
  constructor(
    message: string,
    readonly rootCause: RootCause,
    readonly statement: string,
    hint?: string,
  ) {
    super(message, { hint: hint ?? 'Fix the statement and run it again.' });
  }
}

/** Flink failed at run time: an operation that errored outside a statement, a job that failed, a savepoint. */
export class FlinkError extends OperationError {
  readonly httpStatus?: number;

  constructor(message: string, options: { hint?: string; cause?: unknown; httpStatus?: number } = {}) {
    super(message, { hint: options.hint, cause: options.cause });
    this.httpStatus = options.httpStatus;
  }
}

/** The gateway or JobManager did not answer: nothing Flink said, so no root cause. */
export class FlinkConnectionError extends OperationError {}

const CAUSED_BY = /^Caused by: ([\w.$]+)(?::\s*(.*))?$/;
const THROWN = /^<?(?:Exception on server side:\s*)?([\w.$]+(?:Exception|Error))(?::\s*(.*))?$/;
const POSITION = /\bline (\d+), column (\d+)\b/;

/**
 * The deepest "Caused by:" of the stack traces in a Flink error body (`{"errors": ["Internal server error.",
 * "<Exception on server side: …>"]}`): the innermost exception is the one that says what was wrong. A position
 * ("line 1, column 15") is taken from whichever cause gives one, since the innermost often has none.
 */
export function rootCauseOf(errors: readonly string[]): RootCause {
  const lines = errors.flatMap((text) => text.split('\n')).map((line) => line.trim());
  let deepest: { exception: string; message: string } | undefined;
  let position: SqlPosition | undefined;
  for (const line of lines) {
    const match = CAUSED_BY.exec(line) ?? THROWN.exec(line);
    if (!match) continue;
    const message = (match[2] ?? '').replace(/>$/, '').trim();
    deepest = { exception: match[1]!.split('.').pop()!, message };
    const at = POSITION.exec(message);
    if (at) position = { line: Number(at[1]), column: Number(at[2]) };
  }
  if (!deepest) {
    const plain =
      lines.find((line) => line !== '' && line !== 'Internal server error.') ?? lines[0] ?? 'no reason given';
    return { message: plain };
  }
  return {
    message: deepest.message || deepest.exception,
    exception: deepest.exception,
    ...(position ? { position } : {}),
  };
}
