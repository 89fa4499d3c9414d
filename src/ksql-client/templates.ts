import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OperationError, UserError } from '../core/errors.js';
import type { KsqlClient } from './client.js';
import { isEntity, type KsqlEntity } from './entities.js';
import { isKsqlError, KsqlError, KsqlRequestError, oneLine } from './errors.js';
import {
  createdSource,
  fileLocation,
  reportedPosition,
  splitStatements,
  SqlSplitError,
  type SqlStatement,
} from './statements.js';

/** templates/ksql of the installed package: found from this module's location, so any working directory works. */
export const TEMPLATES_DIR = fileURLToPath(new URL('../../templates/ksql/', import.meta.url));

export interface AppliedStatement {
  file: string;
  line: number;
  kind: 'STREAM' | 'TABLE' | undefined;
  name: string | undefined;
  outcome: 'created' | 'existing' | 'ran';
  queryId?: string;
}

export interface ApplyResult {
  statements: AppliedStatement[];
  created: string[];
  existing: string[];
}

export interface ApplyOptions {
  dir?: string;
  /** Called after each statement, for progress output. */
  onStatement?: (statement: AppliedStatement) => void;
}

/**
 * Runs templates/ksql/*.sql in file-name order, one statement per request so a failure names its file and line.
 * The templates use IF NOT EXISTS, so a second run changes nothing; queries start from the earliest offset so
 * data already in the topics is processed.
 */
export async function applyTemplates(client: KsqlClient, options: ApplyOptions = {}): Promise<ApplyResult> {
  const dir = options.dir ?? TEMPLATES_DIR;
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (error) {
    throw new UserError(
      `cannot read the statements directory ${dir} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      {
        hint: 'Give a directory of .sql files, or leave --dir out to apply the bundled templates.',
      },
    );
  }
  const files = names.filter((name) => name.endsWith('.sql')).sort();
  if (files.length === 0) {
    throw new OperationError(`no .sql templates in ${dir}`, {
      hint: 'Reinstall marketplace; its templates/ksql folder is missing.',
    });
  }
  const before = new Set(
    [...(await client.listStreams()), ...(await client.listTables())].map((source) => source.name),
  );
  const result: ApplyResult = { statements: [], created: [], existing: [] };
  for (const file of files) {
    const path = join(dir, file);
    const shownAs = dir === TEMPLATES_DIR ? `templates/ksql/${file}` : path;
    const statements = splitFile(shownAs, await fs.readFile(path, 'utf8'));
    for (const statement of statements) {
      const applied = await applyOne(client, shownAs, statement, before);
      result.statements.push(applied);
      if (applied.name && applied.outcome === 'created') result.created.push(applied.name);
      if (applied.name && applied.outcome === 'existing') result.existing.push(applied.name);
      options.onStatement?.(applied);
    }
  }
  return result;
}

async function applyOne(
  client: KsqlClient,
  path: string,
  statement: SqlStatement,
  before: Set<string>,
): Promise<AppliedStatement> {
  const source = createdSource(statement.text);
  const base = { file: path, line: statement.line, kind: source?.kind, name: source?.name };
  let entities: KsqlEntity[];
  try {
    entities = await client.executeStatements(statement.text, { properties: { 'auto.offset.reset': 'earliest' } });
  } catch (error) {
    throw locateError(error, path, statement);
  }
  const entity = entities[0];
  if (source && (before.has(source.name) || entity?.['@type'] === 'warning_entity'))
    return { ...base, outcome: 'existing' };
  const queryId = entity && isEntity(entity, 'currentStatus') ? (entity.commandStatus.queryId ?? undefined) : undefined;
  return { ...base, outcome: source ? 'created' : 'ran', ...(queryId ? { queryId } : {}) };
}

/** Splits a file's statements; an unterminated quote or comment is reported at its file:line:column. */
export function splitFile(shownAs: string, text: string): SqlStatement[] {
  try {
    return splitStatements(text);
  } catch (error) {
    if (error instanceof SqlSplitError) {
      throw new KsqlRequestError(`${shownAs}:${error.line}:${error.column}: ${error.message}`, {
        errorCode: 40001,
        serverMessage: error.message,
        hint: 'Close the quote or comment.',
      });
    }
    throw error;
  }
}

/** Re-words a ksqlDB error so it starts with file:line:column of the statement (or of the reported position). */
export function locateError(error: unknown, shownAs: string, statement: SqlStatement): unknown {
  if (!isKsqlError(error)) return error;
  const reported = reportedPosition(error.serverMessage);
  const where = reported ? fileLocation(statement, reported) : { line: statement.line, column: statement.column };
  const message = `${shownAs}:${where.line}:${where.column}: ${oneLine(error.message.replace(/\bline \d+:\d+:\s*/, ''))}`;
  const init = {
    errorCode: error.errorCode,
    httpStatus: error.httpStatus,
    serverMessage: error.serverMessage,
    statementText: error.statementText ?? statement.text,
    hint: error.hint,
    cause: error,
  };
  return error instanceof KsqlRequestError ? new KsqlRequestError(message, init) : new KsqlError(message, init);
}
