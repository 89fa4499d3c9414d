import type {
  Banner,
  ComponentHealth,
  DashboardMeta,
  DecisionCounts,
  DecisionRow,
  Flow,
  Health,
  JobSite,
  RateSample,
  Snapshot,
  Truck,
  Update,
} from './protocol.js';

/** What the page keeps on screen, and so all the server keeps: memory stays flat however long it runs. */
export const LIMITS = {
  rows: 40,
  rateSeconds: 300,
  sites: 1_000,
  trucks: 500,
  trackedJobs: 2_000,
  /** How long a "back" banner stays after a component recovers. */
  backBannerMs: 20_000,
} as const;

export interface TrackerRow {
  jobId: string;
  vehicleId?: string;
  lat?: number;
  long?: number;
  destLat?: number;
  destLong?: number;
  distanceKm?: number;
  etaSeconds?: number;
}

export interface TruckPosition {
  id: string;
  jobId: string;
  state: string;
  lat: number;
  long: number;
}

/**
 * The dashboard's state, fed by the Kafka follower and the pollers, drained once per tick into an Update holding
 * only what changed. No I/O here; the clock is passed in so the model can be driven exactly.
 */
export class DashboardModel {
  private readonly counts = new Map<string, number>();
  private earlierCounts: Map<string, number> | undefined;
  private readonly rows: DecisionRow[] = [];
  private readonly rates = new Map<number, RateSample>();
  private readonly sites = new Map<string, JobSite>();
  private readonly trucks = new Map<string, Truck>();
  private readonly tracker = new Map<string, TrackerRow>();
  private flow: Flow = { nodes: [], edges: [] };
  private health: Health;
  private readonly components = new Map<string, ComponentHealth>();
  private banners: Banner[] = [];
  private liveRecords = 0;
  private rowsSeen = 0;
  private restarted = false;

  private dirty = {
    counts: false,
    rows: [] as DecisionRow[],
    rates: new Set<number>(),
    sites: new Set<string>(),
    removedSites: new Set<string>(),
    trucks: new Set<string>(),
    removedTrucks: new Set<string>(),
    flow: false,
    health: false,
    banners: false,
  };

  constructor(
    readonly meta: DashboardMeta,
    private readonly now: () => number = Date.now,
  ) {
    this.health = { components: [], topics: [], lags: [], sink: { documents: null, records: null }, at: 0 };
  }

  /** job_status rows as they arrive. */
  addDecisions(rows: DecisionRow[]): void {
    const second = Math.floor(this.now() / 1000);
    let sample = this.rates.get(second);
    if (!sample) {
      sample = { t: second, accepted: 0, rejected: 0 };
      this.rates.set(second, sample);
      for (const t of this.rates.keys()) {
        if (t > second - LIMITS.rateSeconds) break;
        this.rates.delete(t);
      }
    }
    for (const row of rows) {
      this.counts.set(row.status, (this.counts.get(row.status) ?? 0) + 1);
      if (row.status === 'ACCEPTED') sample.accepted++;
      else if (row.status === 'REJECTED') sample.rejected++;
    }
    this.liveRecords += rows.length;
    this.rowsSeen += rows.length;
    this.rows.push(...rows.slice(-LIMITS.rows));
    if (this.rows.length > LIMITS.rows) this.rows.splice(0, this.rows.length - LIMITS.rows);
    this.dirty.rows.push(...rows.slice(-LIMITS.rows));
    if (this.dirty.rows.length > LIMITS.rows) this.dirty.rows.splice(0, this.dirty.rows.length - LIMITS.rows);
    this.dirty.rates.add(second);
    this.dirty.counts = true;
  }

  /** The statuses of the job_status records written before the server started following the topic. */
  setEarlierDecisions(byStatus: Map<string, number>): void {
    this.earlierCounts = byStatus;
    this.dirty.counts = true;
  }

  /** job_status rows seen since the server started following the topics, across restarts of the deployment. */
  liveRows(): number {
    return this.rowsSeen;
  }

