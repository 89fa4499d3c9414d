import { randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import { within } from '../core/waiter.js';
import { fetchOffsetsWhenReady, type WaitScope } from './topics.js';

const CLOSE_MS = 5_000;

export interface FollowedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  /** The record's Kafka timestamp, epoch ms. */
  timestamp: number;
}

export type FollowerEvent =
  | { kind: 'crashed'; error: Error; restarting: boolean }
  | { kind: 'joined' }
  | { kind: 'stopped' };

export interface FollowOptions {
  /** Called once per fetched batch, in offset order within a partition. */
  onRecords(records: FollowedRecord[]): void;
  onEvent?(event: FollowerEvent): void;
  clientLabel?: string;
  /** Where reading starts: the end offsets at the moment of the call (the default), or each partition's first record. */
  from?: 'latest' | 'earliest';
  /** Bounds the wait for the topics' leaders when opening (a topic made a moment ago), and lets Ctrl-C end it. */
  scope?: WaitScope;
}

export interface Follower {
  /** Where reading started: per topic, per partition, the offset reading began at when the follower was opened. */
  readonly startOffsets: ReadonlyMap<string, ReadonlyMap<number, bigint>>;
  close(): Promise<void>;
}

/**
 * Reads the topics from their end offsets at the moment of the call onwards (or from their first records), with read_committed (a transactional
 * writer's aborted records are never seen), through a throw-away consumer group that commits nothing. Where each
 * partition is read from is tracked here, so a consumer kafkajs restarts after a crash (a broker that went away)
 * carries on from the next record rather than from the latest one: nothing is skipped or counted twice.
 */
export async function followTopics(kafka: Kafka, topics: readonly string[], options: FollowOptions): Promise<Follower> {
  const admin = kafka.admin();
  await admin.connect();
  const startOffsets = new Map<string, Map<number, bigint>>();
  try {
    for (const topic of topics) {
      startOffsets.set(topic, await offsetsOf(admin, topic, options.from ?? 'latest', options.scope));
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  const next = new Map<string, bigint>();
  for (const [topic, partitions] of startOffsets) {
    for (const [partition, offset] of partitions) next.set(`${partition}:${topic}`, offset);
  }

  const groupId = `marketplace-${options.clientLabel ?? 'follow'}-${randomUUID()}`;
  const consumer = kafka.consumer({
    groupId,
    readUncommitted: false,
    // A fetch answers once 64 KiB are there or 100 ms have passed: at high rates a few large batches a second
    // instead of one small fetch per record written, which costs most of the follower's CPU.
    minBytes: 64 << 10,
    maxWaitTimeInMs: 100,
    maxBytes: 8 << 20,
    maxBytesPerPartition: 2 << 20,
  });
  const seekAll = () => {
    for (const [key, offset] of next) {
      const colon = key.indexOf(':');
      consumer.seek({ topic: key.slice(colon + 1), partition: Number(key.slice(0, colon)), offset: String(offset) });
    }
  };
  consumer.on(consumer.events.GROUP_JOIN, () => {
    // Every join (the first, and each after a restart) starts from where this follower got to.
    seekAll();
    options.onEvent?.({ kind: 'joined' });
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    options.onEvent?.({ kind: 'crashed', error: payload.error, restarting: payload.restart });
  });
  /** Set by close(): a consumer kafkajs restarts after a crash while it closes must not hand on another record. */
  let closed = false;
  await consumer.connect();
  await consumer.subscribe({ topics: [...topics], fromBeginning: false });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: true,
    eachBatch: async ({ batch }) => {
      if (closed) return;
      const key = `${batch.partition}:${batch.topic}`;
      const from = next.get(key) ?? 0n;
      const records: FollowedRecord[] = [];
      for (const message of batch.messages) {
        const offset = BigInt(message.offset);
        if (offset < from) continue;
        records.push({
          topic: batch.topic,
          partition: batch.partition,
          offset: message.offset,
          key: message.key,
          value: message.value,
          timestamp: Number(message.timestamp),
        });
      }
      // The batch's last offset also covers transaction markers that reach no message.
      const end = BigInt(batch.lastOffset()) + 1n;
      if (end > from) next.set(key, end);
      if (records.length > 0) options.onRecords(records);
    },
  });
  return {
    startOffsets,
    close: async () => {
      if (closed) return;
      closed = true;
      // kafkajs can wait a long time to leave a group whose broker or topics went away: closing is best effort,
      // bounded, and the throw-away group is removed when it can be.
      const bounded = (work: Promise<unknown>) =>
        within(work, { timeoutMs: CLOSE_MS, onTimeout: () => new Error('follower close timed out') }).catch(
          () => undefined,
        );
      await bounded(consumer.disconnect());
      const cleanup = kafka.admin();
      await bounded(
        cleanup
          .connect()
          .then(() => cleanup.deleteGroups([groupId]))
          .finally(() => cleanup.disconnect()),
      );
      options.onEvent?.({ kind: 'stopped' });
    },
  };
}

async function offsetsOf(
  admin: Admin,
  topic: string,
  from: 'latest' | 'earliest',
  scope?: WaitScope,
): Promise<Map<number, bigint>> {
  const offsets = await fetchOffsetsWhenReady(admin, topic, scope);
  return new Map(offsets.map((p) => [p.partition, BigInt(from === 'latest' ? p.high : p.low)]));
}
