/**
 * A small JSON parser for config files that knows where things are: syntax errors carry line and column (Node 20's
 * JSON.parse often reports neither), and the line of every top-level key is kept so config errors point at file:line.
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

export function parseJsonWithLines(text: string): ParsedJson {
  const parser = new Parser(text);
  const value = parser.document();
  return { value, keyLines: parser.keyLines };
}

export function lineColumnAt(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

class Parser {
  readonly keyLines = new Map<string, number>();
  private pos = 0;
  private depth = 0;

  constructor(private readonly text: string) {}

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
    for (const [word, value] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return value;
      }
    }
    return this.fail(`unexpected ${this.describeHere()} where a value was expected (strings need double quotes)`);
  }

  private object(): Record<string, unknown> {
    this.pos++;
    this.depth++;
    const result: Record<string, unknown> = {};
    this.skipSpace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      this.depth--;
      return result;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] !== '"') this.fail(`expected a "quoted" key, found ${this.describeHere()}`);
      const keyLine = lineColumnAt(this.text, this.pos).line;
      const key = this.string();
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
    this.depth++;
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
      if (this.text[this.pos] === '\n') this.fail('unterminated string');
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

  private number(): number {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.text.slice(this.pos));
    if (!match) return this.fail(`invalid number`);
    this.pos += match[0].length;
    return Number(match[0]);
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && ' \t\r\n'.includes(this.text[this.pos]!)) this.pos++;
  }

  private describeHere(): string {
    if (this.pos >= this.text.length) return 'end of file';
    return `'${this.text[this.pos]}'`;
  }

  private fail(message: string, at = this.pos): never {
    const { line, column } = lineColumnAt(this.text, Math.min(at, this.text.length));
    throw new JsonSyntaxError(message, line, column);
  }
}
