import { LineIndex } from './line-index.js';

/**
 * A small JSON parser for config files that knows where things are: syntax errors carry line and column (Node 20's
 * JSON.parse often reports neither), and the line of every top-level key is kept so config errors point at file:line.
 * It is stricter than JSON.parse where leniency would be dangerous in a config file: a key given twice, a key that
 * reaches an object's prototype (__proto__, constructor, prototype), and a number too large to represent are
 * refused (JsonRejectedError). A leading byte
 * order mark is ignored, as editors do.
 */

export interface ParsedJson {
  value: unknown;
  /** Line (1-based) of each top-level key. */
  keyLines: Map<string, number>;
}

export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
  }
}

/** Valid JSON that a config file must not hold; `hint` says what to change. */
export class JsonRejectedError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
    readonly hint: string,
  ) {
    super(message);
  }
}

/** Keys that would reach an object's prototype if a later reader copied the object into a plain one. */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Deeper than any config needs, and far from the recursion limit of the parser. */
const MAX_DEPTH = 200;

const NUMBER = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

export function parseJsonWithLines(text: string): ParsedJson {
  const parser = new Parser(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  const value = parser.document();
  return { value, keyLines: parser.keyLines };
}

class Parser {
  readonly keyLines = new Map<string, number>();
  private pos = 0;
  private depth = 0;
  private readonly lines: LineIndex;

  constructor(private readonly text: string) {
    this.lines = new LineIndex(text);
  }

  document(): unknown {
    this.skipSpace();
    const value = this.value();
    this.skipSpace();
    if (this.pos < this.text.length) this.fail(`unexpected ${this.describeHere()} after the end of the JSON value`);
    return value;
  }

  private value(): unknown {
    this.skipSpace();
    const ch = this.text[this.pos];
    if (ch === '{') return this.object();
    if (ch === '[') return this.array();
    if (ch === '"') return this.string();
    if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) return this.number();
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return value;
      }
    }
    return this.fail(`unexpected ${this.describeHere()} where a value was expected (strings need double quotes)`);
  }

  private object(): Record<string, unknown> {
    this.pos++;
    if (++this.depth > MAX_DEPTH) this.fail(`nested more than ${MAX_DEPTH} levels deep`);
    const result: Record<string, unknown> = {};
    const keyLines = new Map<string, number>();
    this.skipSpace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      this.depth--;
      return result;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] !== '"') this.fail(`expected a "quoted" key, found ${this.describeHere()}`);
      const keyAt = this.pos;
      const keyLine = this.lines.positionOf(keyAt).line;
      const key = this.string();
      this.checkKey(key, keyAt, keyLines.get(key));
      keyLines.set(key, keyLine);
      if (this.depth === 1) this.keyLines.set(key, keyLine);
      this.skipSpace();
      if (this.text[this.pos] !== ':') this.fail(`expected ':' after "${key}", found ${this.describeHere()}`);
      this.pos++;
      result[key] = this.value();
      this.skipSpace();
      const next = this.text[this.pos];
      this.pos++;
      if (next === '}') break;
      if (next !== ',') {
        this.pos--;
        this.fail(`expected ',' or '}', found ${this.describeHere()}`);
      }
      this.skipSpace();
      if (this.text[this.pos] === '}') this.fail('trailing comma before }');
    }
    this.depth--;
    return result;
  }

  private array(): unknown[] {
    this.pos++;
    if (++this.depth > MAX_DEPTH) this.fail(`nested more than ${MAX_DEPTH} levels deep`);
    const result: unknown[] = [];
    this.skipSpace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      this.depth--;
      return result;
    }
    for (;;) {
      result.push(this.value());
      this.skipSpace();
      const next = this.text[this.pos];
      this.pos++;
      if (next === ']') break;
      if (next !== ',') {
        this.pos--;
        this.fail(`expected ',' or ']', found ${this.describeHere()}`);
      }
    }
    this.depth--;
    return result;
  }

  private string(): string {
    const start = this.pos;
    this.pos++;
    while (this.pos < this.text.length && this.text[this.pos] !== '"') {
      if (this.text[this.pos] === '\n') this.fail('unterminated string', start);
      if (this.text[this.pos] === '\\') this.pos++;
      this.pos++;
    }
    if (this.pos >= this.text.length) this.fail('unterminated string', start);
    this.pos++;
    try {
      return JSON.parse(this.text.slice(start, this.pos)) as string;
    } catch {
      return this.fail('invalid escape in string', start);
    }
  }

  private checkKey(key: string, at: number, earlierLine: number | undefined): void {
    if (RESERVED_KEYS.has(key)) {
      this.reject(`the key "${key}" is not allowed`, at, `Remove "${key}": it is not a setting.`);
    }
    if (earlierLine !== undefined) {
      const { line } = this.lines.positionOf(at);
      this.reject(
        `"${key}" is given twice, on lines ${earlierLine} and ${line}`,
        at,
        `Keep one "${key}" and delete the other, so it is clear which value applies.`,
      );
    }
  }

  private number(): number {
    NUMBER.lastIndex = this.pos;
    const match = NUMBER.exec(this.text);
    if (!match) return this.fail(`invalid number`);
    const value = Number(match[0]);
    if (!Number.isFinite(value)) {
      const hint = 'Write the number the setting expects (see "Configuration reference" in the README).';
      this.reject(`the number ${shorten(match[0])} is too large`, this.pos, hint);
    }
    this.pos += match[0].length;
    return value;
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && ' \t\r\n'.includes(this.text[this.pos]!)) this.pos++;
  }

  private describeHere(): string {
    if (this.pos >= this.text.length) return 'end of file';
    return `'${this.text[this.pos]}'`;
  }

  private fail(message: string, at = this.pos): never {
    const { line, column } = this.lines.positionOf(at);
    throw new JsonSyntaxError(message, line, column);
  }

  private reject(message: string, at: number, hint: string): never {
    const { line, column } = this.lines.positionOf(at);
    throw new JsonRejectedError(message, line, column, hint);
  }
}

function shorten(text: string): string {
  return text.length > 24 ? `${text.slice(0, 20)}…` : text;
}
