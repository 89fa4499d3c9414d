import { stripLeadingComments } from '../../../src/core/sql-split.js';
import type { JsonSchema } from './schema-registry.js';
import type { StatementKind } from './state.js';

/**
 * The translation between Confluent Cloud's Flink SQL model and a plain Apache Flink session, which is what runs the
 * emulator's statements. In Confluent Cloud every topic is a table, its columns read from the topic's Schema
 * Registry subject, with a `$rowtime` column (the record timestamp, with the default watermark) and a `key` column
 * for a key without a schema; CREATE TABLE makes the topic and registers its schema; DROP TABLE deletes both; the
 * one connector is Confluent's. Apache Flink has none of that, so each table is declared in the local session as a
 * Kafka (or upsert-Kafka) table over the same topic on the local broker, with plain JSON values where Confluent
 * writes JSON with a schema id ('json-registry'): the consumers of the emulated topics read plain JSON.
 */

export interface ColumnDef {
  name: string;
  /** Flink SQL type as written (BIGINT, STRING, DOUBLE, …). */
  type: string;
}

/** A table of the emulated catalog (one environment's database, i.e. Kafka cluster). */
export interface CatalogTable {
  name: string;
  topic: string;
  /** Columns of the value (and key) as declared, without `$rowtime`. */
  columns: ColumnDef[];
  /** Columns that make the record key. */
  keyColumns: string[];
  /** An upsert table (a primary key, or changelog.mode upsert). */
  upsert: boolean;
  partitions: number;
  /** Made by a CREATE TABLE statement (else inferred from a topic and its subject). */
  created: boolean;
}

/** What a statement does, from its first words. */
export function statementKind(sql: string): StatementKind {
  const text = stripLeadingComments(sql).trim().toUpperCase();
  if (/^CREATE\s+TABLE\b/.test(text)) return 'CREATE_TABLE';
  if (/^DROP\s+TABLE\b/.test(text)) return 'DROP_TABLE';
  if (/^INSERT\s+INTO\b/.test(text)) return 'INSERT_INTO';
  if (/^(SELECT|WITH)\b/.test(text)) return 'SELECT';
  return 'OTHER';
}

export class FlinkSqlError extends Error {
  constructor(
    message: string,
    readonly exception = 'ValidationException',
  ) {
    super(message);
  }
}

export interface ParsedCreateTable {
  name: string;
  ifNotExists: boolean;
  columns: ColumnDef[];
  primaryKey: string[];
  distributedBy: string[];
  buckets?: number;
  options: Record<string, string>;
}

/** The parts of a Confluent Cloud CREATE TABLE the emulator needs (CREATE TABLE … AS SELECT is not supported). */
export function parseCreateTable(sql: string): ParsedCreateTable {
  const text = stripLeadingComments(sql).trim().replace(/;\s*$/, '');
  const head = /^CREATE\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?(`[^`]+`|[\w.]+)\s*\(/i.exec(text);
  if (!head)
    throw new FlinkSqlError(
      'SQL parse failed: the emulator runs CREATE TABLE <name> (<columns>) [DISTRIBUTED BY …] [WITH (…)] only',
      'SqlParseException',
    );
  const name = unquote(head[2]!.split('.').pop()!);
  const open = head[0].length - 1;
  const close = matchingParen(text, open);
  const body = text.slice(open + 1, close);
  const rest = text.slice(close + 1);
  const columns: ColumnDef[] = [];
  let primaryKey: string[] = [];
  for (const part of splitTopLevel(body)) {
    const pk = /^PRIMARY\s+KEY\s*\(([^)]*)\)\s*NOT\s+ENFORCED$/i.exec(part);
    if (pk) {
      primaryKey = pk[1]!.split(',').map((c) => unquote(c.trim()));
      continue;
    }
    if (/^(WATERMARK|CONSTRAINT)\b/i.test(part)) continue;
    const column = /^(`[^`]+`|\w+)\s+(.+?)(\s+NOT\s+NULL)?$/is.exec(part);
    if (!column) throw new FlinkSqlError(`SQL parse failed: cannot read the column definition "${part}"`);
    columns.push({ name: unquote(column[1]!), type: column[2]!.trim() });
  }
  const distribution = /DISTRIBUTED\s+BY\s+(?:HASH\s*)?\(([^)]*)\)(?:\s+INTO\s+(\d+)\s+BUCKETS)?/i.exec(rest);
  const withClause = /\bWITH\s*\(([\s\S]*)\)\s*$/i.exec(rest);
  const options: Record<string, string> = {};
  for (const option of withClause?.[1]?.matchAll(/'((?:[^']|'')*)'\s*=\s*'((?:[^']|'')*)'/g) ?? [])
    options[option[1]!.replace(/''/g, "'")] = option[2]!.replace(/''/g, "'");
  return {
    name,
    ifNotExists: !!head[1],
    columns,
    primaryKey,
    distributedBy: distribution ? distribution[1]!.split(',').map((c) => unquote(c.trim())) : [],
    buckets: distribution?.[2] ? Number(distribution[2]) : undefined,
    options,
  };
}

/** The table a Confluent Cloud CREATE TABLE makes: append unless it has a primary key or says upsert. */
export function createdTable(parsed: ParsedCreateTable): CatalogTable {
  const mode = parsed.options['changelog.mode'];
  if (mode !== undefined && !['append', 'upsert', 'retract'].includes(mode))
    throw new FlinkSqlError(`Unsupported value '${mode}' for option 'changelog.mode'`);
  if (mode === 'upsert' && parsed.primaryKey.length === 0)
    throw new FlinkSqlError(`An upsert table needs a PRIMARY KEY: table ${parsed.name}`);
  for (const column of [...parsed.primaryKey, ...parsed.distributedBy])
    if (!parsed.columns.some((c) => c.name === column))
      throw new FlinkSqlError(`Column '${column}' of the key is not a column of table ${parsed.name}`);
  return {
    name: parsed.name,
    topic: parsed.name,
    columns: parsed.columns,
    keyColumns: parsed.primaryKey.length > 0 ? parsed.primaryKey : parsed.distributedBy,
    upsert: parsed.primaryKey.length > 0 && mode !== 'append',
    partitions: parsed.buckets ?? 6,
    created: true,
  };
}

