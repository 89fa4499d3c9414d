import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KsqlDevServer } from '../../src/ksqldb-dev-server/index.js';
import { fetchOffsetsWhenReady } from '../../src/kafka/topics.js';
import {
  closeServerAndClient,
  kafkaClient,
  ksql,
  ksqlOk,
  startServer,
  uniqueSuffix,
  type KafkaTestClient,
} from './ksqldb-server-support.js';

// The dev server outlives the topics around it: `marketplace down` deletes the demo topics while it runs on.
describe('ksqlDB dev server: topics made and deleted around it', () => {
  const suffix = uniqueSuffix();
  const serviceId = `topics${suffix}_`;
  let client: KafkaTestClient;
  let server: KsqlDevServer | undefined;

  beforeAll(async () => {
    client = await kafkaClient();
    server = await startServer(serviceId);
  });

  afterAll(() => closeServerAndClient(server, client, suffix));

  const streamNames = async () =>
    ((await ksqlOk(server!.url, 'SHOW STREAMS;'))[0].streams as { name: string }[]).map((s) => s.name);

  it('creates streams and inserts rows after another client deleted a topic it wrote to and read', async () => {
    const first = `first${suffix}`;
    await ksqlOk(
      server!.url,
      `CREATE STREAM first_stream (id INT KEY, note STRING) WITH (KAFKA_TOPIC='${first}', PARTITIONS=2, VALUE_FORMAT='JSON');`,
    );
    // The server writes to the topic, and a persistent query reads it (the server looks its offsets up).
    await ksqlOk(server!.url, `INSERT INTO first_stream (id, note) VALUES (1, 'hello');`);
    await ksqlOk(server!.url, `CREATE STREAM first_copy AS SELECT * FROM first_stream;`, {
      'auto.offset.reset': 'earliest',
    });
    await ksqlOk(server!.url, 'DROP STREAM first_copy;');
    await ksqlOk(server!.url, 'DROP STREAM first_stream;');
    // Someone else deletes the topic, as `down` does.
    await client.admin.deleteTopics({ topics: [first] });

    const second = `second${suffix}`;
    const result = await ksql(
      server!.url,
      `CREATE STREAM second_stream (id INT KEY, note STRING) WITH (KAFKA_TOPIC='${second}', PARTITIONS=3, VALUE_FORMAT='JSON');`,
    );
    expect(result.status).toBe(200);
    expect(result.body[0].commandStatus.message).toBe('Stream created');
    expect(await client.admin.listTopics()).toContain(second);
    expect(await fetchOffsetsWhenReady(client.admin, second)).toHaveLength(3);
    const inserted = await ksql(server!.url, `INSERT INTO second_stream (id, note) VALUES (1, 'after');`);
    expect(inserted.status).toBe(200);
  });

  it('refuses at once, with a 400 that names the topic, an INSERT into a stream whose topic was deleted', async () => {
    const topic = `gone${suffix}`;
    await ksqlOk(
      server!.url,
      `CREATE STREAM gone_stream (id INT KEY, note STRING) WITH (KAFKA_TOPIC='${topic}', PARTITIONS=1, VALUE_FORMAT='JSON');`,
    );
    await ksqlOk(server!.url, `INSERT INTO gone_stream (id, note) VALUES (1, 'before');`);
    await client.admin.deleteTopics({ topics: [topic] });

    const inserted = await ksql(server!.url, `INSERT INTO gone_stream (id, note) VALUES (2, 'after');`);
    expect(inserted.status).toBe(400);
    expect(inserted.body).toMatchObject({ '@type': 'statement_error', error_code: 40001 });
    expect(inserted.body.message).toContain(`its topic ${topic} does not exist`);
    expect(inserted.body.message).toContain('Drop GONE_STREAM and create it again');
    await ksqlOk(server!.url, 'DROP STREAM gone_stream;');
  });

  it('DROP STREAM IF EXISTS finds a stream by its unquoted lower-case name, also after a restart', async () => {
    const create = (name: string) =>
      `CREATE STREAM ${name} (id INT KEY) WITH (KAFKA_TOPIC='${name}${suffix}', PARTITIONS=1, VALUE_FORMAT='JSON');`;
    await ksqlOk(server!.url, create('hi_probe'));
    const dropped = await ksqlOk(server!.url, 'DROP STREAM IF EXISTS hi_probe;');
    expect(dropped[0].commandStatus.message).toBe(`Source \`HI_PROBE\` (topic: hi_probe${suffix}) was dropped.`);
    expect(await streamNames()).not.toContain('HI_PROBE');

    await ksqlOk(server!.url, create('hi_probe_again'));
    await server!.close();
    server = await startServer(serviceId);
    const again = await ksqlOk(server.url, 'DROP STREAM IF EXISTS hi_probe_again;');
    expect(again[0].commandStatus.message).toBe(
      `Source \`HI_PROBE_AGAIN\` (topic: hi_probe_again${suffix}) was dropped.`,
    );
    expect(await streamNames()).not.toContain('HI_PROBE_AGAIN');
  });

  it('refuses a CREATE whose topic the broker will not make, and records nothing that a restart would bring back', async () => {
    const topic = `replicated${suffix}`;
    const result = await ksql(
      server!.url,
      `CREATE STREAM replicated (id INT KEY) WITH (KAFKA_TOPIC='${topic}', PARTITIONS=1, REPLICAS=3, VALUE_FORMAT='JSON');`,
    );
    expect(result.status).toBe(400);
    expect(result.body).toMatchObject({ '@type': 'statement_error', error_code: 40001 });
    expect(result.body.message).toMatch(new RegExp(`^Could not create topic '${topic}': .*[Rr]eplication`));
    const copy = await ksql(
      server!.url,
      `CREATE STREAM replicated_copy WITH (KAFKA_TOPIC='${topic}', REPLICAS=3) AS SELECT * FROM second_stream;`,
    );
    expect(copy.status).toBe(400);
    expect(copy.body.message).toMatch(new RegExp(`^Could not create topic '${topic}': `));
    expect(await streamNames()).not.toContain('REPLICATED');
    expect(await streamNames()).not.toContain('REPLICATED_COPY');
    expect(await client.admin.listTopics()).not.toContain(topic);

    // The restarted server replays its command topic: the refused statement is not in it.
    await server!.close();
    server = await startServer(serviceId);
    const names = await streamNames();
    expect(names).toContain('SECOND_STREAM');
    expect(names).not.toContain('REPLICATED');
    expect(names).not.toContain('REPLICATED_COPY');
  });
});
