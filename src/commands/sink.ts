import type { LoadedConfig } from '../core/config.js';
import type { Context } from '../core/context.js';
import { ExitCode, isCliError, OperationError, UserError } from '../core/errors.js';
import { duration } from '../core/parse.js';
import { abortReason, type Probe, waitFor } from '../core/waiter.js';
import { defineCommand } from './command.js';

export interface SinkApplyResult {
  target: 'cloud' | 'local';
  connector: string;
  action: 'created' | 'updated' | 'unchanged';
  database: string;
  collection: string;
}

export interface SinkStatusResult {
  connector: string;
  state: string;
  tasks: { id: number; state: string; trace?: string }[];
  trace?: string;
}

export interface SinkVerifyResult {
  database: string;
  collection: string;
  documents: number;
  topicRecords: number;
  missing: number;
  newest?: Record<string, unknown>;
}

const SINK_ID = 'mongo-sink-connector';

const mongoCommand = defineCommand<SinkApplyResult>({
  name: 'mongo',
  summary: 'Create or update the MongoDB sink for job_status',
  description:
    'Cloud: a MongoDB Atlas sink (MongoDbAtlasSink) with mongoHost, mongoUser, mongoDatabase, mongoCollection and the ' +
    'password from MONGODB_PASSWORD (or a prompt). Local: the official MongoSinkConnector on the local Connect, ' +
    'writing to mongoUri (FerretDB by default). Waits until the connector is RUNNING.',
  examples: [
    { command: 'marketplace sink mongo', description: 'the Atlas sink on Confluent Cloud' },
    { command: 'marketplace sink mongo --target local', description: 'the local sink into FerretDB' },
  ],
  run: async (ctx) => {
    const loaded = await ctx.loadConfig();
    const missing = (['mongoHost', 'mongoUser'] as const).filter((key) => !loaded.values[key]);
    if (loaded.values.target === 'cloud' && missing.length > 0) {
      throw new UserError(
        `the cloud sink needs mongoHost and mongoUser, and ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set`,
        {
          hint: 'Run `marketplace init` (or set MARKETPLACE_MONGO_HOST and MARKETPLACE_MONGO_USER), and export MONGODB_PASSWORD.',
        },
      );
    }
    const { openSession } = await import('../provisioning/open-session.js');
    const session = await openSession(ctx, loaded, { lock: 'sink', needMongoPassword: true });
    try {
      const def = session.defs.find((d) => d.id === SINK_ID);
      if (!def) throw new Error('the resource graph has no sink');
      for (const dep of session.defs.filter((d) => def.dependsOn.includes(d.id))) {
        const observed = await dep.observe(session.env);
        if (!observed) {
          throw new UserError(`the sink needs ${dep.title}, which does not exist`, {
            hint: 'Run `marketplace up` first.',
          });
        }
        session.known.set(dep.id, observed.record);
      }
      const observed = await def.observe(session.env);
      let action: SinkApplyResult['action'] = 'unchanged';
      let record = observed?.record;
      if (!observed) {
        record = await def.create(session.env);
        action = 'created';
      } else if (observed.changes?.length && def.update) {
        record = await def.update(session.env, observed);
        action = 'updated';
      }
      await session.recorder.put(SINK_ID, record!);
      if (action !== 'unchanged' || !observed?.ready) await def.ready?.(session.env, record!);
      return {
        target: session.target,
        connector: record!.id,
        action,
        database: loaded.values.mongoDatabase,
        collection: loaded.values.mongoCollection,
      };
    } finally {
      await session.release();
    }
  },
  render: (result, ctx) => {
    ctx.out.success(
      `Sink ${result.connector} ${result.action} and RUNNING → ${result.database}.${result.collection} (${result.target})`,
    );
  },
});

const statusCommand = defineCommand<SinkStatusResult>({
  name: 'status',
  summary: 'Connector and task states of the sink, with the failure trace if FAILED',
  examples: [{ command: 'marketplace sink status --target local', description: 'is the local sink running?' }],
  run: async (ctx) => sinkStatus(ctx, await ctx.loadConfig()),
  render: (result, ctx) => {
    const { green, red } = ctx.out.paint;
    const paint = (state: string) => (state === 'RUNNING' ? green(state) : red(state));
    ctx.out.info(`connector ${result.connector}: ${paint(result.state)}`);
    if (result.trace) ctx.out.info(`  ${result.trace}`);
    for (const task of result.tasks) {
      ctx.out.info(`  task ${task.id}: ${paint(task.state)}`);
      if (task.trace) ctx.out.info(`    ${task.trace}`);
    }
  },
  exitCode: (result) =>
    result.state === 'RUNNING' && result.tasks.every((t) => t.state === 'RUNNING') ? ExitCode.ok : ExitCode.failure,
});

