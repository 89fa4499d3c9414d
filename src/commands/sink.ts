import type { LoadedConfig } from '../core/config.js';
import type { Context } from '../core/context.js';
import { ExitCode, isClassifiedError, isCliError, OperationError, UserError } from '../core/errors.js';
import { duration } from '../core/parse.js';
import { abortReason, type Probe, waitFor } from '../core/waiter.js';
import { defineCommand, option } from './command.js';

export interface SinkApplyResult {
  target: 'cloud' | 'local';
  connector: string;
  action: 'created' | 'updated' | 'unchanged';
  database: string;
  collection: string;
}

/** Where the sink puts the records it cannot write (errors.tolerance=all), and how many are there. */
export interface DeadLetterQueue {
  topic: string;
  records: number;
}

export interface SinkStatusResult {
  connector: string;
  state: string;
  tasks: { id: number; state: string; trace?: string }[];
  trace?: string;
  /** Absent when the connector has no dead letter queue (errors.tolerance=none). */
  deadLetterQueue?: DeadLetterQueue;
}

export interface SinkVerifyResult {
  database: string;
  collection: string;
  documents: number;
  topicRecords: number;
  /** Records in the sink's dead letter queue: read, but not written to MongoDB. */
  deadLetters: number;
  deadLetterTopic?: string;
  /** Records neither in MongoDB nor in the dead letter queue (yet). */
  missing: number;
  newest?: Record<string, unknown>;
}

const SINK_ID = 'mongo-sink-connector';

