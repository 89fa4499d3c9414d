import { describe, expect, it } from 'vitest';
import { parseStatements } from '../../src/ksqldb-dev-server/sql/parser.js';
import { formatType } from '../../src/ksqldb-dev-server/sql/types.js';
import { defineSources, keyValues, planError, planFor, runPlan } from './ksqldb-harness.js';

// What ksqlDB rejects, with its messages, and what it accepts, as its query-validation tests show (project-filter,
// group-by, joins, null, case-expression, literals, greatest, least, min/max-group-by, math, binary-comparison).

const sources = defineSources(`
  CREATE STREAM people (id INT KEY, name STRING) WITH (KAFKA_TOPIC='people', VALUE_FORMAT='JSON');
  CREATE STREAM names (name STRING) WITH (KAFKA_TOPIC='names', VALUE_FORMAT='JSON');
  CREATE STREAM nums (id BIGINT KEY, n1 INT, n2 BIGINT, n3 DECIMAL(30, 18), n4 DOUBLE, d1 DECIMAL(9, 2),
    d2 DECIMAL(7, 6), v DOUBLE) WITH (KAFKA_TOPIC='nums', VALUE_FORMAT='JSON');
  CREATE STREAM pairs (id INT KEY, id2 INT) WITH (KAFKA_TOPIC='pairs', VALUE_FORMAT='JSON');
  CREATE STREAM l (a INT KEY, b INT, c INT) WITH (KAFKA_TOPIC='left', VALUE_FORMAT='JSON');
  CREATE STREAM r (a INT KEY, b INT, d INT) WITH (KAFKA_TOPIC='right', VALUE_FORMAT='JSON');
  CREATE TABLE users (id INT PRIMARY KEY, region STRING, score INT) WITH (KAFKA_TOPIC='users', VALUE_FORMAT='JSON');
`);

const AS_VALUE_HINT =
  '\nEach key column must only be in the projection once. If you intended to copy the key into the value, then ' +
  'consider using the AS_VALUE function to indicate which key reference should be copied.';

function parseError(sql: string): string {
  try {
    parseStatements(sql);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`expected a syntax error for ${sql}`);
}