const verifyCommand = defineCommand<SinkVerifyResult>({
  name: 'verify',
  summary: 'Count the documents that landed in MongoDB and compare with the job_status topic',
  description:
    'Connects to MongoDB with the official driver, counts the documents in the sink collection, shows the newest, ' +
    'and compares the count with the number of records in the job_status topic. Exits 1 when documents are missing.',
  options: [
    {
      flags: '--wait <time>',
      description: 'keep checking up to this long for the sink to catch up',
      parse: duration('--wait'),
    },
  ],
  examples: [
    { command: 'marketplace sink verify --target local', description: 'did every job_status record land?' },
    { command: 'marketplace sink verify --target local --wait 30s', description: 'give the sink time to catch up' },
  ],
  run: async (ctx, { options }) => verify(ctx, await ctx.loadConfig(), (options.wait as number | undefined) ?? 0),
  render: (result, ctx) => {
    const { green, red } = ctx.out.paint;
    ctx.out.info(
      `${result.database}.${result.collection}: ${result.documents} documents; job_status topic: ${result.topicRecords} records`,
    );
    if (result.newest) ctx.out.info(`newest: ${JSON.stringify(result.newest)}`);
    ctx.out.info(
      result.missing > 0 ? red(`${result.missing} records have not landed (yet).`) : green('Every record landed.'),
    );
  },
  exitCode: (result) => (result.missing > 0 ? ExitCode.failure : ExitCode.ok),
});

export const sinkCommand = defineCommand({
  name: 'sink',
  summary: 'Create, check and verify the MongoDB sink of job_status',
  examples: [
    { command: 'marketplace sink mongo --target local', description: 'create or update the sink' },
    { command: 'marketplace sink status', description: 'connector and task states' },
    { command: 'marketplace sink verify --wait 30s', description: 'documents in MongoDB vs records in the topic' },
  ],
  subcommands: [mongoCommand, statusCommand, verifyCommand],
});

async function sinkStatus(ctx: Context, loaded: LoadedConfig): Promise<SinkStatusResult> {
  const { resourceNames } = await import('../provisioning/names.js');
  const name = resourceNames(loaded.values.prefix).sinkConnector;
  const firstLine = (text?: string) => text?.split('\n')[0];
  if (loaded.values.target === 'local' || loaded.values.connectUrl) {
    const { configuredEndpoints } = await import('../core/endpoints.js');
    const { ConnectClient } = await import('../connect/client.js');
    const connect = new ConnectClient(configuredEndpoints(loaded.values).connectUrl!, {
      timeoutMs: loaded.values.requestTimeout,
      signal: ctx.signal,
      clock: ctx.clock,
    });
    const status = await connect.status(name);
    if (!status)
      throw new UserError(`there is no connector ${name}`, {
        hint: 'Create it with `marketplace sink mongo` (or `marketplace up`).',
      });
    return {
      connector: name,
      state: status.connector.state,
      trace: firstLine(status.connector.trace),
      tasks: status.tasks.map((t) => ({ id: t.id, state: t.state, trace: firstLine(t.trace) })),
    };
  }
  const { openCloudSession } = await import('../provisioning/cloud-session.js');
  const session = await openCloudSession(ctx, loaded, { lock: undefined, needMongoPassword: false });
  try {
    const environment = session.known.get('environment');
    const cluster = session.known.get('kafka-cluster');
    if (!environment || !cluster)
      throw new UserError('no cluster in the state file', { hint: 'Run `marketplace up` first.' });
    const connectors = session.cloud.connectors(environment.id, cluster.id);
    if (!(await connectors.findByName(name))) {
      throw new UserError(`there is no connector ${name}`, { hint: 'Create it with `marketplace sink mongo`.' });
    }
    const status = await connectors.status(name);
    return {
      connector: name,
      state: status.connector.state,
      trace: firstLine(status.connector.trace),
      tasks: (status.tasks ?? []).map((t) => ({ id: t.id, state: t.state, trace: firstLine(t.msg) })),
    };
  } finally {
    await session.release();
  }
}

