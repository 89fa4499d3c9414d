import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { stackEndpoints } from '../helpers/stack.js';
import { runCli } from '../helpers/cli.js';

const stack = stackEndpoints();
const created: string[] = [];
const unique = (what: string) => {
  const name = `test-${what}-${randomUUID().slice(0, 8)}`;
  created.push(name);
  return name;
};

// Other suites share the broker: leave no topic behind.
afterAll(async () => {
  const admin = new Kafka(plaintextConfig).admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((topic) => created.includes(topic));
  if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
});

function saslConfig(username: string, password: string): KafkaConfig {
  return {
    clientId: 'local-stack-test',
    brokers: [stack.kafka.saslSsl],
    ssl: { ca: [readFileSync(stack.kafka.caFile, 'utf8')] },
    sasl: { mechanism: 'plain', username, password },
    connectionTimeout: 10_000,
    logLevel: logLevel.NOTHING,
  };
}

const plaintextConfig: KafkaConfig = {
  clientId: 'local-stack-test',
  brokers: [stack.kafka.plaintext],
  logLevel: logLevel.NOTHING,
};

/** Creates the topic, produces `count` records, consumes them back from the beginning; returns the values read. */
async function roundTrip(config: KafkaConfig, count: number): Promise<string[]> {
  const kafka = new Kafka(config);
  const topic = unique('roundtrip');
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
  await admin.disconnect();

  const producer = kafka.producer();
  await producer.connect();
  const sent = Array.from({ length: count }, (_, i) => `record-${i}`);
  for (let i = 0; i < count; i += 250) {
    await producer.send({ topic, messages: sent.slice(i, i + 250).map((value, j) => ({ key: String(i + j), value })) });
  }
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: unique('group') });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const received: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${received.length}/${count} records arrived`)), 60_000);
    void consumer.run({
      eachMessage: async ({ message }) => {
        received.push(message.value!.toString());
        if (received.length === count) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return received;
}

describe('local stack: Kafka', () => {
  it('round-trips 1,000 records over PLAINTEXT', async () => {
    const received = await roundTrip(plaintextConfig, 1000);
    expect(new Set(received).size).toBe(1000);
    expect(received).toContain('record-999');
  });

  it('round-trips 1,000 records over SASL_SSL/PLAIN with the generated CA', async () => {
    const user = stack.kafka.users[0]!;
    const received = await roundTrip(saslConfig(user.username, user.password), 1000);
    expect(new Set(received).size).toBe(1000);
  });

  it('rejects a wrong password with an authentication error, not a timeout', async () => {
    const user = stack.kafka.users[1]!;
    const admin = new Kafka({ ...saslConfig(user.username, `${user.password}-wrong`), retry: { retries: 0 } }).admin();
    const started = Date.now();
    const error = await admin.connect().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    await admin.disconnect().catch(() => undefined);
    expect(error?.name).toBe('KafkaJSSASLAuthenticationError');
    expect(error?.message).toMatch(/authentication failed/i);
    expect(Date.now() - started).toBeLessThan(8_000);
  });

  it('does not create topics on demand (like Confluent Cloud)', async () => {
    const producer = new Kafka({ ...plaintextConfig, retry: { retries: 1 } }).producer();
    await producer.connect();
    const error = await producer
      .send({ topic: unique('absent'), messages: [{ value: 'x' }], acks: -1, timeout: 2_000 })
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    await producer.disconnect();
    expect(String(error)).toMatch(/does not host this topic-partition|unknown topic/i);
  });
});

describe('local stack: Connect + MongoDB sink + FerretDB', () => {
  const mongo = new MongoClient(stack.ferretdb.uri);
  afterAll(async () => {
    await mongo.close();
  });

  it('sinks 200 JSON records into FerretDB with every field intact', async () => {
    const topic = unique('sink');
    const database = 'local_stack_test';
    const collection = topic.replace(/-/g, '_');
    const connector = unique('mongo-sink');
    const kafka = new Kafka(plaintextConfig);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();

    const put = await fetch(`${stack.connect.url}/connectors/${connector}/config`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        'connector.class': 'com.mongodb.kafka.connect.MongoSinkConnector',
        'tasks.max': '1',
        topics: topic,
        'connection.uri': stack.ferretdb.uri,
        database,
        collection,
        'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
        'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
        'value.converter.schemas.enable': 'false',
        'document.id.strategy': 'com.mongodb.kafka.connect.sink.processor.id.strategy.ProvidedInValueStrategy',
      }),
    });
    expect(put.status, await put.clone().text()).toBe(201);

    try {
      const producer = kafka.producer();
      await producer.connect();
      const records = Array.from({ length: 200 }, (_, i) => ({
        _id: `job-${i}`,
        job_id: i,
        title: `Fix sink ${i}`,
        price: i + 0.5,
        urgent: i % 2 === 0,
        tags: ['plumbing', `t${i}`],
        location: { lat: 52.5 + i / 1000, lon: 13.4 },
      }));
      await producer.send({ topic, messages: records.map((r) => ({ key: r._id, value: JSON.stringify(r) })) });
      await producer.disconnect();

      const docs = mongo.db(database).collection(collection);
      const deadline = Date.now() + 90_000;
      let count = 0;
      while (Date.now() < deadline) {
        count = await docs.countDocuments();
        if (count >= 200) break;
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
      if (count < 200) {
        const status = await (await fetch(`${stack.connect.url}/connectors/${connector}/status`)).text();
        throw new Error(`only ${count}/200 documents arrived; connector status: ${status}`);
      }
      expect(count).toBe(200);
      const stored = await docs.find({}).sort({ job_id: 1 }).toArray();
      expect(stored.map((d) => d._id)).toEqual(
        records.map((r) => r._id).sort((a, b) => Number(a.slice(4)) - Number(b.slice(4))),
      );
      expect(stored[7]).toEqual(records[7]);
      expect(stored[199]).toEqual(records[199]);
    } finally {
      const deleted = await fetch(`${stack.connect.url}/connectors/${connector}`, { method: 'DELETE' });
      expect(deleted.status).toBe(204);
      await mongo
        .db(database)
        .dropDatabase()
        .catch(() => undefined);
    }
    const gone = await fetch(`${stack.connect.url}/connectors/${connector}`);
    expect(gone.status).toBe(404);
  });
});

describe('marketplace local logs', () => {
  it('prints the last n lines of one service, and refuses an unknown service', async () => {
    const env = { MARKETPLACE_HOME: stack.home };
    const kafka = await runCli(['local', 'logs', 'kafka', '-n', '5'], { env });
    expect(kafka.code, kafka.stderr).toBe(0);
    const lines = kafka.stdout
      .trim()
      .split('\n')
      .filter((line) => line.length > 0);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThanOrEqual(6);
    expect(kafka.stdout).toMatch(/\[\d{4}-\d{2}-\d{2} [\d:,]+\] (INFO|WARN|ERROR|DEBUG)/);

    const unknown = await runCli(['local', 'logs', 'zookeeper'], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/zookeeper/);
  });
});
