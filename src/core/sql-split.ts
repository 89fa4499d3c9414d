/**
 * Splits SQL text into single statements, remembering where each starts so that an error the server reports at a
 * position inside one statement can be shown as file:line:column. Quotes ('…' with '' escapes, `…`, "…") and
 * comments (-- and /* *\/) are respected, so a ';' inside them does not end a statement. ksqlDB and Flink SQL agree
 * on all of this, so both clients split with it.
 */
import { LineIndex } from './line-index.js';

export interface SqlStatement {
  /** The statement from its first token through its ';' (one is appended when the text ends without it). */
  text: string;
  /** 1-based line and column of the first token in the whole text. */
  line: number;
  column: number;
  /** Offset of the first token in the whole text. */
  offset: number;
}

export class SqlSplitError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
    this.name = 'SqlSplitError';
  }
}

export function splitStatements(sql: string): SqlStatement[] {
  const lines = new LineIndex(sql);
  const statements: SqlStatement[] = [];
  let start = -1;
  let i = 0;
  const begin = () => {
    if (start === -1) start = i;
  };
  while (i < sql.length) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end + 1;
      continue;
    }
    if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end === -1) throw unterminated(lines, i, 'comment');
      i = end + 2;
      continue;
    }
    if (c === "'" || c === '`' || c === '"') {
      begin();
      i = skipQuoted(sql, lines, i, c);
      continue;
    }
    if (c === ';') {
      if (start !== -1) statements.push(statementAt(sql, lines, start, i + 1));
      start = -1;
      i++;
      continue;
    }
    if (!/\s/.test(c)) begin();
    i++;
  }
  if (start !== -1) {
    const last = statementAt(sql, lines, start, sql.length);
    statements.push({ ...last, text: `${last.text.trimEnd()};` });
  }
  return statements;
}

/** The offset just past the quote that closes the one at `open` (a doubled quote is an escaped one). */
export function skipQuoted(sql: string, lines: LineIndex, open: number, quote: string): number {
  let i = open + 1;
  for (;;) {
    const close = sql.indexOf(quote, i);
    if (close === -1) break;
    if (sql[close + 1] !== quote) return close + 1;
    i = close + 2;
  }
  throw unterminated(lines, open, quote === "'" ? 'string' : 'quoted identifier');
}

function unterminated(lines: LineIndex, offset: number, what: string): SqlSplitError {
  const { line, column } = lines.positionOf(offset);
  return new SqlSplitError(`unterminated ${what}`, line, column);
}

function statementAt(sql: string, lines: LineIndex, start: number, end: number): SqlStatement {
  const { line, column } = lines.positionOf(start);
  return { text: sql.slice(start, end), line, column, offset: start };
}

/**
 * Maps a position the server reported relative to a statement's own text onto the whole file: only the first
 * line of the statement is shifted by its starting column.
 */
export function fileLocation(
  statement: SqlStatement,
  relative: { line: number; column: number },
): { line: number; column: number } {
  return relative.line === 1
    ? { line: statement.line, column: statement.column + relative.column - 1 }
    : { line: statement.line + relative.line - 1, column: relative.column };
}

/** The text from its first token: comments and blanks before it skipped. */
export function stripLeadingComments(text: string): string {
  let rest = text;
  for (;;) {
    const trimmed = rest.trimStart();
    if (trimmed.startsWith('--')) {
      const end = trimmed.indexOf('\n');
      rest = end === -1 ? '' : trimmed.slice(end + 1);
    } else if (trimmed.startsWith('/*')) {
      const end = trimmed.indexOf('*/');
      rest = end === -1 ? '' : trimmed.slice(end + 2);
    } else {
      return trimmed;
    }
  }
}
