import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/kafka/client.js';
import { createTopicsAndWait, fetchOffsetsWhenReady } from '../../src/kafka/topics.js';
import { stackEndpoints } from '../helpers/stack.js';

/**
 * `up` and `demo` create their six topics in parallel on one admin. A kafkajs admin keeps one metadata cache, and a
 * fetchTopicMetadata of a topic it lacks replaces the cache with that topic alone: a fetchTopicOffsets of another
 * topic caught between its two ListOffsets then fails with a TypeError ("Cannot destructure property 'partitions'
 * of 'low.pop(...)'"), the first-run failure of issue #17. Staggered starts put some lookups in that window.
 */
describe('topics created in parallel on one admin', () => {
  let admin: Admin;
  const created: string[] = [];

  beforeAll(async () => {
    const stack = stackEndpoints();
    const kafka = createKafka({ target: 'local', bootstrap: [stack.kafka.plaintext], clientId: 'concurrent-test' });
    admin = kafka.admin();
    await admin.connect();
  });

  afterAll(async () => {
    if (created.length > 0) await admin.deleteTopics({ topics: created }).catch(() => undefined);
    await admin.disconnect();
  });

  it('all get created and answer their offsets, round after round', async () => {
    const run = Date.now().toString(36);
    for (let round = 0; round < 3; round++) {
      const topics = Array.from({ length: 40 }, (_, i) => ({
        name: `concurrent-${run}-${round}-${i}`,
        partitions: 1 + (i % 6),
      }));
      created.push(...topics.map((topic) => topic.name));
      const outcomes = await Promise.allSettled(
        topics.map(async (topic, i) => {
          // A staggered start (no assertion on time): each create overlaps others at another step.
          await new Promise((resolve) => setTimeout(resolve, i * 25));
          const config = { topic: topic.name, numPartitions: topic.partitions, replicationFactor: 1 };
          await createTopicsAndWait(admin, [config]);
          return (await fetchOffsetsWhenReady(admin, topic.name)).length;
        }),
      );
      const failures = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [String(outcome.reason)] : []));
      expect(failures, `round ${round}`).toEqual([]);
      expect(outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : -1))).toEqual(
        topics.map((topic) => topic.partitions),
      );
    }
  });
});
