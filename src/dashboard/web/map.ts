import { type GeoProjection, geoMercator, geoPath } from 'd3-geo';
import type { Feature, FeatureCollection, Geometry, MultiPoint } from 'geojson';
import { feature } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
import landTopology from 'world-atlas/land-50m.json';
import type { JobSite, Truck } from '../protocol.js';
import { byId, formatCount, svg, svgById } from './dom.js';
import type { PageState } from './state.js';

/** Natural Earth land at 1:50m, shipped inside the bundle: the basemap never needs the network. */
const LAND = (() => {
  const topology = landTopology as unknown as Topology<{ land: GeometryCollection }>;
  return feature(topology, topology.objects.land) as FeatureCollection<Geometry> | Feature<Geometry>;
})();

type Extent = [west: number, south: number, east: number, north: number];

/** A single job site is not a map: never zoom in closer than this many degrees across. */
const MIN_SPAN_DEG = 0.6;
const PAD_PX = 24;
const TRUCK_TABLE_ROWS = 20;
const MAX_TILES = 80;

/**
 * Job sites and trucks over Natural Earth land, projected with d3-geo (Mercator, so an optional raster tile layer
 * lines up) and zoomed to where the places are. Elements are kept per id and moved, never rebuilt wholesale.
 */
export class MapPanel {
  private readonly basemap = svgById('basemap');
  private readonly root = svgById('map');
  private readonly area = byId('map-area');
  private readonly tiles = svg('g', { class: 'tiles' });
  private readonly land = svg('path', { class: 'land' });
  private readonly siteLayer = svg('g', { class: 'sites' });
  private readonly routeLayer = svg('g', { class: 'routes' });
  private readonly truckLayer = svg('g', { class: 'trucks' });
  private readonly siteMarks = new Map<string, SVGRectElement>();
  private readonly truckMarks = new Map<string, { group: SVGGElement; route: SVGLineElement }>();
  private projection: GeoProjection = geoMercator();
  private view: Extent | undefined;
  private size = { width: 0, height: 0 };
  private lastFit = 0;
  private fittedTiles: string | undefined;

  constructor(private readonly onResize: () => void) {
    this.basemap.append(this.tiles, this.land);
    this.root.append(this.siteLayer, this.routeLayer, this.truckLayer);
    new ResizeObserver(() => this.onResize()).observe(this.area);
  }

  render(state: PageState): void {
    const width = this.area.clientWidth;
    const height = this.area.clientHeight;
    // Nothing to draw before the first snapshot says where the places will be (and whether tiles go under them).
    if (width === 0 || height === 0 || !state.meta) return;
    const resized = width !== this.size.width || height !== this.size.height;
    this.size = { width, height };
    const wanted = this.wantedExtent(state);
    const now = Date.now();
    const tiles = state.meta.tiles;
    const refit = resized || !this.view || tiles !== this.fittedTiles;
    if (refit || (this.shouldRefit(wanted) && now - this.lastFit > 1000)) {
      this.fit(wanted, tiles);
      this.fittedTiles = tiles;
      this.lastFit = now;
    }
    this.drawSites(state.sites);
    this.drawTrucks(state);
    const enRoute = [...state.trucks.values()].filter((t) => t.state !== 'ARRIVED').length;
    byId('map-summary').textContent =
      `${formatCount(state.sites.size)} job sites · ${formatCount(state.trucks.size)} trucks (${enRoute} en route)`;
  }

  private wantedExtent(state: PageState): Extent {
    const points: [number, number][] = [];
    for (const site of state.sites.values()) points.push([site.long, site.lat]);
    for (const truck of state.trucks.values()) points.push([truck.long, truck.lat]);
    if (points.length === 0) return state.meta?.area ?? [112, -44, 154, -10];
    let [west, south, east, north] = [Infinity, Infinity, -Infinity, -Infinity];
    for (const [long, lat] of points) {
      west = Math.min(west, long);
      east = Math.max(east, long);
      south = Math.min(south, lat);
      north = Math.max(north, lat);
    }
    const growLong = Math.max(0, MIN_SPAN_DEG - (east - west)) / 2;
    const growLat = Math.max(0, MIN_SPAN_DEG - (north - south)) / 2;
    return [west - growLong, south - growLat, east + growLong, north + growLat];
  }

