import type { FlinkStatements, StatementColumn } from '../../confluent-api/index.js';
import { waitForStatementRunning } from '../../confluent-api/flink-statements.js';
import type { Clock } from '../../core/waiter.js';
import type { RowSource, TailRow } from '../../tail/source.js';

/** How often an unbounded result with nothing new is asked again (Confluent's CLI refreshes once a second). */
const POLL_MS = 1_000;

/**
 * The rows of a SELECT statement, read through its paged results. Values arrive as text and are given their column's
 * type back (BIGINT exact); update-before and delete rows of a changelog are left out, so a table shows each key's
 * new row as it changes. Closing deletes the statement, which stops its job.
 */
export async function statementRowSource(options: {
  statements: FlinkStatements;
  name: string;
  keyColumns: string[];
  clock: Clock;
  signal?: AbortSignal;
}): Promise<RowSource> {
  const { statements, name, clock } = options;
  const started = await waitForStatementRunning(statements, name, { clock, signal: options.signal });
  const columns: StatementColumn[] = started.status.traits?.schema?.columns ?? [];
  let closed = false;
  const stop = new AbortController();
  const source: RowSource = {
    columns: columns.map((column) => column.name),
    keyColumns: options.keyColumns,
    async *[Symbol.asyncIterator](): AsyncGenerator<TailRow> {
      let token: string | undefined;
      for (;;) {
        if (closed) return;
        const page = await statements.results(name, token);
        for (const row of page.rows) {
          if (row.op === 1 || row.op === 3) continue;
          yield Object.fromEntries(columns.map((column, i) => [column.name, typed(row.row[i], column.type.type)]));
        }
        if (page.next === undefined) return;
        const moved = page.next !== token;
        token = page.next;
        if (page.rows.length === 0 || !moved) {
          try {
            await clock.sleep(POLL_MS, stop.signal);
          } catch {
            return;
          }
        }
      }
    },
    close: async () => {
      if (closed) return;
      closed = true;
      stop.abort();
      await statements.delete(name).catch(() => undefined);
    },
  };
  return source;
}

/** A result value (text, or null) as its column's type: BIGINT exact, other numbers as numbers, booleans. */
export function typed(value: unknown, type: string): unknown {
  if (value === null || value === undefined) return null;
  const text = String(value);
  switch (type.toUpperCase()) {
    case 'BIGINT':
      return /^-?\d+$/.test(text) ? BigInt(text) : text;
    case 'INTEGER':
    case 'INT':
    case 'SMALLINT':
    case 'TINYINT':
    case 'DOUBLE':
    case 'FLOAT':
    case 'DECIMAL':
      return Number.isNaN(Number(text)) ? text : Number(text);
    case 'BOOLEAN':
      return text === 'true';
    default:
      return text;
  }
}
