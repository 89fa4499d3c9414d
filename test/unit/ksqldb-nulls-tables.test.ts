import { describe, expect, it } from 'vitest';
import { defineSources, keyValues, planFor, runPlan } from './ksqldb-harness.js';

// ksqlDB's semantics for null values (a stream record whose value is null), table tombstones and table aggregations,
// as its query-validation tests (null.json, project-filter.json, count.json, group-by.json) describe them.

const streams = defineSources(`
  CREATE STREAM people (id INT KEY, name STRING) WITH (KAFKA_TOPIC='people', VALUE_FORMAT='JSON');
  CREATE STREAM names (name STRING) WITH (KAFKA_TOPIC='names', VALUE_FORMAT='JSON');
  CREATE STREAM readings (id BIGINT KEY, f0 INT) WITH (KAFKA_TOPIC='readings', VALUE_FORMAT='JSON');
  CREATE TABLE users (id INT PRIMARY KEY, region STRING, score INT) WITH (KAFKA_TOPIC='users', VALUE_FORMAT='JSON');
`);

describe('ksqlDB dev server: null values in streams', () => {
  it('SELECT * forwards a null value as a null value, keyed as the input was', () => {
    const plan = planFor('CREATE STREAM copy AS SELECT * FROM people;', streams);
    const out = runPlan(plan, [
      { key: 1, value: null },
      { key: 2, value: { NAME: null } },
    ]);
    expect(keyValues(out)).toEqual([
      [1, null],
      [2, { NAME: null }],
    ]);
  });

  it('a projection forwards a null value too', () => {
    const plan = planFor('CREATE STREAM copy AS SELECT id, name FROM people;', streams);
    expect(
      keyValues(
        runPlan(plan, [
          { key: 3, value: null },
          { key: 4, value: { NAME: 'Fred' } },
        ]),
      ),
    ).toEqual([
      [3, null],
      [4, { NAME: 'Fred' }],
    ]);
  });

  it('WHERE name IS NULL does not pass a null-value record; a null NAME passes', () => {
    const plan = planFor('CREATE STREAM nameless AS SELECT * FROM people WHERE name IS NULL;', streams);
    const out = runPlan(plan, [
      { key: 1, value: null },
      { key: 2, value: { NAME: null } },
    ]);
    expect(keyValues(out)).toEqual([[2, { NAME: null }]]);
  });

  it('a filter on the key does not pass a null-value record either', () => {
    const plan = planFor('CREATE STREAM keyed AS SELECT * FROM people WHERE id IS NOT NULL;', streams);
    expect(
      keyValues(
        runPlan(plan, [
          { key: 3, value: null },
          { key: 4, value: { NAME: 'Fred' } },
        ]),
      ),
    ).toEqual([[4, { NAME: 'Fred' }]]);
  });

  it('a stream aggregation ignores null-value records: no row, no tombstone', () => {
    const plan = planFor('CREATE TABLE counts AS SELECT name, COUNT(*) AS c FROM names GROUP BY name;', streams);
    const out = runPlan(plan, [
      { value: null, timestamp: 1 },
      { value: { NAME: null }, timestamp: 2 },
      { value: { NAME: 'n' }, timestamp: 3 },
    ]);
    expect(out.map((r) => [r.key, r.value, r.timestamp])).toEqual([['n', { C: 1 }, 3]]);
  });

  it('a GROUP BY on an expression over null counts the null NAME but not the null value', () => {
    const plan = planFor(
      'CREATE TABLE counts AS SELECT name IS NULL AS missing, COUNT(*) AS c FROM names GROUP BY (name IS NULL);',
      streams,
    );
    const out = runPlan(plan, [
      { value: null, timestamp: 1 },
      { value: { NAME: null }, timestamp: 2 },
      { value: { NAME: 'n' }, timestamp: 3 },
    ]);
    expect(keyValues(out)).toEqual([
      [true, { C: 1 }],
      [false, { C: 1 }],
    ]);
  });
});

