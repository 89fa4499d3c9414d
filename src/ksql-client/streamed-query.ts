import { isClassifiedError } from '../core/errors.js';
import { columnTypeOrAny, typeValue, type ColumnType } from './column-types.js';
import { parseStreamLine } from './delimited.js';
import { errorFromResponse, KsqlConnectionError, type ErrorContext } from './errors.js';
import type { HttpExchange } from './transport.js';

/** One result row: values in column order, typed by the header (BIGINT → bigint, DECIMAL → exact text). */
export class KsqlRow {
  constructor(
    readonly columnNames: readonly string[],
    readonly values: readonly unknown[],
  ) {}

  /** A column's value by index, or by name (exact first, then ignoring case). */
  get(column: string | number): unknown {
    if (typeof column === 'number') return this.values[column];
    let index = this.columnNames.indexOf(column);
    if (index === -1) index = this.columnNames.findIndex((name) => name.toUpperCase() === column.toUpperCase());
    if (index === -1) throw new RangeError(`no column ${column} (columns: ${this.columnNames.join(', ')})`);
    return this.values[index];
  }

  toObject(): Record<string, unknown> {
    const object: Record<string, unknown> = {};
    this.columnNames.forEach((name, i) => {
      object[name] = this.values[i] ?? null;
    });
    return object;
  }
}

export interface QueryHeader {
  queryId?: string;
  columnNames: string[];
  columnTypes: string[];
}

interface StreamedQueryInit {
  sql: string;
  exchange: HttpExchange;
  header: QueryHeader;
  lines: AsyncGenerator<string, void, undefined>;
  errorContext: ErrorContext;
  /** POST /close-query for this query. */
  closeQuery: (queryId: string) => Promise<void>;
}

/**
 * A running /query-stream query. Iterate it (for await) to read rows as the server sends them; rows are only read
 * from the connection as fast as they are consumed. Leaving the loop early, or close(), ends a push query on the
 * server with /close-query. A server error mid-stream is thrown as a KsqlError; a connection that drops before
 * the response ended is thrown as a KsqlConnectionError.
 */
export class StreamedQuery implements AsyncIterable<KsqlRow> {
  readonly queryId: string | undefined;
  readonly columnNames: string[];
  readonly columnTypes: string[];
  readonly isPushQuery: boolean;
  /** Set by pull queries that ask for consistency, and by scalable push queries. */
  consistencyToken: string | undefined;
  continuationToken: string | undefined;
  private rowCount = 0;
  private readonly types: ColumnType[];
  private closing: Promise<void> | undefined;
  private finished = false;
  private iterating = false;

  constructor(private readonly init: StreamedQueryInit) {
    this.queryId = init.header.queryId;
    this.columnNames = init.header.columnNames;
    this.columnTypes = init.header.columnTypes;
    this.types = this.columnTypes.map(columnTypeOrAny);
    this.isPushQuery = /\bEMIT\s+(CHANGES|FINAL)\b/i.test(init.sql);
  }

  get rowsRead(): number {
    return this.rowCount;
  }

  /** True once the server ended the response or close() ran. */
  get isDone(): boolean {
    return this.finished || this.closing !== undefined;
  }

  [Symbol.asyncIterator](): AsyncGenerator<KsqlRow, void, undefined> {
    if (this.iterating) throw new Error('a query can be iterated only once');
    this.iterating = true;
    return this.rows();
  }

  private async *rows(): AsyncGenerator<KsqlRow, void, undefined> {
    try {
      for (;;) {
        let next: IteratorResult<string, void>;
        try {
          next = await this.init.lines.next();
        } catch (error) {
          if (this.closing) return;
          throw isClassifiedError(error) ? this.dropped(error) : error;
        }
        if (next.done) {
          if (this.closing) return;
          if (!this.init.exchange.completed) throw this.dropped(undefined);
          this.finished = true;
          return;
        }
        const message = parseStreamLine(next.value);
        switch (message.kind) {
          case 'row':
            this.rowCount++;
            yield new KsqlRow(
              this.columnNames,
              message.values.map((value, i) => typeValue(value, this.types[i] ?? { kind: 'SCALAR', name: 'ANY' })),
            );
            break;
          case 'error':
            this.finished = true;
            throw errorFromResponse(undefined, message.error, {
              ...this.init.errorContext,
              statementText: this.init.sql,
            });
          case 'token':
            if (message.consistencyToken !== undefined) this.consistencyToken = message.consistencyToken;
            if (message.continuationToken !== undefined) this.continuationToken = message.continuationToken;
            break;
          default:
            break;
        }
      }
    } finally {
      // Runs on break/return/throw in the consumer's loop as well: never leave a push query running.
      await this.close();
    }
  }

  /**
   * Ends the query: for a push query still running, /close-query asks the server to stop it, then the response
   * stream is released. Safe to call more than once and after the query ended on its own.
   */
  close(): Promise<void> {
    this.closing ??= this.closeNow();
    return this.closing;
  }

  private async closeNow(): Promise<void> {
    if (!this.finished && this.isPushQuery && this.queryId) {
      try {
        await this.init.closeQuery(this.queryId);
      } catch {
        // The query may have ended meanwhile, or the server is gone: either way there is nothing left to stop.
      }
    }
    this.init.exchange.cancel();
    await this.init.lines.return(undefined).catch(() => undefined);
  }

  private dropped(cause: unknown): KsqlConnectionError {
    this.finished = true;
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    const what = this.queryId ? `query ${this.queryId}` : 'the query';
    return new KsqlConnectionError(
      `the connection to ksqlDB at ${this.init.errorContext.url} dropped during ${what} after ${this.rowCount} row(s)${code ? ` (${code})` : ''}`,
      {
        cause,
        code,
        hint: 'Check that ksqlDB is still running (it may have restarted), then run the query again.',
      },
    );
  }
}
