import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KsqlDevServer } from '../../src/ksqldb-dev-server/index.js';
import {
  closeServerAndClient,
  kafkaClient,
  ksql,
  ksqlOk,
  readTopic,
  queryCaughtUp,
  readTopicUntil,
  sleep,
  startServer,
  templateStatements,
  uniqueSuffix,
  type KafkaTestClient,
} from './ksqldb-server-support.js';

describe('ksqlDB dev server: restart mid-stream', () => {
  const suffix = uniqueSuffix();
  const serviceId = `restart${suffix}_`;
  let client: KafkaTestClient;
  let server: KsqlDevServer | undefined;

  beforeAll(async () => {
    client = await kafkaClient();
    await client.admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: `order_placed${suffix}`, numPartitions: 3 },
        { topic: `job_created${suffix}`, numPartitions: 3 },
      ],
    });
  });

  afterAll(() => closeServerAndClient(server, client, suffix));

  it('replays its command topic and resumes the join with no output lost or duplicated', async () => {
    server = await startServer(serviceId);
    await ksqlOk(server.url, templateStatements(suffix, ['01', '02', '03']), { 'auto.offset.reset': 'earliest' });
    const total = 600;
    const chunk = 20;
    const base = Date.now();
    let sent = 0;
    const sendJobs = (ids: number[]) =>
      client.producer.send({
        topic: `job_created${suffix}`,
        messages: ids.map((id) => ({
          value: JSON.stringify({ job_id: id, price: 100 }),
          timestamp: String(base + id),
        })),
      });
    const sendOrders = (ids: number[]) =>
      client.producer.send({
        topic: `order_placed${suffix}`,
        messages: ids.map((id) => ({
          value: JSON.stringify({ job_id: id, customer_id: `c${id}`, price_quoted: id % 2 === 0 ? 150 : 50 }),
          timestamp: String(base + id + 5),
        })),
      });
    const nextIds = () => {
      const ids = Array.from({ length: chunk }, (_, i) => sent + i + 1);
      sent += chunk;
      return ids;
    };
    const sendChunk = async () => {
      const ids = nextIds();
      await sendJobs(ids);
      await sendOrders(ids);
    };
    while (sent < total / 3) {
      await sendChunk();
      await sleep(30);
    }
    // Jobs the first instance joins into its window state, whose orders only arrive after the restart.
    const straddling = nextIds();
    await sendJobs(straddling);
    const inputs = [`job_created${suffix}`, `order_placed${suffix}`];
    await queryCaughtUp(server.url, client, { serviceId, sink: 'JOB_STATUS', inputs });
    const stopping = server.close();
    await sendOrders(straddling);
    while (sent < (2 * total) / 3) {
      await sendChunk();
      await sleep(30);
    }
    await stopping;
    server = await startServer(serviceId);
    // The metastore came back from the command topic.
    const listed = await ksql(server.url, 'SHOW QUERIES;');
    expect(listed.body[0].queries.map((q: { id: string }) => q.id)).toEqual([
      expect.stringMatching(/^CSAS_JOB_STATUS_\d+$/),
    ]);
    while (sent < total) {
      await sendChunk();
      await sleep(30);
    }

    const sink = `job_status${suffix}`;
    await readTopicUntil(
      client,
      sink,
      (records) => new Set(records.map((r) => Number(r.key!.readBigInt64BE()))).size >= total,
      90_000,
    );
    // A duplicate would be written before the query reaches the end of its input.
    await queryCaughtUp(server.url, client, { serviceId, sink: 'JOB_STATUS', inputs });
    const records = await readTopic(client, sink);
    const ids = records.map((r) => Number(r.key!.readBigInt64BE()));
    expect(new Set(ids).size).toBe(total);
    expect(ids.length).toBe(total);
    const statuses = records.map((r) => [
      Number(r.key!.readBigInt64BE()),
      JSON.parse(r.value!.toString('utf8')).CURRENT_STATUS as string,
    ]);
    expect(statuses.every(([id, status]) => status === ((id as number) % 2 === 0 ? 'ACCEPTED' : 'REJECTED'))).toBe(
      true,
    );
  });
});