describe('ksqlDB dev server: tables', () => {
  it('a tombstone deletes the row: the derived table forwards it', () => {
    const plan = planFor('CREATE TABLE copy AS SELECT * FROM users;', streams);
    const out = runPlan(plan, [
      { key: 1, value: { REGION: 'r0', SCORE: 1 } },
      { key: 1, value: null },
      { key: 1, value: { REGION: 'r1', SCORE: 2 } },
    ]);
    expect(keyValues(out)).toEqual([
      [1, { REGION: 'r0', SCORE: 1 }],
      [1, null],
      [1, { REGION: 'r1', SCORE: 2 }],
    ]);
  });

  it('a record without a key is no table row: skipped, not forwarded with a null key', () => {
    const plan = planFor('CREATE TABLE copy AS SELECT * FROM users;', streams);
    const out = runPlan(plan, [
      { key: null, value: { REGION: 'r0', SCORE: 1 } },
      { key: 2, value: { REGION: 'r1', SCORE: 2 } },
    ]);
    expect(keyValues(out)).toEqual([[2, { REGION: 'r1', SCORE: 2 }]]);
  });

  it('a table aggregation retracts: a row moving groups updates both, a tombstone counts back to zero', () => {
    const plan = planFor('CREATE TABLE by_region AS SELECT region, COUNT(*) AS c FROM users GROUP BY region;', streams);
    const out = runPlan(plan, [
      { key: 1, value: { REGION: 'r0' } },
      { key: 2, value: { REGION: 'r1' } },
      { key: 3, value: { REGION: 'r0' } },
      { key: 1, value: null },
      { key: 2, value: { REGION: 'r0' } },
    ]);
    expect(keyValues(out)).toEqual([
      ['r0', { C: 1 }],
      ['r1', { C: 1 }],
      ['r0', { C: 2 }],
      ['r0', { C: 1 }],
      ['r1', { C: 0 }],
      ['r0', { C: 2 }],
    ]);
  });

  it('an update within the same group subtracts the old row, then adds the new one', () => {
    const plan = planFor(
      'CREATE TABLE totals AS SELECT region, SUM(score) AS total FROM users GROUP BY region;',
      streams,
    );
    const out = runPlan(plan, [
      { key: 1, value: { REGION: 'r0', SCORE: 5 } },
      { key: 2, value: { REGION: 'r0', SCORE: 7 } },
      { key: 1, value: { REGION: 'r0', SCORE: 6 } },
      { key: 2, value: null },
    ]);
    expect(out.map((r) => r.value?.TOTAL)).toEqual([5, 12, 7, 13, 6]);
  });

  it('a table aggregation drops the rows its WHERE no longer passes', () => {
    const plan = planFor(
      'CREATE TABLE high AS SELECT region, COUNT(*) AS c FROM users WHERE score > 10 GROUP BY region;',
      streams,
    );
    const out = runPlan(plan, [
      { key: 1, value: { REGION: 'r0', SCORE: 20 } },
      { key: 1, value: { REGION: 'r0', SCORE: 5 } },
    ]);
    expect(keyValues(out)).toEqual([
      ['r0', { C: 1 }],
      ['r0', { C: 0 }],
    ]);
  });
});

describe('ksqlDB dev server: EARLIEST_BY_OFFSET / LATEST_BY_OFFSET with nulls', () => {
  const values = (f0s: (number | null)[]) => f0s.map((f0) => ({ key: 0, value: { F0: f0 } }));

  it('EARLIEST_BY_OFFSET(x, false) keeps a first null', () => {
    const plan = planFor(
      'CREATE TABLE firsts AS SELECT id, EARLIEST_BY_OFFSET(f0, false) AS l0 FROM readings GROUP BY id;',
      streams,
    );
    expect(runPlan(plan, values([null, 13])).map((r) => r.value)).toEqual([{ L0: null }, { L0: null }]);
    expect(runPlan(plan, values([12, null, 13])).map((r) => r.value)).toEqual([{ L0: 12 }, { L0: 12 }, { L0: 12 }]);
  });

  it('EARLIEST_BY_OFFSET(x) skips nulls', () => {
    const plan = planFor(
      'CREATE TABLE firsts AS SELECT id, EARLIEST_BY_OFFSET(f0) AS l0 FROM readings GROUP BY id;',
      streams,
    );
    expect(runPlan(plan, values([null, 13, 14])).map((r) => r.value)).toEqual([{ L0: null }, { L0: 13 }, { L0: 13 }]);
  });

  it('LATEST_BY_OFFSET(x, false) keeps a later null; LATEST_BY_OFFSET(x) skips it', () => {
    const keeping = planFor(
      'CREATE TABLE lasts AS SELECT id, LATEST_BY_OFFSET(f0, false) AS l0 FROM readings GROUP BY id;',
      streams,
    );
    expect(runPlan(keeping, values([12, null, 13])).map((r) => r.value)).toEqual([
      { L0: 12 },
      { L0: null },
      { L0: 13 },
    ]);
    const skipping = planFor(
      'CREATE TABLE lasts AS SELECT id, LATEST_BY_OFFSET(f0) AS l0 FROM readings GROUP BY id;',
      streams,
    );
    expect(runPlan(skipping, values([12, null])).map((r) => r.value)).toEqual([{ L0: 12 }, { L0: 12 }]);
  });
});
