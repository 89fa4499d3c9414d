/**
 * JSON that keeps ksqlDB's 64-bit integers exact. `JSON.parse` rounds every number to a double, so a BIGINT such as
 * 9007199254740993 would silently become 9007199254740992; this parser hands each number's source text to a reviver.
 */

/** A number exactly as it was written on the wire, for callers that decide its type later (by column type). */
export class NumberToken {
  constructor(readonly raw: string) {}

  get isInteger(): boolean {
    return !/[.eE]/.test(this.raw);
  }
}

export type NumberReviver = (raw: string) => unknown;

/** Integers outside ±(2^53−1) become bigint; everything else a JS number. */
export const exactNumber: NumberReviver = (raw) => {
  if (!/[.eE]/.test(raw)) {
    const value = Number(raw);
    return Number.isSafeInteger(value) ? value : BigInt(raw);
  }
  return Number(raw);
};

export const numberToken: NumberReviver = (raw) => new NumberToken(raw);

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`${message} at position ${position}`);
    this.name = 'JsonSyntaxError';
  }
}

export function parseJson(text: string, reviveNumber: NumberReviver = exactNumber): unknown {
  let pos = 0;

  const skipWhitespace = () => {
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++;
      else break;
    }
  };

  const fail = (what: string): never => {
    throw new JsonSyntaxError(pos >= text.length ? 'unexpected end of JSON' : `${what}, found '${text[pos]}'`, pos);
  };

  const parseString = (): string => {
    const start = pos; // at the opening quote
    pos++;
    let escaped = false;
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c === 0x5c) {
        escaped = true;
        pos += 2;
        continue;
      }
      if (c === 0x22) {
        pos++;
        const literal = text.slice(start, pos);
        if (!escaped) return literal.slice(1, -1);
        try {
          return JSON.parse(literal) as string;
        } catch {
          throw new JsonSyntaxError('invalid string escape', start);
        }
      }
      if (c < 0x20) throw new JsonSyntaxError('control character in string', pos);
      pos++;
    }
    return fail('unterminated string');
  };

  const parseValue = (): unknown => {
    skipWhitespace();
    const c = text[pos];
    switch (c) {
      case '{': {
        pos++;
        const object: Record<string, unknown> = {};
        skipWhitespace();
        if (text[pos] === '}') {
          pos++;
          return object;
        }
        for (;;) {
          skipWhitespace();
          if (text[pos] !== '"') fail('expected a property name');
          const key = parseString();
          skipWhitespace();
          if (text[pos] !== ':') fail("expected ':'");
          pos++;
          const value = parseValue();
          // A key named __proto__ must stay an ordinary property, as with JSON.parse.
          Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
          skipWhitespace();
          if (text[pos] === ',') {
            pos++;
            continue;
          }
          if (text[pos] === '}') {
            pos++;
            return object;
          }
          fail("expected ',' or '}'");
        }
      }
      case '[': {
        pos++;
        const array: unknown[] = [];
        skipWhitespace();
        if (text[pos] === ']') {
          pos++;
          return array;
        }
        for (;;) {
          array.push(parseValue());
          skipWhitespace();
          if (text[pos] === ',') {
            pos++;
            continue;
          }
          if (text[pos] === ']') {
            pos++;
            return array;
          }
          fail("expected ',' or ']'");
        }
      }
      case '"':
        return parseString();
      case 't':
        return literal('true', true);
      case 'f':
        return literal('false', false);
      case 'n':
        return literal('null', null);
      default: {
        NUMBER.lastIndex = pos;
        const match = NUMBER.exec(text);
        if (!match) return fail('expected a JSON value');
        pos += match[0].length;
        return reviveNumber(match[0]);
      }
    }
  };

  const literal = (word: string, value: unknown): unknown => {
    if (!text.startsWith(word, pos)) fail(`expected ${word}`);
    pos += word.length;
    return value;
  };

  const value = parseValue();
  skipWhitespace();
  if (pos < text.length) fail('unexpected text after the JSON value');
  return value;
}

/** JSON.stringify that writes bigint as a plain JSON number (ksqlDB reads it as a long), not a thrown TypeError. */
export function stringifyJson(value: unknown): string {
  const out = write(value);
  if (out === undefined) throw new TypeError('value is not representable as JSON');
  return out;
}

function write(value: unknown): string | undefined {
  switch (typeof value) {
    case 'bigint':
      return value.toString();
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return 'null';
  if (value instanceof NumberToken) return value.raw;
  if (Array.isArray(value)) return `[${value.map((item) => write(item) ?? 'null').join(',')}]`;
  const withToJson = value as { toJSON?: () => unknown };
  if (typeof withToJson.toJSON === 'function') return write(withToJson.toJSON());
  const parts: string[] = [];
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    const encoded = write(item);
    if (encoded !== undefined) parts.push(`${JSON.stringify(key)}:${encoded}`);
  }
  return `{${parts.join(',')}}`;
}
