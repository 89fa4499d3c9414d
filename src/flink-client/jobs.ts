import { systemClock, waitFor, type Clock } from '../core/waiter.js';
import { FlinkError, rootCauseOf } from './errors.js';
import { FlinkHttp, isFailure } from './http.js';

/** A job's state as the JobManager reports it. */
export type JobState =
  | 'INITIALIZING'
  | 'CREATED'
  | 'RUNNING'
  | 'FAILING'
  | 'FAILED'
  | 'CANCELLING'
  | 'CANCELED'
  | 'FINISHED'
  | 'RESTARTING'
  | 'SUSPENDED'
  | 'RECONCILING'
  | (string & {});

/** States a job leaves only by finishing, failing or being stopped: it holds its name while in one. */
export const ACTIVE_STATES: readonly JobState[] = [
  'INITIALIZING',
  'CREATED',
  'RUNNING',
  'FAILING',
  'CANCELLING',
  'RESTARTING',
  'RECONCILING',
];

export interface JobSummary {
  id: string;
  name: string;
  state: JobState;
  startTime: number;
}

/** A job with the state of each of its tasks and the tables its plan reads and writes. */
export interface JobDetail extends JobSummary {
  vertices: { name: string; status: string }[];
  /** Tables the plan scans, by name (catalog and database left out). */
  sources: string[];
  /** Tables the plan writes. */
  sinks: string[];
}

export interface CheckpointInfo {
  /** The folder of the newest completed checkpoint (file:…), if one completed. */
  latestCompleted?: string;
  /** What the job was restored from when it started, if anything. */
  restoredFrom?: string;
  completed: number;
  failed: number;
}

export interface FlinkJobsOptions {
  url: string;
  unreachableHint?: string;
  /** How long the JobManager may take to answer one request (requestTimeout; default 30 s). */
  timeoutMs?: number;
  /** Ctrl-C: every request and wait of this client ends at once, throwing the signal's reason. */
  signal?: AbortSignal;
  /** Paces the polls of savepoints and job states (default the system clock). */
  clock?: Clock;
}

/**
 * The JobManager's REST API for the job control SQL has no words for: job states, checkpoints, stop with a savepoint,
 * cancel, and the exceptions a job failed with.
 */
export class FlinkJobs {
  readonly http: FlinkHttp;

  constructor(options: FlinkJobsOptions) {
    this.http = new FlinkHttp({
      url: options.url,
      what: 'the Flink JobManager',
      unreachableHint:
        options.unreachableHint ??
        'Start it with `marketplace local start --with flink`, or check flinkRestUrl (`marketplace local status`).',
      timeoutMs: options.timeoutMs,
      signal: options.signal,
    });
    this.clock = options.clock ?? systemClock;
  }

  readonly clock: Clock;

  get url(): string {
    return this.http.base;
  }

  /** Every job the JobManager knows, running or ended (ended ones are kept for a while). */
  async list(): Promise<JobSummary[]> {
    const body = await this.http.request<{
      jobs?: { jid: string; name: string; state: string; 'start-time': number }[];
    }>('GET', '/jobs/overview');
    return (body.jobs ?? []).map((job) => ({
      id: job.jid,
      name: job.name,
      state: job.state,
      startTime: Number(job['start-time']),
    }));
  }

  /** One job; undefined when the JobManager does not know it. */
  async get(id: string): Promise<JobSummary | undefined> {
    const body = await this.http.call<{ jid: string; name: string; state: string; 'start-time': number }>(
      'GET',
      `/jobs/${id}`,
      undefined,
      { expect: [404] },
    );
    if (isFailure(body)) return undefined;
    return { id: body.jid, name: body.name, state: body.state, startTime: Number(body['start-time']) };
  }

  /** A job with its tasks and the tables of its plan; undefined when the JobManager does not know it. */
  async detail(id: string): Promise<JobDetail | undefined> {
    const body = await this.http.call<{
      jid: string;
      name: string;
      state: string;
      'start-time': number;
      vertices?: { name: string; status: string }[];
      plan?: { nodes?: { description?: string }[] };
    }>('GET', `/jobs/${id}`, undefined, { expect: [404] });
    if (isFailure(body)) return undefined;
    const descriptions = (body.plan?.nodes ?? []).map((node) => node.description ?? '');
    return {
      id: body.jid,
      name: body.name,
      state: body.state,
      startTime: Number(body['start-time']),
      vertices: (body.vertices ?? []).map((v) => ({ name: v.name, status: v.status })),
      ...planTables(descriptions),
    };
  }

