import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OperationError } from '../../core/errors.js';
import { SqlSplitError, splitStatements, stripLeadingComments } from '../../core/sql-split.js';

/** templates/flink of the installed package. */
export const FLINK_TEMPLATES_DIR = fileURLToPath(new URL('../../../templates/flink/', import.meta.url));

/** A table of the templates: its DDL (rendered) and the topic it reads or writes. */
export interface FlinkTable {
  name: string;
  ddl: string;
  topic?: string;
  /** kafka (append) or upsert-kafka (keyed, latest value wins). */
  connector?: string;
  file: string;
}

/** One INSERT of the templates: a job that fills `name` (its sink table), with the tables it reads. */
export interface FlinkPipeline {
  name: string;
  insert: string;
  /** The DDL of every table the INSERT names, in template order. */
  tables: string[];
  sources: string[];
  /** SET statements of its file, for the job only. */
  config: Record<string, string>;
  /** Short hash of everything the job is made from: a change means the running job is out of date. */
  fingerprint: string;
  /** The job's name on the cluster: found again by it, and its fingerprint read back from it. */
  jobName: string;
  file: string;
}

export interface FlinkTemplates {
  tables: FlinkTable[];
  pipelines: FlinkPipeline[];
}

export interface RenderValues {
  bootstrapServers: string;
}

const JOB_NAME = /^marketplace:([A-Za-z0-9_]+):([0-9a-f]{12})$/;

export function jobNameOf(pipeline: string, fingerprint: string): string {
  return `marketplace:${pipeline}:${fingerprint}`;
}

/** The pipeline and fingerprint a job name made by jobNameOf carries; undefined for any other job. */
export function parseJobName(name: string): { pipeline: string; fingerprint: string } | undefined {
  const match = JOB_NAME.exec(name);
  return match ? { pipeline: match[1]!, fingerprint: match[2]! } : undefined;
}

/**
 * Reads templates/flink/*.sql in file order: CREATE TABLE statements, INSERTs (each becomes a job) and SETs (for
 * the INSERTs of the same file). `${bootstrapServers}` is filled in; nothing else is rewritten.
 */
export async function loadFlinkTemplates(values: RenderValues, dir = FLINK_TEMPLATES_DIR): Promise<FlinkTemplates> {
  const files = (await readdir(dir)).filter((name) => name.endsWith('.sql')).sort();
  if (files.length === 0) {
    throw new OperationError(`no .sql templates in ${dir}`, {
      hint: 'Reinstall marketplace; its templates/flink folder is missing.',
    });
  }
  const tables: FlinkTable[] = [];
  const inserts: { file: string; text: string; config: Record<string, string> }[] = [];
  for (const file of files) {
    const text = render(await readFile(join(dir, file), 'utf8'), values);
    const config: Record<string, string> = {};
    let statements: ReturnType<typeof splitStatements>;
    try {
      statements = splitStatements(text);
    } catch (error) {
      if (!(error instanceof SqlSplitError)) throw error;
      throw new OperationError(`templates/flink/${file}:${error.line}:${error.column}: ${error.message}`, {
        hint: 'The bundled Flink templates are damaged: reinstall marketplace.',
      });
    }
    for (const statement of statements) {
      const body = stripLeadingComments(statement.text).replace(/;\s*$/, '');
      const created = /^CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?`?([A-Za-z0-9_]+)`?/i.exec(body);
      const set = /^SET\s+'([^']+)'\s*=\s*'([^']*)'$/i.exec(body);
      if (created) {
        tables.push({
          name: created[1]!,
          ddl: body,
          file,
          ...optionOf(body, 'topic', 'topic'),
          ...optionOf(body, 'connector', 'connector'),
        });
      } else if (set) {
        config[set[1]!] = set[2]!;
      } else if (/^INSERT\s+INTO\s/i.test(body)) {
        inserts.push({ file, text: body, config });
      } else {
        throw new OperationError(
          `templates/flink/${file}:${statement.line}: only CREATE TABLE, SET and INSERT belong here`,
          {
            hint: 'The bundled Flink templates are damaged: reinstall marketplace.',
          },
        );
      }
    }
  }
  const pipelines = inserts.map((insert): FlinkPipeline => {
    const name = /^INSERT\s+INTO\s+`?([A-Za-z0-9_]+)`?/i.exec(insert.text)![1]!;
    const used = tables.filter((table) => mentions(insert.text, table.name));
    const fingerprint = createHash('sha256')
      .update(JSON.stringify({ tables: used.map((t) => t.ddl), insert: insert.text, config: insert.config }))
      .digest('hex')
      .slice(0, 12);
    return {
      name,
      insert: insert.text,
      tables: used.map((table) => table.ddl),
      sources: used.filter((table) => table.name !== name).map((table) => table.name),
      config: insert.config,
      fingerprint,
      jobName: jobNameOf(name, fingerprint),
      file: insert.file,
    };
  });
  return { tables, pipelines };
}

/** A table's record-key column and its type, in ksqlDB's type names (BIGINT, STRING as VARCHAR). */
export function keyOf(table: FlinkTable): { name: string; type: string } | undefined {
  const name =
    /'key\.fields'\s*=\s*'([^';]+)'/.exec(table.ddl)?.[1] ?? /PRIMARY\s+KEY\s*\(\s*`?(\w+)`?/i.exec(table.ddl)?.[1];
  if (!name) return undefined;
  const type = new RegExp(`^\\s*\`?${name}\`?\\s+(\\w+)`, 'im').exec(table.ddl)?.[1]?.toUpperCase();
  return { name: name.toUpperCase(), type: type === 'STRING' ? 'VARCHAR' : (type ?? 'VARCHAR') };
}

function render(text: string, values: RenderValues): string {
  return text.replace(/\$\{bootstrapServers\}/g, values.bootstrapServers);
}

function optionOf<K extends string>(ddl: string, option: string, key: K): Partial<Record<K, string>> {
  const match = new RegExp(`'${option}'\\s*=\\s*'([^']*)'`).exec(ddl);
  return match ? ({ [key]: match[1] } as Partial<Record<K, string>>) : {};
}

/** Whether a statement names the table (as a word, outside of quotes it could be part of). */
function mentions(text: string, table: string): boolean {
  return new RegExp(`(?<![\\w'.])\`?${table}\`?(?![\\w'])`, 'i').test(text);
}
