import { systemClock, waitFor, type Clock } from '../core/waiter.js';
import type { KsqlClient } from '../ksql-client/client.js';
import { ErrorCode, KsqlConnectionError, KsqlError } from '../ksql-client/errors.js';
import type { StreamedQuery } from '../ksql-client/streamed-query.js';
import type { RowSource, TailRow } from './source.js';

export interface KsqlSourceOptions {
  client: KsqlClient;
  name: string;
  where?: string;
  fromBeginning: boolean;
  keyColumns: string[];
  /** After a drop, how long to keep trying to open the query again (a restarting server) before failing. */
  reconnectTimeoutMs?: number;
  clock?: Clock;
}

export const RECONNECT_TIMEOUT_MS = 30_000;
const FIRST_RETRY_DELAY_MS = 250;
const MAX_RETRY_DELAY_MS = 2_000;

/**
 * A push query `SELECT * FROM <name> [WHERE …] EMIT CHANGES`. A dropped connection (a restarted server, a network
 * blip) is reconnected once, retrying for up to reconnectTimeoutMs while the server comes back; a server that stays
 * away, or a second drop, ends the tail with a clear error. Closing sends /close-query.
 */
export async function ksqlRowSource(options: KsqlSourceOptions): Promise<RowSource> {
  const { client } = options;
  const sql = `SELECT * FROM ${options.name}${options.where ? ` WHERE ${options.where}` : ''} EMIT CHANGES;`;
  const properties = { 'auto.offset.reset': options.fromBeginning ? 'earliest' : 'latest' };
  const reconnectTimeoutMs = options.reconnectTimeoutMs ?? RECONNECT_TIMEOUT_MS;
  let query: StreamedQuery = await client.streamQuery(sql, { properties });
  const closing = new AbortController();

  /** Opens the query again, from the latest rows, until it works, the deadline passes, or the source is closed. */
  const reopen = async (drop: KsqlConnectionError): Promise<StreamedQuery | undefined> => {
    let last: unknown = drop;
    let failure: unknown;
    try {
      return await waitFor<StreamedQuery | undefined>(
        async () => {
          try {
            const reopened = await client.streamQuery(sql, { properties: { 'auto.offset.reset': 'latest' } });
            if (!closing.signal.aborted) return { done: true, value: reopened };
            await reopened.close();
            return { done: true, value: undefined };
          } catch (error) {
            if (closing.signal.aborted || !serverMayComeBack(error)) throw (failure = error);
            last = error;
            return { done: false, status: (error as Error).message };
          }
        },
        {
          what: `ksqlDB to take the push query on ${options.name.toLowerCase()} again`,
          timeoutMs: reconnectTimeoutMs,
          initialDelayMs: FIRST_RETRY_DELAY_MS,
          maxDelayMs: MAX_RETRY_DELAY_MS,
          factor: 2,
          clock: options.clock ?? systemClock,
          signal: closing.signal,
        },
      );
    } catch (error) {
      if (closing.signal.aborted) return undefined;
      if (error === failure) throw error;
      throw new KsqlConnectionError(
        `lost the push query on ${options.name.toLowerCase()}: ${drop.message}, and ksqlDB did not take it again within ${Math.round(reconnectTimeoutMs / 1000)} s (last error: ${(last as Error).message})`,
        {
          cause: last,
          hint: (last as KsqlConnectionError).hint ?? 'Check that ksqlDB is running, then run tail again.',
        },
      );
    }
  };

  const source: RowSource = {
    columns: query.columnNames,
    keyColumns: options.keyColumns,
    close: async () => {
      closing.abort();
      await query.close();
    },
    [Symbol.asyncIterator]: async function* (): AsyncGenerator<TailRow> {
      let reconnected = false;
      for (;;) {
        let drop: KsqlConnectionError;
        try {
          for await (const row of query) yield row.toObject();
          if (closing.signal.aborted) return;
          // A push query never ends by itself: the server ending it (e.g. while shutting down) is a drop too.
          drop = new KsqlConnectionError(
            `ksqlDB at ${client.url} ended the push query after ${query.rowsRead} row(s)`,
            {
              hint: 'Check that ksqlDB is still running (it may have restarted), then run tail again.',
            },
          );
        } catch (error) {
          if (closing.signal.aborted || !(error instanceof KsqlConnectionError)) throw error;
          drop = error;
        }
        if (reconnected) {
          throw new KsqlConnectionError(`${drop.message}; that is the second drop, and tail reconnects only once`, {
            cause: drop,
            hint: 'ksqlDB keeps dropping the query: check it (`marketplace status`), then run tail again.',
          });
        }
        reconnected = true;
        source.onReconnecting?.(drop.message, reconnectTimeoutMs);
        const reopened = await reopen(drop);
        if (!reopened) return;
        query = reopened;
        source.onReconnected?.();
      }
    },
  };
  return source;
}

/** Worth retrying while reconnecting: the server is unreachable, or up but not (or no longer) serving. */
function serverMayComeBack(error: unknown): boolean {
  if (error instanceof KsqlConnectionError) return true;
  if (!(error instanceof KsqlError)) return false;
  const starting: number[] = [ErrorCode.notReady, ErrorCode.shuttingDown, ErrorCode.shutDown];
  return starting.includes(error.errorCode) || error.httpStatus === 503;
}
