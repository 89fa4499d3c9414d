import { InterruptedError, UserError } from '../core/errors.js';
import type { KsqlClient } from './client.js';
import type { KsqlEntity } from './entities.js';
import { isKsqlError, KsqlError, KsqlRequestError } from './errors.js';
import {
  parseDefine,
  parseSet,
  parseUndefine,
  parseUnset,
  statementKind,
  type SqlStatement,
  type StatementKind,
} from './statements.js';
import type { KsqlRow, StreamedQuery } from './streamed-query.js';
import { locateError, splitFile } from './templates.js';

export interface QueryOutcome {
  queryId: string | undefined;
  columnNames: string[];
  columnTypes: string[];
  /** Rows in column order, typed (BIGINT as bigint); empty unless rows were collected. */
  rows: unknown[][];
  rowCount: number;
  /** end: the server ended it (pull query, LIMIT); max-rows: we stopped it; interrupted: the signal fired. */
  endedBy: 'end' | 'max-rows' | 'interrupted';
}

export interface ScriptStep {
  statement: string;
  line: number;
  column: number;
  kind: StatementKind;
  entities?: KsqlEntity[];
  query?: QueryOutcome;
  /** What a client-side statement (DEFINE, SET…) did. */
  note?: string;
}

export interface RunScriptOptions {
  /** The file the text came from, as the user named it: errors then start with file:line:column. */
  file?: string;
  /** Stop each query after this many rows (closing a push query). */
  maxRows?: number;
  /** Keep rows in the result (for --json); otherwise only count them. */
  collectRows: boolean;
  onQueryStart?: (query: StreamedQuery, step: SqlStatement) => void;
  onRow?: (row: KsqlRow, query: StreamedQuery) => void;
  onStep?: (step: ScriptStep) => void;
  signal?: AbortSignal;
}

/**
 * Runs SQL the way the ksqlDB CLI does, one statement at a time: queries go to /query-stream, everything else to
 * /ksql, and DEFINE/UNDEFINE/SET/UNSET are kept by the client so they apply to the statements after them.
 */
export async function runScript(client: KsqlClient, sql: string, options: RunScriptOptions): Promise<ScriptStep[]> {
  const statements = await signalsFirst(options.signal, () => {
    const split = options.file ? splitFile(options.file, sql) : splitInline(sql);
    if (split.length === 0) {
      throw new UserError(options.file ? `${options.file} contains no statements` : 'no statement given', {
        hint: 'Statements end with a semicolon, e.g. "SHOW STREAMS;".',
      });
    }
    rejectUnknownStatements(split, options.file);
    return split;
  });
  const steps: ScriptStep[] = [];
  for (const statement of statements) {
    if (options.signal?.aborted) break;
    let step: ScriptStep;
    try {
      step = await runOne(client, statement, options);
    } catch (error) {
      if (error instanceof InterruptedError) {
        // Ctrl-C while ksqlDB had the statement: say how far the script got.
        throw new InterruptedError(
          `interrupted during statement ${steps.length + 1} of ${statements.length}; ${steps.length} ran before it`,
          { hint: 'The interrupted one may still have run on the server: check with `marketplace ksql list`.' },
        );
      }
      throw describeFailure(error, statement, options.file, steps.length);
    }
    steps.push(step);
    options.onStep?.(step);
  }
  return steps;
}

/**
 * Checking a script of many megabytes holds the event loop for a moment, so a Ctrl-C or SIGTERM that arrives
 * meanwhile is only seen after it: it then wins over whatever the check found.
 */
async function signalsFirst<T>(signal: AbortSignal | undefined, work: () => T): Promise<T> {
  let outcome: { value: T } | { error: unknown };
  try {
    outcome = { value: work() };
  } catch (error) {
    outcome = { error };
  }
  // A pending signal is dispatched in the event loop's poll phase. The work may itself have run in a poll callback
  // (the file read), whose loop turn goes on to the check phase without polling again: the second turn has polled.
  for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
  if (signal?.aborted) throw new InterruptedError('Interrupted before the first statement ran; nothing was run');
  if ('error' in outcome) throw outcome.error;
  return outcome.value;
}

