import { ErrorCodes, KsqlError } from '../errors.js';

export type TokenType = 'word' | 'quoted' | 'string' | 'integer' | 'decimal' | 'double' | 'symbol' | 'eof';

export interface Token {
  type: TokenType;
  /** Source text of the token. */
  text: string;
  /** Identifier after case folding (unquoted → upper case), string contents, or the symbol. */
  value: string;
  line: number;
  column: number;
  offset: number;
  end: number;
}

const SYMBOLS = [
  '<>',
  '!=',
  '<=',
  '>=',
  '||',
  '=>',
  '->',
  '=',
  '<',
  '>',
  '+',
  '-',
  '*',
  '/',
  '%',
  '(',
  ')',
  ',',
  ';',
  '.',
  '[',
  ']',
  ':',
];

export class SqlSyntaxError extends KsqlError {
  constructor(
    readonly line: number,
    readonly column: number,
    detail: string,
  ) {
    super(ErrorCodes.badStatement, `line ${line}:${column}: ${detail}`);
  }
}

/** Splits SQL text into tokens, each with its 1-based line and column. Comments and whitespace are dropped. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const advanceTo = (target: number) => {
    for (; i < target; i++) {
      if (text[i] === '\n') {
        line++;
        lineStart = i + 1;
      }
    }
  };
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      advanceTo(i + 1);
      continue;
    }
    if (text.startsWith('--', i)) {
      const nl = text.indexOf('\n', i);
      advanceTo(nl < 0 ? text.length : nl);
      continue;
    }
    if (text.startsWith('/*', i)) {
      const close = text.indexOf('*/', i + 2);
      if (close < 0) throw new SqlSyntaxError(line, i - lineStart + 1, 'unterminated comment');
      advanceTo(close + 2);
      continue;
    }
    const startLine = line;
    const column = i - lineStart + 1;
    const offset = i;
    const push = (type: TokenType, value: string, end: number) => {
      tokens.push({ type, text: text.slice(offset, end), value, line: startLine, column, offset, end });
      advanceTo(end);
    };
    if (ch === "'") {
      let j = i + 1;
      let value = '';
      for (;;) {
        if (j >= text.length) throw new SqlSyntaxError(startLine, column, 'unterminated string literal');
        if (text[j] === "'") {
          if (text[j + 1] === "'") {
            value += "'";
            j += 2;
            continue;
          }
          break;
        }
        value += text[j];
        j++;
      }
      push('string', value, j + 1);
      continue;
    }
    if (ch === '`' || ch === '"') {
      const close = text.indexOf(ch, i + 1);
      if (close < 0) throw new SqlSyntaxError(startLine, column, 'unterminated quoted identifier');
      push('quoted', text.slice(i + 1, close), close + 1);
      continue;
    }
    if (/[0-9]/.test(ch) || (ch === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const match = /^(?:[0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?/.exec(text.slice(i))!;
      const literal = match[0];
      // ksqlDB's DIGIT_IDENTIFIER: a word that starts with a digit (`AS 1R`), when it runs longer than the number.
      const word = /^[0-9][A-Za-z0-9_@]+/.exec(text.slice(i))?.[0];
      if (word && word.length > literal.length) {
        push('word', word.toUpperCase(), i + word.length);
        continue;
      }
      const type: TokenType = match[2] ? 'double' : literal.includes('.') ? 'decimal' : 'integer';
      push(type, literal, i + literal.length);
      continue;
    }
    if (/[A-Za-z_]/.test(ch)) {
      const word = /^[A-Za-z_][A-Za-z0-9_@$]*/.exec(text.slice(i))![0];
      push('word', word.toUpperCase(), i + word.length);
      continue;
    }
    if (ch === '$' && text[i + 1] === '{') {
      throw new SqlSyntaxError(
        startLine,
        column,
        `undefined variable ${text.slice(i, text.indexOf('}', i) + 1 || undefined)}`,
      );
    }
    const symbol = SYMBOLS.find((s) => text.startsWith(s, i));
    if (!symbol) throw new SqlSyntaxError(startLine, column, `token recognition error at: '${ch}'`);
    push('symbol', symbol, i + symbol.length);
  }
  const lastLine = line;
  tokens.push({
    type: 'eof',
    text: '<EOF>',
    value: '<EOF>',
    line: lastLine,
    column: i - lineStart + 1,
    offset: i,
    end: i,
  });
  return tokens;
}

/** Replaces `${name}` with session variables, as ksqlDB does before parsing (values are inserted verbatim). */
export function substituteVariables(text: string, variables: ReadonlyMap<string, string>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => {
    const value = variables.get(name.toUpperCase());
    return value === undefined ? whole : value;
  });
}
