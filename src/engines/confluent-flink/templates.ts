import { readdirSync, readFileSync } from 'node:fs';
import { splitStatements, stripLeadingComments } from '../../core/sql-split.js';

/**
 * templates/flink-cloud: the demo's pipelines as Confluent Cloud Flink statements, one statement per file. They differ
 * from templates/flink where Confluent Cloud differs from Apache Flink: every topic already is a table (its columns
 * from the topic's value subject, `$rowtime` its record timestamp, `key` the bytes of a key without a schema), so
 * only the output tables are created, with Confluent's options instead of a connector's.
 */
export const CLOUD_FLINK_TEMPLATES_DIR = new URL('../../../templates/flink-cloud/', import.meta.url);

export interface CloudStatementTemplate {
  file: string;
  /** From the file name: 01-job-status-table.sql → job-status-table. */
  slug: string;
  /** The statement without its ';'. */
  sql: string;
  /** A CREATE TABLE (its table), or an INSERT INTO (the table it writes). */
  kind: 'table' | 'insert';
  table: string;
}

export function loadCloudFlinkTemplates(dir: URL = CLOUD_FLINK_TEMPLATES_DIR): CloudStatementTemplate[] {
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.sql'))
    .sort();
  return files.map((file) => {
    const statements = splitStatements(readFileSync(new URL(file, dir), 'utf8'));
    if (statements.length !== 1)
      throw new Error(`templates/flink-cloud/${file} holds ${statements.length} statements; each file holds one`);
    const sql = statements[0]!.text.trim().replace(/;\s*$/, '');
    const body = stripLeadingComments(sql);
    const created = /^CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?`?(\w+)`?/i.exec(body);
    const inserted = /^INSERT\s+INTO\s+`?(\w+)`?/i.exec(body);
    if (!created && !inserted)
      throw new Error(`templates/flink-cloud/${file} is neither a CREATE TABLE nor an INSERT INTO`);
    return {
      file,
      slug: file.replace(/^\d+-/, '').replace(/\.sql$/, ''),
      sql,
      kind: created ? 'table' : 'insert',
      table: (created ?? inserted)![1]!,
    };
  });
}

/** The statement's deterministic name: the prefix and the template's slug (statement names allow no `_`). */
export function statementName(prefix: string, template: Pick<CloudStatementTemplate, 'slug'>): string {
  return `${prefix}-${template.slug}`;
}

/** Whether `sql` names `table` as a whole word (quoted or not). */
export function mentionsTable(sql: string, table: string): boolean {
  return new RegExp(`(^|[^\\w\`])\`?${table}\`?($|[^\\w\`])`, 'i').test(stripLeadingComments(sql));
}

/**
 * The record key of a table a template creates: its primary key, else what it is distributed by, with the column's
 * type (one column; the demo's keys are single columns).
 */
export function keyOfTable(template: CloudStatementTemplate): { name: string; type: string } | undefined {
  if (template.kind !== 'table') return undefined;
  const body = stripLeadingComments(template.sql);
  const key =
    /PRIMARY\s+KEY\s*\(\s*`?(\w+)`?\s*\)/i.exec(body)?.[1] ??
    /DISTRIBUTED\s+BY\s*(?:HASH\s*)?\(\s*`?(\w+)`?/i.exec(body)?.[1];
  if (!key) return undefined;
  const type = new RegExp(`(?:^|[(,\\s])\`?${key}\`?\\s+(\\w+)`, 'i').exec(body)?.[1];
  return type ? { name: key, type: type.toUpperCase() } : undefined;
}

/** Whether a table a template creates is an upsert table (a primary key). */
export function isUpsertTable(template: CloudStatementTemplate): boolean {
  return template.kind === 'table' && /PRIMARY\s+KEY/i.test(template.sql);
}
