import kafkajs, { type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KsqlDevServer } from '../../src/ksqldb-dev-server/index.js';
import {
  closeServerAndClient,
  kafkaClient,
  ksqlOk,
  readTopicUntil,
  startServer,
  uniqueSuffix,
  type KafkaTestClient,
  type RawRecord,
} from './ksqldb-server-support.js';

// A query reads committed records only (read_committed), and ksqlDB's tasks measure how much is left to fetch from
// the last stable offset: a transaction left open on an input partition (its writer killed) hides that partition's
// later records until the broker aborts it, but holds back no other record. A join goes on with what it can read, in
// the task of that partition as in every other, instead of waiting for the transaction to time out.

const MINUTE = 60_000;

function longKey(id: number): Buffer {
  const key = Buffer.alloc(8);
  key.writeBigInt64BE(BigInt(id));
  return key;
}

const keys = (records: RawRecord[]) => records.map((r) => Number(r.key!.readBigInt64BE())).sort((a, b) => a - b);

describe('ksqlDB dev server: a transaction left open on a join input', () => {
  const suffix = uniqueSuffix();
  const serviceId = `opentx${suffix}_`;
  const left = `left${suffix}`;
  const right = `right${suffix}`;
  const sink = `joined${suffix}`;
  let client: KafkaTestClient;
  let server: KsqlDevServer | undefined;
  let writer: Producer | undefined;

  beforeAll(async () => {
    client = await kafkaClient();
    await client.admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: left, numPartitions: 2 },
        { topic: right, numPartitions: 2 },
      ],
    });
    server = await startServer(serviceId);
    await ksqlOk(
      server.url,
      `CREATE STREAM l (k BIGINT KEY, a STRING) WITH (KAFKA_TOPIC='${left}', VALUE_FORMAT='JSON');
       CREATE STREAM r (k BIGINT KEY, b STRING) WITH (KAFKA_TOPIC='${right}', VALUE_FORMAT='JSON');`,
    );
  });

  afterAll(async () => {
    // The killed writer's transaction: aborted here so it holds nothing back after the test.
    if (writer) {
      await writer.disconnect().catch(() => undefined);
      const fencer = client.kafka.producer({
        transactionalId: `writer${suffix}`,
        idempotent: true,
        maxInFlightRequests: 1,
      });
      await fencer.connect().catch(() => undefined);
      await fencer.disconnect().catch(() => undefined);
    }
    await closeServerAndClient(server, client, suffix);
  });

  it('joins the records it can read, in every task, while the transaction stays open', async () => {
    const now = Date.now();
    // Left records of keys 1 (partition 0) and 2 (partition 1), then a transaction on left partition 0 that nobody
    // ends: everything written to that partition after it stays unreadable while it is open.
    await client.producer.send({
      topic: left,
      messages: [
        { key: longKey(1), value: JSON.stringify({ A: 'a1' }), partition: 0, timestamp: String(now) },
        { key: longKey(2), value: JSON.stringify({ A: 'a2' }), partition: 1, timestamp: String(now) },
      ],
    });
    writer = client.kafka.producer({
      transactionalId: `writer${suffix}`,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 10 * MINUTE,
      createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
    });
    await writer.connect();
    const open = await writer.transaction();
    await open.send({
      topic: left,
      messages: [{ key: longKey(9), value: JSON.stringify({ A: 'open' }), partition: 0, timestamp: String(now) }],
    });
    await client.producer.send({
      topic: left,
      messages: [{ key: longKey(3), value: JSON.stringify({ A: 'hidden' }), partition: 0, timestamp: String(now) }],
    });
    await client.producer.send({
      topic: right,
      messages: [1, 2, 3].map((k) => ({
        key: longKey(k),
        value: JSON.stringify({ B: `b${k}` }),
        partition: k === 2 ? 1 : 0,
        timestamp: String(now + 1),
      })),
    });

    // The query starts on inputs that hold all of it (the broker reports the open transaction's records in the high
    // watermark of the first fetch). Key 1 joins in the open transaction's own task, key 2 in the other; key 3's left
    // record stays hidden.
    await ksqlOk(
      server!.url,
      `CREATE STREAM j WITH (KAFKA_TOPIC='${sink}') AS
         SELECT l.k AS k, a, b FROM l JOIN r WITHIN 1 HOUR ON l.k = r.k EMIT CHANGES;`,
      { 'auto.offset.reset': 'earliest' },
    );
    const records = await readTopicUntil(client, sink, (r) => keys(r).length >= 2, MINUTE);
    expect(keys(records)).toEqual([1, 2]);
  });
});