  /** Refit when a place falls outside the view, or the places fill only a small part of it. */
  private shouldRefit(wanted: Extent): boolean {
    const view = this.view!;
    const outside = wanted[0] < view[0] || wanted[1] < view[1] || wanted[2] > view[2] || wanted[3] > view[3];
    const area = (e: Extent) => (e[2] - e[0]) * (e[3] - e[1]);
    return outside || area(wanted) < area(view) * 0.2;
  }

  private fit(wanted: Extent, tiles: string | undefined): void {
    const { width, height } = this.size;
    const [west, south, east, north] = wanted;
    const corners: MultiPoint = {
      type: 'MultiPoint',
      coordinates: [
        [west, south],
        [east, north],
      ],
    };
    this.projection = geoMercator()
      .fitExtent(
        [
          [PAD_PX, PAD_PX],
          [width - PAD_PX, height - PAD_PX],
        ],
        corners,
      )
      .clipExtent([
        [0, 0],
        [width, height],
      ]);
    const [[x0, y0], [x1, y1]] = [
      [0, 0],
      [width, height],
    ].map((p) => this.projection.invert!(p as [number, number])!) as [[number, number], [number, number]];
    this.view = [x0, y1, x1, y0];
    for (const layer of [this.basemap, this.root]) layer.setAttribute('viewBox', `0 0 ${width} ${height}`);
    this.land.setAttribute('d', geoPath(this.projection)(LAND) ?? '');
    this.land.style.fillOpacity = tiles ? '0' : '';
    this.drawTiles(tiles);
    for (const mark of this.siteMarks.values()) mark.dataset.placed = '';
    for (const mark of this.truckMarks.values()) mark.group.dataset.placed = '';
  }

  private drawSites(sites: Map<string, JobSite>): void {
    for (const [id, mark] of this.siteMarks) {
      if (sites.has(id)) continue;
      mark.remove();
      this.siteMarks.delete(id);
    }
    for (const site of sites.values()) {
      let mark = this.siteMarks.get(site.id);
      if (!mark) {
        mark = svg('rect', { class: 'site', width: 6, height: 6 });
        mark.dataset.site = site.id;
        mark.append(svg('title', {}, `job ${site.id}`));
        this.siteLayer.append(mark);
        this.siteMarks.set(site.id, mark);
      }
      const key = `${site.long},${site.lat}`;
      if (mark.dataset.placed === key) continue;
      const [x, y] = this.projection([site.long, site.lat]) ?? [-10, -10];
      mark.setAttribute('transform', `translate(${x.toFixed(1)} ${y.toFixed(1)}) rotate(45) translate(-3 -3)`);
      mark.dataset.placed = key;
    }
  }

  private drawTrucks(state: PageState): void {
    for (const [id, mark] of this.truckMarks) {
      if (state.trucks.has(id)) continue;
      mark.group.remove();
      mark.route.remove();
      this.truckMarks.delete(id);
    }
    for (const truck of state.trucks.values()) {
      let mark = this.truckMarks.get(truck.id);
      if (!mark) {
        const group = svg('g', { class: 'truck' });
        group.dataset.truck = truck.id;
        group.append(svg('circle', { r: 5.5 }), svg('text', { x: 8, y: 3.5 }, shortTruckName(truck.id)), svg('title'));
        const route = svg('line', { class: 'route' });
        this.routeLayer.append(route);
        this.truckLayer.append(group);
        mark = { group, route };
        this.truckMarks.set(truck.id, mark);
      }
      const arrived = truck.state === 'ARRIVED';
      mark.group.classList.toggle('arrived', arrived);
      mark.group.dataset.state = truck.state;
      mark.group.querySelector('title')!.textContent = describeTruck(truck);
      const [x, y] = this.projection([truck.long, truck.lat]) ?? [-10, -10];
      mark.group.setAttribute('transform', `translate(${x.toFixed(1)} ${y.toFixed(1)})`);
      const destination = destinationOf(truck, state.sites);
      const target = destination && !arrived ? this.projection(destination) : null;
      if (target) {
        mark.route.setAttribute('x1', x.toFixed(1));
        mark.route.setAttribute('y1', y.toFixed(1));
        mark.route.setAttribute('x2', target[0].toFixed(1));
        mark.route.setAttribute('y2', target[1].toFixed(1));
        mark.route.style.display = '';
      } else {
        mark.route.style.display = 'none';
      }
    }
    this.drawTruckTable(state);
  }

