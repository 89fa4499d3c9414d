import type { LoadedConfig } from '../core/config.js';
import { OperationError, UserError } from '../core/errors.js';
import { httpReachable } from '../core/probes.js';
import type { Clock } from '../core/waiter.js';
import { KsqlClient } from '../ksql-client/client.js';
import { ksqlClientOptions, resolveKsqlTarget, type KsqlTarget } from '../ksql-client/target.js';
import type { QueryFacts, SourceFacts } from '../lineage/graph.js';
import { ksqlDeployer } from '../provisioning/ksql-deployer.js';
import { ksqlRowSource } from '../tail/ksql-source.js';
import {
  ENGINE_WORDS,
  type EngineContext,
  type EngineJob,
  type OpenedSource,
  type StreamEngine,
  type TailRequest,
} from './engine.js';

/** ksqlDB: the local dev server, Confluent Cloud's cluster, or any ksqlDB at ksqldbUrl. */
export async function ksqldbEngine(options: { loaded: LoadedConfig; ctx: EngineContext }): Promise<StreamEngine> {
  const { ctx, loaded } = options;
  const target = await resolveKsqlTarget(loaded);
  const client = () => new KsqlClient(ksqlClientOptions(target, ctx, loaded));
  const withClient = async <T>(use: (ksql: KsqlClient) => Promise<T>): Promise<T> => {
    const ksql = client();
    try {
      return await use(ksql);
    } finally {
      ksql.close();
    }
  };
  const deployer = ksqlDeployer({
    url: target.url,
    ...(target.auth ? { credentials: { key: target.auth.username, secret: target.auth.password } } : {}),
    secrets: ctx.secrets,
    signal: ctx.signal,
    clock: ctx.clock,
    requestTimeoutMs: loaded.values.requestTimeout,
  });
  const queryState = (query: { state?: string; statusCount?: Record<string, number> }) =>
    query.state ?? Object.keys(query.statusCount ?? {})[0] ?? 'UNKNOWN';

  return {
    name: 'ksqldb',
    ...ENGINE_WORDS.ksqldb,
    resourceId: 'ksql-statements',
    resourceTitle: 'ksqlDB streams, tables and queries (templates/ksql)',
    endpoints: () => ({ ksqldb: target.url }),
    endpointKeys: ['ksqldbUrl'],
    requireReachable: (probe) => requireKsqldb(target, loaded.values.target === 'local', probe),
    inspect: async () => {
      const complete = await deployer.complete();
      return { present: complete, ready: complete, changes: [], attributes: {} };
    },
    apply: async () => {
      const result = await deployer.apply();
      return { created: result.created, replaced: [], existing: result.existing };
    },
    remove: () => deployer.remove(),
    leftovers: () => deployer.leftovers(),
    jobs: () =>
      withClient(async (ksql) => {
        const jobs: EngineJob[] = [];
        for (const query of await ksql.listQueries()) {
          const state = queryState(query);
          const reason = state === 'RUNNING' ? undefined : await stopReason(ksql, query.id);
          jobs.push({
            id: query.id,
            name: query.id,
            state,
            sources: [],
            sinks: query.sinks,
            ...(reason ? { detail: reason } : {}),
          });
        }
        return jobs;
      }),
    lineage: () =>
      withClient(async (ksql) => {
        const listed = [...(await ksql.listStreams()), ...(await ksql.listTables())];
        const sources: SourceFacts[] = [];
        for (const source of listed) {
          const description = await ksql.describeSource(source.name);
          sources.push({
            name: source.name,
            type: source.type,
            topic: source.topic,
            readQueries: description.readQueries.map((q) => q.id),
            writeQueries: description.writeQueries.map((q) => q.id),
          });
        }
        const queries: QueryFacts[] = (await ksql.listQueries()).map((q) => ({
          id: q.id,
          state: queryState(q),
          sinks: q.sinks,
          sinkTopics: q.sinkKafkaTopics,
        }));
        return { sources, queries };
      }),
    tail: (request) => openKsqlTail(client(), request, ctx.clock),
    topicKey: async (topic) => {
      // A quick answer or none: this only names the key column of a topic read without ksqlDB.
      const quick = new KsqlClient({
        ...ksqlClientOptions(target, ctx, loaded),
        connectTimeoutMs: 2000,
        requestTimeoutMs: Math.min(3000, loaded.values.requestTimeout),
      });
      try {
        const sources = [...(await quick.listStreams()), ...(await quick.listTables())];
        const match = sources.find((source) => source.topic === topic);
        if (!match) return undefined;
        const key = (await quick.describeSource(match.name)).fields.find((field) => field.type === 'KEY');
        return key ? { name: key.name, type: key.schema.type } : undefined;
      } finally {
        quick.close();
      }
    },
    tableRows: (name) =>
      withClient(async (ksql) => (await ksql.executeQuery(`SELECT * FROM ${name};`)).rows.map((row) => row.toObject())),
    close: async () => undefined,
  };
}

