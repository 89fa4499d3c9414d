import { OperationError, UserError } from '../core/errors.js';

/** What every error ksqlDB itself reported carries, whichever exit code it maps to. */
export interface KsqlErrorDetails {
  /** ksqlDB's `error_code` (e.g. 40001); for an answer without one, HTTP status × 100. */
  readonly errorCode: number;
  readonly httpStatus?: number;
  /** The server's message, unshortened. */
  readonly serverMessage: string;
  /** The statement the server rejected, when it said which. */
  readonly statementText?: string;
}

interface KsqlErrorInit {
  errorCode: number;
  httpStatus?: number;
  serverMessage: string;
  statementText?: string;
  hint?: string;
  cause?: unknown;
}

/** A ksqlDB failure at run time (server error, command failed while executing, not ready, ACLs): exit 1. */
export class KsqlError extends OperationError implements KsqlErrorDetails {
  readonly errorCode: number;
  readonly httpStatus?: number;
  readonly serverMessage: string;
  readonly statementText?: string;

  constructor(message: string, init: KsqlErrorInit) {
    super(message, { hint: init.hint, cause: init.cause });
    this.errorCode = init.errorCode;
    this.httpStatus = init.httpStatus;
    this.serverMessage = init.serverMessage;
    this.statementText = init.statementText;
  }
}

/** ksqlDB refused what was sent (bad statement, wrong credentials, not allowed): the user fixes it; exit 2. */
export class KsqlRequestError extends UserError implements KsqlErrorDetails {
  readonly errorCode: number;
  readonly httpStatus?: number;
  readonly serverMessage: string;
  readonly statementText?: string;

  constructor(message: string, init: KsqlErrorInit) {
    super(message, { hint: init.hint, cause: init.cause });
    this.errorCode = init.errorCode;
    this.httpStatus = init.httpStatus;
    this.serverMessage = init.serverMessage;
    this.statementText = init.statementText;
  }
}

export type AnyKsqlError = KsqlError | KsqlRequestError;

export function isKsqlError(error: unknown): error is AnyKsqlError {
  return error instanceof KsqlError || error instanceof KsqlRequestError;
}

/** The connection to ksqlDB failed or dropped: nothing the server said, so no error code. */
export class KsqlConnectionError extends OperationError {
  readonly code?: string;
  constructor(message: string, options: { hint?: string; cause?: unknown; code?: string }) {
    super(message, { hint: options.hint, cause: options.cause });
    this.code = options.code;
  }
}

export const ErrorCode = {
  badRequest: 40000,
  badStatement: 40001,
  queryEndpoint: 40002,
  tooManyQueries: 40003,
  http2Only: 40004,
  unauthorized: 40100,
  forbidden: 40300,
  kafkaAuthorization: 40301,
  notFound: 40400,
  schemaRegistryMissing: 42801,
  rateLimited: 42900,
  serverError: 50000,
  sequenceTimeout: 50301,
  notReady: 50302,
  shuttingDown: 50303,
  shutDown: 50304,
  cloudAclsMisconfigured: 50321,
} as const;

export interface ErrorContext {
  /** Base URL of the server, for messages. */
  url: string;
  /** Whether credentials were sent, and where they came from ("the ksqlDB API key in .marketplace/state.json"). */
  credentials?: { source: string } | undefined;
  /** The statement the request carried, when the server's answer does not repeat it. */
  statementText?: string;
}

/** ksqlDB's error body: `{"@type":"generic_error"|"statement_error","error_code":…,"message":…,"statementText"?}`. */
export interface KsqlErrorBody {
  '@type'?: string;
  error_code?: number;
  message?: string;
  statementText?: string;
}

export function isConfluentCloud(url: string): boolean {
  try {
    return /\.confluent\.cloud$/i.test(new URL(url).hostname);
  } catch {
    return false;
  }
}

