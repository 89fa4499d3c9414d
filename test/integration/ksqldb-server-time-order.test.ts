import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KsqlDevServer } from '../../src/ksqldb-dev-server/index.js';
import {
  closeServerAndClient,
  kafkaClient,
  ksqlOk,
  readTopic,
  readTopicUntil,
  startServer,
  templateStatements,
  uniqueSuffix,
  type KafkaTestClient,
  type RawRecord,
} from './ksqldb-server-support.js';

// Kafka Streams processes a task's inputs in timestamp order: of the records buffered from all its input partitions
// it takes the one with the smallest timestamp next, and waits for an empty partition that still has data on the
// broker. So a query whose inputs were filled before it started (the seed's flow, or a restart after downtime) gives
// the rows the same data gives when it arrives live.

const MINUTE = 60_000;

const job = (id: number, ts: number) => ({
  value: JSON.stringify({ job_id: id, price: 100, job_status: 'CREATED' }),
  timestamp: String(ts),
});
const order = (id: number, ts: number) => ({
  value: JSON.stringify({ job_id: id, customer_id: `c${id}`, service_option: 's', price_quoted: 120 }),
  timestamp: String(ts),
});

/**
 * Five jobs half an hour apart (two hours in all), each ordered five minutes later, then a marker pair after all of
 * them. Order 3 comes after order 4 in its topic: out of order by half an hour, within the join's grace.
 */
function twoHours(base: number, firstId: number) {
  const at = (i: number, minutes: number) => base + (i * 30 + minutes) * MINUTE;
  const ids = [0, 1, 2, 3, 4].map((i) => firstId + i);
  return {
    ids,
    marker: firstId + 99,
    jobs: [...ids.map((id, i) => job(id, at(i, 0))), job(firstId + 99, at(4, 10))],
    orders: [
      order(ids[0]!, at(0, 5)),
      order(ids[1]!, at(1, 5)),
      order(ids[3]!, at(3, 5)),
      order(ids[2]!, at(2, 5)),
      order(ids[4]!, at(4, 5)),
      order(firstId + 99, at(4, 10)),
    ],
  };
}

function jobIds(records: RawRecord[]): number[] {
  return records.map((r) => Number(r.key!.readBigInt64BE())).sort((a, b) => a - b);
}

describe("ksqlDB dev server: time order across a join's inputs", () => {
  const suffix = uniqueSuffix();
  const serviceId = `timeorder${suffix}_`;
  const jobs = `job_created${suffix}`;
  const orders = `order_placed${suffix}`;
  const sink = `job_status${suffix}`;
  let client: KafkaTestClient;
  let server: KsqlDevServer | undefined;

  beforeAll(async () => {
    client = await kafkaClient();
    await client.admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: jobs, numPartitions: 1 },
        { topic: orders, numPartitions: 1 },
      ],
    });
    server = await startServer(serviceId);
    await ksqlOk(server.url, templateStatements(suffix, ['01', '02']));
  });

  afterAll(() => closeServerAndClient(server, client, suffix));

  it('joins inputs that were loaded before the query started as ksqlDB does: every pair of the two hours', async () => {
    const data = twoHours(Date.now() - 5 * 60 * MINUTE, 1);
    await client.producer.send({ topic: jobs, messages: data.jobs });
    await client.producer.send({ topic: orders, messages: data.orders });
    await ksqlOk(server!.url, templateStatements(suffix, ['03']), { 'auto.offset.reset': 'earliest' });

    await readTopicUntil(client, sink, (records) => jobIds(records).includes(data.marker));
    expect(jobIds(await readTopic(client, sink))).toEqual([...data.ids, data.marker]);
  });

  it('after downtime, resumes on the backlog of both inputs as if it had run live', async () => {
    await server!.close();
    server = undefined;
    // While the server is down, both topics fill up with two hours of later data.
    const data = twoHours(Date.now() - 3 * 60 * MINUTE, 11);
    await client.producer.send({ topic: jobs, messages: data.jobs });
    await client.producer.send({ topic: orders, messages: data.orders });
    server = await startServer(serviceId);

    await readTopicUntil(client, sink, (records) => jobIds(records).includes(data.marker));
    // The rows of the first run are neither lost nor repeated.
    expect(jobIds(await readTopic(client, sink))).toEqual(
      [1, 2, 3, 4, 5, 100, ...data.ids, data.marker].sort((a, b) => a - b),
    );
  });
});

// A join runs one task per partition number of its co-partitioned inputs, and a task waits only for its own
// partitions: with max.task.idle.ms set, an empty partition holds back its own task for that long, never another.
describe("ksqlDB dev server: a join's tasks wait for their own partitions only", () => {
  const suffix = uniqueSuffix();
  const serviceId = `tasks${suffix}_`;
  const left = `left${suffix}`;
  const right = `right${suffix}`;
  const sink = `joined${suffix}`;
  let client: KafkaTestClient;
  let server: KsqlDevServer | undefined;

  const longKey = (id: number) => {
    const key = Buffer.alloc(8);
    key.writeBigInt64BE(BigInt(id));
    return key;
  };

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
  });

  afterAll(() => closeServerAndClient(server, client, suffix));

  it("joins a task's records while another task idles on its empty partition", async () => {
    const now = Date.now();
    // Partition 0 of the left input stays empty: task 0 (partition 0 of both inputs) idles on it. Task 1 has records
    // on both of its partitions, and joins key 2 while both still hold some (once one is empty, it idles too).
    const record = (k: number, field: string, partition: number, ts: number) => ({
      key: longKey(k),
      value: JSON.stringify({ [field]: `${field.toLowerCase()}${k}` }),
      partition,
      timestamp: String(ts),
    });
    await client.producer.send({
      topic: left,
      messages: [record(2, 'A', 1, now + 1), record(4, 'A', 1, now + 3)],
    });
    await client.producer.send({
      topic: right,
      messages: [record(1, 'B', 0, now), record(2, 'B', 1, now + 2), record(4, 'B', 1, now + 4)],
    });
    await ksqlOk(
      server!.url,
      `CREATE STREAM l (k BIGINT KEY, a STRING) WITH (KAFKA_TOPIC='${left}', VALUE_FORMAT='JSON');
       CREATE STREAM r (k BIGINT KEY, b STRING) WITH (KAFKA_TOPIC='${right}', VALUE_FORMAT='JSON');
       CREATE STREAM j WITH (KAFKA_TOPIC='${sink}') AS
         SELECT l.k AS k, a, b FROM l JOIN r WITHIN 1 HOUR ON l.k = r.k EMIT CHANGES;`,
      { 'auto.offset.reset': 'earliest', 'max.task.idle.ms': 10 * MINUTE },
    );
    const records = await readTopicUntil(client, sink, (r) => r.length >= 1, MINUTE);
    expect(records.map((r) => [Number(r.key!.readBigInt64BE()), JSON.parse(r.value!.toString())])).toEqual([
      [2, { A: 'a2', B: 'b2' }],
    ]);
  });
});
