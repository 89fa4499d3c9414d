import { describe, expect, it } from 'vitest';
import { Decimal } from '../../src/ksqldb-dev-server/sql/decimal.js';
import { compile, type ScopeColumn } from '../../src/ksqldb-dev-server/sql/expressions.js';
import { geoDistance } from '../../src/ksqldb-dev-server/sql/functions.js';
import { parseExpression } from '../../src/ksqldb-dev-server/sql/parser.js';
import { BIGINT, DOUBLE, INTEGER, STRING, formatType } from '../../src/ksqldb-dev-server/sql/types.js';

const columns: ScopeColumn[] = [
  { qualifier: 'V', name: 'LAT', type: DOUBLE, index: 0 },
  { qualifier: 'V', name: 'LONG', type: DOUBLE, index: 1 },
  { qualifier: 'J', name: 'DEST_LAT', type: DOUBLE, index: 2 },
  { qualifier: 'J', name: 'DEST_LONG', type: DOUBLE, index: 3 },
  { qualifier: 'O', name: 'PRICE_QUOTED', type: BIGINT, index: 4 },
  { qualifier: 'J', name: 'PRICE', type: BIGINT, index: 5 },
  { qualifier: 'O', name: 'N', type: INTEGER, index: 6 },
  { qualifier: 'O', name: 'NAME', type: STRING, index: 7 },
];

/** A DECIMAL result shows as its exact text, scale included. */
function evaluate(text: string, row: unknown[] = []): { type: string; value: unknown } {
  const compiled = compile(parseExpression(text), { columns });
  const value = compiled.evaluate(row);
  return {
    type: compiled.type ? formatType(compiled.type) : 'NULL',
    value: value instanceof Decimal ? value.toString() : value,
  };
}

function typeError(text: string): string {
  try {
    compile(parseExpression(text), { columns });
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`expected a type error for ${text}`);
}

describe('ksqlDB dev server expressions: typing', () => {
  it('types literals as ksqlDB does', () => {
    expect(evaluate('1').type).toBe('INTEGER');
    expect(evaluate('3000000000').type).toBe('BIGINT');
    expect(evaluate('0.5').type).toBe('DECIMAL(2, 1)');
    expect(evaluate('12.50').type).toBe('DECIMAL(4, 2)');
    expect(evaluate('1e3').type).toBe('DOUBLE');
    expect(evaluate("'x'").type).toBe('STRING');
  });

  it('follows ksqlDB arithmetic result types, including DECIMAL precision and scale', () => {
    expect(evaluate('1 + 2')).toEqual({ type: 'INTEGER', value: 3 });
    expect(evaluate('o.n + o.price_quoted').type).toBe('BIGINT');
    expect(evaluate('7 / 2')).toEqual({ type: 'INTEGER', value: 3 });
    expect(evaluate('-7 / 2').value).toBe(-3);
    expect(evaluate('0.5 / 10')).toEqual({ type: 'DECIMAL(13, 12)', value: '0.050000000000' });
    expect(evaluate('0.5 / 10 / 10').type).toBe('DECIMAL(24, 23)');
    expect(evaluate('0.5 / 10 / 10').value).toBe('0.00500000000000000000000');
    expect(evaluate('1.5 * 2')).toEqual({ type: 'DECIMAL(13, 1)', value: '3.0' });
    expect(evaluate('1.25 + 1.5')).toEqual({ type: 'DECIMAL(4, 2)', value: '2.75' });
    expect(evaluate('v.lat / 0.005').type).toBe('DOUBLE');
    expect(evaluate('o.price_quoted * 1.0').type).toBe('DECIMAL(22, 1)');
  });

  it('compares across numeric types and refuses mixed kinds', () => {
    expect(evaluate('o.price_quoted >= j.price', [0, 0, 0, 0, 100, 100]).value).toBe(true);
    expect(evaluate('o.price_quoted >= j.price', [0, 0, 0, 0, 99, 100]).value).toBe(false);
    expect(evaluate('o.price_quoted >= j.price', [0, 0, 0, 0, null, 100]).value).toBe(false);
    expect(evaluate('1 < 1.5').value).toBe(true);
    expect(typeError('o.name > 1')).toContain('Cannot compare');
  });

  it('evaluates the job_status CASE, null quotes included', () => {
    const status = "CASE WHEN o.price_quoted >= j.price THEN 'ACCEPTED' ELSE 'REJECTED' END";
    expect(evaluate(status, [0, 0, 0, 0, 150, 100])).toEqual({ type: 'STRING', value: 'ACCEPTED' });
    expect(evaluate(status, [0, 0, 0, 0, 100, 100]).value).toBe('ACCEPTED');
    expect(evaluate(status, [0, 0, 0, 0, 50, 100]).value).toBe('REJECTED');
    expect(evaluate(status, [0, 0, 0, 0, null, 100]).value).toBe('REJECTED');
    expect(typeError("CASE WHEN o.n > 1 THEN 'a' ELSE 2 END")).toContain(
      "Type for all 'THEN' clauses should be the same",
    );
  });

  it('casts like ksqlDB', () => {
    expect(evaluate('CAST(v.lat AS DOUBLE)', [1.5]).value).toBe(1.5);
    expect(evaluate('CAST(2.7 AS INTEGER)')).toEqual({ type: 'INTEGER', value: 2 });
    expect(evaluate("CAST('42' AS BIGINT)")).toEqual({ type: 'BIGINT', value: 42 });
    expect(evaluate('CAST(1.0E0 AS STRING)').value).toBe('1.0');
    expect(evaluate('CAST(1.005 AS DECIMAL(4, 2))')).toEqual({ type: 'DECIMAL(4, 2)', value: '1.01' });
    expect(() => evaluate("CAST('abc' AS INTEGER)")).toThrow();
  });
});

