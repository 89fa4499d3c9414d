import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { partitionForKey } from '../../src/kafka/partitioner.js';
import type { PartitionBatch } from '../../src/kafka/producer.js';
import { encodeProduceRequestBody } from '../../src/kafka/record-batch.js';
import { Lane, type LaneAck } from '../../src/producers/lane.js';
import { buildWordPools } from '../../src/producers/population.js';
import type { InputTopic } from '../../src/producers/records.js';
import { systemClock } from '../../src/core/waiter.js';
import { Workload } from '../../src/producers/workload.js';

const require = createRequire(import.meta.url);
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => unknown;
const decodeRecordBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (
  decoder: unknown,
) => Promise<{ records: Array<{ key: Buffer; value: Buffer }> }>;

/** The records of one partition batch, as kafkajs reads them back. */
async function recordsOf(batch: PartitionBatch<InputTopic>) {
  const body = encodeProduceRequestBody({
    acks: -1,
    timeoutMs: 1000,
    producerId: 1n,
    producerEpoch: 0,
    topics: [
      { topic: batch.topic, partitions: [{ partition: batch.partition, baseSequence: 0, section: batch.section }] },
    ],
  });
  const start = 2 + 2 + 4 + 4 + 2 + Buffer.byteLength(batch.topic) + 4 + 4 + 4;
  return (await decodeRecordBatch(new Decoder(body.subarray(start)))).records;
}

describe('Lane', () => {
  it('sends each record once, on the partition of its key, one batch per partition per request; a stop releases every waiting order, in turns', async () => {
    const partitions = { job_created: 1, order_placed: 3, joblocation: 6 } as const;
    // Each request as the broker would read it: batches are decoded when sent (their buffers are reused once acknowledged).
    const requests: Array<
      Array<{ topic: InputTopic; partition: number; records: Array<{ key: Buffer; value: Buffer }> }>
    > = [];
    const acks: LaneAck[] = [];
    let stopping = false;
    const waitingAtSend: number[] = [];
    const createdAt = Date.now();
    const lane: Lane = new Lane({
      workload: new Workload({
        seed: 9,
        pools: await buildWordPools(9),
        topics: new Set(Object.keys(partitions) as InputTopic[]),
        acceptRatio: 0.7,
        maxOrderDelayMs: 3_600_000 - 1, // every order still waiting when the lane stops
        trucks: 0,
        truckIntervalMs: 1000,
      }),
      partitions,
      send: async (batches) => {
        if (stopping) waitingAtSend.push(lane.pendingOrders);
        const decoded = [];
        for (const batch of batches)
          decoded.push({ topic: batch.topic, partition: batch.partition, records: await recordsOf(batch) });
        requests.push(decoded);
        await new Promise((resolve) => setTimeout(resolve, 1));
      },
      // Time stands still at the jobs' creation: no order comes due by itself while the stop releases them.
      clock: { ...systemClock, now: () => createdAt },
      events: {
        sent: () => undefined,
        acked: (ack) => acks.push(ack),
        failed: (error) => {
          throw error;
        },
      },
      maxBatchBytes: 64 * 1024,
    });
    for (let i = 0; i < 25; i++) lane.addJobs(new Float64Array(1000).fill(createdAt), createdAt);
    expect(lane.pendingOrders).toBe(25_000);
    stopping = true;
    await lane.finish(true);
    expect(lane.pendingOrders).toBe(0);
    expect(lane.queued).toBe(0);
    // Released in turns of at most 10,000 as earlier ones are sent, not all 25,000 encoded at once.
    const waiting = [...new Set(waitingAtSend)];
    expect(waiting.at(-1)).toBe(0);
    for (let i = 1; i < waiting.length; i++) expect(waiting[i - 1]! - waiting[i]!).toBeLessThanOrEqual(10_000);

    const keys: Record<string, string[]> = { job_created: [], order_placed: [], joblocation: [] };
    for (const request of requests) {
      const seen = new Set(request.map((b) => `${b.topic}/${b.partition}`));
      expect(seen.size).toBe(request.length);
      for (const batch of request) {
        for (const record of batch.records) {
          const key = record.key.toString();
          expect(batch.partition).toBe(partitionForKey(key, partitions[batch.topic as keyof typeof partitions]));
          expect(JSON.parse(record.value.toString())).toBeTypeOf('object');
          keys[batch.topic]!.push(key);
        }
      }
    }
    for (const topic of Object.keys(partitions)) {
      expect(keys[topic], topic).toHaveLength(25_000);
      expect(new Set(keys[topic]).size, topic).toBe(25_000);
    }
    expect(new Set(keys.order_placed)).toEqual(new Set(keys.job_created));
    expect(acks.reduce((n, ack) => n + ack.count, 0)).toBe(75_000);
    expect(acks.reduce((n, ack) => n + ack.latencies.length, 0)).toBe(75_000);
  });
});
