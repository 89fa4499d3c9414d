import { describe, expect, it } from 'vitest';
import { defineSources, keyValues, planError, planFor, runPlan } from './ksqldb-harness.js';

// Column names and keys of join results, as ksqlDB's joins.json cases show them: a projected column is prefixed with
// its source's alias only when its name is in both sources (or is a pseudo column), `*` always prefixes, and the
// result is keyed on the FROM side's join column when both join columns are projected.

const sources = defineSources(`
  CREATE STREAM l (a INT KEY, b INT, c INT) WITH (KAFKA_TOPIC='left', VALUE_FORMAT='JSON');
  CREATE STREAM r (a INT KEY, b INT, d INT) WITH (KAFKA_TOPIC='right', VALUE_FORMAT='JSON');
`);

const columns = (sql: string) => planFor(sql, sources).columns.map((c) => `${c.name}${c.key ? ' KEY' : ''}`);

describe('ksqlDB dev server: join result naming and keys', () => {
  it('prefixes a qualified column only when both sources have that name', () => {
    expect(
      columns('CREATE STREAM o AS SELECT l.a, l.b, l.c, r.d FROM l JOIN r WITHIN 10 SECONDS ON l.a = r.a;'),
    ).toEqual(['L_A KEY', 'L_B', 'C', 'D']);
    expect(
      columns('CREATE STREAM o AS SELECT x.a, x.c, y.d FROM l AS x JOIN r AS y WITHIN 10 SECONDS ON x.a = y.a;'),
    ).toEqual(['X_A KEY', 'C', 'D']);
  });

  it('always prefixes columns expanded from *, and pseudo columns', () => {
    expect(
      columns('CREATE STREAM o AS SELECT l.*, r.d, l.ROWTIME FROM l JOIN r WITHIN 10 SECONDS ON l.a = r.a;'),
    ).toEqual(['L_A KEY', 'L_B', 'L_C', 'D', 'L_ROWTIME']);
  });

  it('keys the result on the FROM side column when both join columns are projected, in any order', () => {
    expect(columns('CREATE STREAM o AS SELECT * FROM l JOIN r WITHIN 10 SECONDS ON l.a = r.a;')).toEqual([
      'L_A KEY',
      'L_B',
      'L_C',
      'R_A',
      'R_B',
      'R_D',
    ]);
    expect(columns('CREATE STREAM o AS SELECT r.a, l.a, c FROM l JOIN r WITHIN 10 SECONDS ON l.a = r.a;')).toEqual([
      'R_A',
      'L_A KEY',
      'C',
    ]);
  });

  it('resolves the synthetic join key ROWKEY when neither join expression is a column', () => {
    const sql =
      'CREATE STREAM o AS SELECT ROWKEY AS k, l.b, r.d FROM l JOIN r WITHIN 10 SECONDS ON ABS(l.a) = ABS(r.a);';
    expect(columns(sql)).toEqual(['K KEY', 'L_B', 'D']);
    const out = runPlan(planFor(sql, sources), [
      { input: 0, key: -3, value: { B: 1, C: 2 }, timestamp: 10 },
      { input: 1, key: 3, value: { B: 5, D: 4 }, timestamp: 11 },
    ]);
    expect(keyValues(out)).toEqual([[3, { L_B: 1, D: 4 }]]);
  });

  it('asks for ROWKEY, as ksqlDB does, when the synthetic key is not projected', () => {
    expect(
      planError('CREATE STREAM o AS SELECT l.b, r.d FROM l JOIN r WITHIN 10 SECONDS ON ABS(l.a) = ABS(r.a);', sources),
    ).toBe(
      'Key missing from projection (ie, SELECT). See https://cnfl.io/2LV7ouS.\n' +
        'The query used to build `O` must include the join expression ROWKEY in its projection (eg, SELECT ROWKEY...).\n' +
        'ROWKEY was added as a synthetic key column because the join criteria did not match any source column. ' +
        'This expression must be included in the projection and may be aliased. ',
    );
  });

  it('names both join columns when neither is projected', () => {
    expect(planError('CREATE STREAM o AS SELECT l.b, r.d FROM l JOIN r WITHIN 10 SECONDS ON l.a = r.a;', sources)).toBe(
      'Key missing from projection (ie, SELECT). \n' +
        'The query used to build `O` must include the join expressions L.A or R.A in its projection (eg, SELECT L.A...).',
    );
  });
});
