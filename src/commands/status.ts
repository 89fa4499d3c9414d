import type { Context } from '../core/context.js';
import type { LoadedConfig } from '../core/config.js';
import { abortReason } from '../core/waiter.js';
import { ExitCode, isClassifiedError } from '../core/errors.js';
import type { EngineJob, EngineName } from '../engines/engine.js';
import { defineCommand } from './command.js';
import { ENGINE_OPTION } from './engine-option.js';

export interface ResourceStatus {
  id: string;
  kind: string;
  title: string;
  /** present: exists and usable; pending: exists, not ready yet; missing: not there; error: could not be checked. */
  health: 'present' | 'pending' | 'missing' | 'error';
  resourceId?: string;
  detail?: string;
}

export interface StatusResult {
  target: 'cloud' | 'local';
  /** The stream processor whose queries or jobs `queries` lists. */
  engine: EngineName;
  healthy: boolean;
  resources: ResourceStatus[];
  /**
   * ksqlDB's persistent queries, or Flink's jobs (then `name` is the pipeline a job runs, e.g. job_status). `reason`:
   * why one that is not RUNNING stopped, as the engine reports it (ksqlDB's EXPLAIN, Flink's last exception).
   */
  queries: { id: string; name?: string; sinks: string[]; state: string; reason?: string }[];
  topics: { name: string; endOffset: number }[];
  notes: string[];
}

export const statusCommand = defineCommand({
  name: 'status',
  summary: 'Show each resource of the demo with its health, ksqlDB queries or Flink jobs, and topic end offsets',
  description:
    'Checks every resource of the deployment live (read-only): whether it exists and is ready, the state of the ' +
    'ksqlDB persistent queries (or, with --engine flink, of each Flink job; on Confluent Cloud the compute pool and ' +
    'the phase of each Flink statement), the sink connector, and the end offset of every demo topic. Exits 1 when ' +
    'anything is missing or not healthy.',
  options: ENGINE_OPTION,
  examples: [
    { command: 'marketplace status', description: 'the cloud deployment' },
    { command: 'marketplace status --target local --json', description: 'the local deployment, as JSON' },
    { command: 'marketplace status --target local --engine flink', description: 'with the state of each Flink job' },
  ],
  run: async (ctx): Promise<StatusResult> => collect(ctx, await ctx.loadConfig()),
  render: (result, ctx) => {
    const { green, red, yellow, dim } = ctx.out.paint;
    const mark = { present: green('✔'), pending: yellow('…'), missing: red('✖'), error: red('?') } as const;
    for (const resource of result.resources) {
      const id = resource.resourceId && resource.kind !== 'topic' ? dim(` ${resource.resourceId}`) : '';
      ctx.out.info(`${mark[resource.health]} ${resource.title}${id}${resource.detail ? ` — ${resource.detail}` : ''}`);
    }
    if (result.queries.length > 0) {
      ctx.out.info(
        result.engine !== 'flink' ? 'ksqlDB queries:' : result.target === 'cloud' ? 'Flink statements:' : 'Flink jobs:',
      );
      for (const query of result.queries) {
        const paint = query.state === 'RUNNING' ? green : red;
        const name = query.name && query.name !== query.id ? `${query.name} ${dim(query.id)}` : query.id;
        ctx.out.info(`  ${name.padEnd(28)} ${paint(query.state)} → ${query.sinks.join(', ')}`);
        if (query.reason) ctx.out.info(`    ${red(query.reason)}`);
      }
    }
    if (result.topics.length > 0) {
      ctx.out.info('topic end offsets:');
      for (const topic of result.topics) ctx.out.info(`  ${topic.name.padEnd(24)} ${topic.endOffset}`);
    }
    for (const note of result.notes) ctx.out.info(dim(note));
    ctx.out.info(
      result.healthy ? green('Everything is in place.') : red('Something is missing or unhealthy (see above).'),
    );
  },
  exitCode: (result) => (result.healthy ? ExitCode.ok : ExitCode.failure),
});

async function collect(ctx: Context, loaded: LoadedConfig): Promise<StatusResult> {
  const { openSession } = await import('../provisioning/open-session.js');
  const session = await openSession(ctx, loaded, { lock: undefined, needMongoPassword: false });
  const notes: string[] = [];
  try {
    const resources: ResourceStatus[] = [];
    for (const def of session.defs) {
      const base = { id: def.id, kind: def.kind, title: def.title };
      if (def.dependsOn.some((dep) => !session.known.get(dep))) {
        resources.push({ ...base, health: 'missing', detail: 'its dependencies do not exist' });
        continue;
      }
      try {
        const observed = await def.observe(session.env);
        if (observed) session.known.set(def.id, observed.record);
        resources.push(
          observed
            ? {
                ...base,
                health: observed.ready ? 'present' : 'pending',
                resourceId: observed.record.id,
                detail: describe(observed.record.attributes, observed.changes),
              }
            : { ...base, health: 'missing' },
        );
      } catch (error) {
        // A check that failed is reported in its row; a bug, or Ctrl-C, is not a check result.
        if (ctx.signal.aborted) throw abortReason(ctx.signal);
        if (!isClassifiedError(error)) throw error;
        resources.push({ ...base, health: 'error', detail: error.message.split('\n')[0] });
      }
    }
    const engine: EngineName = session.target === 'local' ? session.env.engine.name : loaded.values.engine;
    const queries = await queryStates(ctx, loaded, session).catch((error: unknown) => {
      if (ctx.signal.aborted) throw abortReason(ctx.signal);
      if (!isClassifiedError(error)) throw error;
      notes.push(
        `${engine === 'flink' ? 'Flink jobs' : 'ksqlDB queries'} not checked: ${error.message.split('\n')[0]}`,
      );
      return [];
    });
    const topics = await topicOffsets(ctx, loaded, session).catch((error: unknown) => {
      if (ctx.signal.aborted) throw abortReason(ctx.signal);
      if (!isClassifiedError(error)) throw error;
      notes.push(`topic offsets not read: ${error.message.split('\n')[0]}`);
      return [];
    });
    const healthy = resources.every((r) => r.health === 'present') && queries.every((q) => q.state === 'RUNNING');
    return { target: session.target, engine, healthy, resources, queries, topics, notes };
  } finally {
    await session.release();
  }
}

