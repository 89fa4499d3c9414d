import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readLines } from '../../src/ksql-client/delimited.js';
import { KsqlConnectionError, KsqlError } from '../../src/ksql-client/errors.js';
import { StreamedQuery } from '../../src/ksql-client/streamed-query.js';
import type { HttpExchange } from '../../src/ksql-client/transport.js';

/**
 * The row iterator on its own, over an in-memory response body (no server involved): how it treats what can
 * arrive after the header — rows, an error object, a body cut short.
 */
function queryOver(body: Readable, completed: () => boolean, sql = 'SELECT * FROM S EMIT CHANGES;') {
  const closed: string[] = [];
  let cancelled = false;
  const exchange: HttpExchange = {
    protocol: 'HTTP/1.1',
    status: 200,
    headers: {},
    body,
    get completed() {
      return completed();
    },
    cancel: () => {
      cancelled = true;
      body.destroy();
    },
  };
  const query = new StreamedQuery({
    sql,
    exchange,
    header: { queryId: 'transient_S_1', columnNames: ['ID', 'N'], columnTypes: ['STRING', 'BIGINT'] },
    lines: readLines(body),
    errorContext: { url: 'http://127.0.0.1:1' },
    closeQuery: async (id) => {
      closed.push(id);
    },
  });
  return { query, closed, wasCancelled: () => cancelled };
}

describe('StreamedQuery', () => {
  it('turns an error object written mid-stream into a KsqlError after the rows before it', async () => {
    const body = Readable.from([
      '["a",1]\n["b",9007199254740993]\n',
      '{"@type":"generic_error","error_code":50000,"message":"Query failed: boom"}\n',
    ]);
    const { query, closed } = queryOver(body, () => true);
    const rows: unknown[][] = [];
    const error = await (async () => {
      for await (const row of query) rows.push([...row.values]);
    })().catch((e: unknown) => e);
    expect(rows).toEqual([
      ['a', 1n],
      ['b', 9007199254740993n],
    ]);
    expect(error).toBeInstanceOf(KsqlError);
    expect((error as KsqlError).errorCode).toBe(50000);
    expect((error as KsqlError).message).toContain('Query failed: boom');
    expect((error as KsqlError).statementText).toBe('SELECT * FROM S EMIT CHANGES;');
    expect(closed).toEqual([]); // the server already ended it
  });

  it('reports a body that ends without the end of the response as a dropped connection', async () => {
    const body = Readable.from(['["a",1]\n']);
    const { query } = queryOver(body, () => false);
    const error = await (async () => {
      for await (const _ of query) void _;
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KsqlConnectionError);
    expect((error as Error).message).toMatch(/dropped during query transient_S_1 after 1 row/);
  });

  it('leaving the loop early sends close-query for a push query and releases the response', async () => {
    const body = new PassThrough();
    body.write('["a",1]\n["b",2]\n');
    const { query, closed, wasCancelled } = queryOver(body, () => false);
    for await (const row of query) {
      expect(row.get('id')).toBe('a');
      break;
    }
    expect(closed).toEqual(['transient_S_1']);
    expect(wasCancelled()).toBe(true);
    expect(query.isDone).toBe(true);
  });

  it('does not send close-query for a pull query', async () => {
    const body = new PassThrough();
    body.write('["a",1]\n');
    const { query, closed } = queryOver(body, () => false, "SELECT * FROM T WHERE ID = 'a';");
    for await (const _ of query) break;
    expect(closed).toEqual([]);
  });
});
