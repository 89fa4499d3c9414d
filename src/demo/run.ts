import type { LoadedConfig } from '../core/config.js';
import type { Context } from '../core/context.js';
import { InterruptedError, isClassifiedError, isCliError, OperationError, UserError } from '../core/errors.js';
import { abortReason, waitFor } from '../core/waiter.js';
import type { SinkCollection } from '../mongo/client.js';
import { type DemoResult, demoFailed } from './result.js';
import { INPUT_TOPICS } from '../producers/records.js';

export interface DemoOptions {
  durationMs: number;
  rate: number;
  keep: boolean;
  /** Serve the dashboard while the demo runs, and after it until Ctrl-C. */
  dashboard?: boolean;
}

/** The README's main job, end to end on the local stack; each step is the same code the single commands run. */
export async function runDemo(ctx: Context, options: DemoOptions): Promise<DemoResult> {
  const localCtx: Context = {
    ...ctx,
    loadConfig: (flags, choices) => ctx.loadConfig({ ...flags, target: 'local' }, choices),
  };
  const loaded = await localCtx.loadConfig();
  const stackStartedHere = await ensureStack(localCtx, loaded);
  let provisioned = false;
  try {
    await provision(localCtx, loaded);
    provisioned = true;
    const dashboard = options.dashboard ? await openDemoDashboard(localCtx, loaded) : undefined;
    try {
      // A kept deployment may already hold data: the summary counts only what this run adds.
      const before = await counts(localCtx, loaded);
      const produced = await produceWhileTailing(localCtx, options);
      const summary = await summarise(localCtx, loaded, produced, before);
      if (dashboard && !ctx.signal.aborted) {
        ctx.out.info(`The demo is done; the dashboard stays at ${dashboard.url} until Ctrl-C.`);
        const { untilInterrupted } = await import('../dashboard/run.js');
        await Promise.race([untilInterrupted(ctx.signal), dashboard.failed]);
      }
      return { ...summary, durationMs: options.durationMs, jobs: produced, kept: options.keep, stackStartedHere };
    } finally {
      await dashboard?.close();
    }
  } finally {
    if (!options.keep) await cleanUp(localCtx, loaded, { provisioned, stackStartedHere });
  }
}

/** The dashboard on its usual port, or on any free one when another program holds that. */
async function openDemoDashboard(ctx: Context, loaded: LoadedConfig) {
  const { openDashboard } = await import('../dashboard/run.js');
  const { DEFAULT_DASHBOARD_PORT } = await import('../dashboard/defaults.js');
  const settings = { host: '127.0.0.1', port: DEFAULT_DASHBOARD_PORT, open: true };
  try {
    return await openDashboard(ctx, loaded, settings);
  } catch (error) {
    if (!(error instanceof UserError) || !/already in use/.test(error.message)) throw error;
    return openDashboard(ctx, loaded, { ...settings, port: 0 });
  }
}

async function ensureStack(ctx: Context, loaded: LoadedConfig): Promise<boolean> {
  const stack = await import('../local/stack.js');
  const { installStack, missingComponents } = await import('../local/install.js');
  const settings = stack.settingsFromConfig(loaded.values, ctx.env);
  const groups: 'flink'[] = loaded.values.engine === 'flink' ? ['flink'] : [];
  try {
    if ((await missingComponents(settings.home, groups)).length > 0) {
      ctx.out.info(`Installing the local stack into ${settings.home} (first run only; a few minutes)…`);
      await installStack({
        home: settings.home,
        groups,
        env: ctx.env,
        onProgress: (message) => ctx.out.info(`  ${message}`),
      });
    }
    const spinner = await ctx.out.spinner('Starting the local stack');
    try {
      const result = await stack.startStack({
        settings,
        groups,
        env: ctx.env,
        signal: ctx.signal,
        clock: ctx.clock,
        onEvent: (event) => {
          if (event.kind === 'healthy') spinner.log(`  ${event.service} healthy (${event.seconds.toFixed(1)} s)`);
        },
      });
      spinner.succeed(`Local stack ready in ${result.seconds.toFixed(1)} s`);
      return result.services.some((service) => service.action === 'started');
    } catch (error) {
      spinner.fail('The local stack did not start');
      throw error;
    }
  } catch (error) {
    throw isCliError(error) || !isClassifiedError(error) ? error : demoFailed('starting the local stack', error);
  }
}

async function provision(ctx: Context, loaded: LoadedConfig): Promise<void> {
  const { openLocalSession } = await import('../provisioning/local-session.js');
  const { applySession, progressFor } = await import('../provisioning/run.js');
  const session = await openLocalSession(ctx, loaded, { lock: 'up' });
  try {
    const progress = progressFor(ctx, session, { doing: 'checking', done: 'finishing' });
    session.env.progress = progress.status;
    try {
      await applySession(ctx, session, progress);
    } finally {
      progress.stop();
    }
  } finally {
    await session.release();
  }
}

