import type { Consumer } from 'kafkajs';
import { DeserializationError } from './serde.js';
import { newConsumer, seekOnFirstJoin, topicOffsets, type KafkaHandles, type PartitionOffset } from './kafka.js';
import type { DecodedRecord, QueryPlan, ResultRow } from './plan.js';

/**
 * A transient `EMIT CHANGES` query: a consumer group of its own, positioned at the start or end of each input
 * (auto.offset.reset) before the first fetch, never committing, deleted when the query ends.
 */
export class PushQuery {
  private consumer?: Consumer;
  private delivered = 0;
  private ended = false;
  readonly groupId: string;

  constructor(
    readonly id: string,
    readonly plan: QueryPlan,
    private readonly handles: KafkaHandles,
    groupPrefix: string,
    private readonly offsetReset: 'earliest' | 'latest',
    private readonly limit: number | undefined,
    private readonly onRow: (values: unknown[]) => void,
    private readonly onEnd: (error?: Error) => void,
  ) {
    this.groupId = `${groupPrefix}transient_${id}`;
  }

  async start(): Promise<void> {
    if (this.limit === 0) return this.end();
    const topics = this.plan.inputs.map((i) => i.source.topic);
    if (new Set(topics).size !== topics.length)
      throw new Error('A query reading the same topic twice is not supported by the dev server');
    const seeks: PartitionOffset[] = [];
    const partitions: number[] = [];
    for (const topic of topics) {
      const bounds = await topicOffsets(this.handles.admin, topic);
      partitions.push(bounds.length);
      for (const b of bounds) {
        seeks.push({ topic, partition: b.partition, offset: this.offsetReset === 'earliest' ? b.low : b.high });
      }
    }
    const processor = this.plan.createProcessor(
      (row: ResultRow) => {
        if (this.ended || row.tombstone) return;
        this.onRow(row.values);
        this.delivered++;
        if (this.limit !== undefined && this.delivered >= this.limit) void this.end();
      },
      { partitions },
    );
    if (this.ended) return;
    const consumer = newConsumer(this.handles, this.groupId);
    this.consumer = consumer;
    seekOnFirstJoin(consumer, seeks);
    await consumer.connect();
    for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: this.offsetReset === 'earliest' });
    const inputByTopic = new Map(topics.map((t, i) => [t, i]));
    consumer.on(consumer.events.CRASH, (event) => {
      const error = (event.payload as { error?: Error }).error;
      if (!(event.payload as { restart?: boolean }).restart)
        void this.end(error ?? new Error('push query consumer crashed'));
    });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const input = inputByTopic.get(batch.topic)!;
        const spec = this.plan.inputs[input]!;
        for (const message of batch.messages) {
          if (this.ended) return;
          let decoded: DecodedRecord;
          try {
            decoded = spec.decode({
              key: message.key,
              value: message.value,
              timestamp: Number(message.timestamp),
              partition: batch.partition,
              offset: Number(message.offset),
            });
          } catch (error) {
            if (error instanceof DeserializationError) continue;
            throw error;
          }
          processor.process(input, decoded, true);
        }
      },
    });
    if (this.ended) await this.close();
  }

  /** Ends the query and tells its consumer (LIMIT reached, close-query, TERMINATE, or an error). */
  async end(error?: Error): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.onEnd(error);
    await this.close();
  }

  /** Ends the query without calling onEnd again (client gone, close-query, shutdown). */
  async close(): Promise<void> {
    this.ended = true;
    const consumer = this.consumer;
    this.consumer = undefined;
    if (consumer) {
      await consumer.disconnect().catch(() => undefined);
      await this.handles.admin.deleteGroups([this.groupId]).catch(() => undefined);
    } else {
      await this.handles.admin.deleteGroups([this.groupId]).catch(() => undefined);
    }
  }

  get isEnded(): boolean {
    return this.ended;
  }
}
