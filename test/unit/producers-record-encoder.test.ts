import { describe, expect, it } from 'vitest';
import { SERVICE_OPTIONS, serviceLabel } from '../../src/producers/catalogue.js';
import { JobGenerator } from '../../src/producers/jobs.js';
import { buildWordPools, contractorId, type Customer } from '../../src/producers/population.js';
import { RecordEncoder, writeDecimal } from '../../src/producers/record-encoder.js';
import { INPUT_TOPICS } from '../../src/producers/records.js';
import { Workload } from '../../src/producers/workload.js';
import { recordCollector } from '../helpers/records.js';

const key = (encoder: RecordEncoder) => encoder.bytes.toString('utf8', 0, encoder.keyEnd);
const value = (encoder: RecordEncoder, end: number) => encoder.bytes.toString('utf8', encoder.keyEnd, end);

describe('RecordEncoder', () => {
  it('writes each job id as the key and exactly the JSON.stringify text of every generated value', async () => {
    const generator = new JobGenerator({
      seed: 11,
      pools: await buildWordPools(11),
      acceptRatio: 0.7,
      maxOrderDelayMs: 1000,
    });
    const encoder = new RecordEncoder((n) => generator.customer(n));
    const start = Date.UTC(2026, 0, 1);
    for (let i = 0; i < 5000; i++) {
      const job = generator.next(start + i * 37);
      const id = String(job.jobId);
      let end = encoder.jobCreated(job.jobCreated);
      expect(key(encoder)).toBe(id);
      expect(value(encoder, end)).toBe(JSON.stringify(job.jobCreated));
      end = encoder.jobLocation(job.jobId, job.order.customer, job.jobLocation.REPORTING_TIME);
      expect(key(encoder)).toBe(id);
      expect(value(encoder, end)).toBe(JSON.stringify(job.jobLocation));
      end = encoder.orderPlaced(job.jobId, job.order);
      expect(key(encoder)).toBe(id);
      expect(value(encoder, end)).toBe(JSON.stringify(generator.orderPlaced(job.jobId, job.order)));
    }
  });

  it('escapes quotes, backslashes and control characters and keeps unicode, as JSON.stringify does', () => {
    const awkward = 'O\'Brien "the \\ builder"\n\t\u0001 Ōtaki ☕ \ud83d\ude9a';
    const customer: Customer = {
      id: `C-${awkward}`,
      name: awkward,
      email: 'a@b.c',
      address: awkward,
      lat: -33.5,
      long: 151.25,
    };
    const encoder = new RecordEncoder(() => customer);
    const location = {
      CUSTOMERNAME: awkward,
      EMAIL: 'a@b.c',
      ADDRESS: awkward,
      DEST_LAT: -33.5,
      DEST_LONG: 151.25,
      REPORTING_TIME: 1_780_000_000_123,
    };
    let end = encoder.jobLocation(42, 0, location.REPORTING_TIME);
    expect(value(encoder, end)).toBe(JSON.stringify(location));
    expect(JSON.parse(value(encoder, end)).CUSTOMERNAME).toBe(awkward);
    const option = SERVICE_OPTIONS[3]!;
    end = encoder.orderPlaced(42, { customer: 0, option: 3, contractor: 7, priceQuoted: 0 });
    expect(value(encoder, end)).toBe(
      JSON.stringify({
        job_id: 42,
        customer_id: customer.id,
        service_option: serviceLabel(option),
        contractor_id: contractorId(option.trade, 7),
        location: awkward,
        price_quoted: 0,
      }),
    );
    end = encoder.text('truck ☕', '{"STATE":"EN_ROUTE"}');
    expect(key(encoder)).toBe('truck ☕');
    expect(value(encoder, end)).toBe('{"STATE":"EN_ROUTE"}');
    // the same job again after a record given as text: its key is written again, not left as the text's
    end = encoder.orderPlaced(42, { customer: 0, option: 3, contractor: 7, priceQuoted: 5 });
    expect(key(encoder)).toBe('42');
    expect(JSON.parse(value(encoder, end))).toMatchObject({ job_id: 42, price_quoted: 5 });
  });

  it('writes non-negative safe integers as String does', () => {
    const target = Buffer.alloc(32);
    const samples = [
      0,
      1,
      9,
      10,
      99,
      100,
      999_999_999,
      1e9,
      1e9 + 1,
      1_000_000_000_007,
      1_234_567_890_123,
      999_999_999_999_999,
      Number.MAX_SAFE_INTEGER,
    ];
    let seed = 7;
    for (let i = 0; i < 2000; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      samples.push(Math.floor((seed / 2 ** 32) ** 4 * Number.MAX_SAFE_INTEGER));
    }
    for (const n of samples) expect(target.toString('utf8', 3, writeDecimal(target, 3, n)), String(n)).toBe(String(n));
  });
});

describe('Workload records', () => {
  it('carry exactly the generated values under their job ids (cached pieces, delayed orders, truck reports in between)', async () => {
    const pools = await buildWordPools(3);
    const options = { seed: 3, pools, acceptRatio: 0.6, maxOrderDelayMs: 500 };
    const workload = new Workload({ ...options, topics: new Set(INPUT_TOPICS), trucks: 5, truckIntervalMs: 100 });
    const reference = new JobGenerator(options);
    const start = Date.UTC(2026, 3, 1);
    const { sink, records } = recordCollector();
    const expected = new Map<string, string>();
    for (let i = 0; i < 4000; i++) {
      const at = start + i;
      workload.addJob(at, sink);
      workload.due(at, sink);
      const job = reference.next(at);
      expected.set(`job_created/${job.jobId}`, JSON.stringify(job.jobCreated));
      expected.set(`joblocation/${job.jobId}`, JSON.stringify(job.jobLocation));
      expected.set(`order_placed/${job.jobId}`, JSON.stringify(reference.orderPlaced(job.jobId, job.order)));
    }
    workload.due(start + 10_000, sink);
    const trucks = records.filter((r) => r.topic === 'tradie_truck_location');
    expect(trucks.length).toBeGreaterThan(100);
    for (const truck of trucks) expect(JSON.parse(truck.value)).toHaveProperty('STATE');
    const jobRecords = records.filter((r) => r.topic !== 'tradie_truck_location');
    expect(jobRecords).toHaveLength(12_000);
    for (const record of jobRecords)
      expect(record.value, `${record.topic}/${record.key}`).toBe(expected.get(`${record.topic}/${record.key}`));
  });
});
