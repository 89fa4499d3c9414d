import { systemClock, waitFor, type Clock } from '../core/waiter.js';
import { FlinkStatementError, rootCauseOf } from './errors.js';
import { FlinkHttp, isFailure } from './http.js';

/** REST API version of every request: v3 is the first to put the row format into the result links it returns. */
const API = '/v3';

export interface GatewayInfo {
  productName: string;
  version: string;
}

export interface ResultColumn {
  name: string;
  logicalType: { type: string; nullable?: boolean; [detail: string]: unknown };
}

export type RowKind = 'INSERT' | 'UPDATE_BEFORE' | 'UPDATE_AFTER' | 'DELETE';

/** One row of a result: what kind of change it is, and its values in column order (JSON types; BIGINT exact). */
export interface ResultRow {
  kind: RowKind;
  fields: unknown[];
}

/** The whole result of a bounded statement (DDL, SHOW, SET, or an INSERT, whose row is its job id). */
export interface StatementResult {
  columns: ResultColumn[];
  rows: ResultRow[];
  /** The job a statement submitted (INSERT, or the SELECT behind a query). */
  jobId?: string;
}

export interface FlinkGatewayOptions {
  url: string;
  /** Shown when the gateway cannot be reached. */
  unreachableHint?: string;
  /** How long the gateway may take to answer one request (requestTimeout; default 30 s). */
  timeoutMs?: number;
  /** Ctrl-C: every request and wait of this client ends at once, throwing the signal's reason. */
  signal?: AbortSignal;
  /** Paces the polls of results (default the system clock). */
  clock?: Clock;
}

export interface SessionOptions {
  name?: string;
  /** Session configuration, as `SET` would give it (e.g. pipeline.name, execution.state-recovery.path). */
  properties?: Record<string, string>;
  /**
   * How often to tell the gateway the session is in use (default 60 s; the local gateway closes a session idle for
   * localFlinkSessionIdleTimeout, 10 min unless set).
   */
  keepAliveMs?: number;
}

export interface ExecuteOptions {
  /** Configuration for this statement only, on top of the session's. */
  config?: Record<string, string>;
  signal?: AbortSignal;
  /** How long the statement may take to finish (default 2 min: a cold planner needs seconds for an INSERT). */
  timeoutMs?: number;
}

interface ResultPage {
  resultType: 'NOT_READY' | 'PAYLOAD' | 'EOS';
  isQueryResult?: boolean;
  jobID?: string;
  resultKind?: string;
  results?: { columns?: ResultColumn[]; data?: ResultRow[] };
  nextResultUri?: string;
}

/** Client of the Flink SQL Gateway's REST API: sessions, statements, operations and their paged results. */
export class FlinkGateway {
  readonly http: FlinkHttp;

  constructor(options: FlinkGatewayOptions) {
    this.http = new FlinkHttp({
      url: options.url,
      what: 'the Flink SQL Gateway',
      unreachableHint:
        options.unreachableHint ??
        'Start it with `marketplace local start --with flink`, or check flinkGatewayUrl (`marketplace local status`).',
      timeoutMs: options.timeoutMs,
      signal: options.signal,
    });
    this.clock = options.clock ?? systemClock;
  }

  readonly clock: Clock;

  get url(): string {
    return this.http.base;
  }

  async info(signal?: AbortSignal): Promise<GatewayInfo> {
    return this.http.request<GatewayInfo>('GET', `${API}/info`, undefined, { signal });
  }

  async openSession(options: SessionOptions = {}): Promise<FlinkSession> {
    const opened = await this.http.request<{ sessionHandle: string }>('POST', `${API}/sessions`, {
      ...(options.name ? { sessionName: options.name } : {}),
      properties: options.properties ?? {},
    });
    return new FlinkSession(this.http, this.clock, opened.sessionHandle, options.keepAliveMs ?? 60_000);
  }

  /** A session for `use`, closed afterwards whatever happens. */
  async withSession<T>(options: SessionOptions, use: (session: FlinkSession) => Promise<T>): Promise<T> {
    const session = await this.openSession(options);
    try {
      return await use(session);
    } finally {
      await session.close().catch(() => undefined);
    }
  }
}

/**
 * A gateway session: its own catalog (tables created in it exist only in it) and configuration. Kept alive by a
 * heartbeat while open; closing it ends its operations, but jobs an INSERT submitted keep running.
 */
