import type { LoadedConfig } from '../core/config.js';
import type { Context } from '../core/context.js';
import { abortReason } from '../core/waiter.js';
import { UserError } from '../core/errors.js';
import type { EngineName, OpenedSource } from '../engines/engine.js';
import { kafkaRowSource } from './kafka-source.js';

export type { OpenedSource } from '../engines/engine.js';

/**
 * Opens what the user named through the engine (`via` ksqldb: a push query; flink: a Flink SELECT), or reads its
 * topic with --via kafka. An unknown name is a usage error listing the known ones.
 */
export async function openTailSource(
  ctx: Context,
  loaded: LoadedConfig,
  request: { name: string; via: EngineName | 'kafka'; where?: string; fromBeginning: boolean },
): Promise<OpenedSource> {
  if (request.via === 'kafka') return openKafka(ctx, loaded, request);
  const { openEngine } = await import('../engines/index.js');
  const engine = await openEngine({ loaded, ctx, name: request.via });
  try {
    const opened = await engine.tail(request);
    return {
      ...opened,
      release: async () => {
        await opened.release();
        await engine.close();
      },
    };
  } catch (error) {
    await engine.close();
    throw error;
  }
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

/** The engine knows the key column's name and type; without it the key is shown as KEY and decoded by its shape. */
async function keyColumnOf(
  ctx: Context,
  loaded: LoadedConfig,
  topic: string,
): Promise<{ name: string; type: string } | undefined> {
  try {
    const { openEngine } = await import('../engines/index.js');
    // Only a nicer key column: the engine gets a short while to say (see topicKey), and tail goes on without it.
    const engine = await openEngine({ loaded, ctx });
    try {
      return await engine.topicKey(topic);
    } finally {
      await engine.close();
    }
  } catch {
    if (ctx.signal.aborted) throw abortReason(ctx.signal);
    return undefined;
  }
}
