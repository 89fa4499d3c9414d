import { beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_OPTIONS, serviceLabel } from '../../src/producers/catalogue.js';
import { Fleet } from '../../src/producers/fleet.js';
import { JobGenerator } from '../../src/producers/jobs.js';
import { LatencyHistogram } from '../../src/producers/latency.js';
import { distanceKm } from '../../src/producers/places.js';
import { buildWordPools, type WordPools } from '../../src/producers/population.js';
import type { VehiclePosition } from '../../src/producers/records.js';
import { recordCollector } from '../helpers/records.js';
import { Workload } from '../../src/producers/workload.js';

let pools: WordPools;
beforeAll(async () => {
  pools = await buildWordPools(7);
});

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);

describe('JobGenerator', () => {
  it('makes correlated, unique jobs with realistic fields', () => {
    const generator = new JobGenerator({ seed: 7, pools, acceptRatio: 0.7, maxOrderDelayMs: 2000 });
    const labels = new Set(SERVICE_OPTIONS.map(serviceLabel));
    const ids = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const job = generator.next(NOW);
      const orderPlaced = generator.orderPlaced(job.jobId, job.order);
      expect(job.jobCreated.job_id).toBe(job.jobId);
      expect(orderPlaced.job_id).toBe(job.jobId);
      ids.add(job.jobId);
      expect(job.jobCreated.job_status).toBe('Yet To Begin');
      expect(job.jobCreated.job_start_date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(job.jobCreated.job_end_date > job.jobCreated.job_start_date).toBe(true);
      expect(job.jobCreated.job_start_date > '2025-06-01').toBe(true);
      expect(labels.has(orderPlaced.service_option)).toBe(true);
      expect(orderPlaced.location).toBe(job.jobLocation.ADDRESS);
      expect(orderPlaced.location).toMatch(/^\d+ .+, .+ (NSW|VIC|QLD|WA|SA|ACT|TAS) \d{4}$/);
      expect(job.jobLocation.EMAIL).toMatch(/^[a-z._0-9]+@[a-z.]+$/);
      expect(job.jobLocation.CUSTOMERNAME).toMatch(/^\S+ \S+/);
      expect(job.jobLocation.DEST_LAT).toBeLessThan(-10);
      expect(job.jobLocation.DEST_LONG).toBeGreaterThan(110);
      expect(job.jobLocation.REPORTING_TIME).toBe(NOW);
      expect(job.orderDelayMs).toBeGreaterThanOrEqual(0);
      expect(job.orderDelayMs).toBeLessThanOrEqual(2000);
      expect(orderPlaced.contractor_id).toMatch(/^[A-Z]{3}-\d{4}$/);
    }
    expect(ids.size).toBe(2000);
  });

  it.each([0, 0.25, 0.7, 1])('quotes at or above the price for --accept-ratio %s of the jobs', (ratio) => {
    const generator = new JobGenerator({ seed: 11, pools, acceptRatio: ratio, maxOrderDelayMs: 0 });
    let accepted = 0;
    const n = 10_000;
    for (let i = 0; i < n; i++) {
      const job = generator.next(NOW);
      const orderPlaced = generator.orderPlaced(job.jobId, job.order);
      if (orderPlaced.price_quoted >= job.jobCreated.price) accepted++;
      expect(orderPlaced.price_quoted).toBeGreaterThan(0);
    }
    expect(Math.abs(accepted - ratio * n)).toBeLessThanOrEqual(2);
  });

  it('the same customer always has the same name, e-mail and address', () => {
    const generator = new JobGenerator({ seed: 3, pools, acceptRatio: 0.7, maxOrderDelayMs: 0 });
    const byCustomer = new Map<string, string>();
    let repeats = 0;
    for (let i = 0; i < 5000; i++) {
      const job = generator.next(NOW);
      const orderPlaced = generator.orderPlaced(job.jobId, job.order);
      const identity = `${job.jobLocation.CUSTOMERNAME}|${job.jobLocation.EMAIL}|${job.jobLocation.ADDRESS}`;
      const known = byCustomer.get(orderPlaced.customer_id);
      if (known) {
        repeats++;
        expect(known).toBe(identity);
      } else byCustomer.set(orderPlaced.customer_id, identity);
    }
    expect(repeats).toBeGreaterThan(100);
  });
});