/** Reads ksqlDB's error JSON out of a body; other bodies (an HTML proxy page, empty) become a plain message. */
export function parseErrorBody(text: string): KsqlErrorBody {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      const parsed = JSON.parse(trimmed) as unknown;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as KsqlErrorBody;
    } catch {
      // not JSON after all: fall through
    }
  }
  return trimmed ? { message: trimmed.length > 300 ? `${trimmed.slice(0, 300)}…` : trimmed } : {};
}

/**
 * Turns a non-2xx answer (or an error object written mid-stream, status undefined) into the error a user sees: one
 * line saying what happened, and a hint saying what to do about it.
 */
export function errorFromResponse(
  status: number | undefined,
  body: KsqlErrorBody,
  context: ErrorContext,
): AnyKsqlError {
  const errorCode = typeof body.error_code === 'number' ? body.error_code : (status ?? 500) * 100;
  const serverMessage = body.message ?? (status ? `HTTP ${status}` : 'unknown error');
  const statementText = body.statementText || context.statementText || undefined;
  const init = { errorCode, httpStatus: status, serverMessage, statementText };
  const summary = oneLine(serverMessage);
  const cloud = isConfluentCloud(context.url);

  switch (errorCode) {
    case ErrorCode.unauthorized:
      return new KsqlRequestError(
        context.credentials
          ? `ksqlDB at ${context.url} rejected the credentials (HTTP 401)`
          : `ksqlDB at ${context.url} requires credentials and none were sent (HTTP 401)`,
        {
          ...init,
          hint: context.credentials
            ? cloud
              ? `Check ${context.credentials.source}: on Confluent Cloud it must be an API key created for the ksqlDB cluster (resource lksqlc-…), not the Kafka cluster key; a new key can take a few minutes to become valid.`
              : `Check ${context.credentials.source}: the user name and password ksqlDB's basic authentication expects.`
            : cloud
              ? 'Create an API key for the ksqlDB cluster (resource lksqlc-…) and use it as the basic-auth user and password.'
              : 'Configure the basic-auth user and password the server expects.',
        },
      );
    case ErrorCode.forbidden:
      return new KsqlRequestError(`ksqlDB at ${context.url} refused the request: ${summary}`, {
        ...init,
        hint: cloud
          ? "Give the API key's owner the KsqlAdmin role on the ksqlDB cluster (or use a key that has it)."
          : 'Use credentials that are allowed to run this statement.',
      });
    case ErrorCode.kafkaAuthorization:
      return new KsqlError(`ksqlDB is not allowed to use a Kafka topic: ${summary}`, {
        ...init,
        hint: cloud
          ? "Grant the ksqlDB cluster's service account ACLs on the topics (READ/WRITE/CREATE), then retry."
          : 'Grant the ksqlDB server access to the topic in Kafka, then retry.',
      });
    case ErrorCode.cloudAclsMisconfigured:
      return new KsqlError(
        `the ksqlDB cluster cannot use its Kafka cluster: the service account's ACLs are misconfigured (error 50321)`,
        {
          ...init,
          hint: "Grant the ksqlDB cluster's service account access to the Kafka cluster (e.g. `confluent ksql cluster configure-acls <lksqlc-id> '*'`, or a CloudClusterAdmin role binding), then retry.",
        },
      );
    case ErrorCode.badStatement:
    case ErrorCode.queryEndpoint:
      return new KsqlRequestError(summary, {
        ...init,
        hint:
          errorCode === ErrorCode.queryEndpoint
            ? 'Run queries (SELECT, PRINT) with streamQuery/executeQuery, which use /query-stream.'
            : 'Fix the statement and run it again.',
      });
    case ErrorCode.badRequest:
      return new KsqlRequestError(`ksqlDB rejected the request: ${summary}`, init);
    case ErrorCode.tooManyQueries:
      return new KsqlError(`ksqlDB refused the query: ${summary}`, {
        ...init,
        hint: 'Close push queries you no longer read (or wait for them to end), then retry.',
      });
    case ErrorCode.http2Only:
      return new KsqlError(`ksqlDB at ${context.url} serves this endpoint over HTTP/2 only`, {
        ...init,
        hint: 'Connect over HTTP/2 (h2 via TLS ALPN, or h2c on plain HTTP), or use INSERT INTO … VALUES through /ksql.',
      });
    case ErrorCode.schemaRegistryMissing:
      return new KsqlRequestError(`ksqlDB needs Schema Registry for this statement: ${summary}`, {
        ...init,
        hint: 'Use VALUE_FORMAT=JSON, or configure Schema Registry for the ksqlDB cluster.',
      });
    case ErrorCode.rateLimited:
      return new KsqlError(`ksqlDB is rate-limiting requests: ${summary}`, {
        ...init,
        hint: 'Wait a moment and retry.',
      });
    case ErrorCode.sequenceTimeout:
      return new KsqlError(`ksqlDB timed out waiting for an earlier statement to finish: ${summary}`, {
        ...init,
        hint: 'The server is busy or a node is lagging; run the command again.',
      });
    case ErrorCode.notReady:
    case ErrorCode.shuttingDown:
    case ErrorCode.shutDown:
      return new KsqlError(`ksqlDB at ${context.url} is not serving requests: ${summary}`, {
        ...init,
        hint:
          errorCode === ErrorCode.notReady
            ? 'It is still starting; wait a few seconds and retry.'
            : 'It is shutting down; start it again and retry.',
      });
    default: {
      const statusText = status ? `HTTP ${status}, ` : '';
      const message = `ksqlDB error (${statusText}code ${errorCode}): ${summary}`;
      return errorCode >= 40000 && errorCode < 50000 && errorCode !== ErrorCode.notFound
        ? new KsqlRequestError(message, init)
        : new KsqlError(message, init);
    }
  }
}

