import {
  DeserializationError,
  deserializeKafkaKey,
  jsonValueEncoder,
  serializeKafkaKey,
} from '../../src/ksqldb-dev-server/engine/serde.js';
import { planQuery, type QueryPlan, type ResultRow } from '../../src/ksqldb-dev-server/engine/planner.js';
import type { DataSource } from '../../src/ksqldb-dev-server/engine/source.js';
import { parseStatements } from '../../src/ksqldb-dev-server/sql/parser.js';

/**
 * Runs the dev server's planner and processor on in-memory records, as a persistent query would on Kafka records:
 * sources come from CREATE statements, records are encoded as they would be on the topic (KAFKA keys, JSON values),
 * and each result row is encoded as the sink topic would hold it.
 */
export function defineSources(ddl: string): Map<string, DataSource> {
  const sources = new Map<string, DataSource>();
  for (const statement of parseStatements(ddl)) {
    if (statement.kind !== 'create' || statement.query || !statement.columns) throw new Error(`not a CREATE: ${ddl}`);
    const keyed = statement.columns.some((c) => c.key);
    sources.set(statement.name, {
      name: statement.name,
      type: statement.sourceType,
      topic: String(statement.properties.get('KAFKA_TOPIC') ?? statement.name.toLowerCase()),
      keyFormat: keyed ? 'KAFKA' : 'NONE',
      valueFormat: 'JSON',
      columns: statement.columns.map((c) => ({ name: c.name, type: c.type, key: c.key !== null })),
      statement: statement.text,
    });
  }
  return sources;
}

/** Plans a CREATE … AS SELECT (or a bare SELECT, as a transient query) against the sources. */
export function planFor(sql: string, sources: Map<string, DataSource>): QueryPlan {
  const [statement] = parseStatements(sql);
  if (statement?.kind === 'create' && statement.query)
    return planQuery(statement.query, (n) => sources.get(n), { persistent: true, sinkName: statement.name });
  if (statement?.kind === 'select') return planQuery(statement.query, (n) => sources.get(n), { persistent: false });
  throw new Error(`not a query: ${sql}`);
}

/** The planning error's message, or a failure when the statement plans. */
export function planError(sql: string, sources: Map<string, DataSource>): string {
  try {
    planFor(sql, sources);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`expected ${sql} to be rejected`);
}

export interface InputRecord {
  /** Index of the input (0: FROM, 1: the joined source). */
  input?: number;
  key?: unknown;
  /** A JSON value (an object, usually), raw JSON text, or null for a tombstone / null-value record. */
  value: unknown;
  timestamp?: number;
  partition?: number;
}

export interface OutputRecord {
  key: unknown;
  /** The value as JSON text (so a DECIMAL's scale shows), or null. */
  text: string | null;
  value: Record<string, unknown> | null;
  timestamp: number;
}

export interface RunOptions {
  /** Partition count of each input topic, for the query's tasks (default 1 each). */
  partitions?: number[];
}

/** Feeds records to a fresh processor of the plan, in order, and returns what the sink topic would receive. */
export function runPlan(plan: QueryPlan, records: InputRecord[], options: RunOptions = {}): OutputRecord[] {
  const rows: ResultRow[] = [];
  const processor = plan.createProcessor((row) => rows.push(row), {
    partitions: options.partitions ?? plan.inputs.map(() => 1),
  });
  const offsets = new Map<string, number>();
  for (const record of records) {
    const input = record.input ?? 0;
    const spec = plan.inputs[input]!;
    const keyColumn = spec.source.columns.find((c) => c.key);
    const partition = record.partition ?? 0;
    const offsetKey = `${input}:${partition}`;
    const offset = offsets.get(offsetKey) ?? 0;
    offsets.set(offsetKey, offset + 1);
    const value =
      record.value === null
        ? null
        : Buffer.from(typeof record.value === 'string' ? record.value : JSON.stringify(record.value));
    let decoded: ReturnType<typeof spec.decode>;
    try {
      decoded = spec.decode({
        key: keyColumn && record.key !== undefined ? serializeKafkaKey(keyColumn.type, record.key) : null,
        value,
        timestamp: record.timestamp ?? 0,
        partition,
        offset,
      });
    } catch (error) {
      if (error instanceof DeserializationError) continue;
      throw error;
    }
    processor.process(input, decoded, true);
  }
  const keyColumn = plan.keyIndex >= 0 ? plan.columns[plan.keyIndex]! : undefined;
  const valueIndexes = plan.columns.map((c, i) => (c.key ? -1 : i)).filter((i) => i >= 0);
  const encode = jsonValueEncoder(valueIndexes.map((i) => ({ ...plan.columns[i]!, key: false })));
  return rows.map((row) => {
    const text = row.tombstone ? null : encode(valueIndexes.map((i) => row.values[i])).toString('utf8');
    return {
      key: keyColumn
        ? deserializeKafkaKey(keyColumn.type, serializeKafkaKey(keyColumn.type, row.values[plan.keyIndex]))
        : null,
      text,
      value: text === null ? null : (JSON.parse(text) as Record<string, unknown>),
      timestamp: row.timestamp,
    };
  });
}

/** Output records as [key, value] pairs, the way the tests compare them. */
export function keyValues(records: OutputRecord[]): [unknown, Record<string, unknown> | null][] {
  return records.map((r) => [r.key, r.value]);
}