  private drawTruckTable(state: PageState): void {
    const trucks = [...state.trucks.values()]
      .sort((a, b) => {
        const arrived = Number(a.state === 'ARRIVED') - Number(b.state === 'ARRIVED');
        return arrived || (a.etaSeconds ?? Infinity) - (b.etaSeconds ?? Infinity) || a.id.localeCompare(b.id);
      })
      .slice(0, TRUCK_TABLE_ROWS);
    const rows = trucks.map((truck) => {
      const tr = document.createElement('tr');
      tr.dataset.truck = truck.id;
      const cells: [string, string][] = [
        [shortTruckName(truck.id), ''],
        [truck.jobId, ''],
        [truck.distanceKm === undefined ? '' : truck.distanceKm.toFixed(1), 'num'],
        [truck.etaSeconds === undefined ? '' : formatEta(truck.etaSeconds), 'num'],
        [truck.state === 'ARRIVED' ? 'arrived' : 'en route', truck.state === 'ARRIVED' ? 'arrived' : ''],
      ];
      for (const [text, className] of cells) {
        const td = document.createElement('td');
        td.textContent = text;
        if (className) td.className = className;
        tr.append(td);
      }
      return tr;
    });
    byId('truck-rows').replaceChildren(...rows);
  }

  /** Raster tiles (Web Mercator, z/x/y) under the land outline, when the user asked for a tile server. */
  private drawTiles(template: string | undefined): void {
    this.tiles.replaceChildren();
    if (!template) return;
    const scale = this.projection.scale();
    const z = Math.max(0, Math.min(19, Math.round(Math.log2((scale * 2 * Math.PI) / 256))));
    const n = 2 ** z;
    const [west, south, east, north] = this.view!;
    const tileX = (long: number) => Math.floor(((long + 180) / 360) * n);
    const tileY = (lat: number) => {
      const r = (lat * Math.PI) / 180;
      return Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n);
    };
    const longOf = (x: number) => (x / n) * 360 - 180;
    const latOf = (y: number) => (Math.atan(Math.sinh(Math.PI * (1 - (2 * y) / n))) * 180) / Math.PI;
    const [x0, x1] = [tileX(west), tileX(east)];
    const [y0, y1] = [tileY(north), tileY(south)];
    if ((x1 - x0 + 1) * (y1 - y0 + 1) > MAX_TILES) return;
    for (let x = x0; x <= x1; x++) {
      for (let y = Math.max(0, y0); y <= Math.min(n - 1, y1); y++) {
        const nw = this.projection([longOf(x), latOf(y)]);
        const se = this.projection([longOf(x + 1), latOf(y + 1)]);
        if (!nw || !se) continue;
        const href = template
          .replace('{z}', String(z))
          .replace('{x}', String(((x % n) + n) % n))
          .replace('{y}', String(y));
        this.tiles.append(
          svg('image', {
            href,
            x: nw[0],
            y: nw[1],
            width: se[0] - nw[0],
            height: se[1] - nw[1],
            preserveAspectRatio: 'none',
          }),
        );
      }
    }
    byId('attribution').textContent =
      `Land: Natural Earth · tiles: ${new URL(template.replace(/\{[xyz]\}/g, '0')).host}`;
  }
}

function destinationOf(truck: Truck, sites: Map<string, JobSite>): [number, number] | undefined {
  if (truck.destLat !== undefined && truck.destLong !== undefined) return [truck.destLong, truck.destLat];
  const site = sites.get(truck.jobId);
  return site ? [site.long, site.lat] : undefined;
}

function shortTruckName(id: string): string {
  const match = /^TRUCK-0*(\d+)$/.exec(id);
  return match ? `T${match[1]}` : id;
}

function describeTruck(truck: Truck): string {
  const parts = [`${truck.id} → job ${truck.jobId}`, truck.state === 'ARRIVED' ? 'arrived' : 'en route'];
  if (truck.distanceKm !== undefined) parts.push(`${truck.distanceKm.toFixed(2)} km to go`);
  if (truck.etaSeconds !== undefined && truck.state !== 'ARRIVED') parts.push(`ETA ${formatEta(truck.etaSeconds)}`);
  return parts.join(' · ');
}

function formatEta(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}
