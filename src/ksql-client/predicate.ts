import { LineIndex } from '../core/line-index.js';
import { SqlSplitError, skipQuoted } from './statements.js';

/**
 * A predicate the user gives to be pasted after WHERE (`tail --where`). It must stay one boolean expression: no ';'
 * (a second statement), no comment (it would swallow the EMIT CHANGES after it), balanced parentheses, closed quotes,
 * and none of the clauses that would end the WHERE and start another part of the query.
 */
export interface PredicateProblem {
  reason: string;
  /** 1-based column in the predicate. */
  column: number;
}

const CLAUSE_WORDS = new Set([
  'SELECT',
  'FROM',
  'WHERE',
  'EMIT',
  'LIMIT',
  'GROUP',
  'PARTITION',
  'WINDOW',
  'HAVING',
  'JOIN',
  'INSERT',
  'CREATE',
  'DROP',
  'TERMINATE',
]);

export function predicateProblem(text: string): PredicateProblem | undefined {
  if (text.trim() === '') return { reason: 'it is empty', column: 1 };
  const lines = new LineIndex(text);
  const opened: number[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const pair = text.slice(i, i + 2);
    if (c === "'" || c === '`' || c === '"') {
      try {
        i = skipQuoted(text, lines, i, c);
      } catch (error) {
        if (!(error instanceof SqlSplitError)) throw error;
        return { reason: `the ${c} opened here is never closed`, column: i + 1 };
      }
      continue;
    }
    if (c === ';') return { reason: "';' would end the query and start another statement", column: i + 1 };
    if (pair === '--' || pair === '/*') {
      return { reason: `a comment (${pair}) would hide the rest of the query`, column: i + 1 };
    }
    if (c === '(') opened.push(i);
    if (c === ')' && opened.pop() === undefined) return { reason: "')' closes nothing", column: i + 1 };
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))?.[0];
    if (word) {
      if (CLAUSE_WORDS.has(word.toUpperCase())) {
        return { reason: `${word.toUpperCase()} would end the WHERE clause`, column: i + 1 };
      }
      i += word.length;
      continue;
    }
    i++;
  }
  const unclosed = opened.pop();
  return unclosed === undefined ? undefined : { reason: "the '(' opened here is never closed", column: unclosed + 1 };
}
