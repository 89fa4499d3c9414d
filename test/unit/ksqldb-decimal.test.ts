import { describe, expect, it } from 'vitest';
import { compile, type ScopeColumn } from '../../src/ksqldb-dev-server/sql/expressions.js';
import { parseExpression } from '../../src/ksqldb-dev-server/sql/parser.js';
import { decimal, formatType } from '../../src/ksqldb-dev-server/sql/types.js';
import { defineSources, planFor, runPlan } from './ksqldb-harness.js';

// DECIMAL is exact in ksqlDB (Java's BigDecimal): no digit is lost to a double, and the declared scale is kept, also in
// JSON output (decimal.json, cast.json, math.json).

const columns: ScopeColumn[] = [
  { qualifier: 'T', name: 'A', type: decimal(4, 2), index: 0 },
  { qualifier: 'T', name: 'B', type: decimal(4, 2), index: 1 },
];

const sources = defineSources(`
  CREATE STREAM prices (id STRING KEY, a DECIMAL(4, 2), b DECIMAL(4, 2), big DECIMAL(21, 19), f DOUBLE, s STRING)
    WITH (KAFKA_TOPIC='prices', VALUE_FORMAT='JSON');
`);

/** One CSAS over `prices`, fed one record; returns the output value as JSON text. */
function row(select: string, value: string): string | null {
  const plan = planFor(`CREATE STREAM o AS SELECT id, ${select} FROM prices;`, sources);
  return runPlan(plan, [{ key: 'k', value }])[0]?.text ?? null;
}

describe('ksqlDB dev server: exact DECIMAL', () => {
  it('passes every digit of a DECIMAL(21, 19) through', () => {
    expect(row('big', '{"BIG": 10.1234512345123451234}')).toBe('{"BIG":10.1234512345123451234}');
  });

  it('writes the declared scale into JSON output', () => {
    expect(row('a', '{"A": 3.4}')).toBe('{"A":3.40}');
    expect(row('a', '{"A": 10}')).toBe('{"A":10.00}');
  });

  it('adds, subtracts and multiplies exactly, in the result type ksqlDB gives', () => {
    expect(row('a + b AS x', '{"A": 10.01, "B": 5.1}')).toBe('{"X":15.11}');
    expect(row('a - b AS x', '{"A": 10.1, "B": 5.1}')).toBe('{"X":5.00}');
    expect(row('a * b AS x', '{"A": 10.1, "B": 2.0}')).toBe('{"X":20.2000}');
    expect(row('big + big AS x', '{"BIG": 1.0000000000000000001}')).toBe('{"X":2.0000000000000000002}');
    const compiled = compile(parseExpression('t.a + t.b'), { columns });
    expect(formatType(compiled.type!)).toBe('DECIMAL(5, 2)');
  });

  it('divides to the result scale, and gives NULL when the quotient is not exact or the divisor is zero', () => {
    expect(row('a / b AS x', '{"A": 10.1, "B": 2.0}')).toBe('{"X":5.0500000}');
    expect(row('a / b AS x', '{"A": 10.1, "B": 0}')).toBe('{"X":null}');
    expect(row('a % b AS x', '{"A": 10.1, "B": -2.0}')).toBe('{"X":0.10}');
  });

  it('mixes with DOUBLE as a double, and compares exactly', () => {
    expect(row('a + f AS x', '{"A": 10.01, "F": 5.1}')).toBe('{"X":15.11}');
    expect(row('a < b AS x, a = b AS y', '{"A": 10.01, "B": 10.01}')).toBe('{"X":false,"Y":true}');
    expect(row('big = 10.1234512345123451234 AS x', '{"BIG": 10.1234512345123451234}')).toBe('{"X":true}');
    expect(row('big = 10.1234512345123451235 AS x', '{"BIG": 10.1234512345123451234}')).toBe('{"X":false}');
  });

  it('rounds half away from zero for positives, toward zero for negative ties, keeping the scale', () => {
    expect(row('ROUND(a) AS x, ROUND(a, 1) AS y', '{"A": 1.25}')).toBe('{"X":1,"Y":1.30}');
    expect(row('ROUND(a) AS x, ROUND(a, 1) AS y', '{"A": -1.25}')).toBe('{"X":-1,"Y":-1.20}');
  });

  it('casts with the target scale, HALF_UP, and NULL when the value does not fit', () => {
    expect(row('CAST(a AS DECIMAL(5, 3)) AS x', '{"A": 10.12}')).toBe('{"X":10.120}');
    expect(row('CAST(f AS DECIMAL(2, 1)) AS x', '{"F": 0.99}')).toBe('{"X":1.0}');
    expect(row('CAST(f AS DECIMAL(2, 1)) AS x', '{"F": 10}')).toBe('{"X":null}');
    expect(row('CAST(s AS DECIMAL(2, 1)) AS x', '{"S": "0.10"}')).toBe('{"X":0.1}');
    expect(row('CAST(a AS STRING) AS x, CAST(a AS INT) AS i, CAST(a AS DOUBLE) AS d', '{"A": 0}')).toBe(
      '{"X":"0.00","I":0,"D":0.0}',
    );
    expect(row('CAST(a AS STRING) AS x', '{"A": 10.01}')).toBe('{"X":"10.01"}');
  });

  it('skips a record whose value does not fit the column without rounding', () => {
    expect(row('a', '{"A": 1.234}')).toBeNull();
    expect(row('a', '{"A": 123.4}')).toBeNull();
  });
});