function describe(attributes: Record<string, unknown> | undefined, changes: string[] | undefined): string | undefined {
  const parts: string[] = [];
  if (typeof attributes?.phase === 'string') parts.push(attributes.phase);
  if (changes?.length) parts.push(`differs from config: ${changes.join('; ')}`);
  return parts.length ? parts.join(', ') : undefined;
}

async function queryStates(
  ctx: Context,
  loaded: LoadedConfig,
  session: Awaited<ReturnType<typeof import('../provisioning/open-session.js').openSession>>,
): Promise<StatusResult['queries']> {
  const { KsqlClient } = await import('../ksql-client/client.js');
  let url: string | undefined;
  let auth: { username: string; password: string } | undefined;
  const asQueries = (jobs: EngineJob[]) =>
    jobs.map((job) => ({
      id: job.id,
      ...(job.name !== job.id ? { name: job.name } : {}),
      sinks: job.sinks,
      state: job.state,
      ...(job.detail ? { reason: job.detail } : {}),
    }));
  if (session.target === 'local') {
    return asQueries(await session.env.engine.jobs());
  } else if (loaded.values.engine === 'flink') {
    // The demo's long-running statements (the INSERTs) with their phases; the CREATE TABLEs are resources above.
    if (!session.known.get('flink-api-key')) return [];
    const { openEngine } = await import('../engines/index.js');
    const engine = await openEngine({ loaded, ctx });
    try {
      return asQueries(await engine.jobs());
    } finally {
      await engine.close();
    }
  } else {
    const key = session.known.get('ksqldb-api-key');
    url = (key?.attributes?.endpoint ?? session.known.get('ksqldb-cluster')?.attributes?.endpoint) as
      | string
      | undefined;
    if (key?.secrets?.secret) auth = { username: key.id, password: key.secrets.secret };
    if (!url || !auth) return [];
  }
  if (!url) return [];
  const client = new KsqlClient({
    url,
    auth,
    secrets: ctx.secrets,
    signal: ctx.signal,
    clock: ctx.clock,
    requestTimeoutMs: loaded.values.requestTimeout,
  });
  try {
    const queries: StatusResult['queries'] = (await client.listQueries()).map((query) => ({
      id: query.id,
      sinks: query.sinks,
      state: query.state ?? Object.keys(query.statusCount ?? {})[0] ?? 'UNKNOWN',
    }));
    const { stopReason } = await import('../engines/ksqldb.js');
    for (const query of queries) {
      if (query.state === 'RUNNING') continue;
      const reason = await stopReason(client, query.id);
      if (reason) query.reason = reason;
    }
    return queries;
  } finally {
    client.close();
  }
}

async function topicOffsets(
  ctx: Context,
  loaded: LoadedConfig,
  session: Awaited<ReturnType<typeof import('../provisioning/open-session.js').openSession>>,
): Promise<StatusResult['topics']> {
  const names = session.defs.filter((def) => def.kind === 'topic').map((def) => def.id.replace(/^topic:/, ''));
  const present = names.filter((name) => session.known.get(`topic:${name}`));
  // With Flink on Confluent Cloud, the output topics are the tables the CREATE TABLE statements made.
  for (const def of session.defs) {
    const table = def.kind === 'flink-statement' ? session.known.get(def.id)?.attributes : undefined;
    if (table?.kind === 'table' && typeof table.table === 'string') present.push(table.table);
  }
  if (present.length === 0) return [];
  const { resolveKafkaTarget } = await import('../kafka/connection.js');
  const { createKafka } = await import('../kafka/client.js');
  const target = await resolveKafkaTarget(loaded, ctx.secrets);
  const { fetchOffsetsWhenReady } = await import('../kafka/topics.js');
  const admin = createKafka({
    ...target,
    clientId: 'marketplace-status',
    out: ctx.out,
    requestTimeoutMs: loaded.values.requestTimeout,
    signal: ctx.signal,
  }).admin();
  try {
    await admin.connect();
    const result: StatusResult['topics'] = [];
    for (const name of present) {
      const offsets = await fetchOffsetsWhenReady(admin, name, { signal: ctx.signal, clock: ctx.clock });
      result.push({ name, endOffset: offsets.reduce((sum, p) => sum + Number(p.high), 0) });
    }
    return result;
  } finally {
    await admin.disconnect();
  }
}