/** Produces for the whole duration while printing job_status rows as they come (a table on a terminal). */
async function produceWhileTailing(ctx: Context, options: DemoOptions): Promise<number> {
  const { produce } = await import('../producers/produce-run.js');
  const { openEngine } = await import('../engines/index.js');
  const { tableRenderer, jsonlRenderer } = await import('../tail/render.js');
  const loaded = await ctx.loadConfig();
  const engine = await openEngine({ loaded, ctx });
  const opened = await engine.tail({ name: 'job_status', fromBeginning: false }).catch(async (error: unknown) => {
    await engine.close();
    throw error;
  });
  const source = opened.source;

  const renderer = ctx.stdout.isTTY
    ? tableRenderer(ctx.stdout, {
        columns: [...source.columns],
        width: ctx.stdout.columns ?? 120,
        height: ctx.stdout.rows ?? 40,
        palette: ctx.out.paint,
      })
    : jsonlRenderer(ctx.stdout);
  let rowsSeen = 0;
  const tailing = (async () => {
    for await (const row of source) {
      rowsSeen++;
      if (!ctx.globals.json) renderer.row(row);
    }
  })().catch(() => undefined);
  try {
    ctx.out.info(
      `Producing ${options.rate} jobs/s for ${Math.round(options.durationMs / 1000)} s; job_status rows follow.`,
    );
    const result = await produce(ctx, {
      topics: [...INPUT_TOPICS],
      rate: options.rate,
      durationMs: options.durationMs,
      trucks: 5,
      truckIntervalMs: 1000,
      acceptRatio: 0.7,
      maxOrderDelayMs: 2000,
      compression: 'none',
      connectTimeoutMs: 10_000,
    });
    if (ctx.signal.aborted) {
      throw new InterruptedError(
        `interrupted after ${result.jobs} jobs (${result.acked} records acknowledged)${options.keep ? '' : '; removing the demo'}`,
      );
    }
    if (result.error)
      throw demoFailed('producing', Object.assign(new Error(result.error.message), { hint: result.error.hint }));
    await lastJoins(ctx, result.jobs, () => rowsSeen);
    return result.jobs;
  } finally {
    await source.close();
    await tailing;
    renderer.end();
    await opened.release();
    await engine.close();
  }
}

/**
 * Each job meets its order in job_status moments after the last record is sent: the summary waits for those rows
 * (the tail sees them), for a while; the summary then says how many had not arrived.
 */
async function lastJoins(ctx: Context, jobs: number, rowsSeen: () => number): Promise<void> {
  await waitFor(
    async () =>
      rowsSeen() >= jobs
        ? { done: true, value: undefined }
        : { done: false, status: `${rowsSeen()} of ${jobs} job_status rows` },
    {
      what: 'the last job_status rows',
      timeoutMs: LAST_JOINS_TIMEOUT_MS,
      initialDelayMs: 100,
      maxDelayMs: 500,
      clock: ctx.clock,
      signal: ctx.signal,
    },
  ).catch((error: unknown) => {
    if (ctx.signal.aborted) throw abortReason(ctx.signal);
    if (!(error instanceof OperationError)) throw error;
  });
}

const LAST_JOINS_TIMEOUT_MS = 10_000;

interface Counts {
  /** Per partition of job_status: the end offset. */
  jobStatusEnd: Map<number, number>;
  mongoDocuments: number;
}

async function counts(ctx: Context, loaded: LoadedConfig): Promise<Counts> {
  const { createKafka } = await import('../kafka/client.js');
  const { resolveKafkaTarget } = await import('../kafka/connection.js');
  const admin = createKafka({
    ...(await resolveKafkaTarget(loaded, ctx.secrets)),
    clientId: 'marketplace-demo',
    out: ctx.out,
    requestTimeoutMs: loaded.values.requestTimeout,
    signal: ctx.signal,
  }).admin();
  await admin.connect();
  try {
    const { fetchOffsetsWhenReady } = await import('../kafka/topics.js');
    const offsets = await fetchOffsetsWhenReady(admin, 'job_status', { signal: ctx.signal, clock: ctx.clock });
    return {
      jobStatusEnd: new Map(offsets.map((p) => [p.partition, Number(p.high)])),
      mongoDocuments: await withCollection(ctx, loaded, (collection) => collection.count()),
    };
  } finally {
    await admin.disconnect();
  }
}

async function withCollection<T>(
  ctx: Context,
  loaded: LoadedConfig,
  use: (collection: SinkCollection) => Promise<T>,
): Promise<T> {
  const { withSinkCollection } = await import('../mongo/client.js');
  const { configuredEndpoints } = await import('../core/endpoints.js');
  const { mongoDatabase: database, mongoCollection: collection } = loaded.values;
  return withSinkCollection({ uri: configuredEndpoints(loaded.values).mongoUri!, database, collection }, use, {
    timeoutMs: loaded.values.requestTimeout,
    signal: ctx.signal,
  });
}