/** The table Confluent Cloud infers for a topic from its value subject's JSON schema; the key has no schema. */
export function inferredTable(topic: string, schema: JsonSchema, partitions: number): CatalogTable {
  const columns: ColumnDef[] = [{ name: 'key', type: 'BYTES' }];
  for (const [name, property] of Object.entries(schema.properties ?? {}))
    columns.push({ name, type: flinkTypeOf(property) });
  return { name: topic, topic, columns, keyColumns: ['key'], upsert: false, partitions, created: false };
}

function flinkTypeOf(property: JsonSchema): string {
  const type = Array.isArray(property.type) ? property.type.find((t) => t !== 'null') : property.type;
  switch (type) {
    case 'integer':
      return 'BIGINT';
    case 'number':
      return 'DOUBLE';
    case 'boolean':
      return 'BOOLEAN';
    default:
      return 'STRING';
  }
}

/** The JSON schema Confluent Cloud registers for a table's value (json-registry): its columns but the key's. */
export function valueSchemaOf(table: CatalogTable): string {
  const properties: Record<string, unknown> = {};
  for (const column of table.columns) {
    if (table.keyColumns.includes(column.name) && table.created) continue;
    properties[column.name] = jsonTypeOf(column.type);
  }
  return JSON.stringify({ type: 'object', title: `${table.name}_value`, properties });
}

function jsonTypeOf(type: string): Record<string, unknown> {
  const t = type.toUpperCase();
  if (/^(BIGINT|INT|INTEGER|SMALLINT|TINYINT)\b/.test(t)) return { type: ['null', 'integer'] };
  if (/^(DOUBLE|FLOAT|DECIMAL|NUMERIC)\b/.test(t)) return { type: ['null', 'number'] };
  if (/^BOOLEAN\b/.test(t)) return { type: ['null', 'boolean'] };
  return { type: ['null', 'string'] };
}

/**
 * The table as the local Flink session declares it: a Kafka table over the same topic on the local broker, plus
 * Confluent's `$rowtime` (the record timestamp; on read, an event-time attribute whose watermark trails it by
 * 15 minutes: Confluent's default watermark adapts to the data, which the emulator does not imitate).
 */
export function localDdl(
  table: CatalogTable,
  options: { bootstrap: string; groupId: string; startupMode?: string },
): string {
  const q = (name: string) => `\`${name.replace(/`/g, '``')}\``;
  const lines = table.columns.map((column) => `  ${q(column.name)} ${column.type}`);
  lines.push("  `$rowtime` TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL");
  if (table.upsert) lines.push(`  PRIMARY KEY (${table.keyColumns.map(q).join(', ')}) NOT ENFORCED`);
  else lines.push("  WATERMARK FOR `$rowtime` AS `$rowtime` - INTERVAL '15' MINUTE");
  const withOptions: Record<string, string> = {
    connector: table.upsert ? 'upsert-kafka' : 'kafka',
    topic: table.topic,
    'properties.bootstrap.servers': options.bootstrap,
    'value.format': 'json',
    'value.json.ignore-parse-errors': 'true',
    'value.fields-include': table.keyColumns.length > 0 ? 'EXCEPT_KEY' : 'ALL',
    ...(table.keyColumns.length > 0 ? { 'key.format': 'raw' } : {}),
    ...(!table.upsert && table.keyColumns.length > 0 ? { 'key.fields': table.keyColumns.join(';') } : {}),
    ...(!table.upsert
      ? { 'properties.group.id': options.groupId, 'scan.startup.mode': options.startupMode ?? 'earliest-offset' }
      : { 'properties.group.id': options.groupId }),
  };
  const withText = Object.entries(withOptions)
    .map(([key, value]) => `  '${key}' = '${value.replace(/'/g, "''")}'`)
    .join(',\n');
  return `CREATE TABLE ${q(table.name)} (\n${lines.join(',\n')}\n) WITH (\n${withText}\n)`;
}

/** The table a DROP TABLE names. */
export function droppedTable(sql: string): { name: string; ifExists: boolean } {
  const match = /^DROP\s+TABLE\s+(IF\s+EXISTS\s+)?(`[^`]+`|[\w.]+)\s*;?\s*$/i.exec(stripLeadingComments(sql).trim());
  if (!match) throw new FlinkSqlError('SQL parse failed: expected DROP TABLE [IF EXISTS] <name>', 'SqlParseException');
  return { name: unquote(match[2]!.split('.').pop()!), ifExists: !!match[1] };
}

/** Whether `sql` names `table` (as a whole word, quoted or not). */
export function mentions(sql: string, table: string): boolean {
  const escaped = table.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\w\`])\`?${escaped}\`?($|[^\\w\`])`, 'i').test(sql);
}

function unquote(name: string): string {
  return name.startsWith('`') && name.endsWith('`') ? name.slice(1, -1).replace(/``/g, '`') : name;
}

function matchingParen(text: string, open: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = open; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      continue;
    }
    if (c === "'" || c === '`') quote = c;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  throw new FlinkSqlError('SQL parse failed: unbalanced parentheses', 'SqlParseException');
}

function splitTopLevel(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      continue;
    }
    if (c === "'" || c === '`') quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(body.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(body.slice(start).trim());
  return parts.filter((part) => part.length > 0);
}
