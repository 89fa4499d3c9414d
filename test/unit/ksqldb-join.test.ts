import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { planQuery, type ResultRow } from '../../src/ksqldb-dev-server/engine/planner.js';
import type { DataSource } from '../../src/ksqldb-dev-server/engine/source.js';
import { parseStatements } from '../../src/ksqldb-dev-server/sql/parser.js';
import { BIGINT, STRING } from '../../src/ksqldb-dev-server/sql/types.js';

const MINUTE = 60_000;
const jobs: DataSource = {
  name: 'JOBS_CREATED',
  type: 'STREAM',
  topic: 'job_created',
  keyFormat: 'NONE',
  valueFormat: 'JSON',
  statement: '',
  columns: [
    { name: 'JOB_ID', type: BIGINT, key: false },
    { name: 'JOB_START_DATE', type: STRING, key: false },
    { name: 'JOB_END_DATE', type: STRING, key: false },
    { name: 'PRICE', type: BIGINT, key: false },
    { name: 'JOB_STATUS', type: STRING, key: false },
  ],
};
const orders: DataSource = {
  name: 'ORDERS_PLACED',
  type: 'STREAM',
  topic: 'order_placed',
  keyFormat: 'NONE',
  valueFormat: 'JSON',
  statement: '',
  columns: [
    { name: 'JOB_ID', type: BIGINT, key: false },
    { name: 'CUSTOMER_ID', type: STRING, key: false },
    { name: 'SERVICE_OPTION', type: STRING, key: false },
    { name: 'CONTRACTOR_ID', type: STRING, key: false },
    { name: 'LOCATION', type: STRING, key: false },
    { name: 'PRICE_QUOTED', type: BIGINT, key: false },
  ],
};

function jobStatusPlan() {
  const text = readFileSync(fileURLToPath(new URL('../../templates/ksql/03-job-status.sql', import.meta.url)), 'utf8');
  const [statement] = parseStatements(text);
  if (statement?.kind !== 'create' || !statement.query) throw new Error('not a CSAS');
  const sources = new Map([jobs, orders].map((s) => [s.name, s]));
  return planQuery(statement.query, (n) => sources.get(n), { persistent: true, sinkName: 'JOB_STATUS' });
}

function harness() {
  const plan = jobStatusPlan();
  const out: ResultRow[] = [];
  const processor = plan.createProcessor((row) => out.push(row));
  let offset = 0;
  const send = (input: 0 | 1, value: Record<string, unknown>, timestamp: number) =>
    processor.process(
      input,
      plan.inputs[input]!.decode({
        key: null,
        value: Buffer.from(JSON.stringify(value)),
        timestamp,
        partition: 0,
        offset: offset++,
      }),
      true,
    );
  return {
    plan,
    processor,
    out,
    job: (id: number, price: number, ts: number) => send(0, { job_id: id, price }, ts),
    order: (id: number, quote: number | null, ts: number) =>
      send(1, { JOB_ID: id, customer_id: `c${id}`, service_option: 's', price_quoted: quote }, ts),
  };
}

