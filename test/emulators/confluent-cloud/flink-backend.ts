import {
  FlinkGateway,
  type FlinkOperation,
  type FlinkSession,
  type ResultRow,
} from '../../../src/flink-client/gateway.js';
import { FlinkJobs } from '../../../src/flink-client/jobs.js';
import { FlinkStatementError } from '../../../src/flink-client/errors.js';
import { localDdl, type CatalogTable } from './flink-sql.js';

/** Where the emulator's statements really run: the local stack's Flink session cluster. */
export interface LocalFlinkOptions {
  gatewayUrl: string;
  restUrl: string;
}

/** A statement the local Flink refused or failed: its one-line reason, and the exception class that said it. */
export class LocalFlinkFailure extends Error {
  constructor(
    message: string,
    readonly exception: string,
  ) {
    super(message);
  }
}

/** The rows of a running SELECT, as they arrive, until it is stopped. */
export interface RunningQuery {
  columns: { name: string; type: string; nullable: boolean }[];
  stop(): Promise<void>;
}

/**
 * Runs the emulator's statements on the local Flink through the project's own SQL Gateway client: each statement gets
 * a session of its own in which the catalog's tables are declared first (a session's catalog lives only as long as the
 * session), then the statement itself. An INSERT's job outlives its session; a SELECT keeps its session open while
 * its rows are read.
 */
export class LocalFlink {
  readonly gateway: FlinkGateway;
  readonly jobs: FlinkJobs;
  private readonly queries = new Set<RunningQuery>();

  constructor(
    options: LocalFlinkOptions,
    private readonly bootstrap: string,
  ) {
    this.gateway = new FlinkGateway({ url: options.gatewayUrl, timeoutMs: 60_000 });
    this.jobs = new FlinkJobs({ url: options.restUrl });
  }

  /** Checks that `ddl`-declared tables and a CREATE TABLE translate into something Flink accepts. */
  async validateTable(tables: CatalogTable[], table: CatalogTable): Promise<void> {
    await this.withTables('validate', tables, async (session) => {
      await guarded(() => session.execute(localDdl(table, { bootstrap: this.bootstrap, groupId: 'validate' })));
    });
  }

  /** Submits an INSERT as a job named after the statement (from a savepoint, when given); returns the job id. */
  async insert(statementName: string, tables: CatalogTable[], sql: string, savepoint?: string): Promise<string> {
    return this.withTables(statementName, tables, async (session) => {
      await session.execute(`SET 'pipeline.name' = '${statementName}'`);
      if (savepoint) await session.execute(`SET 'execution.state-recovery.path' = '${savepoint}'`);
      const result = await guarded(() => session.execute(sql, { timeoutMs: 180_000 }));
      if (!result.jobId) throw new LocalFlinkFailure('the INSERT submitted no job', 'TableException');
      return result.jobId;
    });
  }

  /** Starts a SELECT; each row goes to `onRow` (values as Flink's JSON rows give them) until it is stopped. */
  async select(
    statementName: string,
    tables: CatalogTable[],
    sql: string,
    onRow: (row: ResultRow, columns: string[]) => void,
    onEnd: (error?: Error) => void,
    startupMode?: string,
  ): Promise<RunningQuery> {
    const session = await this.gateway.openSession({ name: statementName });
    const controller = new AbortController();
    let operation: FlinkOperation | undefined;
    try {
      await this.declare(session, statementName, tables, startupMode);
      await session.execute(`SET 'pipeline.name' = '${statementName}'`);
      operation = await guarded(() => session.submit(sql));
      // The first page carries the columns (or the error of a statement Flink refused).
      let first: ResultRow[] | undefined;
      for (let tries = 0; first === undefined && tries < 600; tries++) {
        first = await guarded(() => operation!.page(controller.signal));
        if (first === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const names = operation.columns.map((column) => column.name);
      for (const row of first ?? []) onRow(row, names);
    } catch (error) {
      await session.close().catch(() => undefined);
      throw error;
    }
    const running: RunningQuery = {
      columns: operation.columns.map((column) => ({
        name: column.name,
        type: String(column.logicalType.type),
        nullable: column.logicalType.nullable !== false,
      })),
      stop: async () => {
        controller.abort();
        this.queries.delete(running);
        await operation!.close().catch(() => undefined);
        await session.close().catch(() => undefined);
      },
    };
    this.queries.add(running);
    void (async () => {
      try {
        const names = operation!.columns.map((column) => column.name);
        for await (const row of operation!.rows(controller.signal)) onRow(row, names);
        onEnd();
      } catch (error) {
        onEnd(error as Error);
      }
    })();
    return running;
  }

  /** The job's state and, when it failed or restarts, the reason. */
  async jobState(jobId: string): Promise<{ state: string; exception?: string }> {
    const job = await this.jobs.get(jobId);
    if (!job) return { state: 'UNKNOWN' };
    if (['FAILED', 'FAILING', 'RESTARTING'].includes(job.state))
      return { state: job.state, exception: await this.jobs.lastException(jobId).catch(() => undefined) };
    return { state: job.state };
  }

  async cancel(jobId: string): Promise<void> {
    await this.jobs.cancel(jobId);
  }

  async close(): Promise<void> {
    for (const query of [...this.queries]) await query.stop();
  }

  private async withTables<T>(
    name: string,
    tables: CatalogTable[],
    use: (session: FlinkSession) => Promise<T>,
  ): Promise<T> {
    return this.gateway.withSession({ name }, async (session) => {
      await this.declare(session, name, tables);
      return use(session);
    });
  }

  private async declare(
    session: FlinkSession,
    name: string,
    tables: CatalogTable[],
    startupMode?: string,
  ): Promise<void> {
    // Sources that go quiet (a partition with no records) must not hold the watermark back forever.
    await session.execute("SET 'table.exec.source.idle-timeout' = '5 s'");
    for (const table of tables)
      await guarded(() =>
        session.execute(localDdl(table, { bootstrap: this.bootstrap, groupId: `emulated-${name}`, startupMode })),
      );
  }
}

/** Flink's refusal of a statement becomes the statement's exception; anything else is the emulator's failure. */
async function guarded<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof FlinkStatementError)
      throw new LocalFlinkFailure(error.rootCause.message, error.rootCause.exception ?? 'ValidationException');
    throw error;
  }
}