  /**
   * The deployment's topics were deleted and made again (`down`, then `up`): what the page shows of the old ones
   * (counts, rows, rates, job sites, trucks) goes, and every page gets a whole snapshot at the next tick. The flow,
   * the components and their banners stay, as they describe the deployment, not its records.
   */
  restart(): void {
    this.counts.clear();
    this.earlierCounts = undefined;
    this.rows.length = 0;
    this.rates.clear();
    this.sites.clear();
    this.trucks.clear();
    this.tracker.clear();
    this.liveRecords = 0;
    this.restarted = true;
  }

  /** True once after restart(): the pages need a whole snapshot, not an update. */
  takeRestart(): boolean {
    const restarted = this.restarted;
    this.restarted = false;
    return restarted;
  }

  /** job_status records in the topic, once the earlier ones are counted (else null). */
  jobStatusRecords(): number | null {
    if (!this.earlierCounts) return null;
    return sum(this.earlierCounts.values()) + this.liveRecords;
  }

  addJobSites(sites: JobSite[]): void {
    for (const site of sites) {
      this.sites.delete(site.id);
      this.sites.set(site.id, site);
      this.dirty.sites.add(site.id);
      this.dirty.removedSites.delete(site.id);
    }
    evictOldest(this.sites, LIMITS.sites, (id) => {
      this.dirty.sites.delete(id);
      this.dirty.removedSites.add(id);
    });
  }

  addTruckPositions(positions: TruckPosition[]): void {
    for (const position of positions) {
      const previous = this.trucks.get(position.id);
      const tracked = this.tracker.get(position.jobId);
      const sameTruck = tracked && (tracked.vehicleId === undefined || tracked.vehicleId === position.id);
      this.trucks.delete(position.id);
      this.trucks.set(position.id, {
        ...position,
        ...(sameTruck ? trackerFigures(tracked) : previous?.jobId === position.jobId ? figuresOf(previous) : {}),
      });
      this.dirty.trucks.add(position.id);
      this.dirty.removedTrucks.delete(position.id);
    }
    evictOldest(this.trucks, LIMITS.trucks, (id) => {
      this.dirty.trucks.delete(id);
      this.dirty.removedTrucks.add(id);
    });
  }

  /** truck_tracker rows: distance and ETA per job, for the truck heading there. */
  addTracker(rows: TrackerRow[]): void {
    for (const row of rows) {
      this.tracker.delete(row.jobId);
      this.tracker.set(row.jobId, row);
      if (!row.vehicleId) continue;
      const truck = this.trucks.get(row.vehicleId);
      if (truck && truck.jobId === row.jobId) {
        Object.assign(truck, trackerFigures(row));
        this.dirty.trucks.add(truck.id);
      } else if (!truck && row.lat !== undefined && row.long !== undefined) {
        // A truck whose position reports came before the server started: place it where the tracker last saw it.
        const arrived = row.distanceKm === 0;
        this.addTruckPositions([
          {
            id: row.vehicleId,
            jobId: row.jobId,
            state: arrived ? 'ARRIVED' : 'EN_ROUTE',
            lat: row.lat,
            long: row.long,
          },
        ]);
      }
    }
    evictOldest(this.tracker, LIMITS.trackedJobs, () => undefined);
  }

  setFlow(flow: Flow): void {
    if (JSON.stringify(flow) === JSON.stringify(this.flow)) return;
    this.flow = flow;
    this.dirty.flow = true;
  }

  /** A component's state; a change to down raises a banner, a change back to up replaces it with a "back" one. */
  setComponent(name: string, up: boolean | null, detail: string): void {
    const at = this.now();
    const previous = this.components.get(name);
    if (previous && previous.up === up && previous.detail === detail) return;
    const since = previous && previous.up === up ? previous.since : at;
    this.components.set(name, { name, up, detail, since });
    if (up === false && previous?.up !== false) {
      this.banners = this.banners.filter((b) => b.component !== name);
      this.banners.push({ component: name, state: 'down', message: `${name} is down: ${detail}`, at });
      this.dirty.banners = true;
    } else if (up === false) {
      const banner = this.banners.find((b) => b.component === name && b.state === 'down');
      if (banner && banner.message !== `${name} is down: ${detail}`) {
        banner.message = `${name} is down: ${detail}`;
        this.dirty.banners = true;
      }
    } else if (up === true && previous?.up === false) {
      const seconds = Math.max(1, Math.round((at - previous.since) / 1000));
      this.banners = this.banners.filter((b) => b.component !== name);
      this.banners.push({ component: name, state: 'back', message: `${name} is back (down for ${seconds} s)`, at });
      this.dirty.banners = true;
    }
  }

