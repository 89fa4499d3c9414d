import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KsqlDevServer } from '../../src/ksqldb-dev-server/index.js';
import {
  closeServerAndClient,
  queryCaughtUp,
  readTopic,
  readTopicUntil,
  kafkaClient,
  ksqlOk,
  startServer,
  templateStatements,
  uniqueSuffix,
  type KafkaTestClient,
  type RawRecord,
} from './ksqldb-server-support.js';

const MINUTE = 60_000;

/** The partition the Java client (and ksqlDB) picks for a key: murmur2 of the key bytes. */
function javaPartition(key: Buffer, partitions: number): number {
  const partitioner = kafkajs.Partitioners.DefaultPartitioner();
  return partitioner({
    topic: 't',
    partitionMetadata: Array.from({ length: partitions }, (_, i) => ({
      partitionId: i,
      leader: 0,
      partitionErrorCode: 0,
      replicas: [0],
      isr: [0],
    })),
    message: { key, value: null },
  });
}

function longKey(id: number): Buffer {
  const key = Buffer.alloc(8);
  key.writeBigInt64BE(BigInt(id));
  return key;
}

function jobIdOf(record: RawRecord): number {
  return Number(record.key!.readBigInt64BE());
}

describe('ksqlDB dev server: the job_status stream-stream join (templates/ksql/03-job-status.sql)', () => {
  const suffix = uniqueSuffix();
  const serviceId = `jobstatus${suffix}_`;
  let client: KafkaTestClient;
  let server: KsqlDevServer;

  beforeAll(async () => {
    client = await kafkaClient();
    await client.admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: `order_placed${suffix}`, numPartitions: 3 },
        { topic: `job_created${suffix}`, numPartitions: 2 },
      ],
    });
    server = await startServer(serviceId);
    await ksqlOk(server.url, templateStatements(suffix, ['01', '02', '03']), { 'auto.offset.reset': 'earliest' });
  });

  afterAll(() => closeServerAndClient(server, client, suffix));

  it('emits ACCEPTED/REJECTED rows for in-window pairs only, keyed by job_id as an 8-byte long', async () => {
    const t = Date.now() - 60 * MINUTE;
    const job = (id: number, price: number | null, ts: number) => ({
      value: JSON.stringify({ job_id: id, price, job_status: 'CREATED' }),
      timestamp: String(ts),
    });
    const order = (id: number, quote: number | null, ts: number) => ({
      value: JSON.stringify({ job_id: id, customer_id: `c${id}`, service_option: `opt${id}`, price_quoted: quote }),
      timestamp: String(ts),
    });
    const jobs = `job_created${suffix}`;
    const orders = `order_placed${suffix}`;

    // Equal, higher and lower quotes; an order without a job; a job without an order.
    await client.producer.send({
      topic: jobs,
      messages: [job(1, 100, t), job(2, 100, t), job(3, 100, t), job(5, 80, t)],
    });
    await client.producer.send({
      topic: orders,
      messages: [order(1, 100, t + MINUTE), order(2, 150, t + MINUTE), order(3, 50, t - MINUTE), order(4, 500, t)],
    });
    // Advance stream time by 30 minutes.
    await client.producer.send({ topic: jobs, messages: [job(10, 10, t + 30 * MINUTE)] });
    await client.producer.send({ topic: orders, messages: [order(10, 20, t + 30 * MINUTE)] });
    const sink = `job_status${suffix}`;
    await readTopicUntil(client, sink, (records) => records.some((r) => jobIdOf(r) === 10));

    // Out of order but within the grace period: joins. Older than window end + grace: late, dropped. Stream time is
    // kept per task (the partition of the repartition topics a job id goes to): the late pair's id 12 goes to the
    // same one as 10, whose pair moved it to t+30m.
    expect(javaPartition(longKey(12), 3)).toBe(javaPartition(longKey(10), 3));
    await client.producer.send({
      topic: orders,
      messages: [order(6, 99, t + 25 * MINUTE), order(12, 1000, t - 120 * MINUTE)],
    });
    await client.producer.send({ topic: jobs, messages: [job(6, 100, t + 20 * MINUTE), job(12, 1, t - 119 * MINUTE)] });
    // A pair more than an hour apart never joins.
    await client.producer.send({ topic: jobs, messages: [job(8, 1, t + 30 * MINUTE)] });
    await client.producer.send({ topic: orders, messages: [order(8, 1, t + 30 * MINUTE + 61 * MINUTE)] });
    // A marker pair processed after all of the above, so the topic can be read to a known end.
    await client.producer.send({ topic: jobs, messages: [job(11, 1, t + 91 * MINUTE)] });
    await client.producer.send({ topic: orders, messages: [order(11, 1, t + 91 * MINUTE)] });

    await readTopicUntil(client, sink, (rs) => [6, 11].every((id) => rs.some((r) => jobIdOf(r) === id)));
    // Every row the query will make of the input is in the sink once it has processed all of it.
    await queryCaughtUp(server.url, client, { serviceId, sink: 'JOB_STATUS', inputs: [jobs, orders] });
    const records = await readTopic(client, sink);
    const rows = records
      .map((r) => ({
        jobId: jobIdOf(r),
        value: JSON.parse(r.value!.toString('utf8')),
        partition: r.partition,
        key: r.key!,
        timestamp: r.timestamp,
      }))
      .sort((a, b) => a.jobId - b.jobId);

    expect(rows.map((r) => [r.jobId, r.value.CURRENT_STATUS])).toEqual([
      [1, 'ACCEPTED'],
      [2, 'ACCEPTED'],
      [3, 'REJECTED'],
      [6, 'REJECTED'],
      [10, 'ACCEPTED'],
      [11, 'ACCEPTED'],
    ]);
    // Value columns carry ksqlDB's names; the key column lives only in the key.
    expect(rows[0]!.value).toEqual({
      CUSTOMER_ID: 'c1',
      SERVICE_OPTION: 'opt1',
      PRICE: 100,
      CURRENT_STATUS: 'ACCEPTED',
    });
    for (const row of rows) {
      expect(row.key.length).toBe(8);
      expect(row.partition).toBe(javaPartition(row.key, 2));
    }
    // Output timestamp is the later of the two inputs.
    expect(rows.find((r) => r.jobId === 1)!.timestamp).toBe(t + MINUTE);
    expect(rows.find((r) => r.jobId === 3)!.timestamp).toBe(t);
  });
});
