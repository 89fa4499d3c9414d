import type { Admin, Kafka } from 'kafkajs';

export interface PartitionEnds {
  partition: number;
  low: bigint;
  high: bigint;
}

/** Read-only offset questions asked again and again (a live view), over one admin connection. */
export interface OffsetReader {
  /** Each partition's first and end offsets. */
  ends(topic: string): Promise<PartitionEnds[]>;
  groups(): Promise<string[]>;
  topics(): Promise<string[]>;
  /**
   * Records the group has yet to commit, over every partition it has committed offsets for (a partition without
   * one counts from its first offset); null when the group has committed nothing.
   */
  lag(groupId: string, ends: (topic: string) => Promise<PartitionEnds[]>): Promise<bigint | null>;
  close(): Promise<void>;
}

export async function openOffsetReader(kafka: Kafka): Promise<OffsetReader> {
  const admin: Admin = kafka.admin();
  await admin.connect();
  return {
    ends: async (topic) =>
      (await admin.fetchTopicOffsets(topic)).map((p) => ({
        partition: p.partition,
        low: BigInt(p.low),
        high: BigInt(p.high),
      })),
    groups: async () => (await admin.listGroups()).groups.map((group) => group.groupId),
    topics: () => admin.listTopics(),
    lag: async (groupId, ends) => {
      const committed = await admin.fetchOffsets({ groupId });
      let lag = 0n;
      let any = false;
      for (const topic of committed) {
        const known = new Map((await ends(topic.topic)).map((p) => [p.partition, p]));
        for (const partition of topic.partitions) {
          const end = known.get(partition.partition);
          if (!end) continue;
          const offset = BigInt(partition.offset);
          if (offset >= 0n) any = true;
          const from = offset >= end.low ? offset : end.low;
          if (end.high > from) lag += end.high - from;
        }
      }
      return any ? lag : null;
    },
    close: () => admin.disconnect(),
  };
}
