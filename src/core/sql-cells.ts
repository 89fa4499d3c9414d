import { escapeControl } from './escape.js';

/** One cell of a tab-separated row: a value with a tab or newline in it must not split the row. */
export function formatCell(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'object') return escapeControl(JSON.stringify(jsonSafe(value)));
  return escapeControl(String(value));
}

/** bigint within ±2^53 becomes a number; beyond, its exact digits as a string (JSON numbers that big lose digits). */
export function jsonSafe(value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonSafe(v)]));
  }
  return value;
}
