import { randomUUID } from 'node:crypto';
import kafkajs, { type Admin, type Consumer, type Kafka, type Producer } from 'kafkajs';
import { JavaCompatiblePartitioner } from '../../kafka/partitioner.js';
import { lastingAdmin } from '../../kafka/lasting-admin.js';
import { fetchOffsetsWhenReady } from '../../kafka/topics.js';
import { cacheCoordinatorLookups } from './coordinator-cache.js';
import { TopicProducers } from './topic-producers.js';

const { Kafka: KafkaClient, Partitioners, logLevel } = kafkajs;

export interface KafkaHandles {
  kafka: Kafka;
  admin: Admin;
  /** Inserted rows and the command topic's commands. */
  producers: TopicProducers;
}

export async function connectKafka(bootstrap: string, clientId: string): Promise<KafkaHandles> {
  const kafka = new KafkaClient({
    clientId,
    brokers: bootstrap.split(',').map((b) => b.trim()),
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 200 },
  });
  // The CLI deletes the demo topics (`down`) while this server runs on.
  const admin = lastingAdmin(kafka);
  await admin.connect();
  return { kafka, admin, producers: new TopicProducers(() => newProducer(kafka)) };
}

/** The Java-compatible partitioner, so keys land on the partitions ksqlDB and Java producers choose. */
export function newProducer(kafka: Kafka): Producer {
  return kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
}

/**
 * A persistent query's producer: its output and its input offsets commit in one transaction (ksqlDB's
 * exactly_once_v2). The id is stable across restarts, so a new instance fences a killed one and aborts whatever
 * that one left open. The timeout bounds how long a transaction abandoned with no new instance coming holds back
 * read_committed readers, yet leaves room for a large transaction on a busy machine (one that runs out is aborted by
 * the broker and the query stops).
 */
export function newTransactionalProducer(kafka: Kafka, transactionalId: string): Producer {
  cacheCoordinatorLookups(transactionalId);
  return kafka.producer({
    createPartitioner: JavaCompatiblePartitioner,
    allowAutoTopicCreation: false,
    transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    transactionTimeout: 30_000,
    // The first write of a transaction often meets the previous one still writing its markers
    // (CONCURRENT_TRANSACTIONS) for a few milliseconds: retry at once rather than after the client's 200 ms.
    retry: { retries: 30, initialRetryTime: 5, maxRetryTime: 1_000 },
  });
}

export interface TopicPartitionOffsets {
  partition: number;
  low: number;
  high: number;
}

export async function topicOffsets(admin: Admin, topic: string): Promise<TopicPartitionOffsets[]> {
  const offsets = await fetchOffsetsWhenReady(admin, topic);
  return offsets
    .map((o) => ({ partition: o.partition, low: Number(o.low), high: Number(o.high) }))
    .sort((a, b) => a.partition - b.partition);
}

export async function topicExists(admin: Admin, topic: string): Promise<boolean> {
  const topics = await admin.listTopics();
  return topics.includes(topic);
}

export async function topicPartitionCount(
  admin: Admin,
  topic: string,
): Promise<{ partitions: number; replicas: number } | undefined> {
  if (!(await topicExists(admin, topic))) return undefined;
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  const partitions = metadata.topics[0]?.partitions ?? [];
  return { partitions: partitions.length, replicas: partitions[0]?.replicas.length ?? 1 };
}

export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
}

/**
 * Reads every record currently in a topic (up to the end offsets at call time) with a throwaway consumer group,
 * then removes the group.
 */
export async function readTopicToEnd(
  handles: KafkaHandles,
  topic: string,
  groupPrefix: string,
  onMessage: (message: ConsumedMessage) => void,
): Promise<void> {
  const offsets = await topicOffsets(handles.admin, topic);
  const pending = new Map(offsets.filter((o) => o.high > o.low).map((o) => [o.partition, o.high]));
  if (pending.size === 0) return;
  const groupId = `${groupPrefix}${randomUUID()}`;
  const consumer = handles.kafka.consumer({ groupId, maxWaitTimeInMs: 100, sessionTimeout: 10_000 });
  seekOnFirstJoin(
    consumer,
    offsets.map((o) => ({ topic, partition: o.partition, offset: o.low })),
  );
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      // The last offsets may hold transaction markers, which reach no eachBatch: the end of every fetched batch,
      // markers included, is reported by this event.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        const end = pending.get(payload.partition);
        if (payload.topic !== topic || end === undefined || Number(payload.lastOffset) < end - 1) return;
        pending.delete(payload.partition);
        if (pending.size === 0) resolve();
      });
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const end = pending.get(batch.partition);
            if (end === undefined) return;
            for (const m of batch.messages) {
              const offset = Number(m.offset);
              if (offset >= end) break;
              onMessage({
                topic,
                partition: batch.partition,
                offset,
                key: m.key,
                value: m.value,
                timestamp: Number(m.timestamp),
              });
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await handles.admin.deleteGroups([groupId]).catch(() => undefined);
  }
}

export function newConsumer(handles: KafkaHandles, groupId: string): Consumer {
  return handles.kafka.consumer({
    groupId,
    maxWaitTimeInMs: 100,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    maxBytesPerPartition: 4 * 1024 * 1024,
    allowAutoTopicCreation: false,
  });
}

export interface PartitionOffset {
  topic: string;
  partition: number;
  offset: number;
}

/**
 * Positions partitions before the consumer's first fetch, which starts right after the group join. (Committing
 * offsets for a group through the admin client instead takes seconds: it joins the group itself.)
 */
export function seekOnFirstJoin(consumer: Consumer, seeks: PartitionOffset[]): void {
  let applied = false;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    if (applied) return;
    applied = true;
    for (const seek of seeks)
      consumer.seek({ topic: seek.topic, partition: seek.partition, offset: String(seek.offset) });
  });
}