async function verify(ctx: Context, loaded: LoadedConfig, waitMs: number): Promise<SinkVerifyResult> {
  const config = loaded.values;
  const { MongoConnectError, withSinkCollection } = await import('../mongo/client.js');
  const connection = await mongoConnection(ctx, loaded);
  const target = { ...connection, database: config.mongoDatabase, collection: config.mongoCollection };
  try {
    return await withSinkCollection(
      target,
      async (collection) => {
        const topicRecords = await topicRecordCount(ctx, loaded);
        const caughtUp = async (): Promise<Probe<number>> => {
          const documents = await collection.count();
          return documents >= topicRecords
            ? { done: true, value: documents }
            : { done: false, status: `${documents} of ${topicRecords} documents` };
        };
        const documents = await waitFor(caughtUp, {
          what: 'the MongoDB sink to catch up',
          timeoutMs: waitMs,
          initialDelayMs: 500,
          maxDelayMs: 500,
          clock: ctx.clock,
          signal: ctx.signal,
        }).catch(async (error: unknown) => {
          if (ctx.signal.aborted) throw abortReason(ctx.signal);
          if (!(error instanceof OperationError)) throw error;
          return collection.count();
        });
        const newest = await collection.newest();
        return {
          database: config.mongoDatabase,
          collection: config.mongoCollection,
          documents,
          topicRecords,
          missing: Math.max(0, topicRecords - documents),
          newest: newest ? JSON.parse(JSON.stringify(newest)) : undefined,
        };
      },
      { timeoutMs: config.requestTimeout, signal: ctx.signal },
    );
  } catch (error) {
    if (!(error instanceof MongoConnectError)) throw error;
    throw new OperationError(error.message, {
      hint:
        config.target === 'local'
          ? 'Start the local stack with `marketplace local start`.'
          : `Check ${config.mongoUri ? 'mongoUri' : 'mongoHost'}, mongoUser, MONGODB_PASSWORD and the Atlas IP access list.`,
    });
  }
}

interface MongoConnection {
  uri: string;
  /** Sent by the driver during the handshake, so the password is never part of a URI that might be echoed. */
  auth?: { username: string; password: string };
}

/**
 * Local: mongoUri (FerretDB by default). Cloud: the Atlas cluster at mongoHost, or mongoUri when set (a standard
 * connection string where DNS SRV lookups are blocked, a private endpoint, extra URI options), with mongoUser and
 * MONGODB_PASSWORD as credentials.
 */
async function mongoConnection(ctx: Context, loaded: LoadedConfig): Promise<MongoConnection> {
  const config = loaded.values;
  if (config.target === 'local') {
    const { configuredEndpoints } = await import('../core/endpoints.js');
    return { uri: configuredEndpoints(config).mongoUri! };
  }
  if (!config.mongoUri && (!config.mongoHost || !config.mongoUser)) {
    throw new UserError('mongoHost and mongoUser are not set', {
      hint: 'Run `marketplace init` to set the Atlas sink settings.',
    });
  }
  const uri = config.mongoUri ?? `mongodb+srv://${config.mongoHost}/`;
  if (!config.mongoUser) return { uri };
  const { mongoPassword } = await import('../core/credentials.js');
  return { uri, auth: { username: config.mongoUser, password: await mongoPassword(ctx, config.mongoUser) } };
}

async function topicRecordCount(ctx: Context, loaded: LoadedConfig): Promise<number> {
  const { resolveKafkaTarget } = await import('../kafka/connection.js');
  const { createKafka } = await import('../kafka/client.js');
  const { scanTopic } = await import('../kafka/consumer.js');
  const kafka = createKafka({
    ...(await resolveKafkaTarget(loaded, ctx.secrets)),
    clientId: 'marketplace-sink-verify',
    out: ctx.out,
    requestTimeoutMs: loaded.values.requestTimeout,
    signal: ctx.signal,
  });
  try {
    // Counted by reading, not from offsets: ksqlDB's exactly-once transactions leave commit markers that take
    // offsets but are no records.
    return await scanTopic(kafka, 'job_status', () => undefined, { signal: ctx.signal, clock: ctx.clock });
  } catch (error) {
    // Ours already say what to do: an interruption, a broker that gave no answer in time.
    if (isCliError(error)) throw error;
    throw new OperationError(`cannot read the job_status topic: ${(error as Error).message}`, {
      hint: 'Run `marketplace up` first, and check that Kafka is reachable.',
    });
  }
}
