import type { Admin, ITopicConfig } from 'kafkajs';
import { setTimeout as delay } from 'node:timers/promises';
import { OperationError, UserError } from '../core/errors.js';
import { waitFor } from '../core/waiter.js';

/** Throws a UserError naming every topic in `names` the cluster does not have. */
export async function assertTopicsExist(admin: Admin, names: readonly string[]): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = names.filter((name) => !existing.has(name));
  if (missing.length === 0) return;
  const list = missing.map((name) => `"${name}"`).join(', ');
  throw new UserError(`Kafka topic${missing.length > 1 ? 's' : ''} ${list} ${missing.length > 1 ? 'do' : 'does'} not exist`, {
    hint: 'Run `marketplace up` to create the demo topics (auto topic creation is off, as on Confluent Cloud).',
  });
}

/** How many partitions each topic has (the topics must exist). */
export async function partitionCounts(admin: Admin, names: readonly string[]): Promise<Map<string, number>> {
  const { topics } = await admin.fetchTopicMetadata({ topics: [...names] });
  return new Map(topics.map((topic) => [topic.name, topic.partitions.length]));
}

export interface TopicSpec {
  name: string;
  partitions: number;
  configs?: Record<string, string>;
}

/** Creates the topics that do not exist yet (waits for their leaders); returns the names it created. */
export async function ensureTopics(admin: Admin, topics: readonly TopicSpec[], replicationFactor = 1): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const wanted: ITopicConfig[] = topics
    .filter((topic) => !existing.has(topic.name))
    .map((topic) => ({
      topic: topic.name,
      numPartitions: topic.partitions,
      replicationFactor,
      configEntries: Object.entries(topic.configs ?? {}).map(([name, value]) => ({ name, value })),
    }));
  if (wanted.length > 0) await createTopicsAndWait(admin, wanted);
  return wanted.map((topic) => topic.topic);
}

/**
 * Errors a broker answers while a just-created (or just-deleted) topic propagates from the controller. The metadata
 * may already name a leader that has not taken the partition on yet: it answers NOT_LEADER_FOR_PARTITION (kafkajs'
 * name for NOT_LEADER_OR_FOLLOWER, code 6) for a moment.
 */
const PROPAGATING = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_FOR_PARTITION']);

function isPropagating(error: unknown): boolean {
  return PROPAGATING.has((error as { type?: string }).type ?? '');
}

/**
 * Each partition's low and high offsets. kafkajs' fetchTopicOffsets gives up at once when a leader is still taking
 * the partition on (a fresh broker, a topic created a moment ago); that counts as "not yet" here, until the timeout,
 * after which the broker's last error is passed on.
 */
export async function fetchOffsetsWhenReady(admin: Admin, topic: string, timeoutMs = 30_000): ReturnType<Admin['fetchTopicOffsets']> {
  let brokerError: unknown;
  try {
    return await waitFor(
      async () => {
        try {
          return { done: true, value: await admin.fetchTopicOffsets(topic) };
        } catch (error) {
          if (!isPropagating(error)) throw error;
          brokerError = error;
          return { done: false, status: (error as { type: string }).type };
        }
      },
      { what: `the leaders of topic ${topic} to answer`, timeoutMs, initialDelayMs: 100, maxDelayMs: 1000 },
    );
  } catch (error) {
    // The wait timed out while the broker still answered "not yet": its error says more than ours.
    if (brokerError !== undefined && error instanceof OperationError) throw brokerError;
    throw error;
  }
}

/**
 * Creates topics and waits until every partition has a leader. kafkajs' own waitForLeaders gives up on
 * UNKNOWN_TOPIC_OR_PARTITION, which a KRaft broker answers for a moment after a create (or right after the same name
 * was deleted); here that counts as "not yet".
 */
export async function createTopicsAndWait(admin: Admin, topics: ITopicConfig[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const names = topics.map((topic) => topic.topic);
  for (;;) {
    try {
      await admin.createTopics({ topics, waitForLeaders: false });
      break;
    } catch (error) {
      const type = (error as { type?: string }).type;
      // A topic of the same name still being deleted: its removal finishes within moments, then create again.
      const beingDeleted = /marked for deletion/i.test(JSON.stringify(error) + (error as Error).message);
      if (type === 'TOPIC_ALREADY_EXISTS' && !beingDeleted) break;
      if (Date.now() > deadline || !(isPropagating(error) || beingDeleted)) throw error;
    }
    await delay(250);
  }
  for (;;) {
    try {
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics: names });
      if (metadata.length === names.length && metadata.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) break;
    } catch (error) {
      if (!isPropagating(error)) throw error;
    }
    if (Date.now() > deadline) throw new Error(`topics ${names.join(', ')} have no leader after ${timeoutMs / 1000} s`);
    await delay(250);
  }
  // Named leaders may not serve the partitions yet; a ListOffsets answered by every one of them means they do.
  for (const name of names) await fetchOffsetsWhenReady(admin, name, Math.max(deadline - Date.now(), 0));
}
