import type { Admin, ITopicConfig } from 'kafkajs';
import { UserError } from '../core/errors.js';

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
  if (wanted.length > 0) await admin.createTopics({ topics: wanted, waitForLeaders: true });
  return wanted.map((topic) => topic.topic);
}