async function requireKsqldb(
  target: KsqlTarget,
  local: boolean,
  probe: { timeoutMs: number; signal: AbortSignal },
): Promise<void> {
  const reached = await httpReachable(new URL('/info', target.url).toString(), probe);
  if (reached.ok) return;
  throw new OperationError(`ksqlDB at ${target.url} is not reachable (${reached.detail})`, {
    hint: local
      ? 'Start the local stack with `marketplace local start` (check it with `marketplace local status`), or fix ksqldbUrl.'
      : target.unreachableHint,
  });
}

/**
 * Finds what the user named among ksqlDB's streams and tables (case-insensitively, as ksqlDB does) and opens it
 * through a push query. An unknown name is a usage error listing the known ones.
 */
async function openKsqlTail(client: KsqlClient, request: TailRequest, clock: Clock): Promise<OpenedSource> {
  try {
    const sources = [...(await client.listStreams()), ...(await client.listTables())];
    const wanted = request.name.startsWith('`') ? request.name.slice(1, -1) : request.name.toUpperCase();
    const match = sources.find((source) => source.name === wanted);
    if (!match) {
      const byTopic = sources.find((source) => source.topic === request.name);
      throw unknownSource(
        request.name,
        sources.map((s) => s.name.toLowerCase()),
        byTopic?.name,
      );
    }
    const description = await client.describeSource(match.name);
    const keyColumns = description.fields.filter((field) => field.type === 'KEY').map((field) => field.name);
    const source = await ksqlRowSource({
      client,
      name: match.name,
      where: request.where,
      fromBeginning: request.fromBeginning,
      keyColumns: keyColumns.length ? keyColumns : [description.fields[0]?.name ?? 'ROWKEY'],
      clock,
    });
    return { source, displayName: match.name.toLowerCase(), release: async () => client.close() };
  } catch (error) {
    client.close();
    throw error;
  }
}

function unknownSource(name: string, known: string[], suggestion?: string): UserError {
  return new UserError(`no stream or table named ${name}; known: ${known.sort().join(', ') || '(none)'}`, {
    hint: suggestion
      ? `The topic ${name} backs ${suggestion.toLowerCase()}: run \`marketplace tail ${suggestion.toLowerCase()}\`, or use --via kafka.`
      : "Check the name (`marketplace ksql list`), or run `marketplace up` to create the demo's streams.",
  });
}

/** The newest of a query's errors (EXPLAIN's `queryErrors`), or nothing when ksqlDB has none or cannot say. */
export async function stopReason(client: KsqlClient, id: string): Promise<string | undefined> {
  const [entity] = await client.executeStatements(`EXPLAIN ${id};`).catch(() => []);
  const errors = (entity as { queryDescription?: { queryErrors?: { errorMessage?: unknown }[] } } | undefined)
    ?.queryDescription?.queryErrors;
  const message = errors?.at(-1)?.errorMessage;
  return typeof message === 'string' ? message : undefined;
}
