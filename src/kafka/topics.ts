import type { Admin, ITopicConfig } from 'kafkajs';
import { OperationError, UserError } from '../core/errors.js';
import { systemClock, waitFor, type Clock } from '../core/waiter.js';
import { notReadyYet } from './errors.js';

/** Throws a UserError naming every topic in `names` the cluster does not have. */
export async function assertTopicsExist(admin: Admin, names: readonly string[]): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = names.filter((name) => !existing.has(name));
  if (missing.length === 0) return;
  const list = missing.map((name) => `"${name}"`).join(', ');
  throw new UserError(
    `Kafka topic${missing.length > 1 ? 's' : ''} ${list} ${missing.length > 1 ? 'do' : 'does'} not exist`,
    {
      hint: 'Run `marketplace up` to create the demo topics (auto topic creation is off, as on Confluent Cloud).',
    },
  );
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
export async function ensureTopics(
  admin: Admin,
  topics: readonly TopicSpec[],
  replicationFactor = 1,
): Promise<string[]> {
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
 * Runs `call` until it succeeds, counting failures that mean "not ready yet" (see notReadyYet) as a status of the
 * wait, until the deadline; then the broker's last error is passed on, as it says more than a timeout. A call may
 * return undefined to be asked again (a condition not met yet), with `pending` as the status.
 */
export async function retryWhileNotReady<T>(
  call: () => Promise<T | undefined>,
  options: { what: string; timeoutMs: number; signal?: AbortSignal; clock?: Clock; pending?: string },
): Promise<T> {
  let brokerError: unknown;
  try {
    return await waitFor<T>(
      async () => {
        try {
          const value = await call();
          if (value === undefined) {
            brokerError = undefined;
            return { done: false, status: options.pending ?? 'not yet' };
          }
          brokerError = undefined;
          return { done: true, value };
        } catch (error) {
          const status = notReadyYet(error);
          if (status === undefined) throw error;
          brokerError = error;
          return { done: false, status };
        }
      },
      {
        what: options.what,
        timeoutMs: options.timeoutMs,
        signal: options.signal,
        clock: options.clock,
        initialDelayMs: 100,
        maxDelayMs: 1000,
      },
    );
  } catch (error) {
    if (brokerError !== undefined && error instanceof OperationError) throw brokerError;
    throw error;
  }
}

/**
 * Each partition's low and high offsets. kafkajs' fetchTopicOffsets gives up at once when a leader is still taking
 * the partition on (a fresh broker, a topic created a moment ago), or fails with a TypeError when another call on
 * the same admin replaced its metadata cache; both count as "not yet" here, until the timeout.
 */
export function fetchOffsetsWhenReady(
  admin: Admin,
  topic: string,
  scope: WaitScope = {},
): ReturnType<Admin['fetchTopicOffsets']> {
  return retryWhileNotReady(() => admin.fetchTopicOffsets(topic), {
    what: `the leaders of topic ${topic} to answer`,
    timeoutMs: scope.timeoutMs ?? 30_000,
    signal: scope.signal,
    clock: scope.clock,
  });
}

/** How long a wait may take (default 30 s), and the Ctrl-C and clock it answers to. */
export interface WaitScope {
  timeoutMs?: number;
  signal?: AbortSignal;
  clock?: Clock;
}

/**
 * Creates topics and waits until every partition has a leader that serves it. kafkajs' own waitForLeaders gives up
 * on UNKNOWN_TOPIC_OR_PARTITION, which a KRaft broker answers for a moment after a create (or right after the same
 * name was deleted); here that, and every other "not ready yet", counts as "not yet".
 */
export async function createTopicsAndWait(admin: Admin, topics: ITopicConfig[], scope: WaitScope = {}): Promise<void> {
  const { signal, clock = systemClock } = scope;
  const deadline = clock.now() + (scope.timeoutMs ?? 30_000);
  const left = () => Math.max(deadline - clock.now(), 0);
  const names = topics.map((topic) => topic.topic);
  await retryWhileNotReady(
    async () => {
      try {
        await admin.createTopics({ topics, waitForLeaders: false });
        return true;
      } catch (error) {
        // A topic of the same name still being deleted: its removal finishes within moments, then create again.
        const beingDeleted = /marked for deletion/i.test(JSON.stringify(error) + (error as Error).message);
        if (beingDeleted) return undefined;
        if ((error as { type?: string }).type === 'TOPIC_ALREADY_EXISTS') return true;
        throw error;
      }
    },
    {
      what: `topics ${names.join(', ')} to be created`,
      timeoutMs: left(),
      signal,
      clock,
      pending: 'a topic of that name is being deleted',
    },
  );
  await retryWhileNotReady(
    async () => {
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics: names });
      const led = (t: (typeof metadata)[number]) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0);
      return metadata.length === names.length && metadata.every(led) ? true : undefined;
    },
    {
      what: `topics ${names.join(', ')} to have leaders`,
      timeoutMs: left(),
      signal,
      clock,
      pending: 'partitions without a leader',
    },
  );
  // Named leaders may not serve the partitions yet; a ListOffsets answered by every one of them means they do.
  for (const name of names) await fetchOffsetsWhenReady(admin, name, { timeoutMs: left(), signal, clock });
}

/**
 * How many records a topic holds by its offsets (the sum over partitions of high minus low), or undefined when there
 * is no such topic. Exact for a topic no transactional producer writes to (a dead letter queue).
 */
export async function recordsByOffsets(
  admin: Admin,
  topic: string,
  scope: WaitScope = {},
): Promise<number | undefined> {
  if (!(await admin.listTopics()).includes(topic)) return undefined;
  const offsets = await fetchOffsetsWhenReady(admin, topic, scope);
  return offsets.reduce((sum, partition) => sum + Number(BigInt(partition.high) - BigInt(partition.low)), 0);
}
