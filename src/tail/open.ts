import type { LoadedConfig } from '../core/config.js';
import type { Context } from '../core/context.js';
import { abortReason } from '../core/waiter.js';
import { UserError } from '../core/errors.js';
import { KsqlClient } from '../ksql-client/client.js';
import { ksqlClientOptions, resolveKsqlTarget } from '../ksql-client/target.js';
import { kafkaRowSource } from './kafka-source.js';
import { ksqlRowSource } from './ksql-source.js';
import type { RowSource } from './source.js';

export interface OpenedSource {
  source: RowSource;
  displayName: string;
  release(): Promise<void>;
}

/**
 * Finds what the user named among ksqlDB's streams and tables (case-insensitively, as ksqlDB does) and opens it
 * through a push query, or reads its topic with --via kafka. An unknown name is a usage error listing the known ones.
 */
export async function openTailSource(
  ctx: Context,
  loaded: LoadedConfig,
  request: { name: string; via: 'ksqldb' | 'kafka'; where?: string; fromBeginning: boolean },
): Promise<OpenedSource> {
  if (request.via === 'kafka') return openKafka(ctx, loaded, request);
  const target = await resolveKsqlTarget(loaded);
  const client = new KsqlClient(ksqlClientOptions(target, ctx, loaded));
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
      clock: ctx.clock,
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

async function openKafka(
  ctx: Context,
  loaded: LoadedConfig,
  request: { name: string; fromBeginning: boolean },
): Promise<OpenedSource> {
  const { resolveKafkaTarget } = await import('../kafka/connection.js');
  const { createKafka } = await import('../kafka/client.js');
  const target = await resolveKafkaTarget(loaded, ctx.secrets);
  const kafka = createKafka({
    ...target,
    clientId: 'marketplace-tail',
    out: ctx.out,
    requestTimeoutMs: loaded.values.requestTimeout,
    signal: ctx.signal,
  });
  const admin = kafka.admin();
  let topics: string[];
  try {
    await admin.connect();
    topics = await admin.listTopics();
  } finally {
    await admin.disconnect();
  }
  const topic =
    topics.find((t) => t === request.name) ?? topics.find((t) => t.toLowerCase() === request.name.toLowerCase());
  if (!topic) {
    throw new UserError(
      `no topic named ${request.name}; known: ${
        topics
          .filter((t) => !t.startsWith('_'))
          .sort()
          .join(', ') || '(none)'
      }`,
      {
        hint: 'Check the name, or run `marketplace up` to create the demo topics.',
      },
    );
  }
  const key = await keyColumnOf(ctx, loaded, topic);
  const source = await kafkaRowSource({ kafka, topic, fromBeginning: request.fromBeginning, key });
  return { source, displayName: topic, release: async () => undefined };
}

/** ksqlDB knows the key column's name and type; without ksqlDB the key is shown as KEY and decoded by its shape. */
async function keyColumnOf(
  ctx: Context,
  loaded: LoadedConfig,
  topic: string,
): Promise<{ name: string; type: string } | undefined> {
  try {
    const target = await resolveKsqlTarget(loaded);
    // Only a nicer key column: ksqlDB gets a short while to say, and tail goes on without it.
    const options = ksqlClientOptions(target, ctx, loaded);
    const client = new KsqlClient({
      ...options,
      requestTimeoutMs: Math.min(3000, options.requestTimeoutMs ?? 3000),
    });
    try {
      const sources = [...(await client.listStreams()), ...(await client.listTables())];
      const match = sources.find((source) => source.topic === topic);
      if (!match) return undefined;
      const key = (await client.describeSource(match.name)).fields.find((field) => field.type === 'KEY');
      return key ? { name: key.name, type: key.schema.type } : undefined;
    } finally {
      client.close();
    }
  } catch {
    if (ctx.signal.aborted) throw abortReason(ctx.signal);
    return undefined;
  }
}