async function runOne(client: KsqlClient, statement: SqlStatement, options: RunScriptOptions): Promise<ScriptStep> {
  const kind = statementKind(statement.text);
  const step: ScriptStep = { statement: statement.text, line: statement.line, column: statement.column, kind };
  switch (kind) {
    case 'define': {
      const parsed = parseDefine(statement.text);
      if (!parsed) throw clientSyntax("DEFINE needs the form DEFINE name = 'value';");
      client.define(parsed.name, parsed.value);
      return { ...step, note: `defined ${parsed.name}` };
    }
    case 'undefine': {
      const name = parseUndefine(statement.text);
      if (!name) throw clientSyntax('UNDEFINE needs the form UNDEFINE name;');
      client.undefine(name);
      return { ...step, note: `undefined ${name}` };
    }
    case 'set': {
      const parsed = parseSet(statement.text);
      if (!parsed) throw clientSyntax("SET needs the form SET 'property' = 'value';");
      client.setProperty(parsed.name, parsed.value);
      return { ...step, note: `set ${parsed.name} = ${parsed.value}` };
    }
    case 'unset': {
      const name = parseUnset(statement.text);
      if (!name) throw clientSyntax("UNSET needs the form UNSET 'property';");
      client.unsetProperty(name);
      return { ...step, note: `unset ${name}` };
    }
    case 'print':
      throw new UserError('PRINT is not supported here', {
        hint: 'Query the stream instead: SELECT * FROM <stream> EMIT CHANGES;',
      });
    case 'query':
      return { ...step, query: await runQuery(client, statement, options) };
    case 'statement':
      return { ...step, entities: await client.executeStatements(statement.text) };
  }
}

async function runQuery(client: KsqlClient, statement: SqlStatement, options: RunScriptOptions): Promise<QueryOutcome> {
  const query = await client.streamQuery(statement.text);
  options.onQueryStart?.(query, statement);
  let endedBy: QueryOutcome['endedBy'] = 'end';
  const onAbort = () => {
    endedBy = 'interrupted';
    void query.close();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const rows: unknown[][] = [];
  try {
    if (options.signal?.aborted) onAbort();
    for await (const row of query) {
      if (options.collectRows) rows.push([...row.values]);
      options.onRow?.(row, query);
      if (options.maxRows !== undefined && query.rowsRead >= options.maxRows) {
        endedBy = 'max-rows';
        break;
      }
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await query.close();
  }
  return {
    queryId: query.queryId,
    columnNames: query.columnNames,
    columnTypes: query.columnTypes,
    rows,
    rowCount: query.rowsRead,
    endedBy,
  };
}

/** The words a ksqlDB statement (or a client-side one such as DEFINE) can start with. */
const STATEMENT_WORDS = new Set([
  'ALTER',
  'ASSERT',
  'CREATE',
  'DEFINE',
  'DESCRIBE',
  'DROP',
  'EXPLAIN',
  'INSERT',
  'LIST',
  'PAUSE',
  'PRINT',
  'RESUME',
  'RUN',
  'SELECT',
  'SET',
  'SHOW',
  'TERMINATE',
  'UNDEFINE',
  'UNSET',
]);

/**
 * A misspelt statement anywhere in a script is caught before the first one runs, so a typo on line 40 does not leave
 * the statements above it applied. (Errors past the first word can only come from the server, statement by statement.)
 */
function rejectUnknownStatements(statements: SqlStatement[], file: string | undefined): void {
  for (const statement of statements) {
    const word = /^\s*([A-Za-z_][A-Za-z0-9_]*)/.exec(stripComments(statement.text))?.[1];
    if (word && STATEMENT_WORDS.has(word.toUpperCase())) continue;
    const where = file ? `${file}:${statement.line}:${statement.column}: ` : '';
    const shown = word ?? statement.text.trim().slice(0, 20);
    throw new UserError(`${where}unknown statement '${shown}'; nothing was run`, {
      hint: `A statement starts with one of ${[...STATEMENT_WORDS].slice(0, 6).join(', ')}, …; fix it and run again.`,
    });
  }
}

function stripComments(text: string): string {
  return text.replace(/^(\s*(--[^\n]*(\n|$)|\/\*[\s\S]*?\*\/))*/, '');
}

function splitInline(sql: string): SqlStatement[] {
  return splitFile('statement', sql);
}

function clientSyntax(message: string): KsqlRequestError {
  return new KsqlRequestError(message, { errorCode: 40001, serverMessage: message });
}

/** file:line:column (or the statement itself) in front of the error, and what already ran. */
function describeFailure(
  error: unknown,
  statement: SqlStatement,
  file: string | undefined,
  ranBefore: number,
): unknown {
  if (!isKsqlError(error)) return error;
  const located = (file ? locateError(error, file, statement) : error) as KsqlError | KsqlRequestError;
  const snippet = statement.text.replace(/\s+/g, ' ').trim();
  const shown = snippet.length > 70 ? `${snippet.slice(0, 69)}…` : snippet;
  const message = `${located.message} [in: ${shown}]`;
  const ranNote = ranBefore > 0 ? ` The ${ranBefore} statement(s) before it ran.` : '';
  const init = {
    errorCode: located.errorCode,
    httpStatus: located.httpStatus,
    serverMessage: located.serverMessage,
    statementText: located.statementText ?? statement.text,
    hint: `${located.hint ?? 'Fix the statement and run it again.'}${ranNote}`,
    cause: error,
  };
  return located instanceof KsqlRequestError ? new KsqlRequestError(message, init) : new KsqlError(message, init);
}
