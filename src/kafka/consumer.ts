import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { OperationError } from '../core/errors.js';
import { formatDuration } from '../core/parse.js';
import { within, type Clock } from '../core/waiter.js';
import { fetchOffsetsWhenReady } from './topics.js';

export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  /** The record's Kafka timestamp, epoch ms. */
  timestamp: number;
}

export interface ScanOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  clock?: Clock;
}

/**
 * Reads every committed record a topic holds right now (up to its last stable offsets at the start), in partition order,
 * through a throw-away consumer group, and returns how many were visited. Records produced after the call started
 * may or may not be visited.
 */
export async function scanTopic(
  kafka: Kafka,
  topic: string,
  visit: (record: ConsumedRecord) => void,
  options: ScanOptions = {},
): Promise<number> {
  const admin = kafka.admin();
  let remaining: Map<number, bigint>;
  try {
    await admin.connect();
    const offsets = await fetchOffsetsWhenReady(admin, topic, { signal: options.signal, clock: options.clock });
    remaining = new Map(
      offsets.filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => [p.partition, BigInt(p.high) - 1n] as const),
    );
  } finally {
    await admin.disconnect();
  }
  if (remaining.size === 0) return 0;

  const groupId = `marketplace-scan-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, maxBytesPerPartition: 8 << 20, maxBytes: 32 << 20, maxWaitTimeInMs: 200 });
  let visited = 0;
  const timeoutMs = options.timeoutMs ?? 120_000;
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const read = new Promise<void>((resolve, reject) => {
      const finish = () => resolve();
      // A transactional writer (ksqlDB with exactly-once) leaves commit markers at the end of a partition; they
      // reach no eachBatch, but the end of every fetched batch, markers included, is reported by this event.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        const last = remaining.get(payload.partition);
        if (payload.topic !== topic || last === undefined || BigInt(payload.lastOffset) < last) return;
        remaining.delete(payload.partition);
        if (remaining.size === 0) finish();
      });
      consumer
        .run({
          eachBatchAutoResolve: true,
          eachBatch: async ({ batch }) => {
            const last = remaining.get(batch.partition);
            if (last === undefined) return;
            for (const message of batch.messages) {
              if (BigInt(message.offset) > last) break;
              visited++;
              visit({
                topic: batch.topic,
                partition: batch.partition,
                offset: message.offset,
                key: message.key === null ? null : message.key.toString('utf8'),
                value: message.value === null ? null : message.value.toString('utf8'),
                timestamp: Number(message.timestamp),
              });
            }
          },
        })
        .catch(reject);
    });
    await within(read, {
      timeoutMs,
      signal: options.signal,
      onTimeout: () =>
        new OperationError(`reading topic "${topic}" did not finish within ${formatDuration(timeoutMs)}`),
    });
  } finally {
    await consumer.disconnect().catch(() => undefined);
    const admin2 = kafka.admin();
    await admin2
      .connect()
      .then(() => admin2.deleteGroups([groupId]))
      .catch(() => undefined)
      .finally(() => admin2.disconnect());
  }
  return visited;
}

/** Every record of a topic as an array; for tests and small topics. */
export async function readTopic(kafka: Kafka, topic: string, options: ScanOptions = {}): Promise<ConsumedRecord[]> {
  const records: ConsumedRecord[] = [];
  await scanTopic(kafka, topic, (record) => records.push(record), options);
  return records;
}
