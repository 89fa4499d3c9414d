/**
 * An error answered to a client with ksqlDB's error shape: `error_code / 100` is the HTTP status.
 * `statementText` makes it a `statement_error`, otherwise it is a `generic_error`.
 */
export class KsqlError extends Error {
  constructor(
    readonly errorCode: number,
    message: string,
    readonly statementText?: string,
  ) {
    super(message);
    this.name = 'KsqlError';
  }

  withStatement(statementText: string): KsqlError {
    return this.statementText === undefined ? new KsqlError(this.errorCode, this.message, statementText) : this;
  }

  get httpStatus(): number {
    return Math.floor(this.errorCode / 100);
  }

  toJSON(): Record<string, unknown> {
    if (this.statementText !== undefined) {
      return {
        '@type': 'statement_error',
        error_code: this.errorCode,
        message: this.message,
        statementText: this.statementText,
        entities: [],
      };
    }
    return { '@type': 'generic_error', error_code: this.errorCode, message: this.message };
  }
}

export const ErrorCodes = {
  badRequest: 40000,
  badStatement: 40001,
  queryEndpoint: 40002,
  http2Only: 40004,
  unauthorized: 40100,
  forbidden: 40300,
  notFound: 40400,
  serverError: 50000,
  sequenceTimeout: 50301,
  notReady: 50302,
  shuttingDown: 50303,
} as const;

export function badStatement(message: string): KsqlError {
  return new KsqlError(ErrorCodes.badStatement, message);
}

/** A construct real ksqlDB accepts but this development stand-in does not implement. */
export function unsupported(construct: string): KsqlError {
  return new KsqlError(
    ErrorCodes.badStatement,
    `${construct} is not supported by the marketplace ksqlDB dev server (a development stand-in, not ksqlDB).`,
  );
}