const mongoCommand = defineCommand({
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
  run: async (ctx): Promise<SinkApplyResult> => {
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

const statusCommand = defineCommand({
  name: 'status',
  summary: 'Connector and task states of the sink (failure trace if FAILED) and its dead letter queue',
  examples: [{ command: 'marketplace sink status --target local', description: 'is the local sink running?' }],
  run: async (ctx): Promise<SinkStatusResult> => sinkStatus(ctx, await ctx.loadConfig()),
  render: (result, ctx) => {
    const { green, red } = ctx.out.paint;
    const paint = (state: string) => (state === 'RUNNING' ? green(state) : red(state));
    ctx.out.info(`connector ${result.connector}: ${paint(result.state)}`);
    if (result.trace) ctx.out.info(`  ${result.trace}`);
    for (const task of result.tasks) {
      ctx.out.info(`  task ${task.id}: ${paint(task.state)}`);
      if (task.trace) ctx.out.info(`    ${task.trace}`);
    }
    const dlq = result.deadLetterQueue;
    if (dlq) {
      const { yellow } = ctx.out.paint;
      const count = `${dlq.records} record${dlq.records === 1 ? '' : 's'}`;
      ctx.out.info(`dead letter queue ${dlq.topic}: ${dlq.records > 0 ? yellow(count) : count}`);
    }
  },
  exitCode: (result) =>
    result.state === 'RUNNING' && result.tasks.every((t) => t.state === 'RUNNING') ? ExitCode.ok : ExitCode.failure,
});

const verifyCommand = defineCommand({
  name: 'verify',
  summary: 'Count the documents that landed in MongoDB and compare with the job_status topic',
  description:
    'Connects to MongoDB with the official driver, counts the documents in the sink collection, shows the newest, ' +
    'and compares the count with the number of records in the job_status topic, counting those the sink put in its ' +
    'dead letter queue instead. Exits 1 when documents are missing or records went to the dead letter queue.',
  options: {
    wait: option('--wait <time>', 'keep checking up to this long for the sink to catch up', {
      parse: duration('--wait'),
    }),
  },
  examples: [
    { command: 'marketplace sink verify --target local', description: 'did every job_status record land?' },
    { command: 'marketplace sink verify --target local --wait 30s', description: 'give the sink time to catch up' },
  ],
  run: async (ctx, { options }): Promise<SinkVerifyResult> => verify(ctx, await ctx.loadConfig(), options.wait),
  render: (result, ctx) => {
    const { green, red } = ctx.out.paint;
    ctx.out.info(
      `${result.database}.${result.collection}: ${result.documents} documents; job_status topic: ${result.topicRecords} records`,
    );
    if (result.newest) ctx.out.info(`newest: ${JSON.stringify(result.newest)}`);
    if (result.deadLetters > 0)
      ctx.out.info(
        red(
          `${result.deadLetters} record${result.deadLetters === 1 ? '' : 's'} went to the dead letter queue ${result.deadLetterTopic} instead (\`marketplace sink status\` shows the connector).`,
        ),
      );
    if (result.missing > 0) ctx.out.info(red(`${result.missing} records have not landed (yet).`));
    else if (result.deadLetters === 0) ctx.out.info(green('Every record landed.'));
  },
  exitCode: (result) => (result.missing > 0 || result.deadLetters > 0 ? ExitCode.failure : ExitCode.ok),
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
  const { status, deadLetterTopic } = await inspectSink(ctx, loaded, { withStatus: true });
  if (!deadLetterTopic) return status!;
  const counter = await deadLetterCounter(ctx, loaded, deadLetterTopic);
  try {
    return { ...status!, deadLetterQueue: { topic: deadLetterTopic, records: await counter.count() } };
  } finally {
    await counter.close();
  }
}

/**
 * The sink connector's state and the name of its dead letter queue. Local (or any self-managed Connect): the topic its
 * config names. Confluent Cloud: a sink that tolerates errors (errors.tolerance=all, its default) writes them to
 * dlq-<connector id>.
 */
async function inspectSink(
  ctx: Context,
  loaded: LoadedConfig,
  options: { withStatus: boolean },
): Promise<{ status?: SinkStatusResult; deadLetterTopic?: string }> {
  const { resourceNames } = await import('../provisioning/names.js');
  const name = resourceNames(loaded.values.prefix).sinkConnector;
  const firstLine = (text?: string) => text?.split('\n')[0];
  const missing = () =>
    new UserError(`there is no connector ${name}`, {
      hint: 'Create it with `marketplace sink mongo` (or `marketplace up`).',
    });
  if (loaded.values.target === 'local' || loaded.values.connectUrl) {
    const { configuredEndpoints } = await import('../core/endpoints.js');
    const { ConnectClient } = await import('../connect/client.js');
    const connect = new ConnectClient(configuredEndpoints(loaded.values).connectUrl!, {
      timeoutMs: loaded.values.requestTimeout,
      signal: ctx.signal,
      clock: ctx.clock,
    });
    const config = await connect.config(name);
    if (!config) throw missing();
    const deadLetterTopic =
      config['errors.tolerance'] === 'all' ? config['errors.deadletterqueue.topic.name'] || undefined : undefined;
    if (!options.withStatus) return { deadLetterTopic };
    const status = await connect.status(name);
    if (!status) throw missing();
    return {
      deadLetterTopic,
      status: {
        connector: name,
        state: status.connector.state,
        trace: firstLine(status.connector.trace),
        tasks: status.tasks.map((t) => ({ id: t.id, state: t.state, trace: firstLine(t.trace) })),
      },
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
    const connector = await connectors.findByName(name);
    if (!connector) throw missing();
    const id = connector.config['errors.tolerance'] === 'none' ? undefined : await connectors.id(name);
    const deadLetterTopic = id ? `dlq-${id}` : undefined;
    if (!options.withStatus) return { deadLetterTopic };
    const status = await connectors.status(name);
    return {
      deadLetterTopic,
      status: {
        connector: name,
        state: status.connector.state,
        trace: firstLine(status.connector.trace),
        tasks: (status.tasks ?? []).map((t) => ({ id: t.id, state: t.state, trace: firstLine(t.msg) })),
      },
    };
  } finally {
    await session.release();
  }
}

/** Counts the records in the dead letter queue (none when the sink never needed it, so the topic was never made). */
async function deadLetterCounter(
  ctx: Context,
  loaded: LoadedConfig,
  topic: string,
): Promise<{ count(): Promise<number>; close(): Promise<void> }> {
  const { resolveKafkaTarget } = await import('../kafka/connection.js');
  const { createKafka } = await import('../kafka/client.js');
  const { recordsByOffsets } = await import('../kafka/topics.js');
  const kafka = createKafka({
    ...(await resolveKafkaTarget(loaded, ctx.secrets)),
    clientId: 'marketplace-sink-dlq',
    out: ctx.out,
    requestTimeoutMs: loaded.values.requestTimeout,
    signal: ctx.signal,
  });
  const admin = kafka.admin();
  let connected: Promise<void> | undefined;
  return {
    count: async () => {
      try {
        await (connected ??= admin.connect());
        return (await recordsByOffsets(admin, topic, { signal: ctx.signal, clock: ctx.clock })) ?? 0;
      } catch (error) {
        if (ctx.signal.aborted) throw abortReason(ctx.signal);
        throw new OperationError(`cannot read the dead letter queue ${topic}: ${(error as Error).message}`, {
          hint: 'Check that Kafka is reachable (`marketplace doctor`).',
        });
      }
    },
    close: () => admin.disconnect(),
  };
}

/** `waitMs` undefined: count once, without waiting for the sink to catch up. */
async function verify(ctx: Context, loaded: LoadedConfig, waitMs: number | undefined): Promise<SinkVerifyResult> {
  const config = loaded.values;
  const { MongoConnectError, withSinkCollection } = await import('../mongo/client.js');
  const { mongoConnection } = await import('../mongo/connection.js');
  const connection = await mongoConnection(ctx, loaded);
  const target = { ...connection, database: config.mongoDatabase, collection: config.mongoCollection };
  const { deadLetterTopic } = await inspectSink(ctx, loaded, { withStatus: false });
  const counter = deadLetterTopic ? await deadLetterCounter(ctx, loaded, deadLetterTopic) : undefined;
  let deadLetters = 0;
  try {
    return await withSinkCollection(
      target,
      async (collection) => {
        const topicRecords = await topicRecordCount(ctx, loaded);
        const caughtUp = async (): Promise<Probe<number>> => {
          const documents = await collection.count();
          if (counter) deadLetters = await counter.count();
          return documents + deadLetters >= topicRecords
            ? { done: true, value: documents }
            : {
                done: false,
                status: `${documents} of ${topicRecords} documents${deadLetters ? `, ${deadLetters} in the dead letter queue` : ''}`,
              };
        };
        const documents = await waitFor(caughtUp, {
          what: 'the MongoDB sink to catch up',
          timeoutMs: waitMs ?? 0,
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
          deadLetters,
          ...(deadLetterTopic ? { deadLetterTopic } : {}),
          missing: Math.max(0, topicRecords - documents - deadLetters),
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
  } finally {
    await counter?.close();
  }
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
    // Ours already say what to do (an interruption, a broker that gave no answer in time); bugs go on as they are.
    if (isCliError(error) || !isClassifiedError(error)) throw error;
    throw new OperationError(`cannot read the job_status topic: ${error.message}`, {
      hint: 'Run `marketplace up` first, and check that Kafka is reachable.',
    });
  }
}