describe('ksqlDB dev server: rejects what ksqlDB rejects, with its message', () => {
  it('a key column projected twice', () => {
    expect(planError('CREATE STREAM o AS SELECT id, id AS id2, name FROM people;', sources)).toBe(
      `The projection contains a key column (\`ID\`) more than once, aliased as: ID and ID2.${AS_VALUE_HINT}`,
    );
    expect(
      planError('CREATE TABLE o AS SELECT name, name AS name2, COUNT(*) AS c FROM names GROUP BY name;', sources),
    ).toBe(`The projection contains a key column more than once: \`NAME\` and \`NAME2\`.${AS_VALUE_HINT}`);
    expect(
      planError(
        'CREATE STREAM o AS SELECT l.a, l.a AS key2, l.c, r.d FROM l JOIN r WITHIN 10 SECONDS ON l.a = r.a;',
        sources,
      ),
    ).toBe(`The projection contains a key column (\`L_A\`) more than once, aliased as: KEY2 and L_A.${AS_VALUE_HINT}`);
  });

  it('a projection without value columns', () => {
    expect(planError('CREATE STREAM o AS SELECT id FROM people;', sources)).toBe(
      'The projection contains no value columns.',
    );
    expect(planError('CREATE TABLE o AS SELECT name FROM names GROUP BY name;', sources)).toBe(
      'The projection contains no value columns.',
    );
  });

  it('a comparison with NULL', () => {
    expect(planError('CREATE STREAM o AS SELECT id, NULL <> NULL AS x FROM people;', sources)).toBe(
      "Comparison with NULL not supported: NULL <> NULL\nUse 'IS NULL' or 'IS NOT NULL' instead.",
    );
    expect(planError('CREATE STREAM o AS SELECT * FROM people WHERE name = NULL;', sources)).toBe(
      "Comparison with NULL not supported: STRING = NULL\nUse 'IS NULL' or 'IS NOT NULL' instead.",
    );
  });

  it('an untyped null column, and a CASE whose branches are all NULL', () => {
    expect(planError('CREATE STREAM o AS SELECT id, NULL AS n FROM people;', sources)).toBe(
      "Can't infer a type of null. Please explicitly cast it to a required type, e.g. CAST(null AS VARCHAR).",
    );
    expect(
      planError(
        "CREATE STREAM o AS SELECT id, CASE WHEN name = 'x' THEN NULL ELSE NULL END AS c FROM people;",
        sources,
      ),
    ).toBe('Invalid Case expression. All case branches have NULL type');
  });

  it('BIGINT and DOUBLE literals that overflow', () => {
    expect(parseError('CREATE STREAM o AS SELECT id, 9223372036854775808 AS x FROM people;')).toMatch(
      /^line 1:\d+: Invalid numeric literal: 9223372036854775808$/,
    );
    expect(parseError('CREATE STREAM o AS SELECT id, -9223372036854775809 AS x FROM people;')).toMatch(
      /^line 1:\d+: Invalid numeric literal: -9223372036854775809$/,
    );
    expect(parseError('CREATE STREAM o AS SELECT id, 1.7976931348623159E308 AS x FROM people;')).toMatch(
      /^line 1:\d+: Number overflows DOUBLE: 1.7976931348623159E308$/,
    );
    expect(parseError('CREATE STREAM o AS SELECT id, -1.7976931348623160E308 AS x FROM people;')).toMatch(
      /^line 1:\d+: Number overflows DOUBLE: -1.7976931348623160E308$/,
    );
    // The extremes themselves are fine.
    const plan = planFor(
      'CREATE STREAM o AS SELECT id, -9223372036854775808 AS lo, 9223372036854775807 AS hi FROM people;',
      sources,
    );
    expect(plan.columns.map((c) => formatType(c.type))).toEqual(['INTEGER', 'BIGINT', 'BIGINT']);
  });

  it('LATEST_BY_OFFSET, MIN and MAX over a table', () => {
    expect(
      planError(
        'CREATE TABLE o AS SELECT region, LATEST_BY_OFFSET(score) AS l, MIN(score) AS mn, MAX(score) AS mx FROM users GROUP BY region;',
        sources,
      ),
    ).toBe(
      'The aggregation functions LATEST_BY_OFFSET, MIN and MAX cannot be applied to a table source, only to a stream source.',
    );
    expect(planError('CREATE TABLE o AS SELECT region, MIN(score) AS mn FROM users GROUP BY region;', sources)).toBe(
      'The aggregation function MIN cannot be applied to a table source, only to a stream source.',
    );
  });

  it('GREATEST and LEAST with ambiguous or all-null arguments', () => {
    expect(planError('CREATE STREAM o AS SELECT id, GREATEST(n1, n2) AS x FROM nums;', sources)).toMatch(
      /^Function 'greatest' cannot be resolved due to ambiguous method parameters \(INTEGER, BIGINT\)\.\n/,
    );
    expect(planError('CREATE STREAM o AS SELECT id, LEAST(n1, n2, n3) AS x FROM nums;', sources)).toMatch(
      /^Function 'least' cannot be resolved due to ambiguous method parameters \(INTEGER, BIGINT, DECIMAL\(30, 18\)\)\.\n/,
    );
    expect(
      planError('CREATE STREAM o AS SELECT id, GREATEST(null, null, null, null) AS x FROM nums;', sources),
    ).toMatch(
      /^Function 'greatest' cannot be resolved due to ambiguous method parameters \(null, null, null, null\)\.\n/,
    );
    expect(planError('CREATE STREAM o AS SELECT id, LEAST(name, id) AS x FROM people;', sources)).toMatch(
      /^Function 'least' does not accept parameters \(STRING, INTEGER\)\.\n/,
    );
  });

  it('GREATEST and LEAST with arguments of no overload, with none, or with *', () => {
    // As in ksqlDB, FUNCTION(*) of a function that is not an aggregate is a call with no arguments.
    expect(planError('CREATE STREAM o AS SELECT GREATEST(*) AS x FROM people;', sources)).toMatch(
      /^Function 'greatest' does not accept parameters \(\)\.\nValid alternatives are:\nGREATEST\(INTEGER val, INTEGER\.\.\. vals\)\n/,
    );
    expect(planError('CREATE STREAM o AS SELECT id, LEAST(*) AS x FROM people;', sources)).toMatch(
      /^Function 'least' does not accept parameters \(\)\.\n/,
    );
    expect(planError('CREATE STREAM o AS SELECT id, GREATEST() AS x FROM people;', sources)).toMatch(
      /^Function 'greatest' does not accept parameters \(\)\.\n/,
    );
    expect(planError('CREATE STREAM o AS SELECT id, LEAST(id, true) AS x FROM people;', sources)).toMatch(
      /^Function 'least' does not accept parameters \(INTEGER, BOOLEAN\)\.\n/,
    );
    expect(planError('CREATE STREAM o AS SELECT id, GREATEST(id = 1, false) AS x FROM people;', sources)).toMatch(
      /^Function 'greatest' does not accept parameters \(BOOLEAN, BOOLEAN\)\.\n/,
    );
  });

  it('names other functions of no matching signature as ksqlDB registers them, in lower case', () => {
    expect(planError('CREATE STREAM o AS SELECT id, ABS(name) AS x FROM people;', sources)).toMatch(
      /^Function 'abs' does not accept parameters \(STRING\)\./,
    );
    expect(planError('CREATE STREAM o AS SELECT id, GEO_DISTANCE(name, 1, 2, 3) AS x FROM people;', sources)).toMatch(
      /^Function 'geo_distance' does not accept parameters \(STRING, INTEGER, INTEGER, INTEGER\)\./,
    );
  });
});

