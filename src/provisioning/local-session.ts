import type { Admin } from '../kafka/client.js';
import { ConnectClient } from '../connect/client.js';
import type { Config } from '../core/config-schema.js';
import type { LoadedConfig } from '../core/config.js';
import type { Context } from '../core/context.js';
import { configuredEndpoints, type Endpoints } from '../core/endpoints.js';
import { isClassifiedError, isCliError, OperationError, UserError } from '../core/errors.js';
import { httpReachable, tcpReachable } from '../core/probes.js';
import { StateStore, type ResourceRecord } from '../core/state-store.js';
import { waitFor } from '../core/waiter.js';
import type { EngineName, StreamEngine } from '../engines/index.js';
import { renderConnectorConfig } from './connector-templates.js';
import { KnownRecords } from './engine.js';
import { resourceNames, type ResourceNames } from './names.js';
import type { Observed, ProvisionEnvBase, ResourceDef } from './resource.js';
import { lockStateDir, type ProvisionSession } from './session.js';
import { StateRecorder } from './state-recorder.js';
import { demoTopics } from './topics.js';

export interface LocalEnv extends ProvisionEnvBase {
  config: Config;
  names: ResourceNames;
  endpoints: Required<Endpoints>;
  admin(): Promise<Admin>;
  connect: ConnectClient;
  /** The engine that runs the demo's statements (the configured one). */
  engine: StreamEngine;
}

const SINK = 'mongo-sink-connector';
/** Settings of the local sink recorded in state (the connector itself holds the rest). */
const RECORDED_SINK_KEYS = ['connection.uri', 'database', 'collection', 'topics'] as const;

const rec = (kind: string, id: string, attributes: Record<string, unknown> = {}): ResourceRecord => ({
  kind,
  id,
  name: id,
  target: 'local',
  createdAt: new Date().toISOString(),
  attributes,
});

/**
 * The engine's step: its streams, tables and jobs from its templates. Observing it asks the engine what runs and
 * what differs from the templates; a difference is an update (the engine replaces what changed).
 */
function engineResource(engine: StreamEngine, dependsOn: string[]): ResourceDef<LocalEnv> {
  const id = engine.resourceId;
  const record = (attributes: Record<string, unknown>) => rec(id, 'templates', attributes);
  return {
    id,
    kind: id,
    title: engine.resourceTitle,
    dependsOn,
    observe: async (env) => {
      const state = await engine.inspect(env.signal);
      return state.present
        ? { record: record(state.attributes), ready: state.ready, changes: state.changes }
        : undefined;
    },
    create: async (env) => {
      const result = await engine.apply({ signal: env.signal, progress: (status) => env.progress(id, status) });
      return record({ created: result.created });
    },
    update: async (env) => {
      const result = await engine.apply({ signal: env.signal, progress: (status) => env.progress(id, status) });
      return record({ created: result.created, replaced: result.replaced });
    },
    ready: async (env, current) => {
      await waitFor(
        async () => {
          const state = await engine.inspect(env.signal);
          return state.ready ? { done: true, value: undefined } : { done: false, status: state.changes.join('; ') };
        },
        {
          what: `the ${engine.label} jobs to run`,
          timeoutMs: 90_000,
          initialDelayMs: 250,
          maxDelayMs: 2_000,
          signal: env.signal,
          onProgress: (status) => env.progress(id, status),
        },
      );
      return current;
    },
    destroy: (env) => engine.remove({ signal: env.signal }),
  };
}

/**
 * The data-plane half of the demo on the local stack: topics, the engine's statements, MongoDB sink. `others` are
 * engines whose statements the state file records besides the configured one's (so `down` removes them too).
 */
