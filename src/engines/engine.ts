import type { Context } from '../core/context.js';
import type { QueryFacts, SourceFacts } from '../lineage/graph.js';
import type { RowSource, TailRow } from '../tail/source.js';

/** The stream processors the demo runs on. */
export const ENGINE_NAMES = ['ksqldb', 'flink'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

/** How each engine is named in messages, known before it is opened (opening one may need state or servers). */
export const ENGINE_WORDS: Record<EngineName, { label: string; jobNoun: string }> = {
  ksqldb: { label: 'ksqlDB', jobNoun: 'query' },
  flink: { label: 'Apache Flink', jobNoun: 'job' },
};

/** What an engine takes from the command: its secrets and environment, its Ctrl-C and clock. */
export type EngineContext = Pick<Context, 'secrets' | 'env' | 'signal' | 'clock'>;

/** Something the engine runs for the demo: a ksqlDB persistent query, or a Flink job. */
export interface EngineJob {
  /** The engine's id: CSAS_JOB_STATUS_0, or a Flink job id. */
  id: string;
  /** What a person calls it: the query id, or the pipeline (job_status) a Flink job fills. */
  name: string;
  /** RUNNING when all is well; the engine's own words otherwise (ERROR, FAILED, RESTARTING, …). */
  state: string;
  /** Tables or streams it reads. */
  sources: string[];
  /** Tables or streams it writes. */
  sinks: string[];
  /** Why it is not running, when the engine says. */
  detail?: string;
}

/** What exists of the templates' pipelines, read-only (for plan and status). */
export interface PipelineState {
  /** Anything of the templates exists at all (else `up` creates it all). */
  present: boolean;
  /** Everything exists and runs. */
  ready: boolean;
  /** What differs from the templates and `apply` would change: "job_status: statement changed". */
  changes: string[];
  /** Ids worth recording (the jobs), for the state file. */
  attributes: Record<string, unknown>;
}

export interface ApplyOutcome {
  created: string[];
  /** Replaced because their statement changed (Flink: from a savepoint of the old job). */
  replaced: string[];
  existing: string[];
}

export interface TailRequest {
  name: string;
  where?: string;
  fromBeginning: boolean;
}

/** A source to tail, ready to iterate, and how to give back what it holds. */
export interface OpenedSource {
  source: RowSource;
  displayName: string;
  release(): Promise<void>;
}

/**
 * The data-plane steps that differ by stream processor. Topics, the MongoDB sink and the producers are the same
 * for every engine; everything a command needs from the engine itself goes through this interface, so a third engine
 * is one more folder under src/engines.
 */
export interface StreamEngine {
  readonly name: EngineName;
  /** For messages: "ksqlDB", "Apache Flink". */
  readonly label: string;
  /** What it calls what it runs, for messages: "query" (ksqlDB), "job" (Flink). */
  readonly jobNoun: string;
  /** The id of its step in the provisioning graph (and its record in the state file). */
  readonly resourceId: string;
  /** Title of that step: what it creates. */
  readonly resourceTitle: string;
  /** Endpoints worth showing after `up`. */
  endpoints(): Record<string, string>;
  /** The settings that point at its servers, for "fix …" hints. */
  readonly endpointKeys: string[];
  /** Throws an OperationError naming what to start when the engine's servers do not answer within the probe's time. */
  requireReachable(probe: { timeoutMs: number; signal: AbortSignal }): Promise<void>;

  /** What exists of the templates' streams, tables and jobs, and what differs (read-only). */
  inspect(signal?: AbortSignal): Promise<PipelineState>;
  /** Creates what is missing and replaces what changed; a second run changes nothing. */
  apply(options: { signal?: AbortSignal; progress?: (status: string) => void }): Promise<ApplyOutcome>;
  /** Stops the demo's jobs and removes its streams and tables (topics stay: they are provisioning's). */
  remove(options: { signal?: AbortSignal }): Promise<void>;
  /** What of the demo is still there after remove (should be nothing). */
  leftovers(): Promise<string[]>;

  /** Everything that runs on the engine, the demo's and any other. */
  jobs(): Promise<EngineJob[]>;
  /** The engine's part of the data flow: its streams and tables with their topics, and its jobs. */
  lineage(): Promise<{ sources: SourceFacts[]; queries: QueryFacts[] }>;
  /** Live rows of a stream or table, through the engine. */
  tail(request: TailRequest): Promise<OpenedSource>;
  /** The key column (name and SQL type) of the stream or table over a topic, for reading the topic directly. */
  topicKey(topic: string): Promise<{ name: string; type: string } | undefined>;
  /** The current rows of a table (e.g. truck_tracker: one per job). */
  tableRows(name: string, signal?: AbortSignal): Promise<TailRow[]>;
  /** Releases connections; the engine object is unusable afterwards. */
  close(): Promise<void>;
}
