import { NumberToken, exactNumber, numberToken, parseJson, stringifyJson } from '../../json/exact-json.js';
import { Decimal, DecimalArithmeticError, ensureFit, toDecimal } from '../sql/decimal.js';
import { javaDoubleToString } from '../sql/numbers.js';
import { containsDecimal, type SqlType } from '../sql/types.js';
import { exactLong, parseJsonExact, stringifyExact } from './exact-json.js';
import type { SourceColumn } from './source.js';

/** Why a record could not be deserialized; ksqlDB skips such records and logs them. */
export class DeserializationError extends Error {}

/** KAFKA key format: BIGINT as 8 bytes big-endian, INTEGER as 4, DOUBLE as IEEE 754, VARCHAR as raw UTF-8. */
export function serializeKafkaKey(type: SqlType, value: unknown): Buffer | null {
  if (value == null) return null;
  switch (type.kind) {
    case 'BIGINT': {
      const buffer = Buffer.alloc(8);
      buffer.writeBigInt64BE(typeof value === 'bigint' ? value : BigInt(Math.trunc(value as number)));
      return buffer;
    }
    case 'INTEGER': {
      const buffer = Buffer.alloc(4);
      buffer.writeInt32BE(value as number);
      return buffer;
    }
    case 'DOUBLE': {
      const buffer = Buffer.alloc(8);
      buffer.writeDoubleBE(value as number);
      return buffer;
    }
    case 'BOOLEAN':
      return Buffer.from([value ? 1 : 0]);
    default:
      return Buffer.from(String(value), 'utf8');
  }
}

export function deserializeKafkaKey(type: SqlType, bytes: Buffer | null): unknown {
  if (bytes == null) return null;
  switch (type.kind) {
    case 'BIGINT':
      if (bytes.length !== 8) throw new DeserializationError(`Size of data received by LongDeserializer is not 8`);
      return exactLong(bytes.readBigInt64BE());
    case 'INTEGER':
      if (bytes.length !== 4) throw new DeserializationError(`Size of data received by IntegerDeserializer is not 4`);
      return bytes.readInt32BE();
    case 'DOUBLE':
      if (bytes.length !== 8) throw new DeserializationError(`Size of data received by DoubleDeserializer is not 8`);
      return bytes.readDoubleBE();
    case 'BOOLEAN':
      return bytes[0] !== 0;
    default:
      return bytes.toString('utf8');
  }
}

/** Converts one JSON field to a column value the way ksqlDB's JSON deserializer coerces it. */
export function coerceJsonValue(type: SqlType, value: unknown, column: string): unknown {
  if (value === null || value === undefined) return null;
  if (type.kind === 'DECIMAL') {
    // ksqlDB's JSON deserializer: a number or numeric text, exactly, that must fit without rounding.
    try {
      return ensureFit(toDecimal(value), type.precision, type.scale);
    } catch (error) {
      if (error instanceof DecimalArithmeticError || error instanceof SyntaxError)
        throw new DeserializationError(
          `Can't convert type. requiredType: ${type.kind}, path: $.${column}: ${error.message}`,
        );
      throw error;
    }
  }
  // Numbers read digit-exact (the value has DECIMAL columns) or computed as DECIMAL become plain numbers first.
  const raw =
    value instanceof NumberToken ? exactNumber(value.raw) : value instanceof Decimal ? decimalAsNumber(value) : value;
  switch (type.kind) {
    case 'BIGINT':
    case 'INTEGER': {
      if (typeof raw === 'bigint') return type.kind === 'INTEGER' ? Number(BigInt.asIntN(32, raw)) : raw;
      let n: number;
      if (typeof raw === 'number') n = Math.trunc(raw);
      else if (typeof raw === 'string' && type.kind === 'BIGINT' && /^\s*[+-]?\d{16,}\s*$/.test(raw))
        return exactLong(BigInt(raw.trim()));
      else if (typeof raw === 'string' && /^\s*[+-]?\d+(\.\d*)?\s*$/.test(raw)) n = Math.trunc(Number(raw));
      else
        throw new DeserializationError(
          `Can't convert type. sourceType: ${typeof raw}, requiredType: ${type.kind}, path: $.${column}`,
        );
      return type.kind === 'INTEGER' ? n | 0 : n;
    }
    case 'DOUBLE':
      if (typeof raw === 'number') return raw;
      if (typeof raw === 'string' && raw.trim() !== '' && !Number.isNaN(Number(raw))) return Number(raw);
      // As ksqlDB writes a double that is not a number.
      if (raw === 'NaN') return Number.NaN;
      throw new DeserializationError(
        `Can't convert type. sourceType: ${typeof raw}, requiredType: DOUBLE, path: $.${column}`,
      );
    case 'STRING':
      if (typeof raw === 'object') return stringifyJson(raw);
      return String(raw);
    case 'BOOLEAN':
      if (typeof raw === 'boolean') return raw;
      if (typeof raw === 'string' && /^(true|false)$/i.test(raw)) return raw.toLowerCase() === 'true';
      throw new DeserializationError(
        `Can't convert type. sourceType: ${typeof raw}, requiredType: BOOLEAN, path: $.${column}`,
      );
    case 'ARRAY':
      if (!Array.isArray(raw))
        throw new DeserializationError(`Can't convert type. requiredType: ARRAY, path: $.${column}`);
      return raw.map((item) => coerceJsonValue(type.item, item, column));
  }
}

function decimalAsNumber(value: Decimal): number | bigint {
  return value.scale === 0 || value.stripTrailingZeros().scale === 0 ? exactLong(value.toBigInt()) : value.toNumber();
}

