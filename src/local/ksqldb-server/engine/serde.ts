import type { SqlType } from '../sql/types.js';
import { roundToScale } from '../sql/numbers.js';
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
export function coerceJsonValue(type: SqlType, raw: unknown, column: string): unknown {
  if (raw === null || raw === undefined) return null;
  switch (type.kind) {
    case 'BIGINT':
    case 'INTEGER': {
      if (typeof raw === 'bigint') return type.kind === 'INTEGER' ? Number(BigInt.asIntN(32, raw)) : raw;
      let n: number;
      if (typeof raw === 'number') n = Math.trunc(raw);
      else if (typeof raw === 'string' && type.kind === 'BIGINT' && /^\s*[+-]?\d{16,}\s*$/.test(raw)) return exactLong(BigInt(raw.trim()));
      else if (typeof raw === 'string' && /^\s*[+-]?\d+(\.\d*)?\s*$/.test(raw)) n = Math.trunc(Number(raw));
      else throw new DeserializationError(`Can't convert type. sourceType: ${typeof raw}, requiredType: ${type.kind}, path: $.${column}`);
      return type.kind === 'INTEGER' ? n | 0 : n;
    }
    case 'DOUBLE':
      if (typeof raw === 'number') return raw;
      if (typeof raw === 'string' && raw.trim() !== '' && !Number.isNaN(Number(raw))) return Number(raw);
      throw new DeserializationError(`Can't convert type. sourceType: ${typeof raw}, requiredType: DOUBLE, path: $.${column}`);
    case 'DECIMAL': {
      const n = typeof raw === 'number' ? raw : Number(raw);
      if (Number.isNaN(n)) throw new DeserializationError(`Can't convert type. requiredType: DECIMAL, path: $.${column}`);
      return roundToScale(n, type.scale, 'halfUp');
    }
    case 'STRING':
      if (typeof raw === 'object') return JSON.stringify(raw);
      return String(raw);
    case 'BOOLEAN':
      if (typeof raw === 'boolean') return raw;
      if (typeof raw === 'string' && /^(true|false)$/i.test(raw)) return raw.toLowerCase() === 'true';
      throw new DeserializationError(`Can't convert type. sourceType: ${typeof raw}, requiredType: BOOLEAN, path: $.${column}`);
    case 'ARRAY':
      if (!Array.isArray(raw)) throw new DeserializationError(`Can't convert type. requiredType: ARRAY, path: $.${column}`);
      return raw.map((item) => coerceJsonValue(type.item, item, column));
  }
}

/**
 * Builds a decoder from a JSON value object to the value columns' values (in column order): fields match by exact name
 * first, then case-insensitively.
 */
export function jsonValueDecoder(columns: SourceColumn[]): (bytes: Buffer) => unknown[] {
  return (bytes) => {
    let parsed: unknown;
    try {
      parsed = parseJsonExact(bytes.toString('utf8'));
    } catch {
      throw new DeserializationError('Failed to deserialize value: invalid JSON');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      if (columns.length === 1) return [coerceJsonValue(columns[0]!.type, parsed, columns[0]!.name)];
      throw new DeserializationError('Failed to deserialize value: expected a JSON object');
    }
    const record = parsed as Record<string, unknown>;
    let upper: Map<string, unknown> | undefined;
    return columns.map((column) => {
      let raw = record[column.name];
      if (raw === undefined) {
        upper ??= new Map(Object.entries(record).map(([k, v]) => [k.toUpperCase(), v]));
        raw = upper.get(column.name.toUpperCase());
      }
      return coerceJsonValue(column.type, raw, column.name);
    });
  };
}

/** Serializes value columns as a JSON object with ksqlDB's column names. */
export function jsonValueEncoder(columns: SourceColumn[]): (values: unknown[]) => Buffer {
  const names = columns.map((c) => JSON.stringify(c.name));
  return (values) => {
    let text = '{';
    for (let i = 0; i < names.length; i++) {
      if (i > 0) text += ',';
      const v = values[i];
      text += names[i] + ':' + (v === undefined || (typeof v === 'number' && !Number.isFinite(v)) ? 'null' : typeof v === 'bigint' ? v.toString() : stringifyExact(v));
    }
    return Buffer.from(text + '}', 'utf8');
  };
}
