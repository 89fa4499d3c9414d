import { CompressionTypes, type Message, type Producer, type TopicMessages } from 'kafkajs';
import { preEncodedMessage } from './produce-encoder.js';
import type { RecordSection } from './record-batch.js';

export type Compression = 'none' | 'gzip';

/** Records of one partition, already encoded (see RecordSectionBuilder), ready to be one record batch. */
export interface PartitionBatch<T extends string = string> {
  topic: T;
  partition: number;
  section: RecordSection;
}

/**
 * Sends batches as one produce request, acks=all, and resolves when every record is acknowledged. At most one
 * batch per partition (the broker takes one record batch per partition per request). kafkajs sees one message per
 * batch; the Produce encoder (produce-encoder.ts) writes the records from the batch.
 */
export function batchSender<T extends string>(
  producer: Producer,
  options: { compression?: Compression; topicName?: (topic: T) => string } = {},
): (batches: Array<PartitionBatch<T>>) => Promise<void> {
  const compression = options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  const topicName = options.topicName ?? ((topic: string) => topic);
  return async (batches) => {
    const byTopic = new Map<string, Message[]>();
    for (const batch of batches) {
      const name = topicName(batch.topic);
      let messages = byTopic.get(name);
      if (!messages) {
        messages = [];
        byTopic.set(name, messages);
      }
      messages.push(preEncodedMessage(batch.partition, batch.section) as unknown as Message);
    }
    const topicMessages: TopicMessages[] = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    await producer.sendBatch({ topicMessages, acks: -1, compression });
  };
}