describe('Workload', () => {
  it('sends each job before its order, and the order within the order delay', () => {
    const workload = new Workload({
      seed: 5,
      pools,
      topics: new Set(['job_created', 'order_placed', 'joblocation'] as const),
      acceptRatio: 0.7,
      maxOrderDelayMs: 3000,
      trucks: 0,
      truckIntervalMs: 1000,
    });
    const { sink, records: out } = recordCollector();
    for (let t = 0; t < 10_000; t += 50) {
      workload.addJobs(2, NOW + t, sink);
      workload.due(NOW + t, sink);
    }
    workload.flushOrders(NOW + 10_000, sink);
    const jobAt = new Map<string, { index: number; timestamp: number }>();
    out.forEach((record, index) => {
      if (record.topic === 'job_created') jobAt.set(record.key, { index, timestamp: record.timestamp });
    });
    const orders = out.filter((r) => r.topic === 'order_placed');
    expect(orders).toHaveLength(400);
    expect(out.filter((r) => r.topic === 'joblocation')).toHaveLength(400);
    out.forEach((record, index) => {
      if (record.topic !== 'order_placed') return;
      const job = jobAt.get(record.key)!;
      expect(job.index).toBeLessThan(index);
      expect(record.timestamp).toBeGreaterThanOrEqual(job.timestamp);
      expect(record.timestamp - job.timestamp).toBeLessThanOrEqual(3000);
    });
    expect(workload.pendingOrders).toBe(0);
  });

  it('generates jobs for trucks even when only the truck topic is chosen', () => {
    const workload = new Workload({
      seed: 5,
      pools,
      topics: new Set(['tradie_truck_location'] as const),
      acceptRatio: 0.7,
      maxOrderDelayMs: 3000,
      trucks: 3,
      truckIntervalMs: 1000,
    });
    const { sink, records: out } = recordCollector();
    workload.addJobs(3, NOW, sink);
    for (let t = 0; t <= 5000; t += 100) workload.due(NOW + t, sink);
    expect(out.every((r) => r.topic === 'tradie_truck_location')).toBe(true);
    expect(new Set(out.map((r) => r.key)).size).toBe(3);
    expect(out.length).toBeGreaterThanOrEqual(15);
  });
});

describe('Fleet', () => {
  it('drives each truck toward its job at a plausible speed, then ARRIVED exactly at the destination', () => {
    const interval = 1000;
    const fleet = new Fleet({
      seed: 9,
      trucks: 2,
      reportIntervalMs: interval,
      startDistanceKm: [1, 2],
      speedKmh: [30, 60],
    });
    const destinations = new Map([
      ['1001', { lat: -33.87, long: 151.21 }],
      ['1002', { lat: -37.81, long: 144.96 }],
      ['1003', { lat: -27.47, long: 153.03 }],
    ]);
    for (const [id, d] of destinations) fleet.addJob(id, d.lat, d.long);
    const byTruck = new Map<string, Array<{ at: number; p: VehiclePosition }>>();
    for (let t = 0; t <= 30 * 60_000; t += 500) {
      for (const report of fleet.due(NOW + t)) {
        const list = byTruck.get(report.vehicleId) ?? [];
        list.push({ at: report.at, p: report.position });
        byTruck.set(report.vehicleId, list);
      }
    }
    expect([...byTruck.keys()].sort()).toEqual(['TRUCK-0001', 'TRUCK-0002']);
    const arrivedJobs = new Set<string>();
    for (const reports of byTruck.values()) {
      for (let i = 1; i < reports.length; i++) {
        const prev = reports[i - 1]!;
        const cur = reports[i]!;
        if (prev.p.STATE === 'ARRIVED') continue; // the truck took its next job
        expect(cur.p.JOB_ID).toBe(prev.p.JOB_ID);
        expect(cur.at - prev.at).toBe(interval);
        const dest = destinations.get(cur.p.JOB_ID)!;
        const before = distanceKm(prev.p.LAT, prev.p.LONG, dest.lat, dest.long);
        const after = distanceKm(cur.p.LAT, cur.p.LONG, dest.lat, dest.long);
        expect(after).toBeLessThan(before);
        const kmh = (distanceKm(prev.p.LAT, prev.p.LONG, cur.p.LAT, cur.p.LONG) / interval) * 3_600_000;
        expect(kmh).toBeLessThan(61);
      }
      for (const { p } of reports.filter((r) => r.p.STATE === 'ARRIVED')) {
        const dest = destinations.get(p.JOB_ID)!;
        expect(p.LAT).toBeCloseTo(dest.lat, 5);
        expect(p.LONG).toBeCloseTo(dest.long, 5);
        arrivedJobs.add(p.JOB_ID);
      }
      expect(reports[0]!.p.STATE).toBe('EN_ROUTE');
    }
    expect([...arrivedJobs].sort()).toEqual(['1001', '1002', '1003']);
    expect(fleet.active).toBe(0);
  });

  it('idle trucks report nothing', () => {
    const fleet = new Fleet({ seed: 1, trucks: 5, reportIntervalMs: 1000 });
    expect(fleet.due(NOW + 10_000)).toEqual([]);
    expect(fleet.nextDueAt()).toBeUndefined();
  });
});

describe('LatencyHistogram', () => {
  it('reports percentiles within 2%', () => {
    const histogram = new LatencyHistogram();
    for (let i = 1; i <= 10_000; i++) histogram.record(i / 10);
    expect(histogram.percentile(50)! / 500).toBeGreaterThan(0.98);
    expect(histogram.percentile(50)! / 500).toBeLessThan(1.021);
    expect(histogram.percentile(99)! / 990).toBeGreaterThan(0.98);
    expect(histogram.percentile(99)! / 990).toBeLessThan(1.021);
    expect(new LatencyHistogram().percentile(50)).toBeUndefined();
  });
});
