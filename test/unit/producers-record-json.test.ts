import { describe, expect, it } from 'vitest';
import { Fleet } from '../../src/producers/fleet.js';
import { JobGenerator } from '../../src/producers/jobs.js';
import { buildWordPools } from '../../src/producers/population.js';
import { Workload } from '../../src/producers/workload.js';
import type { OutgoingRecord } from '../../src/producers/records.js';
import { jobCreatedJson, jobLocationJson, orderPlacedJson, vehiclePositionJson } from '../../src/producers/record-json.js';

describe('record JSON', () => {
  it('writes exactly what JSON.stringify writes for generated jobs and truck reports', async () => {
    const generator = new JobGenerator({ seed: 11, pools: await buildWordPools(11), acceptRatio: 0.7, maxOrderDelayMs: 1000 });
    const fleet = new Fleet({ seed: 11, trucks: 20, reportIntervalMs: 1000 });
    const start = Date.UTC(2026, 0, 1);
    for (let i = 0; i < 5000; i++) {
      const job = generator.next(start + i * 37);
      const orderPlaced = generator.orderPlaced(job.jobId, job.order);
      expect(jobCreatedJson(job.jobCreated)).toBe(JSON.stringify(job.jobCreated));
      expect(orderPlacedJson(orderPlaced)).toBe(JSON.stringify(orderPlaced));
      expect(jobLocationJson(job.jobLocation)).toBe(JSON.stringify(job.jobLocation));
      fleet.addJob(job.key, job.destination.lat, job.destination.long);
    }
    let reports = 0;
    for (let t = start; t < start + 120_000; t += 1000) {
      for (const report of fleet.due(t)) {
        expect(vehiclePositionJson(report.position)).toBe(JSON.stringify(report.position));
        reports++;
      }
    }
    expect(reports).toBeGreaterThan(1000);
  });

  it('escapes quotes, backslashes, control characters and keeps unicode as JSON.stringify does', () => {
    const awkward = 'O\'Brien "the \\ builder"\n\t\u0001 Ōtaki ☕ \ud83d\ude9a';
    const location = { CUSTOMERNAME: awkward, EMAIL: 'a@b.c', ADDRESS: awkward, DEST_LAT: -33.5, DEST_LONG: 151.25, REPORTING_TIME: 1 };
    expect(jobLocationJson(location)).toBe(JSON.stringify(location));
    expect(JSON.parse(jobLocationJson(location)).CUSTOMERNAME).toBe(awkward);
    const order = { job_id: 1, customer_id: awkward, service_option: 'x', contractor_id: 'y', location: awkward, price_quoted: 0 };
    expect(orderPlacedJson(order)).toBe(JSON.stringify(order));
  });

  it('the records a workload makes (cached per-customer pieces, delayed orders) carry exactly the generated values', async () => {
    const pools = await buildWordPools(3);
    const options = { seed: 3, pools, acceptRatio: 0.6, maxOrderDelayMs: 500 };
    const workload = new Workload({ ...options, topics: new Set(['job_created', 'order_placed', 'joblocation'] as const), trucks: 0, truckIntervalMs: 1000 });
    const reference = new JobGenerator(options);
    const start = Date.UTC(2026, 3, 1);
    const out: OutgoingRecord[] = [];
    const expected = new Map<string, string>();
    for (let i = 0; i < 4000; i++) {
      const at = start + i;
      workload.addJob(at, out);
      const job = reference.next(at);
      expected.set(`job_created/${job.key}`, JSON.stringify(job.jobCreated));
      expected.set(`joblocation/${job.key}`, JSON.stringify(job.jobLocation));
      expected.set(`order_placed/${job.key}`, JSON.stringify(reference.orderPlaced(job.jobId, job.order)));
    }
    workload.due(start + 10_000, out);
    expect(out).toHaveLength(12_000);
    for (const record of out) expect(record.value, `${record.topic}/${record.key}`).toBe(expected.get(`${record.topic}/${record.key}`));
  });
});