export function localResources(
  names: ResourceNames,
  config: Config,
  engine: StreamEngine,
  others: StreamEngine[] = [],
): ResourceDef<LocalEnv>[] {
  const topicDefs = demoTopics().map(
    (topic): ResourceDef<LocalEnv> => ({
      id: `topic:${topic.name}`,
      kind: 'topic',
      title: `topic ${topic.name} (${topic.partitions} partition${topic.partitions === 1 ? '' : 's'})`,
      dependsOn: [],
      observe: async (env) => {
        const topics = await (await env.admin()).listTopics();
        return topics.includes(topic.name)
          ? { record: rec('topic', topic.name, { partitions: topic.partitions }), ready: true }
          : undefined;
      },
      create: async (env) => {
        const { createTopicsAndWait } = await import('../kafka/topics.js');
        await createTopicsAndWait(
          await env.admin(),
          [
            {
              topic: topic.name,
              numPartitions: topic.partitions,
              replicationFactor: 1,
              configEntries: Object.entries(topic.configs).map(([name, value]) => ({ name, value })),
            },
          ],
          { timeoutMs: 30_000, signal: env.signal, clock: env.clock },
        );
        return rec('topic', topic.name, { partitions: topic.partitions });
      },
      destroy: async (env, record) => {
        const admin = await env.admin();
        if ((await admin.listTopics()).includes(record.id)) await admin.deleteTopics({ topics: [record.id] });
        // Deletion completes asynchronously on the broker; wait so the check after teardown sees it gone.
        await waitFor(
          async () =>
            (await admin.listTopics()).includes(record.id)
              ? { done: false, status: 'being deleted' }
              : { done: true, value: undefined },
          {
            what: `topic ${record.id} to be deleted`,
            timeoutMs: 30_000,
            initialDelayMs: 100,
            maxDelayMs: 1_000,
            clock: env.clock,
            signal: env.signal,
          },
        );
      },
    }),
  );
  const sinkConfig = (env: LocalEnv) =>
    renderConnectorConfig('mongodb-sink-local', {
      mongoUri: env.endpoints.mongoUri,
      mongoDatabase: env.config.mongoDatabase,
      mongoCollection: env.config.mongoCollection,
    });
  const sinkRecord = (config: Record<string, string>) =>
    rec('connector', names.sinkConnector, Object.fromEntries(RECORDED_SINK_KEYS.map((key) => [key, config[key]])));
  const topicIds = topicDefs.map((def) => def.id);
  return [
    ...topicDefs,
    engineResource(engine, topicIds),
    ...others.map((other) => engineResource(other, topicIds)),
    {
      id: SINK,
      kind: 'connector',
      title: `MongoDB sink ${names.sinkConnector} → ${config.mongoDatabase}.${config.mongoCollection}`,
      dependsOn: [engine.resourceId],
      observe: async (env): Promise<Observed | undefined> => {
        const current = await env.connect.config(names.sinkConnector);
        if (!current) return undefined;
        const desired = sinkConfig(env);
        const changes = Object.keys(desired)
          .filter((key) => current[key] !== desired[key])
          .map((key) => `${key} ${current[key] ?? '(unset)'} → ${desired[key]}`);
        const status = await env.connect.status(names.sinkConnector);
        return {
          record: sinkRecord(current),
          ready: status?.connector.state === 'RUNNING' && status.tasks.every((task) => task.state === 'RUNNING'),
          changes,
        };
      },
      create: async (env) => {
        const desired = sinkConfig(env);
        await env.connect.putConfig(names.sinkConnector, desired);
        return sinkRecord(desired);
      },
      update: async (env) => {
        const desired = sinkConfig(env);
        await env.connect.putConfig(names.sinkConnector, desired);
        return sinkRecord(desired);
      },
      ready: async (env, record) => {
        let restarted = false;
        await waitFor(
          async () => {
            const status = await env.connect.status(names.sinkConnector);
            const failed = status && [status.connector, ...status.tasks].find((part) => part.state === 'FAILED');
            // A task killed by a passing fault (MongoDB restarted mid-write) stays FAILED until restarted: try once.
            if (failed && !restarted) {
              restarted = true;
              env.progress(SINK, 'restarting a FAILED task');
              await env.connect.restart(names.sinkConnector);
              return { done: false, status: 'restarted' };
            }
            if (failed) {
              throw new OperationError(
                `connector ${names.sinkConnector} FAILED: ${(failed.trace ?? 'no trace').split('\n')[0]}`,
                {
                  hint: 'See `marketplace local logs connect`; fix the cause, then run `marketplace up` again.',
                },
              );
            }
            const running =
              status?.connector.state === 'RUNNING' &&
              status.tasks.length > 0 &&
              status.tasks.every((t) => t.state === 'RUNNING');
            return running
              ? { done: true, value: undefined }
              : { done: false, status: status?.connector.state ?? 'not registered yet' };
          },
          {
            what: `connector ${names.sinkConnector} to be RUNNING`,
            timeoutMs: 90_000,
            initialDelayMs: 250,
            maxDelayMs: 2_000,
            clock: env.clock,
            signal: env.signal,
            onProgress: (status) => env.progress(SINK, status),
          },
        );
        return record;
      },
      destroy: async (env) => {
        await env.connect.delete(names.sinkConnector);
      },
    },
  ];
}