async function summarise(
  ctx: Context,
  loaded: LoadedConfig,
  produced: number,
  before: Counts,
): Promise<Pick<DemoResult, 'jobStatus' | 'mongoDocuments' | 'truckTrackerRows'>> {
  const { createKafka } = await import('../kafka/client.js');
  const { resolveKafkaTarget } = await import('../kafka/connection.js');
  const { readTopic } = await import('../kafka/consumer.js');
  const kafka = createKafka({
    ...(await resolveKafkaTarget(loaded, ctx.secrets)),
    clientId: 'marketplace-demo',
    out: ctx.out,
    requestTimeoutMs: loaded.values.requestTimeout,
    signal: ctx.signal,
  });
  const fresh = async () =>
    (await readTopic(kafka, 'job_status', { timeoutMs: 60_000, signal: ctx.signal, clock: ctx.clock })).filter(
      (record) => Number(record.offset) >= (before.jobStatusEnd.get(record.partition) ?? 0),
    );
  // Rows are readable once their transaction commits: right away on ksqlDB, at Flink's next checkpoint.
  const records = await waitFor(
    async () => {
      const read = await fresh();
      return read.length >= produced ? { done: true, value: read } : { done: false, status: `${read.length} rows` };
    },
    {
      what: 'the last job_status rows',
      timeoutMs: 20_000,
      initialDelayMs: 500,
      maxDelayMs: 2000,
      signal: ctx.signal,
      clock: ctx.clock,
    },
  ).catch((error: unknown) => {
    if (!isClassifiedError(error) || ctx.signal.aborted) throw error;
    return fresh();
  });
  const statuses = records.map((record) =>
    record.value ? (JSON.parse(record.value) as { CURRENT_STATUS?: string }).CURRENT_STATUS : undefined,
  );
  const jobStatus = {
    rows: records.length,
    accepted: statuses.filter((s) => s === 'ACCEPTED').length,
    rejected: statuses.filter((s) => s === 'REJECTED').length,
  };
  const mongoDocuments = await withCollection(ctx, loaded, async (collection) => {
    const landed = async () => (await collection.count()) - before.mongoDocuments;
    return waitFor(
      async () => {
        const count = await landed();
        return count >= jobStatus.rows
          ? { done: true, value: count }
          : { done: false, status: `${count} of ${jobStatus.rows}` };
      },
      {
        what: 'the MongoDB sink to catch up',
        timeoutMs: 30_000,
        initialDelayMs: 500,
        maxDelayMs: 2000,
        clock: ctx.clock,
        signal: ctx.signal,
      },
    ).catch((error: unknown) => {
      // Out of time: the summary says how many landed. Ctrl-C and bugs end the demo.
      if (ctx.signal.aborted) throw abortReason(ctx.signal);
      if (!(error instanceof OperationError)) throw error;
      return landed();
    });
  });
  const { openEngine } = await import('../engines/index.js');
  const engine = await openEngine({ loaded, ctx });
  let truckTrackerRows = 0;
  try {
    truckTrackerRows = (await engine.tableRows('truck_tracker', ctx.signal)).length;
  } finally {
    await engine.close();
  }
  if (jobStatus.rows < produced) {
    ctx.out.warn(`${produced - jobStatus.rows} orders had not met their job yet when the summary was taken`);
  }
  if (mongoDocuments < jobStatus.rows) {
    ctx.out.warn(
      `${jobStatus.rows - mongoDocuments} job_status records had not reached MongoDB; see \`marketplace sink status --target local\``,
    );
  }
  return { jobStatus, mongoDocuments, truckTrackerRows };
}

async function cleanUp(
  ctx: Context,
  loaded: LoadedConfig,
  what: { provisioned: boolean; stackStartedHere: boolean },
): Promise<void> {
  // Cleaning up is what Ctrl-C asks for (it ends `demo --dashboard`): the session must not see that signal, or
  // every step of the teardown would be skipped as interrupted.
  const quiet: Context = { ...ctx, signal: new AbortController().signal };
  try {
    if (what.provisioned || what.stackStartedHere) {
      const { openLocalSession } = await import('../provisioning/local-session.js');
      const { destroySession, progressFor } = await import('../provisioning/run.js');
      const session = await openLocalSession(quiet, loaded, { lock: 'down' });
      try {
        const progress = progressFor(quiet, session, { doing: 'deleting', done: 'verifying' });
        session.env.progress = progress.status;
        await destroySession(quiet, session, progress, { discover: false, keepEnvironment: false }).finally(() =>
          progress.stop(),
        );
      } finally {
        await session.release();
      }
    }
    if (what.stackStartedHere) {
      const stack = await import('../local/stack.js');
      await stack.stopStack({ home: stack.settingsFromConfig(loaded.values, ctx.env).home });
      ctx.out.info('Stopped the local stack (it was started by this demo).');
    }
  } catch (error) {
    if (!isClassifiedError(error)) throw error;
    ctx.out.warn(`cleaning up failed: ${error.message}; run \`marketplace down --target local --yes\``);
  }
}
