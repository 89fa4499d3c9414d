import { StringDecoder } from 'node:string_decoder';
import { untypedValue } from './column-types.js';
import { ErrorCode, KsqlError, type KsqlErrorBody } from './errors.js';
import { JsonSyntaxError, numberToken, parseJson } from '../json/exact-json.js';

/**
 * The `application/vnd.ksqlapi.delimited.v1` format of /query-stream (and the ack lines of /inserts-stream): one
 * JSON value per line. Object with columnNames → header; object with error_code → error (the response then ends);
 * object with a token → token; array → row.
 */
export type StreamMessage =
  | { kind: 'header'; queryId?: string; columnNames: string[]; columnTypes: string[] }
  | { kind: 'row'; values: unknown[] }
  | { kind: 'error'; error: KsqlErrorBody }
  | { kind: 'token'; continuationToken?: string; consistencyToken?: string }
  | { kind: 'other'; value: unknown };

/** One JSON line of a ksqlDB stream; a line that is not JSON is the server's failure, told as one. */
export function parseLine(line: string, reviveNumber: Parameters<typeof parseJson>[1]): unknown {
  try {
    return parseJson(line, reviveNumber);
  } catch (error) {
    if (!(error instanceof JsonSyntaxError)) throw error;
    throw new KsqlError(`ksqlDB sent a line that is not JSON in its response stream: ${error.message}`, {
      errorCode: ErrorCode.serverError,
      serverMessage: line.length > 200 ? `${line.slice(0, 200)}…` : line,
      hint: 'Check that the URL points at a ksqlDB server (not a proxy that rewrites responses), then retry.',
    });
  }
}

/** Row values keep their numbers as NumberTokens, to be typed by the header's column types. */
export function parseStreamLine(line: string): StreamMessage {
  const value = parseLine(line, numberToken);
  if (Array.isArray(value)) return { kind: 'row', values: value };
  const object = untypedValue(value) as Record<string, unknown> | null;
  if (object && typeof object === 'object') {
    if (Array.isArray(object.columnNames)) {
      return {
        kind: 'header',
        queryId: typeof object.queryId === 'string' ? object.queryId : undefined,
        columnNames: object.columnNames as string[],
        columnTypes: Array.isArray(object.columnTypes) ? (object.columnTypes as string[]) : [],
      };
    }
    if ('error_code' in object || object['@type'] === 'generic_error' || object['@type'] === 'statement_error') {
      return { kind: 'error', error: object as KsqlErrorBody };
    }
    if ('continuationToken' in object || 'consistencyToken' in object) {
      return {
        kind: 'token',
        continuationToken: object.continuationToken as string | undefined,
        consistencyToken: object.consistencyToken as string | undefined,
      };
    }
  }
  return { kind: 'other', value: object };
}

/**
 * Non-empty lines of a byte stream, pulled one at a time: nothing more is read from the socket than the consumer
 * asks for (plus the stream's buffer), which is what gives a slow reader back-pressure all the way to the server.
 */
export async function* readLines(body: AsyncIterable<Buffer | string>): AsyncGenerator<string, void, undefined> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  for await (const chunk of body) {
    pending += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    let start = 0;
    for (;;) {
      const newline = pending.indexOf('\n', start);
      if (newline === -1) break;
      const line = pending.slice(start, newline).replace(/\r$/, '');
      start = newline + 1;
      if (line.trim().length > 0) yield line;
    }
    pending = pending.slice(start);
  }
  pending += decoder.end();
  if (pending.trim().length > 0) yield pending.replace(/\r$/, '');
}