  setHealth(health: Omit<Health, 'components' | 'at'>): void {
    this.health = { ...health, components: [...this.components.values()], at: this.now() };
    this.dirty.health = true;
  }

  snapshot(): Snapshot {
    this.expireBanners();
    return {
      meta: this.meta,
      counts: this.decisionCounts(),
      rates: [...this.rates.values()],
      rows: [...this.rows],
      sites: [...this.sites.values()],
      trucks: [...this.trucks.values()],
      flow: this.flow,
      health: { ...this.health, components: [...this.components.values()] },
      banners: [...this.banners],
    };
  }

  /** What changed since the last call, or undefined when nothing did. */
  drainUpdate(): Update | undefined {
    this.expireBanners();
    const d = this.dirty;
    const update: Update = {};
    if (d.counts) update.counts = this.decisionCounts();
    if (d.rows.length) update.rows = d.rows.splice(0);
    if (d.rates.size) update.rates = [...d.rates].flatMap((t) => this.rates.get(t) ?? []);
    if (d.sites.size) update.sites = [...d.sites].flatMap((id) => this.sites.get(id) ?? []);
    if (d.removedSites.size) update.removedSites = [...d.removedSites];
    if (d.trucks.size) update.trucks = [...d.trucks].flatMap((id) => this.trucks.get(id) ?? []);
    if (d.removedTrucks.size) update.removedTrucks = [...d.removedTrucks];
    if (d.flow) update.flow = this.flow;
    if (d.health) update.health = { ...this.health, components: [...this.components.values()] };
    if (d.banners) update.banners = [...this.banners];
    this.dirty = {
      counts: false,
      rows: [],
      rates: new Set(),
      sites: new Set(),
      removedSites: new Set(),
      trucks: new Set(),
      removedTrucks: new Set(),
      flow: false,
      health: false,
      banners: false,
    };
    return Object.keys(update).length > 0 ? update : undefined;
  }

  private decisionCounts(): DecisionCounts {
    const byStatus: Record<string, number> = {};
    for (const source of [this.earlierCounts ?? new Map<string, number>(), this.counts]) {
      for (const [status, n] of source) byStatus[status] = (byStatus[status] ?? 0) + n;
    }
    return { byStatus, total: sum(Object.values(byStatus)), complete: this.earlierCounts !== undefined };
  }

  private expireBanners(): void {
    const cutoff = this.now() - LIMITS.backBannerMs;
    const kept = this.banners.filter((b) => b.state === 'down' || b.at > cutoff);
    if (kept.length === this.banners.length) return;
    this.banners = kept;
    this.dirty.banners = true;
  }
}

function trackerFigures(row: TrackerRow): Partial<Truck> {
  const figures: Partial<Truck> = {};
  if (row.distanceKm !== undefined) figures.distanceKm = row.distanceKm;
  if (row.etaSeconds !== undefined) figures.etaSeconds = row.etaSeconds;
  if (row.destLat !== undefined) figures.destLat = row.destLat;
  if (row.destLong !== undefined) figures.destLong = row.destLong;
  return figures;
}

function figuresOf(truck: Truck | undefined): Partial<Truck> {
  if (!truck) return {};
  const { distanceKm, etaSeconds, destLat, destLong } = truck;
  return trackerFigures({ jobId: truck.jobId, distanceKm, etaSeconds, destLat, destLong });
}

/** Maps keep insertion order, and entries are re-inserted when touched: the first ones are the least recent. */
function evictOldest<V>(map: Map<string, V>, limit: number, evicted: (key: string) => void): void {
  for (const key of map.keys()) {
    if (map.size <= limit) return;
    map.delete(key);
    evicted(key);
  }
}

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}