export class FlinkSession {
  private readonly heartbeat: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly http: FlinkHttp,
    private readonly clock: Clock,
    readonly handle: string,
    keepAliveMs: number,
  ) {
    this.heartbeat = setInterval(() => {
      this.http.call('POST', `${this.path}/heartbeat`, {}, { expect: [404, 500] }).catch(() => undefined);
    }, keepAliveMs);
    // A session left open never keeps the process alive, and after Ctrl-C nothing more of it reaches the gateway.
    this.heartbeat.unref();
    this.http.signal?.addEventListener('abort', this.stopHeartbeat, { once: true });
  }

  private readonly stopHeartbeat = (): void => {
    clearInterval(this.heartbeat);
    this.http.signal?.removeEventListener('abort', this.stopHeartbeat);
  };

  private get path(): string {
    return `${API}/sessions/${this.handle}`;
  }

  /** The session's effective configuration. */
  async properties(): Promise<Record<string, string>> {
    const body = await this.http.request<{ properties?: Record<string, string> }>('GET', this.path);
    return body.properties ?? {};
  }

  /** Sends one statement; its result is read from the operation returned. */
  async submit(statement: string, options: Pick<ExecuteOptions, 'config' | 'signal'> = {}): Promise<FlinkOperation> {
    const body = await this.http.request<{ operationHandle: string }>(
      'POST',
      `${this.path}/statements`,
      { statement: withoutTerminator(statement), ...(options.config ? { executionConfig: options.config } : {}) },
      { signal: options.signal },
    );
    return new FlinkOperation(this.http, this.clock, this.path, body.operationHandle, statement);
  }

  /** Runs a statement with a bounded result to its end: the rows it returned, and the job it submitted if any. */
  async execute(statement: string, options: ExecuteOptions = {}): Promise<StatementResult> {
    const operation = await this.submit(statement, options);
    try {
      return await operation.collect(options);
    } finally {
      await operation.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopHeartbeat();
    await this.http.call('DELETE', this.path, undefined, { expect: [404, 500] });
  }
}

/** One statement's execution on the gateway, and its result pages. */
export class FlinkOperation {
  private next: string;
  private columnList: ResultColumn[] = [];
  private job: string | undefined;
  private finished = false;

  constructor(
    private readonly http: FlinkHttp,
    private readonly clock: Clock,
    private readonly sessionPath: string,
    readonly handle: string,
    readonly statement: string,
  ) {
    this.next = `${this.path}/result/0?rowFormat=JSON`;
  }

  private get path(): string {
    return `${this.sessionPath}/operations/${this.handle}`;
  }

  get columns(): ResultColumn[] {
    return this.columnList;
  }

  get jobId(): string | undefined {
    return this.job;
  }

  /** True once the last page was read. */
  get done(): boolean {
    return this.finished;
  }

  async status(): Promise<string> {
    return (await this.http.request<{ status: string }>('GET', `${this.path}/status`)).status;
  }

  /**
   * The next page of rows: undefined while the result is not ready yet, [] for an empty page of a streaming
   * result, and [] with `done` set at the end. A statement Flink refused throws a FlinkStatementError.
   */
  async page(signal?: AbortSignal): Promise<ResultRow[] | undefined> {
    if (this.finished) return [];
    const answer = await this.http.call<ResultPage>('GET', this.next, undefined, { expect: [500], signal });
    if (isFailure(answer)) {
      const cause = rootCauseOf(answer.errors);
      throw new FlinkStatementError(`Flink: ${cause.message}`, cause, this.statement);
    }
    if (answer.resultType === 'NOT_READY') return undefined;
    if (answer.results?.columns?.length) this.columnList = answer.results.columns;
    if (answer.jobID) this.job = answer.jobID;
    if (answer.resultType === 'EOS' || !answer.nextResultUri) {
      this.finished = true;
    } else {
      this.next = answer.nextResultUri;
    }
    return answer.results?.data ?? [];
  }

  /** Reads every page until the end (bounded results only); waits through NOT_READY within the deadline. */
  async collect(options: Pick<ExecuteOptions, 'signal' | 'timeoutMs'> = {}): Promise<StatementResult> {
    const rows: ResultRow[] = [];
    await waitFor(
      async () => {
        for (;;) {
          const page = await this.page(options.signal);
          if (page === undefined) return { done: false, status: 'running' };
          rows.push(...page);
          if (this.finished) return { done: true, value: undefined };
        }
      },
      {
        what: `Flink to run ${preview(this.statement)}`,
        timeoutMs: options.timeoutMs ?? 120_000,
        initialDelayMs: 50,
        maxDelayMs: 500,
        clock: this.clock,
        signal: options.signal ?? this.http.signal,
        hint: 'The gateway is busy or stuck: see `marketplace local logs flink-gateway`.',
      },
    );
    return { columns: this.columnList, rows, ...(this.job ? { jobId: this.job } : {}) };
  }

  /**
   * The rows of a streaming result as they come, until the signal aborts or the result ends; an empty page or one
   * not ready is polled again after a short, growing pause.
   */
  async *rows(signal: AbortSignal): AsyncGenerator<ResultRow> {
    let delay = 50;
    while (!signal.aborted && !this.finished) {
      let page: ResultRow[] | undefined;
      try {
        page = await this.page(signal);
      } catch (error) {
        if (signal.aborted) return;
        throw error;
      }
      if (page && page.length > 0) {
        delay = 50;
        yield* page;
        continue;
      }
      try {
        await this.clock.sleep(delay, signal);
      } catch {
        return;
      }
      delay = Math.min(delay * 2, 500);
    }
  }

  /** Ends the operation; for a streaming SELECT this cancels its job. */
  async close(): Promise<void> {
    // Already gone (closed, or its session expired) is what closing wants.
    await this.http.call('DELETE', `${this.path}/close`, undefined, { expect: [404, 500] });
  }
}

/** The gateway takes one statement without its ';'. */
function withoutTerminator(statement: string): string {
  return statement.replace(/;\s*$/, '');
}

function preview(statement: string): string {
  const flat = statement.replace(/\s+/g, ' ').trim();
  return flat.length > 60 ? `"${flat.slice(0, 57)}…"` : `"${flat}"`;
}
