import { NumberToken, exactNumber } from '../json/exact-json.js';

/**
 * The column types a /query-stream header announces ("BIGINT", "DECIMAL(4, 2)", "ARRAY<STRING>",
 * "MAP<STRING, BIGINT>", "STRUCT<`F1` STRING, `F2` BIGINT>"), parsed so that row values can be typed exactly:
 * BIGINT → bigint (always, so the type does not depend on the magnitude), DECIMAL → its exact decimal text,
 * INTEGER/DOUBLE → number.
 */
export type ColumnType =
  | { kind: 'ARRAY'; items: ColumnType }
  | { kind: 'MAP'; keys: ColumnType; values: ColumnType }
  | { kind: 'STRUCT'; fields: { name: string; type: ColumnType }[] }
  | { kind: 'DECIMAL'; precision: number; scale: number }
  | { kind: 'SCALAR'; name: string };

export function parseColumnType(text: string): ColumnType {
  let pos = 0;
  const skip = () => {
    while (pos < text.length && /\s/.test(text[pos]!)) pos++;
  };
  const expect = (char: string) => {
    skip();
    if (text[pos] !== char) throw new Error(`bad column type "${text}": expected '${char}' at ${pos}`);
    pos++;
  };
  const word = (): string => {
    skip();
    const match = /[A-Za-z_][A-Za-z0-9_]*/y;
    match.lastIndex = pos;
    const found = match.exec(text);
    if (!found) throw new Error(`bad column type "${text}": expected a type name at ${pos}`);
    pos += found[0].length;
    return found[0];
  };
  const integer = (): number => {
    skip();
    const match = /\d+/y;
    match.lastIndex = pos;
    const found = match.exec(text);
    if (!found) throw new Error(`bad column type "${text}": expected a number at ${pos}`);
    pos += found[0].length;
    return Number(found[0]);
  };
  const fieldName = (): string => {
    skip();
    if (text[pos] !== '`') return word();
    let name = '';
    pos++;
    while (pos < text.length) {
      if (text[pos] === '`') {
        if (text[pos + 1] === '`') {
          name += '`';
          pos += 2;
          continue;
        }
        pos++;
        return name;
      }
      name += text[pos++];
    }
    throw new Error(`bad column type "${text}": unterminated field name`);
  };
  const parse = (): ColumnType => {
    const name = word().toUpperCase();
    skip();
    switch (name) {
      case 'ARRAY': {
        expect('<');
        const items = parse();
        expect('>');
        return { kind: 'ARRAY', items };
      }
      case 'MAP': {
        expect('<');
        const keys = parse();
        expect(',');
        const values = parse();
        expect('>');
        return { kind: 'MAP', keys, values };
      }
      case 'STRUCT': {
        expect('<');
        const fields: { name: string; type: ColumnType }[] = [];
        skip();
        if (text[pos] === '>') {
          pos++;
          return { kind: 'STRUCT', fields };
        }
        for (;;) {
          const field = fieldName();
          fields.push({ name: field, type: parse() });
          skip();
          if (text[pos] === ',') {
            pos++;
            continue;
          }
          expect('>');
          return { kind: 'STRUCT', fields };
        }
      }
      case 'DECIMAL': {
        if (text[pos] !== '(') return { kind: 'DECIMAL', precision: 0, scale: 0 };
        expect('(');
        const precision = integer();
        expect(',');
        const scale = integer();
        expect(')');
        return { kind: 'DECIMAL', precision, scale };
      }
      default:
        return { kind: 'SCALAR', name: name === 'VARCHAR' ? 'STRING' : name === 'INT' ? 'INTEGER' : name };
    }
  };
  const type = parse();
  skip();
  if (pos !== text.length) throw new Error(`bad column type "${text}": unexpected text at ${pos}`);
  return type;
}

/** Parses a column type, falling back to "keep the value as sent, numbers exact" for a type this client does not know. */
export function columnTypeOrAny(text: string): ColumnType {
  try {
    return parseColumnType(text);
  } catch {
    return { kind: 'SCALAR', name: 'ANY' };
  }
}

/** Turns a value parsed with `numberToken` into the JS value for its column type. */
export function typeValue(value: unknown, type: ColumnType): unknown {
  if (value === null || value === undefined) return null;
  switch (type.kind) {
    case 'ARRAY':
      return Array.isArray(value) ? value.map((item) => typeValue(item, type.items)) : untypedValue(value);
    case 'MAP': {
      if (!isPlainObject(value)) return untypedValue(value);
      const map: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) defineField(map, key, typeValue(item, type.values));
      return map;
    }
    case 'STRUCT': {
      if (!isPlainObject(value)) return untypedValue(value);
      const struct: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        const field =
          type.fields.find((f) => f.name === key) ??
          type.fields.find((f) => f.name.toUpperCase() === key.toUpperCase());
        defineField(struct, key, field ? typeValue(item, field.type) : untypedValue(item));
      }
      return struct;
    }
    case 'DECIMAL':
      return value instanceof NumberToken ? value.raw : typeof value === 'string' ? value : untypedValue(value);
    case 'SCALAR':
      return typeScalar(value, type.name);
  }
}

function typeScalar(value: unknown, name: string): unknown {
  if (!(value instanceof NumberToken)) {
    if (name === 'BIGINT' && typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
    return untypedValue(value);
  }
  switch (name) {
    case 'BIGINT':
      return value.isInteger ? BigInt(value.raw) : BigInt(Math.trunc(Number(value.raw)));
    case 'INTEGER':
    case 'DOUBLE':
    case 'DATE':
    case 'TIME':
    case 'TIMESTAMP':
      return Number(value.raw);
    default:
      return exactNumber(value.raw);
  }
}

/** Values of unknown shape: NumberTokens become exact numbers (bigint only beyond 2^53), containers recurse. */
export function untypedValue(value: unknown): unknown {
  if (value instanceof NumberToken) return exactNumber(value.raw);
  if (Array.isArray(value)) return value.map(untypedValue);
  if (isPlainObject(value)) {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) defineField(copy, key, untypedValue(item));
    return copy;
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof NumberToken);
}

function defineField(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