describe('ksqlDB dev server: stream-stream join semantics (job_status)', () => {
  it('derives the sink schema: key JOB_ID BIGINT, then the value columns', () => {
    const { plan } = harness();
    expect(plan.columns.map((c) => [c.name, c.type.kind, c.key])).toEqual([
      ['JOB_ID', 'BIGINT', true],
      ['CUSTOMER_ID', 'STRING', false],
      ['SERVICE_OPTION', 'STRING', false],
      ['PRICE', 'BIGINT', false],
      ['CURRENT_STATUS', 'STRING', false],
    ]);
    expect(plan.resultType).toBe('STREAM');
    expect(plan.windowRetentionMs).toBe(2 * 60 * MINUTE + 15 * MINUTE);
    expect(plan.warnings).toEqual([]);
  });

  it('joins within one hour either way, in either arrival order, stamped with the later timestamp', () => {
    const h = harness();
    const t = 1_000_000_000;
    h.job(1, 100, t);
    h.order(1, 100, t + 59 * MINUTE);
    h.order(2, 150, t);
    h.job(2, 100, t + 60 * MINUTE);
    h.job(3, 100, t);
    h.order(3, 50, t + 61 * MINUTE);
    expect(h.out.map((r) => [r.values[0], r.values[4], r.timestamp])).toEqual([
      [1, 'ACCEPTED', t + 59 * MINUTE],
      [2, 'ACCEPTED', t + 60 * MINUTE],
    ]);
  });

  it('joins out-of-order records within the grace period and drops late ones', () => {
    const h = harness();
    const t = 1_000_000_000;
    h.job(10, 10, t + 90 * MINUTE);
    h.order(10, 5, t + 90 * MINUTE); // stream time is now t+90m
    h.job(11, 100, t + 20 * MINUTE); // window end t+80m, + 15m grace = t+95m: still accepted
    h.order(11, 200, t + 25 * MINUTE);
    h.job(12, 100, t); // window end t+60m + 15m grace < t+90m: late
    h.order(12, 200, t);
    expect(h.out.map((r) => [r.values[0], r.values[4]])).toEqual([
      [10, 'REJECTED'],
      [11, 'ACCEPTED'],
    ]);
    expect(h.processor.lateRecords).toBe(2);
  });

  it('rejects a null quote and ignores records without a join key', () => {
    const h = harness();
    h.job(1, 100, 0);
    h.order(1, null, 0);
    h.order(Number.NaN, 5, 0);
    expect(h.out.map((r) => r.values[4])).toEqual(['REJECTED']);
  });

  it('emits one row per matching pair when a side repeats', () => {
    const h = harness();
    h.job(1, 100, 0);
    h.job(1, 120, 1);
    h.order(1, 110, 2);
    expect(h.out.map((r) => r.values[4])).toEqual(['ACCEPTED', 'REJECTED']);
  });

  it('pairs a record with every earlier one of its key on the other side, oldest first', () => {
    const h = harness();
    h.order(1, 110, 0);
    h.order(1, 90, 1);
    h.order(1, 100, 2);
    h.job(1, 100, 3);
    h.job(1, 95, 4);
    expect(h.out.map((r) => [r.values[4], r.values[3]])).toEqual([
      ['ACCEPTED', 100],
      ['REJECTED', 100],
      ['ACCEPTED', 100],
      ['ACCEPTED', 95],
      ['REJECTED', 95],
      ['ACCEPTED', 95],
    ]);
  });

  it('decodes only the columns the query reads, matching JSON fields by name ignoring case', () => {
    const { plan } = harness();
    const decode = (input: 0 | 1, value: object) =>
      plan.inputs[input]!.decode({
        key: null,
        value: Buffer.from(JSON.stringify(value)),
        timestamp: 5,
        partition: 1,
        offset: 9,
      }).row;
    // Jobs: JOB_ID and PRICE are read; the dates and status are not kept. Then ROWTIME, ROWPARTITION, ROWOFFSET.
    expect(
      decode(0, {
        Job_Id: 3,
        job_start_date: '2026-01-01',
        job_end_date: 'x',
        PRICE: '120',
        job_status: { any: 'thing' },
      }),
    ).toEqual([3, null, null, 120, null, 5, 1, 9]);
    expect(
      decode(1, {
        job_id: 3,
        customer_id: 'c3',
        service_option: 's',
        contractor_id: 'k',
        location: 'Sydney',
        price_quoted: 99,
      }),
    ).toEqual([3, 'c3', 's', null, null, 99, 5, 1, 9]);
    // A column the query reads still rejects a value ksqlDB could not convert.
    expect(() => decode(0, { job_id: 3, price: 'abc' })).toThrow(/Can't convert type/);
  });

  it('rebuilds state without emitting when replaying', () => {
    const h = harness();
    const decode = (input: 0 | 1, value: object, ts: number) =>
      h.plan.inputs[input]!.decode({
        key: null,
        value: Buffer.from(JSON.stringify(value)),
        timestamp: ts,
        partition: 0,
        offset: 0,
      });
    h.processor.process(0, decode(0, { job_id: 7, price: 1 }, 0), false);
    expect(h.out).toEqual([]);
    h.processor.process(1, decode(1, { job_id: 7, price_quoted: 2 }, 0), true);
    expect(h.out.map((r) => r.values[0])).toEqual([7]);
  });
});