  async checkpoints(id: string): Promise<CheckpointInfo> {
    const body = await this.http.request<{
      counts?: { completed?: number; failed?: number };
      latest?: { completed?: { external_path?: string } | null; restored?: { external_path?: string } | null };
    }>('GET', `/jobs/${id}/checkpoints`);
    const latest = body.latest?.completed?.external_path;
    const restored = body.latest?.restored?.external_path;
    return {
      ...(latest && latest !== '<checkpoint-not-externally-addressable>' ? { latestCompleted: latest } : {}),
      ...(restored ? { restoredFrom: restored } : {}),
      completed: Number(body.counts?.completed ?? 0),
      failed: Number(body.counts?.failed ?? 0),
    };
  }

  /** The newest exception the job failed or restarted with, as one line; undefined when it has none. */
  async lastException(id: string): Promise<string | undefined> {
    const body = await this.http.request<{
      'root-exception'?: string | null;
      exceptionHistory?: { entries?: { stacktrace?: string; exceptionName?: string }[] };
    }>('GET', `/jobs/${id}/exceptions?maxExceptions=1`);
    const trace = body.exceptionHistory?.entries?.[0]?.stacktrace ?? body['root-exception'];
    return trace ? rootCauseOf([trace]).message : undefined;
  }

  /**
   * Stops the job after a savepoint into `targetDirectory` (its sources stop, the savepoint completes and is
   * committed, then the job ends FINISHED) and returns the savepoint's location.
   */
  async stopWithSavepoint(
    id: string,
    options: { targetDirectory?: string; signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<string> {
    const trigger = await this.http.request<{ 'request-id': string }>('POST', `/jobs/${id}/stop`, {
      drain: false,
      formatType: 'CANONICAL',
      ...(options.targetDirectory ? { targetDirectory: options.targetDirectory } : {}),
    });
    return waitFor(
      async () => {
        const status = await this.http.request<{
          status: { id: string };
          operation?: { location?: string; 'failure-cause'?: { 'stack-trace'?: string; class?: string } };
        }>('GET', `/jobs/${id}/savepoints/${trigger['request-id']}`, undefined, { signal: options.signal });
        if (status.status.id !== 'COMPLETED') return { done: false, status: status.status.id };
        const failure = status.operation?.['failure-cause'];
        if (failure || !status.operation?.location) {
          const reason = failure?.['stack-trace'] ? rootCauseOf([failure['stack-trace']]).message : 'no location';
          throw new FlinkError(`stopping Flink job ${id} with a savepoint failed: ${reason}`, {
            hint: 'See `marketplace local logs flink-jobmanager`; the job may still be running.',
          });
        }
        return { done: true, value: status.operation.location };
      },
      {
        what: `the savepoint of Flink job ${id}`,
        timeoutMs: options.timeoutMs ?? 120_000,
        initialDelayMs: 200,
        maxDelayMs: 1_000,
        clock: this.clock,
        signal: options.signal ?? this.http.signal,
      },
    );
  }

  /** Cancels the job; one that has already ended counts as cancelled. */
  async cancel(id: string): Promise<void> {
    await this.http.call('PATCH', `/jobs/${id}?mode=cancel`, undefined, { expect: [404, 409] });
  }

  /** Waits until the job has left every active state; returns the state it ended in. */
  async waitEnded(id: string, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<JobState> {
    return waitFor(
      async () => {
        const job = await this.get(id);
        if (!job) return { done: true, value: 'UNKNOWN' };
        return ACTIVE_STATES.includes(job.state)
          ? { done: false, status: job.state }
          : { done: true, value: job.state };
      },
      {
        what: `Flink job ${id} to end`,
        timeoutMs: options.timeoutMs ?? 60_000,
        initialDelayMs: 100,
        maxDelayMs: 1_000,
        clock: this.clock,
        signal: options.signal ?? this.http.signal,
      },
    );
  }
}

/**
 * The tables a job's plan scans and writes, read from the plan's node descriptions ("TableSourceScan(table=[[catalog,
 * database, orders]] …", "job_status[12]: Writer"): the JobManager keeps no SQL, only this.
 */
export function planTables(descriptions: string[]): { sources: string[]; sinks: string[] } {
  const sources = new Set<string>();
  const sinks = new Set<string>();
  for (const text of descriptions) {
    for (const match of text.matchAll(/TableSourceScan\(table=\[\[[^,\]]+,\s*[^,\]]+,\s*([^,\]\s]+)/g)) {
      sources.add(match[1]!);
    }
    for (const match of text.matchAll(/(?:^|[>\s])([\w$]+)\[\d+\]: Writer/g)) sinks.add(match[1]!);
    for (const match of text.matchAll(/Sink\(table=\[(?:[\w$]+\.)*([\w$]+)\]/g)) sinks.add(match[1]!);
  }
  return { sources: [...sources], sinks: [...sinks] };
}
