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

// Null values and tombstones through the real topics: a stream's null-value record passes no aggregation (and does
// not stop the query), a table's tombstone deletes its row downstream, and a table aggregation takes a changed or
// deleted row back out of its group, also after a restart.

function intKey(id: number): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt32BE(id);
  return key;
}

/** A sink record as [key, value]: the key as text (KAFKA STRING keys), the value parsed, null for a tombstone. */
function entry(record: RawRecord): [string, unknown] {
  return [record.key!.toString('utf8'), record.value === null ? null : JSON.parse(record.value.toString('utf8'))];
}

describe('ksqlDB dev server: null values, tombstones and table aggregations on Kafka', () => {
  const suffix = uniqueSuffix();
  const serviceId = `tables${suffix}_`;
  const users = `users${suffix}`;
  const names = `names${suffix}`;
  let client: KafkaTestClient;
  let server: KsqlDevServer | undefined;

  beforeAll(async () => {
    client = await kafkaClient();
    server = await startServer(serviceId);
    await ksqlOk(
      server.url,
      `CREATE TABLE users (id INT PRIMARY KEY, region STRING) WITH (KAFKA_TOPIC='${users}', PARTITIONS=1, VALUE_FORMAT='JSON');
       CREATE STREAM names (name STRING) WITH (KAFKA_TOPIC='${names}', PARTITIONS=1, VALUE_FORMAT='JSON');
       CREATE TABLE by_region WITH (KAFKA_TOPIC='by_region${suffix}') AS SELECT region, COUNT(*) AS c FROM users GROUP BY region;
       CREATE TABLE users_copy WITH (KAFKA_TOPIC='users_copy${suffix}') AS SELECT * FROM users;
       CREATE TABLE name_counts WITH (KAFKA_TOPIC='name_counts${suffix}') AS SELECT name, COUNT(*) AS c FROM names GROUP BY name;`,
      { 'auto.offset.reset': 'earliest' },
    );
  });

  afterAll(() => closeServerAndClient(server, client, suffix));

  const user = (id: number, region: string | null) => ({
    key: intKey(id),
    value: region === null ? null : JSON.stringify({ region }),
  });

  it('a stream aggregation skips a null-value record and keeps running', async () => {
    await client.producer.send({
      topic: names,
      messages: [{ value: null }, { value: JSON.stringify({ name: 'n' }) }, { value: JSON.stringify({ name: 'n' }) }],
    });
    const sink = `name_counts${suffix}`;
    const records = await readTopicUntil(client, sink, (rs) =>
      rs.some((r) => r.value !== null && JSON.parse(r.value.toString()).C === 2),
    );
    expect(records.map(entry)).toEqual([
      ['n', { C: 1 }],
      ['n', { C: 2 }],
    ]);
    const queries = (await ksqlOk(server!.url, 'SHOW QUERIES;'))[0].queries as { sinks: string[]; state: string }[];
    expect(queries.find((q) => q.sinks.includes('NAME_COUNTS'))?.state).toBe('RUNNING');
  });

  it('forwards a tombstone and retracts a changed or deleted row from its group', async () => {
    await client.producer.send({
      topic: users,
      messages: [user(1, 'r0'), user(2, 'r1'), user(3, 'r0'), user(1, null), user(2, 'r0')],
    });
    const counts = await readTopicUntil(client, `by_region${suffix}`, (rs) => rs.length >= 6);
    expect(counts.map(entry)).toEqual([
      ['r0', { C: 1 }],
      ['r1', { C: 1 }],
      ['r0', { C: 2 }],
      ['r0', { C: 1 }],
      ['r1', { C: 0 }],
      ['r0', { C: 2 }],
    ]);
    const copy = await readTopicUntil(client, `users_copy${suffix}`, (rs) => rs.length >= 5);
    expect(copy.map((r) => [r.key!.readInt32BE(), r.value === null ? null : JSON.parse(r.value.toString())])).toEqual([
      [1, { REGION: 'r0' }],
      [2, { REGION: 'r1' }],
      [3, { REGION: 'r0' }],
      [1, null],
      [2, { REGION: 'r0' }],
    ]);
  });

  it('after a restart, still takes an old row out of its group when the row changes', async () => {
    await server!.close();
    server = await startServer(serviceId);
    await client.producer.send({ topic: users, messages: [user(3, 'r2')] });
    const counts = await readTopicUntil(client, `by_region${suffix}`, (rs) => rs.length >= 8);
    expect(counts.slice(6).map(entry)).toEqual([
      ['r0', { C: 1 }],
      ['r2', { C: 1 }],
    ]);
  });
});
