/**
 * What the dashboard server sends the page over Server-Sent Events: a `hello` naming the stream, one `snapshot`
 * when a page connects (or has fallen behind), then an `update` per tick holding only what changed. Snapshots and
 * updates are numbered by their SSE id; the page posts the last one it has drawn to /ack?client=…&seq=…. Shared by the server and the browser code,
 * so it holds types only. Every string in it comes from records, metadata or error messages, never from settings
 * or credentials.
 */

/** The first event of a stream: the id the page acknowledges drawn messages with. */
export interface Hello {
  client: string;
}

export interface DashboardMeta {
  target: 'cloud' | 'local';
  prefix: string;
  /** The stream-processing engine whose queries fill job_status and truck_tracker. */
  engine: string;
  /** When the server started following the topics (epoch ms). */
  since: number;
  /** Where the generated places lie, [west, south, east, north] in degrees: the map's view before any arrive. */
  area?: [number, number, number, number];
  /** An optional raster tile URL template ({z}/{x}/{y}); the map never depends on it. */
  tiles?: string;
}

/** One job_status row as the terminal tail shows it. */
export interface DecisionRow {
  jobId: string;
  customer: string;
  service: string;
  price: number | null;
  status: string;
  /** The record's Kafka timestamp (epoch ms): when the join produced it. */
  ts: number;
}

export interface DecisionCounts {
  /** Per status, over the whole topic: the records before the server started plus those since. */
  byStatus: Record<string, number>;
  total: number;
  /** False while the records written before the server started are still being counted. */
  complete: boolean;
}

/** job_status rows per second, by the second they were shown in (epoch seconds). */
export interface RateSample {
  t: number;
  accepted: number;
  rejected: number;
}

export interface JobSite {
  id: string;
  lat: number;
  long: number;
}

export interface Truck {
  id: string;
  jobId: string;
  state: string;
  lat: number;
  long: number;
  /** From truck_tracker: distance to the job site in km and the estimated seconds left. */
  distanceKm?: number;
  etaSeconds?: number;
  destLat?: number;
  destLong?: number;
}

export type FlowKind = 'producer' | 'topic' | 'stream' | 'table' | 'query' | 'connector';

export interface FlowNode {
  id: string;
  kind: FlowKind;
  label: string;
  status?: string;
}

export interface Flow {
  nodes: FlowNode[];
  edges: { from: string; to: string }[];
}

export type ComponentName = 'Kafka' | 'Connect' | 'MongoDB' | (string & {});

export interface ComponentHealth {
  name: ComponentName;
  /** null: not checked yet (or cannot be, e.g. no credentials for it). */
  up: boolean | null;
  detail: string;
  /** Since when it has been in this state (epoch ms). */
  since: number;
}

export interface TopicHealth {
  name: string;
  /** Sum of the partitions' end offsets. */
  endOffset: number;
  /** Records per second over the last few seconds. */
  rate: number;
}

export interface GroupLag {
  /** The query id or connector name. */
  owner: string;
  kind: 'query' | 'connector';
  group: string;
  /** Records the group has not committed yet, over all its partitions; null when unknown. */
  lag: number | null;
}

export interface SinkComparison {
  /** Documents in the sink collection; null when MongoDB cannot be asked. */
  documents: number | null;
  /** Records in job_status; null until the records written before the server started are counted. */
  records: number | null;
}

export interface Health {
  components: ComponentHealth[];
  topics: TopicHealth[];
  lags: GroupLag[];
  sink: SinkComparison;
  /** When these figures were read (epoch ms). */
  at: number;
}

export interface Banner {
  component: string;
  state: 'down' | 'back';
  message: string;
  at: number;
}

export interface Snapshot {
  meta: DashboardMeta;
  counts: DecisionCounts;
  rates: RateSample[];
  rows: DecisionRow[];
  sites: JobSite[];
  trucks: Truck[];
  flow: Flow;
  health: Health;
  banners: Banner[];
}

/** Only the parts that changed since the last tick; rows and rates are appended, sites and trucks upserted. */
export interface Update {
  counts?: DecisionCounts;
  rates?: RateSample[];
  rows?: DecisionRow[];
  sites?: JobSite[];
  removedSites?: string[];
  trucks?: Truck[];
  removedTrucks?: string[];
  flow?: Flow;
  health?: Health;
  banners?: Banner[];
}
