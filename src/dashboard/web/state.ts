import type {
  Banner,
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
} from '../protocol.js';

export const SHOWN_ROWS = 40;
export const RATE_WINDOW_S = 300;

export type Panel = 'meta' | 'decisions' | 'map' | 'flow' | 'health' | 'banners';

/** The page's copy of the server's model: a snapshot replaces it, updates are merged in. */
export class PageState {
  meta: DashboardMeta | undefined;
  counts: DecisionCounts = { byStatus: {}, total: 0, complete: false };
  readonly rates = new Map<number, RateSample>();
  rows: DecisionRow[] = [];
  readonly sites = new Map<string, JobSite>();
  readonly trucks = new Map<string, Truck>();
  flow: Flow = { nodes: [], edges: [] };
  flowChanged = false;
  health: Health | undefined;
  banners: Banner[] = [];
  readonly dirty = new Set<Panel>();

  applySnapshot(snapshot: Snapshot): void {
    this.meta = snapshot.meta;
    this.counts = snapshot.counts;
    this.rates.clear();
    for (const sample of snapshot.rates) this.rates.set(sample.t, sample);
    this.rows = snapshot.rows.slice(-SHOWN_ROWS);
    this.sites.clear();
    for (const site of snapshot.sites) this.sites.set(site.id, site);
    this.trucks.clear();
    for (const truck of snapshot.trucks) this.trucks.set(truck.id, truck);
    this.flow = snapshot.flow;
    this.flowChanged = true;
    this.health = snapshot.health;
    this.banners = snapshot.banners;
    for (const panel of ['meta', 'decisions', 'map', 'flow', 'health', 'banners'] as const) this.dirty.add(panel);
  }

  applyUpdate(update: Update): void {
    if (update.counts) this.counts = update.counts;
    if (update.rates) for (const sample of update.rates) this.rates.set(sample.t, sample);
    if (update.rows) this.rows = [...this.rows, ...update.rows].slice(-SHOWN_ROWS);
    if (update.counts || update.rates || update.rows) {
      this.trimRates();
      this.dirty.add('decisions');
    }
    if (update.sites) for (const site of update.sites) this.sites.set(site.id, site);
    if (update.removedSites) for (const id of update.removedSites) this.sites.delete(id);
    if (update.trucks) for (const truck of update.trucks) this.trucks.set(truck.id, truck);
    if (update.removedTrucks) for (const id of update.removedTrucks) this.trucks.delete(id);
    if (update.sites || update.removedSites || update.trucks || update.removedTrucks) this.dirty.add('map');
    if (update.flow) {
      this.flow = update.flow;
      this.flowChanged = true;
      this.dirty.add('flow');
    }
    if (update.health) {
      this.health = update.health;
      this.dirty.add('health');
      // Topic rates are drawn on the flow too.
      this.dirty.add('flow');
    }
    if (update.banners) {
      this.banners = update.banners;
      this.dirty.add('banners');
    }
  }

  private trimRates(): void {
    const oldest = Math.floor(Date.now() / 1000) - RATE_WINDOW_S;
    for (const t of this.rates.keys()) if (t < oldest) this.rates.delete(t);
  }
}
