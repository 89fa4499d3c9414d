import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { JavaCompatiblePartitioner, murmur2 } from '../../src/kafka/partitioner.js';

const metadata = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0 }));

describe('JavaCompatiblePartitioner', () => {
  it('puts every key on the same partition as kafkajs DefaultPartitioner (Java murmur2)', () => {
    const ours = JavaCompatiblePartitioner();
    const reference = Partitioners.DefaultPartitioner();
    const keys = [
      '',
      'a',
      'ab',
      'abc',
      'TRUCK-0001',
      'ünïcødé-ключ',
      ...Array.from({ length: 5000 }, (_, i) => String(1_000_000_000_000 + i * 7919)),
    ];
    for (const partitions of [1, 3, 6, 7]) {
      for (const key of keys) {
        const args = { topic: 't', partitionMetadata: metadata(partitions), message: { key, value: null } };
        expect(ours(args), `${key} on ${partitions}`).toBe(reference(args));
      }
    }
  });

  it('matches known values of the Java implementation', () => {
    // org.apache.kafka.common.utils.Utils.murmur2 of "21" and "foobar" (values from Kafka's UtilsTest)
    expect(murmur2('21')).toBe(-973932308);
    expect(murmur2('foobar')).toBe(-790332482);
  });

  it('honours an explicit partition', () => {
    const ours = JavaCompatiblePartitioner();
    expect(ours({ topic: 't', partitionMetadata: metadata(6), message: { key: 'x', value: null, partition: 4 } })).toBe(
      4,
    );
  });
});
