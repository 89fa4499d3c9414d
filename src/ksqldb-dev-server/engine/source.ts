import type { SqlType } from '../sql/types.js';

export interface SourceColumn {
  name: string;
  type: SqlType;
  key: boolean;
}

export type SourceType = 'STREAM' | 'TABLE';

/** A stream or table in the metastore. */
export interface DataSource {
  name: string;
  type: SourceType;
  topic: string;
  keyFormat: 'KAFKA' | 'NONE';
  valueFormat: 'JSON';
  columns: SourceColumn[];
  /** The CREATE statement's text, as DESCRIBE EXTENDED shows it. */
  statement: string;
  /** Id of the persistent query that writes into it (CSAS/CTAS), if any. */
  writeQueryId?: string;
}

export function keyColumns(source: DataSource): SourceColumn[] {
  return source.columns.filter((c) => c.key);
}

export function valueColumns(source: DataSource): SourceColumn[] {
  return source.columns.filter((c) => !c.key);
}
