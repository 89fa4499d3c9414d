import type { Admin } from '../kafka/client.js';
import { ConnectClient } from '../connect/client.js';
import type { Config } from '../core/config-schema.js';
import type { LoadedConfig } from '../core/config.js';
import type { Context } from '../core/context.js';
import { configuredEndpoints, type Endpoints } from '../core/endpoints.js';
import { isCliError, OperationError } from '../core/errors.js';
import { httpReachable, tcpReachable } from '../core/probes.js';
import { StateStore, type ResourceRecord } from '../core/state-store.js';
import { waitFor } from '../core/waiter.js';
import type { KsqlDeployer } from './cloud-resources.js';
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
  ksql: KsqlDeployer;
}

const STATEMENTS = 'ksql-statements';
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

/** The data-plane half of the demo on the local stack: topics, ksqlDB statements, MongoDB sink. */
export function localResources(names: ResourceNames, config: Config): ResourceDef<LocalEnv>[] {
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
  return [
    ...topicDefs,
    {
      id: STATEMENTS,
      kind: 'ksql-statements',
      title: 'ksqlDB streams, tables and queries (templates/ksql)',
      dependsOn: topicDefs.map((def) => def.id),
      observe: async (env) =>
        (await env.ksql.complete()) ? { record: rec('ksql-statements', 'templates'), ready: true } : undefined,
      create: async (env) => {
        const result = await env.ksql.apply();
        return rec('ksql-statements', 'templates', { created: result.created });
      },
      destroy: (env) => env.ksql.remove(),
    },
    {
      id: SINK,
      kind: 'connector',
      title: `MongoDB sink ${names.sinkConnector} → ${config.mongoDatabase}.${config.mongoCollection}`,
      dependsOn: [STATEMENTS],
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
  options: { lock: string | undefined },
): Promise<ProvisionSession<LocalEnv>> {
  const config = loaded.values;
  const endpoints = configuredEndpoints(config) as Required<Endpoints>;
  const names = resourceNames(config.prefix);
  // A command that changes things checks every server first, so a stopped one cannot leave half a deployment; one
  // that only reads needs Kafka at least (every topic is looked up there), and kafkajs would retry for a minute.
  await requireReachable(endpoints, options.lock ? 'change' : 'read', {
    timeoutMs: Math.min(PROBE_TIMEOUT_MS, config.requestTimeout),
    signal: ctx.signal,
  });
  const store = new StateStore(loaded.dir, { warn: (message) => ctx.out.warn(message) });
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
    const { ksqlDeployer } = await import('./ksql-deployer.js');
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
      ksql: ksqlDeployer({
        url: endpoints.ksqldbUrl,
        secrets: ctx.secrets,
        signal: ctx.signal,
        clock: ctx.clock,
        requestTimeoutMs: config.requestTimeout,
      }),
    };
    const defs = localResources(names, config);
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
        ksqldb: endpoints.ksqldbUrl,
        connect: endpoints.connectUrl,
        mongodb: endpoints.mongoUri,
      }),
      remaining: async () => {
        const left: string[] = [];
        const topics = new Set(await (await env.admin()).listTopics());
        for (const topic of demoTopics()) if (topics.has(topic.name)) left.push(`topic ${topic.name}`);
        if ((await env.connect.connectors()).includes(names.sinkConnector))
          left.push(`connector ${names.sinkConnector}`);
        left.push(...(await env.ksql.leftovers()));
        return left;
      },
      release: async () => {
        await admin?.disconnect().catch(() => undefined);
        await lock?.release();
      },
    };
  } catch (error) {
    await admin?.disconnect().catch(() => undefined);
    await lock?.release();
    throw error;
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
  probe: { timeoutMs: number; signal: AbortSignal },
): Promise<void> {
  const skipped = { ok: true, detail: '' };
  const [kafka, ksqldb, connect] = await Promise.all([
    kafkaAnswers(endpoints.bootstrapServers.split(',')[0]!, probe),
    purpose === 'change' ? httpReachable(new URL('/info', endpoints.ksqldbUrl).toString(), probe) : skipped,
    purpose === 'change' ? httpReachable(new URL('/', endpoints.connectUrl).toString(), probe) : skipped,
  ]);
  const down = [
    kafka.ok
      ? undefined
      : { what: `Kafka at ${endpoints.bootstrapServers}`, detail: kafka.detail, key: 'bootstrapServers' },
    ksqldb.ok ? undefined : { what: `ksqlDB at ${endpoints.ksqldbUrl}`, detail: ksqldb.detail, key: 'ksqldbUrl' },
    connect.ok
      ? undefined
      : { what: `Kafka Connect at ${endpoints.connectUrl}`, detail: connect.detail, key: 'connectUrl' },
  ].filter((entry) => entry !== undefined);
  if (down.length === 0) return;
  const outcome = purpose === 'change' ? 'nothing was changed' : 'nothing could be checked';
  throw new OperationError(`${down.map((d) => `${d.what} is not reachable (${d.detail})`).join('; ')}; ${outcome}`, {
    hint: `Start the local stack with \`marketplace local start\` (check it with \`marketplace local status\`), or fix ${down.map((d) => d.key).join(', ')}.`,
  });
}