export async function openLocalSession(
  ctx: Context,
  loaded: LoadedConfig,
  options: {
    lock: string | undefined;
    /** Also the steps of other engines the state file records (for `down`: remove whatever `up` made). */
    withRecordedEngines?: boolean;
  },
): Promise<ProvisionSession<LocalEnv>> {
  const config = loaded.values;
  const endpoints = configuredEndpoints(config) as Required<Endpoints>;
  const names = resourceNames(config.prefix);
  const { ENGINE_NAMES, openEngine } = await import('../engines/index.js');
  const engine = await openEngine({ loaded, ctx });
  const store = new StateStore(loaded.dir, { warn: (message) => ctx.out.warn(message) });
  const recorded = await store.read();
  const others: StreamEngine[] = [];
  for (const name of ENGINE_NAMES.filter((n: EngineName) => n !== engine.name)) {
    // Opening one costs no request. One this configuration cannot open at all has nothing recorded here.
    const other = await openEngine({ loaded, ctx, name }).catch((error: unknown) => {
      if (!isClassifiedError(error)) throw error;
      return undefined;
    });
    if (other && recorded.resources[other.resourceId]) others.push(other);
  }
  if (options.lock === 'up') await refuseSecondEngine(engine, others);
  const removing = options.withRecordedEngines ? others : [];
  // A command that changes things checks every server first, so a stopped one cannot leave half a deployment; one
  // that only reads needs Kafka at least (every topic is looked up there), and kafkajs would retry for a minute.
  await requireReachable(endpoints, options.lock ? 'change' : 'read', [engine, ...removing], {
    timeoutMs: Math.min(PROBE_TIMEOUT_MS, config.requestTimeout),
    signal: ctx.signal,
  });
  const lock = await lockStateDir(ctx.out, store, options.lock);
  let admin: Admin | undefined;
  let adminReady: Promise<Admin> | undefined;
  const connectAdmin = async (): Promise<Admin> => {
    const { createKafka } = await import('../kafka/client.js');
    const client = createKafka({
      target: 'local',
      bootstrap: endpoints.bootstrapServers.split(','),
      clientId: `marketplace-${names.prefix}-admin`,
      out: ctx.out,
      requestTimeoutMs: config.requestTimeout,
      signal: ctx.signal,
    });
    const candidate = client.admin();
    try {
      await candidate.connect();
    } catch (error) {
      // A broker that gave no answer in time, and Ctrl-C, say so already.
      if (isCliError(error)) throw error;
      throw new OperationError(
        `Kafka at ${endpoints.bootstrapServers} is not reachable (${(error as Error).message})`,
        {
          hint: 'Start the local stack with `marketplace local start`, or check bootstrapServers.',
        },
      );
    }
    admin = candidate;
    return candidate;
  };
  try {
    const recorder = new StateRecorder(store, await store.read());
    const known = new KnownRecords(recorder);
    const env: LocalEnv = {
      config,
      names,
      endpoints,
      signal: ctx.signal,
      clock: ctx.clock,
      known: (id) => known.get(id),
      progress: () => undefined,
      // Memoised as a promise: the topic nodes ask for it in parallel and must share one connection.
      admin: () => (adminReady ??= connectAdmin()),
      connect: new ConnectClient(endpoints.connectUrl, {
        timeoutMs: config.requestTimeout,
        signal: ctx.signal,
        clock: ctx.clock,
      }),
      engine,
    };
    const defs = localResources(names, config, engine, removing);
    return {
      target: 'local',
      label: `the local stack (prefix ${names.prefix})`,
      defs,
      env,
      known,
      recorder,
      store,
      sink: true,
      endpoints: () => ({
        'kafka bootstrap': endpoints.bootstrapServers,
        ...engine.endpoints(),
        connect: endpoints.connectUrl,
        mongodb: endpoints.mongoUri,
      }),
      remaining: async () => {
        const left: string[] = [];
        const topics = new Set(await (await env.admin()).listTopics());
        for (const topic of demoTopics()) if (topics.has(topic.name)) left.push(`topic ${topic.name}`);
        if ((await env.connect.connectors()).includes(names.sinkConnector))
          left.push(`connector ${names.sinkConnector}`);
        for (const each of [engine, ...removing]) left.push(...(await each.leftovers()));
        return left;
      },
      release: async () => {
        await admin?.disconnect().catch(() => undefined);
        for (const each of [engine, ...others]) await each.close();
        await lock?.release();
      },
    };
  } catch (error) {
    await admin?.disconnect().catch(() => undefined);
    await lock?.release();
    throw error;
  }
}