describe('ksqlDB dev server: accepts what ksqlDB accepts', () => {
  it('GREATEST over mixed numbers when only DOUBLE fits them all, and over DECIMALs of different scales', () => {
    const plan = planFor(
      'CREATE STREAM o AS SELECT id, GREATEST(n1, n2, n3, n4, null) AS hi, GREATEST(d1, d2) AS d FROM nums;',
      sources,
    );
    expect(plan.columns.map((c) => formatType(c.type))).toEqual(['BIGINT', 'DOUBLE', 'DECIMAL(13, 6)']);
    const out = runPlan(plan, [{ key: 1, value: { N1: 1, N2: 5, N3: 2.5, N4: 0.5, D1: 1.5, D2: 1.25 } }]);
    expect(out[0]!.text).toBe('{"HI":5.0,"D":1.500000}');
  });

  it('MIN and MAX over STRING', () => {
    const plan = planFor(
      'CREATE TABLE o AS SELECT id, MIN(name) AS lo, MAX(name) AS hi FROM people GROUP BY id;',
      sources,
    );
    const out = runPlan(plan, [
      { key: 0, value: { NAME: 'B' } },
      { key: 0, value: { NAME: 'A' } },
      { key: 0, value: { NAME: 'C' } },
    ]);
    expect(out.map((r) => r.value)).toEqual([
      { LO: 'B', HI: 'B' },
      { LO: 'A', HI: 'B' },
      { LO: 'A', HI: 'C' },
    ]);
  });

  it('a constant in an aggregate projection', () => {
    const plan = planFor(
      "CREATE TABLE o AS SELECT name, 'some constant' AS f3, COUNT(*) AS c FROM names GROUP BY name;",
      sources,
    );
    expect(keyValues(runPlan(plan, [{ value: { NAME: 'x' } }, { value: { NAME: 'x' } }]))).toEqual([
      ['x', { F3: 'some constant', C: 1 }],
      ['x', { F3: 'some constant', C: 2 }],
    ]);
  });

  it('an alias that starts with a digit', () => {
    const plan = planFor('CREATE STREAM o AS SELECT id, ROUND(v, -1) AS 1R, ROUND(v, -2) AS 2R FROM nums;', sources);
    expect(plan.columns.map((c) => c.name)).toEqual(['ID', '1R', '2R']);
    expect(runPlan(plan, [{ key: 1, value: { V: 1234.5 } }])[0]!.value).toEqual({ '1R': 1230, '2R': 1200 });
  });

  it('IS DISTINCT FROM and IS NOT DISTINCT FROM, which treat two nulls as equal', () => {
    const plan = planFor(
      'CREATE STREAM o AS SELECT id, id IS DISTINCT FROM id2 AS d, id IS NOT DISTINCT FROM id2 AS nd FROM pairs;',
      sources,
    );
    const out = runPlan(plan, [
      { key: 1, value: { ID2: 1 } },
      { key: 2, value: { ID2: 1 } },
      { key: 3, value: { ID2: null } },
      { key: null, value: { ID2: 1 } },
      { key: null, value: { ID2: null } },
    ]);
    expect(out.map((r) => [r.value?.D, r.value?.ND])).toEqual([
      [false, true],
      [true, false],
      [true, false],
      [true, false],
      [false, true],
    ]);
    expect(
      planFor('CREATE STREAM o AS SELECT * FROM pairs WHERE id IS DISTINCT FROM id2;', sources).columns,
    ).toHaveLength(2);
  });
});
