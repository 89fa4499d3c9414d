import { describe, expect, it } from 'vitest';
import { jsonRowEncoder } from '../../src/ksqldb-dev-server/engine/serde.js';
import { BIGINT, DOUBLE, STRING, decimal } from '../../src/ksqldb-dev-server/sql/types.js';
import { defineSources, planFor, runPlan } from './ksqldb-harness.js';

// ksqlDB writes JSON with Jackson, which prints a DOUBLE as Java's Double.toString does: always with a fraction or an
// exponent (1.0, 1.0E-4, 1.0E7), and the values that are not numbers as quoted strings ("NaN", "Infinity").

const sources = defineSources(`
  CREATE STREAM m (id STRING KEY, d DOUBLE, n BIGINT, ds ARRAY<DOUBLE>)
    WITH (KAFKA_TOPIC='m', VALUE_FORMAT='JSON');
`);

/** One CSAS over `m`, fed one record; returns the sink record's value as JSON text. */
function output(select: string, value: string): string | null {
  const plan = planFor(`CREATE STREAM o AS SELECT id, ${select} FROM m;`, sources);
  return runPlan(plan, [{ key: 'k', value }])[0]?.text ?? null;
}

describe('ksqlDB dev server: DOUBLE values in JSON as ksqlDB writes them', () => {
  it('writes a whole DOUBLE with a fraction, and small and large ones in E notation', () => {
    expect(output('d', '{"D": 1}')).toBe('{"D":1.0}');
    expect(output('d', '{"D": 0.0001}')).toBe('{"D":1.0E-4}');
    expect(output('d', '{"D": 12345678}')).toBe('{"D":1.2345678E7}');
    expect(output('d', '{"D": -2.5}')).toBe('{"D":-2.5}');
    expect(output('d', '{"D": null}')).toBe('{"D":null}');
  });

  it('writes a DOUBLE computed from integers as a double, and leaves BIGINTs whole', () => {
    expect(output('n * 1.0e0 AS x, n AS y', '{"N": 3}')).toBe('{"X":3.0,"Y":3}');
    expect(output('CAST(n AS DOUBLE) AS x', '{"N": 10000000}')).toBe('{"X":1.0E7}');
  });

  it('writes the elements of an ARRAY<DOUBLE> the same way', () => {
    expect(output('ds', '{"DS": [1, 0.5, null]}')).toBe('{"DS":[1.0,0.5,null]}');
  });

  it('writes NaN as the string ksqlDB writes, and reads it back as NaN', () => {
    expect(output('d / 0.0 AS x', '{"D": 0}')).toBe('{"X":"NaN"}');
    expect(output('d', '{"D": "NaN"}')).toBe('{"D":"NaN"}');
  });

  it('encodes /query-stream rows with the columns types', () => {
    const encode = jsonRowEncoder([STRING, DOUBLE, BIGINT, decimal(4, 2), DOUBLE]);
    expect(encode(['a', 2, 2, null, Number.POSITIVE_INFINITY])).toBe('["a",2.0,2,null,"Infinity"]');
  });
});
