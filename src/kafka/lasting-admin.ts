import type { Admin, Kafka } from 'kafkajs';

/**
 * The admin calls after which a kafkajs admin remembers the topic they named: from then on it refreshes that topic's
 * metadata in most calls (createTopics, deleteTopics, later offset lookups), and once another client deletes the
 * topic every one of those calls fails with UNKNOWN_TOPIC_OR_PARTITION, retried for seconds first.
 */
const REMEMBERING_CALLS = new Set<string | symbol>([
  'fetchTopicOffsets',
  'fetchTopicOffsetsByTimestamp',
  'fetchOffsets',
  'resetOffsets',
  'deleteTopicRecords',
]);

/**
 * An admin for a process that runs while other clients create and delete topics (the ksqlDB dev server, the cloud
 * emulator). The calls that would make kafkajs remember a topic run on a short-lived admin of their own, so the
 * lasting one never holds a topic that someone else can delete under it.
 */
export function lastingAdmin(kafka: Kafka): Admin {
  const admin = kafka.admin();
  const onShortLivedAdmin =
    (call: string | symbol) =>
    async (...args: unknown[]): Promise<unknown> => {
      const shortLived = kafka.admin();
      await shortLived.connect();
      try {
        return await (shortLived[call as keyof Admin] as (...callArgs: unknown[]) => Promise<unknown>)(...args);
      } finally {
        await shortLived.disconnect().catch(() => undefined);
      }
    };
  return new Proxy(admin, {
    get(target, property, receiver) {
      if (REMEMBERING_CALLS.has(property)) return onShortLivedAdmin(property);
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
}
