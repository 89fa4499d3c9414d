import { describe, expect, it } from 'vitest';
import { DashboardModel, LIMITS } from '../../src/dashboard/model.js';
import type { DecisionRow } from '../../src/dashboard/protocol.js';

const meta = { target: 'local' as const, prefix: 'unit', engine: 'ksqlDB', since: 0 };

function rows(n: number, from = 0): DecisionRow[] {
  return Array.from({ length: n }, (_, i) => ({
    jobId: String(from + i),
    customer: `CUST-${i}`,
    service: 'Plumbing',
    price: 100,
    status: (from + i) % 3 === 0 ? 'REJECTED' : 'ACCEPTED',
    ts: 0,
  }));
}

describe('dashboard model', () => {
  it('keeps exact counts but only what the page shows, however much arrives (memory stays flat)', () => {
    let now = 1_000_000;
    const model = new DashboardModel(meta, () => now);
    for (let batch = 0; batch < 1_000; batch++) {
      model.addDecisions(rows(100, batch * 100));
      model.addJobSites(rows(10, batch * 10).map((r) => ({ id: r.jobId, lat: -33, long: 151 })));
      model.addTruckPositions([{ id: `TRUCK-${batch}`, jobId: String(batch), state: 'EN_ROUTE', lat: -33, long: 151 }]);
      now += 1_000;
      model.drainUpdate();
    }
    const snapshot = model.snapshot();
    expect(snapshot.counts.byStatus).toEqual({ REJECTED: 33_334, ACCEPTED: 66_666 });
    expect(snapshot.counts.total).toBe(100_000);
    expect(snapshot.rows).toHaveLength(LIMITS.rows);
    expect(snapshot.rows.at(-1)!.jobId).toBe('99999');
    expect(snapshot.rates.length).toBeLessThanOrEqual(LIMITS.rateSeconds);
    expect(snapshot.sites).toHaveLength(LIMITS.sites);
    expect(snapshot.sites.at(-1)!.id).toBe('9999');
    expect(snapshot.trucks).toHaveLength(LIMITS.trucks);
  });

  it('sends only what changed since the last tick, and nothing when nothing did', () => {
    const model = new DashboardModel(meta);
    model.drainUpdate();
    expect(model.drainUpdate()).toBeUndefined();
    model.addDecisions(rows(3));
    const update = model.drainUpdate()!;
    expect(Object.keys(update).sort()).toEqual(['counts', 'rates', 'rows']);
    expect(update.rows!.map((r) => r.jobId)).toEqual(['0', '1', '2']);
    model.addJobSites([{ id: '7', lat: -33, long: 151 }]);
    expect(Object.keys(model.drainUpdate()!)).toEqual(['sites']);
  });

  it('counts the records before the server started once they are read, and says until then', () => {
    const model = new DashboardModel(meta);
    model.addDecisions(rows(3));
    expect(model.snapshot().counts).toMatchObject({ total: 3, complete: false });
    expect(model.jobStatusRecords()).toBeNull();
    model.setEarlierDecisions(
      new Map([
        ['ACCEPTED', 10],
        ['REJECTED', 5],
      ]),
    );
    expect(model.snapshot().counts).toEqual({ byStatus: { ACCEPTED: 12, REJECTED: 6 }, total: 18, complete: true });
    expect(model.jobStatusRecords()).toBe(18);
  });

  it('raises a banner when a component goes down, says when it is back, and clears that later', () => {
    let now = 0;
    const model = new DashboardModel(meta, () => now);
    model.setComponent('ksqlDB', true, 'queries running');
    expect(model.snapshot().banners).toEqual([]);
    now = 5_000;
    model.setComponent('ksqlDB', false, 'cannot reach ksqlDB');
    expect(model.snapshot().banners).toEqual([
      { component: 'ksqlDB', state: 'down', message: 'ksqlDB is down: cannot reach ksqlDB', at: 5_000 },
    ]);
    now = 17_000;
    model.setComponent('ksqlDB', true, 'queries running');
    expect(model.snapshot().banners).toEqual([
      { component: 'ksqlDB', state: 'back', message: 'ksqlDB is back (down for 12 s)', at: 17_000 },
    ]);
    now = 17_000 + LIMITS.backBannerMs + 1;
    expect(model.snapshot().banners).toEqual([]);
  });

  it('puts distance and ETA from truck_tracker on the truck heading to that job', () => {
    const model = new DashboardModel(meta);
    model.addTruckPositions([{ id: 'TRUCK-0001', jobId: '42', state: 'EN_ROUTE', lat: -33.9, long: 151.1 }]);
    model.addTracker([
      { jobId: '42', vehicleId: 'TRUCK-0001', distanceKm: 3.2, etaSeconds: 40, destLat: -33.8, destLong: 151.2 },
    ]);
    model.addTracker([{ jobId: '43', vehicleId: 'TRUCK-0002', distanceKm: 1, etaSeconds: 5 }]);
    expect(model.snapshot().trucks).toEqual([
      {
        id: 'TRUCK-0001',
        jobId: '42',
        state: 'EN_ROUTE',
        lat: -33.9,
        long: 151.1,
        distanceKm: 3.2,
        etaSeconds: 40,
        destLat: -33.8,
        destLong: 151.2,
      },
    ]);
  });
});
