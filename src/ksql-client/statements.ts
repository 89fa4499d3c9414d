/**
 * ksqlDB's statements: splitting (shared with Flink SQL, in core/sql-split.ts), error positions and what each kind
 * of statement needs from the client.
 */
import { stripLeadingComments } from '../core/sql-split.js';

export {
  fileLocation,
  skipQuoted,
  splitStatements,
  SqlSplitError,
  type SqlStatement,
} from '../core/sql-split.js';

/** "line 3:17: mismatched input …" — the position prefix ksqlDB puts on parse errors. */
export function reportedPosition(message: string): { line: number; column: number } | undefined {
  const match = /\bline (\d+):(\d+)\b/.exec(message);
  return match ? { line: Number(match[1]), column: Number(match[2]) } : undefined;
}

export type StatementKind = 'query' | 'print' | 'define' | 'undefine' | 'set' | 'unset' | 'statement';

/** What the client has to do with a statement: queries and PRINT go to /query-stream, variables stay client-side. */
export function statementKind(text: string): StatementKind {
  const word = /^\s*([A-Za-z]+)/.exec(stripLeadingComments(text))?.[1]?.toUpperCase();
  switch (word) {
    case 'SELECT':
      return 'query';
    case 'PRINT':
      return 'print';
    case 'DEFINE':
      return 'define';
    case 'UNDEFINE':
      return 'undefine';
    case 'SET':
      return 'set';
    case 'UNSET':
      return 'unset';
    default:
      return 'statement';
  }
}

/** `DEFINE name = 'value';` → {name, value}; quotes in the value are doubled in SQL. */
export function parseDefine(text: string): { name: string; value: string } | undefined {
  const match = /^\s*DEFINE\s+([A-Za-z_][A-Za-z0-9_]*)\s*=\s*'((?:[^']|'')*)'\s*;?\s*$/i.exec(
    stripLeadingComments(text),
  );
  return match ? { name: match[1]!, value: match[2]!.replace(/''/g, "'") } : undefined;
}

export function parseUndefine(text: string): string | undefined {
  return /^\s*UNDEFINE\s+([A-Za-z_][A-Za-z0-9_]*)\s*;?\s*$/i.exec(stripLeadingComments(text))?.[1];
}

/** `SET 'prop' = 'value';` → {name, value}. */
export function parseSet(text: string): { name: string; value: string } | undefined {
  const match = /^\s*SET\s+'((?:[^']|'')+)'\s*=\s*'((?:[^']|'')*)'\s*;?\s*$/i.exec(stripLeadingComments(text));
  return match ? { name: match[1]!.replace(/''/g, "'"), value: match[2]!.replace(/''/g, "'") } : undefined;
}

export function parseUnset(text: string): string | undefined {
  const match = /^\s*UNSET\s+'((?:[^']|'')+)'\s*;?\s*$/i.exec(stripLeadingComments(text));
  return match ? match[1]!.replace(/''/g, "'") : undefined;
}

/** The source a CREATE statement defines: `CREATE [OR REPLACE] STREAM|TABLE [IF NOT EXISTS] name …`. */
export function createdSource(text: string): { kind: 'STREAM' | 'TABLE'; name: string } | undefined {
  const match =
    /^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:SOURCE\s+)?(STREAM|TABLE)\s+(?:IF\s+NOT\s+EXISTS\s+)?(`(?:[^`]|``)+`|"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_@]*)/i.exec(
      stripLeadingComments(text),
    );
  if (!match) return undefined;
  const raw = match[2]!;
  const name = raw.startsWith('`') || raw.startsWith('"') ? raw.slice(1, -1) : raw.toUpperCase();
  return { kind: match[1]!.toUpperCase() as 'STREAM' | 'TABLE', name };
}