/**
 * How JSON holding values of the columns is parsed: where a DECIMAL may be among them, number by number (each kept as
 * written, for `coerceJsonValue`), so none passes through a double and loses digits; otherwise the fast native way.
 */
export function jsonParser(columns: readonly { type: SqlType }[]): (text: string) => unknown {
  return columns.some((c) => containsDecimal(c.type)) ? (text) => parseJson(text, numberToken) : parseJsonExact;
}

/**
 * Builds a decoder from a JSON value object to the value columns' values (in column order): fields match by exact name
 * first, then case-insensitively. Columns with `keep` false come back as null: a VARCHAR is not even looked at (any
 * JSON value converts to one), other types are still converted, so a record ksqlDB would reject is still rejected.
 */
export function jsonValueDecoder(columns: SourceColumn[], keep?: readonly boolean[]): (bytes: Buffer) => unknown[] {
  const count = columns.length;
  const names = columns.map((c) => c.name);
  const types = columns.map((c) => c.type);
  const skip = columns.map((c, i) => keep !== undefined && !keep[i] && c.type.kind === 'STRING');
  const store = columns.map((_c, i) => keep === undefined || keep[i] === true);
  const exactIndex = new Map(names.map((n, i) => [n, i]));
  const upperIndex = new Map(names.map((n, i) => [n.toUpperCase(), i]));
  // Column names equal but for case (quoted identifiers) need the slower lookup that tries each exact name first.
  const exactFirst = upperIndex.size !== count;
  const fieldCodes = new Map<string, number>();
  const parse = jsonParser(columns);
  return (bytes) => {
    let parsed: unknown;
    try {
      parsed = parse(bytes.toString('utf8'));
    } catch {
      throw new DeserializationError('Failed to deserialize value: invalid JSON');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      if (count === 1) return [coerceJsonValue(types[0]!, parsed, names[0]!)];
      throw new DeserializationError('Failed to deserialize value: expected a JSON object');
    }
    const record = parsed as Record<string, unknown>;
    const raws = new Array<unknown>(count);
    if (exactFirst) {
      let upper: Map<string, unknown> | undefined;
      for (let i = 0; i < count; i++) {
        let raw = record[names[i]!];
        if (raw === undefined) {
          upper ??= new Map(Object.entries(record).map(([k, v]) => [k.toUpperCase(), v]));
          raw = upper.get(names[i]!.toUpperCase());
        }
        raws[i] = raw;
      }
    } else {
      // Each field name maps to at most one column (exactly or ignoring case); the mapping is learnt once per name.
      let insensitive: unknown[] | undefined;
      for (const field in record) {
        let code = fieldCodes.get(field);
        if (code === undefined) {
          const exact = exactIndex.get(field);
          const loose = exact === undefined ? upperIndex.get(field.toUpperCase()) : undefined;
          code = exact !== undefined ? exact * 2 : loose !== undefined ? loose * 2 + 1 : -1;
          if (fieldCodes.size < 1024) fieldCodes.set(field, code);
        }
        if (code < 0) continue;
        if ((code & 1) === 0) raws[code >> 1] = record[field];
        else (insensitive ??= new Array<unknown>(count))[code >> 1] = record[field];
      }
      if (insensitive) for (let i = 0; i < count; i++) if (raws[i] === undefined) raws[i] = insensitive[i];
    }
    const values = new Array<unknown>(count);
    for (let i = 0; i < count; i++) {
      if (skip[i]) values[i] = null;
      else {
        const value = coerceJsonValue(types[i]!, raws[i], names[i]!);
        values[i] = store[i] ? value : null;
      }
    }
    return values;
  };
}

/**
 * How ksqlDB's JSON (Jackson) writes a value of the type: a DOUBLE as Java writes a double (`1.0`, `1.0E-4`, NaN and
 * the infinities as strings), a DECIMAL with its scale, a BIGINT digit-exact.
 */
export function jsonWriter(type: SqlType): (value: unknown) => string {
  switch (type.kind) {
    case 'DOUBLE':
      return (v) => {
        if (v === null || v === undefined) return 'null';
        const n = Number(v);
        return Number.isFinite(n) ? javaDoubleToString(n) : `"${javaDoubleToString(n)}"`;
      };
    case 'ARRAY': {
      const item = jsonWriter(type.item);
      return (v) => (Array.isArray(v) ? `[${v.map(item).join(',')}]` : anyJson(v));
    }
    default:
      return anyJson;
  }
}

function anyJson(v: unknown): string {
  if (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v))) return 'null';
  if (typeof v === 'bigint' || v instanceof Decimal) return v.toString();
  return stringifyExact(v);
}

/** Serializes a row of the types as a JSON array (the rows of /query-stream). */
export function jsonRowEncoder(types: readonly SqlType[]): (values: unknown[]) => string {
  const writers = types.map(jsonWriter);
  return (values) => `[${writers.map((write, i) => write(values[i])).join(',')}]`;
}

/** Serializes value columns as a JSON object with ksqlDB's column names. */
export function jsonValueEncoder(columns: SourceColumn[]): (values: unknown[]) => Buffer {
  const names = columns.map((c) => JSON.stringify(c.name));
  const writers = columns.map((c) => jsonWriter(c.type));
  return (values) => {
    let text = '{';
    for (let i = 0; i < names.length; i++) {
      if (i > 0) text += ',';
      text += names[i] + ':' + writers[i]!(values[i]);
    }
    return Buffer.from(text + '}', 'utf8');
  };
}
