import { CompressionTypes, type Message, type Producer, type TopicMessages } from 'kafkajs';

export type Compression = 'none' | 'gzip';

/**
 * Sends records as one produce request (one record batch per partition), acks=all, and resolves when every record
 * is acknowledged. Order within each topic is kept.
 */
export function batchSender<R extends { topic: string; key: string; value: string; timestamp: number }>(
  producer: Producer,
  options: { compression?: Compression; topicName?: (topic: R['topic']) => string } = {},
): (records: R[]) => Promise<void> {
  const compression = options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  const topicName = options.topicName ?? ((topic: string) => topic);
  return async (records) => {
    const byTopic = new Map<string, Message[]>();
    for (const record of records) {
      let messages = byTopic.get(record.topic);
      if (!messages) {
        messages = [];
        byTopic.set(record.topic, messages);
      }
      messages.push({ key: record.key, value: record.value, timestamp: String(record.timestamp) });
    }
    const topicMessages: TopicMessages[] = [...byTopic].map(([topic, messages]) => ({ topic: topicName(topic), messages }));
    await producer.sendBatch({ topicMessages, acks: -1, compression });
  };
}