describe('ksqlDB dev server functions', () => {
  it('ROUND: types per overload, ties toward +infinity, decimal (not binary) rounding', () => {
    expect(evaluate('ROUND(v.lat)', [1.5])).toEqual({ type: 'BIGINT', value: 2 });
    expect(evaluate('ROUND(v.lat)', [-1.5]).value).toBe(-1);
    expect(evaluate('ROUND(v.lat, 2)', [1.005])).toEqual({ type: 'DOUBLE', value: 1.01 });
    expect(evaluate('ROUND(v.lat, 2)', [-1.005]).value).toBe(-1);
    expect(evaluate('ROUND(v.lat, 2)', [2.675]).value).toBe(2.68);
    expect(evaluate('ROUND(v.lat, 2)', [null]).value).toBe(null);
    expect(evaluate('ROUND(1.25, 1)').type).toBe('DECIMAL(3, 2)');
  });

  it('ABS and GREATEST keep the widest type and ignore nulls', () => {
    expect(evaluate('ABS(v.lat - j.dest_lat)', [-33.9, 0, -33.86]).value).toBeCloseTo(0.04, 12);
    expect(evaluate('GREATEST(v.lat, v.long)', [1, null])).toEqual({ type: 'DOUBLE', value: 1 });
    // INTEGER with BIGINT fits the BIGINT, DECIMAL and DOUBLE overloads alike: ksqlDB calls that ambiguous.
    expect(typeError('GREATEST(o.n, o.price_quoted)')).toMatch(
      /^Function 'greatest' cannot be resolved due to ambiguous/,
    );
    expect(evaluate('GREATEST(o.n, v.lat)', [2.5, 0, 0, 0, 0, 0, 7])).toEqual({ type: 'DOUBLE', value: 7 });
  });

  it('GEO_DISTANCE is the haversine distance with R = 6371 km (or 3959 miles)', () => {
    const reference = (lat1: number, lon1: number, lat2: number, lon2: number, radius: number) => {
      const rad = (d: number) => (d * Math.PI) / 180;
      const h =
        Math.sin(rad(lat2 - lat1) / 2) ** 2 +
        Math.cos(rad(lat1)) * Math.cos(rad(lat2)) * Math.sin(rad(lon2 - lon1) / 2) ** 2;
      return 2 * radius * Math.atan2(Math.sqrt(h), Math.sqrt(1 - h));
    };
    const sydneyToMelbourne = geoDistance([-33.8688, 151.2093, -37.8136, 144.9631, 'KM']);
    expect(Math.abs(sydneyToMelbourne - reference(-33.8688, 151.2093, -37.8136, 144.9631, 6371))).toBeLessThan(1e-9);
    expect(sydneyToMelbourne).toBeGreaterThan(713);
    expect(sydneyToMelbourne).toBeLessThan(715);
    expect(Math.abs(geoDistance([0, 0, 1, 1, ' Miles ']) - reference(0, 0, 1, 1, 3959))).toBeLessThan(1e-9);
    expect(geoDistance([0, 0, 1, 1])).toBeCloseTo(reference(0, 0, 1, 1, 6371), 9);
    expect(() => geoDistance([91, 0, 0, 0, 'km'])).toThrow();
    expect(() => geoDistance([0, 0, 0, 0, 'parsecs'])).toThrow();
    expect(() => geoDistance([null, 0, 0, 0])).toThrow();
    expect(
      compile(parseExpression("GEO_DISTANCE(v.lat, v.long, j.dest_lat, j.dest_long, 'KM')"), { columns }).type,
    ).toEqual(DOUBLE);
  });

  it('the truck_tracker ETA expression is DOUBLE and matches the template formula', () => {
    const eta = 'ROUND(GREATEST(ABS(v.lat - j.dest_lat), ABS(v.long - j.dest_long)) / (0.5 / 10 / 10) * 2, 2)';
    const result = evaluate(eta, [-33.88, 151.19, -33.8688, 151.2093]);
    expect(result.type).toBe('DOUBLE');
    expect(result.value).toBeCloseTo(
      (Math.max(Math.abs(-33.88 + 33.8688), Math.abs(151.19 - 151.2093)) / 0.005) * 2,
      2,
    );
  });

  it('names unknown functions', () => {
    expect(typeError('NOPE(1)')).toBe("Can't find any functions with the name 'NOPE'");
  });
});