/**
 * Two engines would both write job_status and truck_tracker: `up` on one refuses while the other's statements, which
 * the state file says an earlier `up` made here, still run. One that cannot be asked (its server is down) is no
 * obstacle.
 */
async function refuseSecondEngine(engine: StreamEngine, others: StreamEngine[]): Promise<void> {
  for (const other of others) {
    const state = await other.inspect().catch((error: unknown) => {
      if (!isClassifiedError(error)) throw error;
      return undefined;
    });
    if (!state?.present) continue;
    throw new UserError(
      `the demo already runs on ${other.label} here, and ${engine.label} would write the same topics; nothing was changed`,
      {
        hint: `Run \`marketplace down --target local --yes\` first (it removes what runs on ${other.label}), then \`marketplace up --target local --engine ${engine.name}\`.`,
      },
    );
  }
}

const PROBE_TIMEOUT_MS = 3_000;

/** The broker takes the connection and answers a metadata request (a wrong port may take it and say nothing). */
async function kafkaAnswers(
  hostPort: string,
  probe: { timeoutMs: number; signal: AbortSignal },
): Promise<{ ok: boolean; detail: string }> {
  const reachable = await tcpReachable(hostPort, probe.timeoutMs, probe.signal);
  if (!reachable.ok) return reachable;
  const { kafkaHealth } = await import('../kafka/health.js');
  const health = await kafkaHealth(hostPort, probe);
  return health.healthy ? reachable : { ok: false, detail: health.status };
}

async function requireReachable(
  endpoints: Required<Endpoints>,
  purpose: 'change' | 'read',
  engines: StreamEngine[],
  probe: { timeoutMs: number; signal: AbortSignal },
): Promise<void> {
  const unreachable = (error: unknown) => {
    if (!(error instanceof OperationError) || probe.signal.aborted) throw error;
    return error;
  };
  const skipped = { ok: true, detail: '' };
  const [kafka, connect, ...engineFailures] = await Promise.all([
    kafkaAnswers(endpoints.bootstrapServers.split(',')[0]!, probe),
    purpose === 'change' ? httpReachable(new URL('/', endpoints.connectUrl).toString(), probe) : skipped,
    ...(purpose === 'change'
      ? engines.map((engine) => engine.requireReachable(probe).then(() => undefined, unreachable))
      : []),
  ]);
  const down = [
    kafka.ok
      ? undefined
      : {
          problem: `Kafka at ${endpoints.bootstrapServers} is not reachable (${kafka.detail})`,
          keys: ['bootstrapServers'],
        },
    ...engines.map((engine, i) => {
      const failure = engineFailures[i];
      return failure ? { problem: failure.message, keys: engine.endpointKeys } : undefined;
    }),
    connect.ok
      ? undefined
      : {
          problem: `Kafka Connect at ${endpoints.connectUrl} is not reachable (${connect.detail})`,
          keys: ['connectUrl'],
        },
  ].filter((entry) => entry !== undefined);
  if (down.length === 0) return;
  const outcome = purpose === 'change' ? 'nothing was changed' : 'nothing could be checked';
  const withFlink = engines.some((engine, i) => engine.name === 'flink' && engineFailures[i]) ? ' --with flink' : '';
  throw new OperationError(`${down.map((d) => d.problem).join('; ')}; ${outcome}`, {
    hint: `Start the local stack with \`marketplace local start${withFlink}\` (check it with \`marketplace local status\`), or fix ${down.flatMap((d) => d.keys).join(', ')}.`,
  });
}
