import { parseJson, stringifyJson } from '../../json/exact-json.js';
import { Decimal } from '../sql/decimal.js';

export { exactLong } from '../sql/numbers.js';

/**
 * JSON for BIGINT columns beyond 2^53, which ksqlDB keeps exact. The native parser and serializer stay on the hot
 * path; only text with a long digit run is parsed digit-exact (integers beyond 2^53 become bigint), and only values
 * holding a bigint are serialized by hand.
 */
const LONG_DIGITS = /\d{16,}/;

export function parseJsonExact(text: string): unknown {
  return LONG_DIGITS.test(text) ? parseJson(text) : JSON.parse(text);
}

export function stringifyExact(value: unknown): string {
  return containsExact(value) ? stringifyJson(value) : JSON.stringify(value);
}

/** A bigint or an exact DECIMAL anywhere in the value: those are written digit by digit. */
function containsExact(value: unknown): boolean {
  if (typeof value === 'bigint' || value instanceof Decimal) return true;
  if (Array.isArray(value)) return value.some(containsExact);
  if (value !== null && typeof value === 'object') return Object.values(value).some(containsExact);
  return false;
}
