import type { KsqlClient } from '../ksql-client/client.js';
import { KsqlConnectionError } from '../ksql-client/errors.js';
import type { StreamedQuery } from '../ksql-client/streamed-query.js';
import type { RowSource, TailRow } from './source.js';

export interface KsqlSourceOptions {
  client: KsqlClient;
  name: string;
  where?: string;
  fromBeginning: boolean;
  keyColumns: string[];
}

/**
 * A push query `SELECT * FROM <name> [WHERE …] EMIT CHANGES`. A dropped connection is retried once (a restarted
 * server, a network blip); a second drop ends the tail with a clear error. Closing sends /close-query.
 */
export async function ksqlRowSource(options: KsqlSourceOptions): Promise<RowSource> {
  const sql = `SELECT * FROM ${options.name}${options.where ? ` WHERE ${options.where}` : ''} EMIT CHANGES;`;
  const properties = { 'auto.offset.reset': options.fromBeginning ? 'earliest' : 'latest' };
  let query: StreamedQuery = await options.client.streamQuery(sql, { properties });
  let closed = false;
  const source: RowSource = {
    columns: query.columnNames,
    keyColumns: options.keyColumns,
    close: async () => {
      closed = true;
      await query.close();
    },
    [Symbol.asyncIterator]: async function* (): AsyncGenerator<TailRow> {
      let reconnected = false;
      for (;;) {
        try {
          for await (const row of query) yield row.toObject();
          return;
        } catch (error) {
          if (closed || reconnected || !(error instanceof KsqlConnectionError)) throw error;
          reconnected = true;
          source.onReconnect?.(error.message);
          query = await options.client.streamQuery(sql, { properties: { 'auto.offset.reset': 'latest' } });
        }
      }
    },
  };
  return source;
}