/** A command that came back with status ERROR while executing (after validation passed). */
export function commandFailed(statementText: string | undefined, message: string, commandId?: string): KsqlError {
  return new KsqlError(
    `statement failed while executing${commandId ? ` (${commandId})` : ''}: ${oneLine(firstLine(message))}`,
    {
      errorCode: ErrorCode.serverError,
      serverMessage: message,
      statementText,
      hint: 'Check the statement against the existing streams, tables and topics (marketplace ksql list), then retry.',
    },
  );
}

/** Codes meaning the server could not be reached at all (as opposed to reached and then hung up on us). */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
]);

const TLS_CODE =
  /^(CERT_|ERR_TLS_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_(GET|VERIFY)_|ERR_SSL_)/;

export function isUnreachableCode(code: string | undefined): boolean {
  return code !== undefined && (UNREACHABLE_CODES.has(code) || TLS_CODE.test(code));
}

/** A socket-level failure (refused, DNS, TLS) turned into one line with what to check. */
export function connectionError(url: string, cause: unknown, unreachableHint?: string): KsqlConnectionError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const detail = code ?? (cause instanceof Error ? cause.message : String(cause));
  if (code && TLS_CODE.test(code)) {
    return new KsqlConnectionError(`TLS connection to ksqlDB at ${url} failed (${detail})`, {
      cause,
      code,
      hint: 'Check the URL, and give the CA certificate that signed the server certificate (or fix the host name).',
    });
  }
  const what =
    code === 'ECONNREFUSED'
      ? 'connection refused'
      : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? 'host not found'
        : code === 'ETIMEDOUT'
          ? 'timed out'
          : detail;
  return new KsqlConnectionError(`cannot reach ksqlDB at ${url} (${what})`, {
    cause,
    code,
    hint: unreachableHint ?? 'Check that ksqlDB is running and that the URL is right.',
  });
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? text;
}

/** Server messages can span lines ("line 1:1: Syntax Error\nUnknown statement …"): keep it on one line. */
export function oneLine(text: string): string {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .join(' ');
}
