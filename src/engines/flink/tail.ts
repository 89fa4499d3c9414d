import { UserError } from '../../core/errors.js';
import type { FlinkGateway, FlinkOperation, FlinkSession, ResultRow } from '../../flink-client/gateway.js';
import type { TailRow } from '../../tail/source.js';
import type { OpenedSource, TailRequest } from '../engine.js';
import type { FlinkTable } from './templates.js';

/** A table's columns as a reader sees them: the physical ones (no metadata or computed ones), and its key. */
interface ReadableTable {
  table: FlinkTable;
  columns: string[];
  keyColumns: string[];
}

/** The table the user named, among the templates' (Flink keeps no catalog between sessions: these are all). */
export function findTable(tables: FlinkTable[], name: string): FlinkTable {
  const wanted = name.replace(/^`|`$/g, '').toLowerCase();
  const match = tables.find((table) => table.name.toLowerCase() === wanted);
  if (match) return match;
  const byTopic = tables.find((table) => table.topic === name);
  throw new UserError(
    `no Flink table named ${name}; known: ${tables
      .map((table) => table.name)
      .sort()
      .join(', ')}`,
    {
      hint: byTopic
        ? `The topic ${name} backs ${byTopic.name}: run \`marketplace tail ${byTopic.name}\`, or use --via kafka.`
        : 'Check the name; tables come from templates/flink.',
    },
  );
}

/** Creates the table in the session and reads its columns from DESCRIBE (name, type, null, key, extras, …). */
async function prepare(session: FlinkSession, table: FlinkTable, signal?: AbortSignal): Promise<ReadableTable> {
  await session.execute(table.ddl, { signal });
  const described = await session.execute(`DESCRIBE \`${table.name}\``, { signal });
  const columns: string[] = [];
  const keyColumns: string[] = [];
  for (const row of described.rows) {
    const [name, , , key, extras] = row.fields as [string, string, boolean, string | null, string | null];
    if (extras && /METADATA|AS /i.test(extras)) continue;
    columns.push(name);
    if (key && /PRI/i.test(key)) keyColumns.push(name);
  }
  const keyFields = /'key\.fields'\s*=\s*'([^']+)'/.exec(table.ddl)?.[1]?.split(';') ?? [];
  return {
    table,
    columns,
    keyColumns: keyColumns.length > 0 ? keyColumns : keyFields.length ? keyFields : columns.slice(0, 1),
  };
}

/** `SELECT <columns> FROM t /*+ OPTIONS(…) *\/ [WHERE …]`: reads only committed records. */
function selectOf(readable: ReadableTable, hints: Record<string, string>, where?: string): string {
  const options = Object.entries({ ...hints, 'properties.isolation.level': 'read_committed' })
    .map(([key, value]) => `'${key}' = '${value}'`)
    .join(', ');
  const columns = readable.columns.map((column) => `\`${column}\``).join(', ');
  return `SELECT ${columns} FROM \`${readable.table.name}\` /*+ OPTIONS(${options}) */${where ? ` WHERE ${where}` : ''}`;
}

const toObject = (columns: string[], row: ResultRow): TailRow =>
  Object.fromEntries(columns.map((column, i) => [column, row.fields[i]]));

/**
 * Live rows of a table through a Flink SELECT: an append table from its latest (or earliest) record, an upsert table
 * from its current rows on (upsert-kafka always reads the whole topic). Updates show as the new row; retractions and
 * deletes are not rows of their own. Closing cancels the SELECT's job.
 */
export async function openFlinkTail(
  gateway: FlinkGateway,
  table: FlinkTable,
  request: TailRequest,
): Promise<OpenedSource> {
  const session = await gateway.openSession({ name: `marketplace-tail-${table.name}` });
  let operation: FlinkOperation | undefined;
  try {
    const readable = await prepare(session, table);
    const hints: Record<string, string> =
      table.connector === 'upsert-kafka'
        ? {}
        : { 'scan.startup.mode': request.fromBeginning ? 'earliest-offset' : 'latest-offset' };
    // A SELECT hands out its rows as it checkpoints; its state is tiny, so it may do so often.
    operation = await session.submit(selectOf(readable, hints, request.where), {
      config: { 'execution.checkpointing.interval': '1s', 'execution.checkpointing.min-pause': '0ms' },
    });
    const running = operation;
    const stop = new AbortController();
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      stop.abort();
      await running.close().catch(() => undefined);
      await session.close().catch(() => undefined);
    };
    return {
      displayName: table.name,
      release: close,
      source: {
        columns: readable.columns,
        keyColumns: readable.keyColumns,
        close,
        [Symbol.asyncIterator]: async function* () {
          for await (const row of running.rows(stop.signal)) {
            if (row.kind === 'INSERT' || row.kind === 'UPDATE_AFTER') yield toObject(readable.columns, row);
          }
        },
      },
    };
  } catch (error) {
    await operation?.close().catch(() => undefined);
    await session.close().catch(() => undefined);
    throw error;
  }
}

/**
 * The current rows of a table: a bounded read up to the topic's end as it is now, its changes folded by key (the
 * last row of each key, none for a key deleted). Takes a few seconds: Flink runs a small job for it.
 */
export async function readFlinkTable(
  gateway: FlinkGateway,
  table: FlinkTable,
  signal?: AbortSignal,
): Promise<TailRow[]> {
  return gateway.withSession({ name: `marketplace-read-${table.name}` }, async (session) => {
    const readable = await prepare(session, table, signal);
    const hints: Record<string, string> =
      table.connector === 'upsert-kafka'
        ? { 'scan.bounded.mode': 'latest-offset' }
        : { 'scan.startup.mode': 'earliest-offset', 'scan.bounded.mode': 'latest-offset' };
    const result = await session.execute(selectOf(readable, hints), { signal, timeoutMs: 180_000 });
    const key = (row: ResultRow) =>
      JSON.stringify(readable.keyColumns.map((c) => row.fields[readable.columns.indexOf(c)]));
    const current = new Map<string, TailRow>();
    let appended = 0;
    for (const row of result.rows) {
      if (readable.table.connector !== 'upsert-kafka') current.set(String(appended++), toObject(readable.columns, row));
      else if (row.kind === 'INSERT' || row.kind === 'UPDATE_AFTER')
        current.set(key(row), toObject(readable.columns, row));
      else current.delete(key(row));
    }
    return [...current.values()];
  });
}
