import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KsqlDevServer } from '../../src/ksqldb-dev-server/index.js';
import {
  cleanup,
  closeServerAndClient,
  eventually,
  http2Request,
  kafkaClient,
  ksql,
  ksqlOk,
  parseDelimited,
  postJson,
  readTopicUntil,
  sleep,
  startServer,
  uniqueSuffix,
  type KafkaTestClient,
} from './ksqldb-server-support.js';

/** An HTTP/1.1 streaming request that resolves as soon as `ready(text)` holds, leaving the response open. */
function openStream(url: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  let text = '';
  let status = 0;
  let contentType = '';
  let transferEncoding = '';
  let ended = false;
  const listeners: (() => void)[] = [];
  const request = http.request(
    url + path,
    { method: 'POST', headers: { 'content-type': 'application/json', ...headers } },
    (response) => {
      status = response.statusCode ?? 0;
      contentType = String(response.headers['content-type']);
      transferEncoding = String(response.headers['transfer-encoding']);
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
        for (const listener of listeners) listener();
      });
      response.on('end', () => {
        ended = true;
        for (const listener of listeners) listener();
      });
    },
  );
  request.end(JSON.stringify(body));
  const until = (predicate: () => boolean, timeoutMs = 30_000) =>
    new Promise<void>((resolve, reject) => {
      if (predicate()) return resolve();
      const timer = setTimeout(() => reject(new Error(`stream condition not met; got: ${text}`)), timeoutMs);
      listeners.push(() => {
        if (predicate()) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  return {
    get text() {
      return text;
    },
    get status() {
      return status;
    },
    get contentType() {
      return contentType;
    },
    get transferEncoding() {
      return transferEncoding;
    },
    get ended() {
      return ended;
    },
    until,
    destroy: () => request.destroy(),
  };
}

describe('ksqlDB dev server: REST protocol', () => {
  const suffix = uniqueSuffix();
  const serviceId = `proto${suffix}_`;
  const topic = `readings${suffix}`;
  let client: KafkaTestClient;
  let server: KsqlDevServer;

  beforeAll(async () => {
    client = await kafkaClient();
    server = await startServer(serviceId);
  });

  afterAll(() => closeServerAndClient(server, client, suffix));

  it('serves /info, /healthcheck, /clusterStatus and redirects / to /info', async () => {
    const info = (await (await fetch(`${server.url}/info`)).json()) as { KsqlServerInfo: Record<string, unknown> };
    expect(info.KsqlServerInfo).toMatchObject({
      version: '0.29.0-marketplace-dev',
      ksqlServiceId: serviceId,
      serverStatus: 'RUNNING',
    });
    expect(info.KsqlServerInfo.kafkaClusterId).toMatch(/.+/);
    const health = await (await fetch(`${server.url}/healthcheck`)).json();
    expect(health).toEqual({
      isHealthy: true,
      details: { metastore: { isHealthy: true }, kafka: { isHealthy: true }, commandRunner: { isHealthy: true } },
      serverState: 'READY',
    });
    const cluster = (await (await fetch(`${server.url}/clusterStatus`)).json()) as {
      clusterStatus: Record<string, unknown>;
    };
    expect(Object.values(cluster.clusterStatus)[0]).toMatchObject({ hostAlive: true });
    const root = await fetch(`${server.url}/`, { redirect: 'manual' });
    expect(root.status).toBe(307);
    expect(root.headers.get('location')).toBe('/info');
  });

  it('runs DDL with currentStatus entities, status lookups and sequence numbers', async () => {
    const result = await ksql(
      server.url,
      `CREATE STREAM readings (sensor VARCHAR KEY, reading BIGINT, ratio DOUBLE) WITH (KAFKA_TOPIC='${topic}', PARTITIONS=2, VALUE_FORMAT='JSON');
       CREATE STREAM doubled WITH (KAFKA_TOPIC='doubled${suffix}') AS SELECT sensor, reading * 2 AS twice, ratio + 0.5 AS bumped FROM readings WHERE reading > 10 EMIT CHANGES;`,
      { 'auto.offset.reset': 'earliest' },
    );
    expect(result.status).toBe(200);
    const [created, csas] = result.body;
    expect(created).toMatchObject({
      '@type': 'currentStatus',
      commandId: 'stream/READINGS/create',
      commandStatus: { status: 'SUCCESS', message: 'Stream created', queryId: null },
      warnings: [],
    });
    expect(csas.commandStatus.message).toMatch(/^Created query with ID CSAS_DOUBLED_\d+$/);
    expect(csas.commandStatus.queryId).toMatch(/^CSAS_DOUBLED_\d+$/);
    expect(csas.commandSequenceNumber).toBeGreaterThan(created.commandSequenceNumber);
    expect(csas.statementText).toContain(`CREATE STREAM doubled WITH (KAFKA_TOPIC='doubled${suffix}') AS SELECT`);

    const status = await fetch(`${server.url}/status/stream/READINGS/create`);
    expect(status.status).toBe(200);
    expect(await status.json()).toEqual({ status: 'SUCCESS', message: 'Stream created', queryId: null });
    const missing = await fetch(`${server.url}/status/stream/NOPE/create`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ '@type': 'generic_error', error_code: 40400, message: 'Command not found' });

    // A request waiting for an already-executed command runs at once.
    const next = await postJson(server.url, '/ksql', {
      ksql: 'SHOW STREAMS;',
      commandSequenceNumber: csas.commandSequenceNumber,
    });
    expect(next.status).toBe(200);
    expect(next.body[0]['@type']).toBe('streams');
    expect(next.body[0].streams).toEqual(
      expect.arrayContaining([
        { type: 'STREAM', name: 'READINGS', topic, keyFormat: 'KAFKA', valueFormat: 'JSON', isWindowed: false },
      ]),
    );
  });

  it('lists tables, topics, queries and properties, and describes sources', async () => {
    const [tables, topics, queries, properties] = await ksqlOk(
      server.url,
      'LIST TABLES; SHOW TOPICS; LIST QUERIES; SHOW PROPERTIES;',
      { 'auto.offset.reset': 'earliest' },
    );
    expect(tables).toMatchObject({ '@type': 'tables', tables: [] });
    expect(topics['@type']).toBe('kafka_topics');
    expect(topics.topics).toEqual(expect.arrayContaining([{ name: topic, replicaInfo: [1, 1] }]));
    expect(topics.topics.some((t: { name: string }) => t.name.startsWith('_confluent-ksql'))).toBe(false);
    expect(queries['@type']).toBe('queries');
    expect(queries.queries).toEqual([
      expect.objectContaining({
        sinks: ['DOUBLED'],
        sinkKafkaTopics: [`doubled${suffix}`],
        queryType: 'PERSISTENT',
        state: 'RUNNING',
        statusCount: { RUNNING: 1 },
      }),
    ]);
    expect(properties['@type']).toBe('properties');
    expect(properties.properties).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'ksql.streams.auto.offset.reset', value: 'earliest' })]),
    );
    expect(properties.overwrittenProperties).toContain('ksql.streams.auto.offset.reset');

    const [described] = await ksqlOk(server.url, 'DESCRIBE doubled EXTENDED;');
    expect(described['@type']).toBe('sourceDescription');
    expect(described.sourceDescription).toMatchObject({
      name: 'DOUBLED',
      type: 'STREAM',
      topic: `doubled${suffix}`,
      keyFormat: 'KAFKA',
      valueFormat: 'JSON',
      extended: true,
    });
    expect(described.sourceDescription.fields).toEqual([
      { name: 'SENSOR', schema: { type: 'STRING', fields: null, memberSchema: null }, type: 'KEY' },
      { name: 'TWICE', schema: { type: 'BIGINT', fields: null, memberSchema: null } },
      { name: 'BUMPED', schema: { type: 'DOUBLE', fields: null, memberSchema: null } },
    ]);
    expect(described.sourceDescription.writeQueries).toHaveLength(1);
  });

  it('answers IF NOT EXISTS with a warning_entity and a duplicate CREATE with a statement_error', async () => {
    const again = `CREATE STREAM IF NOT EXISTS readings (sensor VARCHAR KEY, reading BIGINT) WITH (KAFKA_TOPIC='${topic}', VALUE_FORMAT='JSON');`;
    const [warning] = await ksqlOk(server.url, again);
    expect(warning).toMatchObject({ '@type': 'warning_entity', statementText: again });
    expect(warning.message).toContain('READINGS');
    const duplicate = await ksql(server.url, again.replace(' IF NOT EXISTS', ''));
    expect(duplicate.status).toBe(400);
    expect(duplicate.body).toMatchObject({ '@type': 'statement_error', error_code: 40001, entities: [] });
    expect(duplicate.body.message).toContain("Cannot add stream 'READINGS'");
  });

  it('validates every statement of a request before running any', async () => {
    const result = await ksql(
      server.url,
      `CREATE STREAM never_created (a INT) WITH (KAFKA_TOPIC='${topic}', VALUE_FORMAT='JSON');\nCREATE STREAM broken AS SELECT nope FROM readings;`,
    );
    expect(result.status).toBe(400);
    expect(result.body['@type']).toBe('statement_error');
    expect(result.body.statementText).toBe('CREATE STREAM broken AS SELECT nope FROM readings;');
    expect(result.body.message).toContain("Column 'NOPE' cannot be resolved");
    const [streams] = await ksqlOk(server.url, 'SHOW STREAMS;');
    expect(streams.streams.map((s: { name: string }) => s.name)).not.toContain('NEVER_CREATED');
  });

  it('names line and column of a parse error, rejects SELECT on /ksql and unsupported constructs', async () => {
    const parse = await ksql(
      server.url,
      "SHOW STREAMS;\nCREATE STREAM x (a INT) WITH (KAFKA_TOPIC=, VALUE_FORMAT='JSON');",
    );
    expect(parse.status).toBe(400);
    expect(parse.body).toMatchObject({ '@type': 'statement_error', error_code: 40001 });
    expect(parse.body.message).toMatch(/^line 2:43: /);
    const select = await ksql(server.url, 'SELECT * FROM readings;');
    expect(select.status).toBe(400);
    expect(select.body).toMatchObject({
      '@type': 'statement_error',
      error_code: 40002,
      statementText: 'SELECT * FROM readings;',
    });
    const windowed = await ksql(
      server.url,
      'CREATE TABLE counts AS SELECT sensor, COUNT(*) FROM readings WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY sensor;',
    );
    expect(windowed.status).toBe(400);
    expect(windowed.body.error_code).toBe(40001);
    expect(windowed.body.message).toContain('WINDOW');
    expect(windowed.body.message).toContain('not supported by the marketplace ksqlDB dev server');
    const badJson = await fetch(`${server.url}/ksql`, { method: 'POST', body: '{"ksql": ' });
    expect(badJson.status).toBe(400);
    expect(((await badJson.json()) as { error_code: number }).error_code).toBe(40000);
  });

  it('streams push queries over HTTP/1.1 chunked, delimited and JSON, honouring LIMIT and auto.offset.reset', async () => {
    await client.producer.send({
      topic,
      messages: [
        { key: 's1', value: JSON.stringify({ reading: 5, ratio: 0.25 }) },
        { key: 's2', value: JSON.stringify({ READING: '20', RATIO: 1.5 }) },
        { key: 's3', value: JSON.stringify({ reading: 30, ratio: 2 }) },
      ],
    });
    const delimited = openStream(
      server.url,
      '/query-stream',
      { sql: 'SELECT * FROM doubled EMIT CHANGES LIMIT 2;', properties: { 'auto.offset.reset': 'earliest' } },
      { accept: 'application/vnd.ksqlapi.delimited.v1' },
    );
    await delimited.until(() => delimited.ended);
    expect(delimited.status).toBe(200);
    expect(delimited.contentType).toBe('application/vnd.ksqlapi.delimited.v1');
    expect(delimited.transferEncoding).toBe('chunked');
    const parsed = parseDelimited(delimited.text);
    expect(parsed.header).toMatchObject({
      columnNames: ['SENSOR', 'TWICE', 'BUMPED'],
      columnTypes: ['STRING', 'BIGINT', 'DOUBLE'],
    });
    expect(parsed.header.queryId).toMatch(/^transient_DOUBLED_/);
    expect(parsed.rows.sort()).toEqual([
      ['s2', 40, 2],
      ['s3', 60, 2.5],
    ]);
    // As ksqlDB (Jackson) writes a DOUBLE: a whole one keeps its fraction, in rows and in the sink topic's values.
    expect(delimited.text).toContain('["s2",40,2.0]');
    const sunk = await readTopicUntil(client, `doubled${suffix}`, (rs) => rs.some((r) => r.key?.toString() === 's2'));
    expect(sunk.find((r) => r.key?.toString() === 's2')!.value!.toString()).toBe('{"TWICE":40,"BUMPED":2.0}');

    const json = await postJson(
      server.url,
      '/query-stream',
      {
        sql: 'SELECT sensor, reading FROM readings WHERE reading < 10 EMIT CHANGES LIMIT 1;',
        properties: { 'auto.offset.reset': 'earliest' },
      },
      { accept: 'application/json' },
    );
    expect(json.status).toBe(200);
    expect(json.headers.get('content-type')).toBe('application/json');
    expect(json.body).toEqual([
      expect.objectContaining({ columnNames: ['SENSOR', 'READING'], columnTypes: ['STRING', 'BIGINT'] }),
      ['s1', 5],
    ]);

    // latest (the default): only records produced after the query started.
    const latest = openStream(server.url, '/query-stream', {
      sql: 'SELECT sensor FROM readings EMIT CHANGES LIMIT 1;',
    });
    await latest.until(() => latest.text.includes('\n'));
    await client.producer.send({ topic, messages: [{ key: 'fresh', value: JSON.stringify({ reading: 1 }) }] });
    await latest.until(() => latest.ended);
    expect(parseDelimited(latest.text).rows).toEqual([['fresh']]);
  });

  it('starts a persistent query at the end of its input by default (auto.offset.reset=latest)', async () => {
    await ksqlOk(
      server.url,
      `CREATE STREAM recent WITH (KAFKA_TOPIC='recent${suffix}') AS SELECT sensor, reading FROM readings;`,
    );
    await client.producer.send({ topic, messages: [{ key: 'after-latest', value: JSON.stringify({ reading: 7 }) }] });
    const records = await readTopicUntil(client, `recent${suffix}`, (rs) =>
      rs.some((r) => r.key?.toString() === 'after-latest'),
    );
    expect(records.map((r) => r.key?.toString())).toEqual(['after-latest']);
    const [queries] = await ksqlOk(server.url, 'LIST QUERIES;');
    const id = queries.queries.find((q: { sinks: string[] }) => q.sinks[0] === 'RECENT').id as string;
    await ksqlOk(server.url, `TERMINATE ${id}; DROP STREAM recent DELETE TOPIC;`);
  });

  it('answers 503/50301 when a commandSequenceNumber never arrives', async () => {
    const response = await postJson(server.url, '/ksql', { ksql: 'SHOW STREAMS;', commandSequenceNumber: 1_000_000 });
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({ '@type': 'generic_error', error_code: 50301 });
  });

  it('serves /query-stream over HTTP/2 and answers query errors before the stream starts', async () => {
    const response = await http2Request(
      server.url,
      '/query-stream',
      JSON.stringify({
        sql: 'SELECT sensor, ratio FROM readings EMIT CHANGES LIMIT 2;',
        properties: { 'auto.offset.reset': 'earliest' },
      }),
    );
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/vnd.ksqlapi.delimited.v1');
    const parsed = parseDelimited(response.text);
    expect(parsed.header.columnNames).toEqual(['SENSOR', 'RATIO']);
    expect(parsed.rows).toHaveLength(2);

    const bad = await http2Request(
      server.url,
      '/query-stream',
      JSON.stringify({ sql: 'SELECT * FROM nowhere EMIT CHANGES;' }),
    );
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text)).toMatchObject({
      '@type': 'statement_error',
      error_code: 40001,
      statementText: 'SELECT * FROM nowhere EMIT CHANGES;',
    });
  });

  it('stops a push query on /close-query and rejects unknown query ids', async () => {
    const stream = openStream(server.url, '/query-stream', { sql: 'SELECT * FROM readings EMIT CHANGES;' });
    await stream.until(() => stream.text.includes('\n'));
    const queryId = JSON.parse(stream.text.split('\n')[0]!).queryId as string;
    const [listed] = await ksqlOk(server.url, 'LIST QUERIES;');
    expect(listed.queries.map((q: { id: string }) => q.id)).toContain(queryId);
    const closed = await postJson(server.url, '/close-query', { queryId });
    expect(closed.status).toBe(200);
    expect(closed.text).toBe('');
    await stream.until(() => stream.ended, 10_000);
    const unknown = await postJson(server.url, '/close-query', { queryId: 'transient_NOPE_1' });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ '@type': 'generic_error', error_code: 40000 });
  });

  it('ends a push query when the client disconnects', async () => {
    const stream = openStream(server.url, '/query-stream', { sql: 'SELECT * FROM readings EMIT CHANGES;' });
    await stream.until(() => stream.text.includes('\n'));
    const queryId = JSON.parse(stream.text.split('\n')[0]!).queryId as string;
    stream.destroy();
    await eventually(
      async () => {
        const [listed] = await ksqlOk(server.url, 'LIST QUERIES;');
        return listed.queries.some((q: { id: string }) => q.id === queryId) ? undefined : true;
      },
      10_000,
      'the transient query to go away',
    );
  });

  it('accepts /inserts-stream over HTTP/2 with acks and refuses it over HTTP/1.1', async () => {
    const response = await http2Request(server.url, '/inserts-stream', [
      JSON.stringify({ target: 'readings' }),
      JSON.stringify({ sensor: 'ins1', reading: 100, ratio: 0.5 }),
      JSON.stringify({ SENSOR: 'ins2', READING: 200 }),
      JSON.stringify({ sensor: 'ins3', reading: 'not a number' }),
    ]);
    expect(response.status).toBe(200);
    const acks = response.text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .sort((a, b) => a.seq - b.seq);
    expect(acks[0]).toEqual({ status: 'ok', seq: 0 });
    expect(acks[1]).toEqual({ status: 'ok', seq: 1 });
    expect(acks[2]).toMatchObject({ status: 'error', seq: 2, error_code: 40000 });
    const records = await readTopicUntil(client, topic, (rs) => rs.some((r) => r.key?.toString() === 'ins2'));
    const ins1 = records.find((r) => r.key?.toString() === 'ins1')!;
    expect(JSON.parse(ins1.value!.toString())).toEqual({ READING: 100, RATIO: 0.5 });

    const unknown = await http2Request(server.url, '/inserts-stream', [JSON.stringify({ target: 'nowhere' })]);
    expect(unknown.status).toBe(400);
    expect(JSON.parse(unknown.text).error_code).toBe(40001);
    const h1 = await postJson(server.url, '/inserts-stream', { target: 'readings' });
    expect(h1.status).toBe(400);
    expect(h1.body).toEqual({
      '@type': 'generic_error',
      error_code: 40004,
      message: 'This endpoint is only available when using HTTP2',
    });
  });

  it('keeps every digit of a DECIMAL written to /inserts-stream', async () => {
    await ksqlOk(
      server.url,
      `CREATE STREAM amounts (id VARCHAR KEY, amount DECIMAL(19, 2), ratio DOUBLE) WITH (KAFKA_TOPIC='amounts${suffix}', PARTITIONS=1, VALUE_FORMAT='JSON');`,
    );
    // Written as text: 12345678901234567.89 has more digits than a double holds (it would become …567.88).
    const response = await http2Request(server.url, '/inserts-stream', [
      JSON.stringify({ target: 'amounts' }),
      '{"id": "big", "amount": 12345678901234567.89, "ratio": 0.25}',
      '{"id": "negative", "amount": -99999999999999999.99}',
    ]);
    const acks = response.text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .sort((a, b) => a.seq - b.seq);
    expect(acks).toEqual([
      { status: 'ok', seq: 0 },
      { status: 'ok', seq: 1 },
    ]);
    const records = await readTopicUntil(client, `amounts${suffix}`, (rs) => rs.length >= 2);
    expect(records.map((r) => [r.key?.toString(), r.value?.toString()]).sort()).toEqual([
      ['big', '{"AMOUNT":12345678901234567.89,"RATIO":0.25}'],
      ['negative', '{"AMOUNT":-99999999999999999.99,"RATIO":null}'],
    ]);
  });

  it('serves pull queries on a materialized table, with and without a key filter', async () => {
    await ksqlOk(
      server.url,
      `CREATE TABLE sensor_totals WITH (KAFKA_TOPIC='totals${suffix}') AS SELECT sensor, COUNT(*) AS n, SUM(reading) AS total FROM readings GROUP BY sensor EMIT CHANGES;`,
      { 'auto.offset.reset': 'earliest' },
    );
    const rows = await eventually(
      async () => {
        const everything = parseDelimited(
          (await postJson(server.url, '/query-stream', { sql: 'SELECT * FROM sensor_totals;' })).text,
        );
        if (everything.rows.length < 7) return undefined;
        const response = await postJson(server.url, '/query-stream', {
          sql: "SELECT * FROM sensor_totals WHERE sensor = 'ins1';",
        });
        const parsed = parseDelimited(response.text);
        return parsed.rows.length === 1 ? parsed : undefined;
      },
      30_000,
      'the pull query row',
    );
    expect(rows.header.columnNames).toEqual(['SENSOR', 'N', 'TOTAL']);
    expect(rows.rows).toEqual([['ins1', 1, 100]]);
    const all = await postJson(
      server.url,
      '/query-stream',
      { sql: 'SELECT sensor, total FROM sensor_totals;' },
      { accept: 'application/json' },
    );
    expect(all.body[0].columnNames).toEqual(['SENSOR', 'TOTAL']);
    expect(
      all.body
        .slice(1)
        .map((r: unknown[]) => r[0])
        .sort(),
    ).toEqual(['after-latest', 'fresh', 'ins1', 'ins2', 's1', 's2', 's3']);
    const notQueryable = await postJson(server.url, '/query-stream', { sql: 'SELECT * FROM readings;' });
    expect(notQueryable.status).toBe(400);
  });

  it('ends a running push query with an error object mid-stream when its source is dropped', async () => {
    await ksqlOk(
      server.url,
      `CREATE STREAM doomed (v INT) WITH (KAFKA_TOPIC='doomed${suffix}', PARTITIONS=1, VALUE_FORMAT='JSON');`,
    );
    const delimited = openStream(server.url, '/query-stream', { sql: 'SELECT * FROM doomed EMIT CHANGES;' });
    const json = openStream(
      server.url,
      '/query-stream',
      { sql: 'SELECT * FROM doomed EMIT CHANGES;' },
      { accept: 'application/json' },
    );
    await delimited.until(() => delimited.text.includes('\n'));
    await json.until(() => json.text.length > 0);
    await ksqlOk(server.url, 'DROP STREAM doomed DELETE TOPIC;');
    await delimited.until(() => delimited.ended, 10_000);
    await json.until(() => json.ended, 10_000);
    const { errors } = parseDelimited(delimited.text);
    expect(errors).toEqual([
      { '@type': 'generic_error', error_code: 50000, message: expect.stringContaining('DOOMED') },
    ]);
    const array = JSON.parse(json.text);
    expect(array.at(-1)).toMatchObject({ '@type': 'generic_error', error_code: 50000 });
  });

  it('drops sources and terminates queries', async () => {
    const blocked = await ksql(server.url, 'DROP STREAM readings;');
    expect(blocked.status).toBe(400);
    expect(blocked.body.message).toContain('DOUBLED');
    const [queries] = await ksqlOk(server.url, 'LIST QUERIES;');
    const csas = queries.queries.find((q: { sinks: string[] }) => q.sinks[0] === 'DOUBLED').id as string;
    const [terminated] = await ksqlOk(server.url, `TERMINATE ${csas};`);
    expect(terminated).toMatchObject({
      '@type': 'currentStatus',
      commandId: `terminate/${csas}/execute`,
      commandStatus: { status: 'SUCCESS' },
    });
    const [dropped] = await ksqlOk(server.url, 'DROP STREAM doubled DELETE TOPIC;');
    expect(dropped).toMatchObject({ commandId: 'stream/DOUBLED/drop', commandStatus: { status: 'SUCCESS' } });
    await eventually(
      async () => ((await client.admin.listTopics()).includes(`doubled${suffix}`) ? undefined : true),
      10_000,
      'topic deletion',
    );
    const [missing] = await ksqlOk(server.url, 'DROP STREAM IF EXISTS doubled;');
    expect(missing['@type']).toBe('currentStatus');
    const unknown = await ksql(server.url, 'DROP STREAM doubled;');
    expect(unknown.status).toBe(400);
  });
});

describe('ksqlDB dev server: basic auth', () => {
  const suffix = uniqueSuffix();
  let server: KsqlDevServer;
  let client: KafkaTestClient;

  beforeAll(async () => {
    client = await kafkaClient();
    server = await startServer(`auth${suffix}_`, { authorize: (key, secret) => key === 'KEY1' && secret === 's3cret' });
  });

  afterAll(async () => {
    await server?.close();
    await cleanup(client, suffix);
    await client.close();
  });

  it('answers 401/40100 without valid credentials and serves requests with them', async () => {
    const anonymous = await fetch(`${server.url}/info`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({ '@type': 'generic_error', error_code: 40100, message: 'Unauthorized' });
    const wrong = await fetch(`${server.url}/info`, {
      headers: { authorization: `Basic ${Buffer.from('KEY1:nope').toString('base64')}` },
    });
    expect(wrong.status).toBe(401);
    const good = { authorization: `Basic ${Buffer.from('KEY1:s3cret').toString('base64')}` };
    expect((await fetch(`${server.url}/info`, { headers: good })).status).toBe(200);
    expect((await ksql(server.url, 'SHOW STREAMS;', {}, good)).status).toBe(200);
    const h2 = await http2Request(server.url, '/ksql', JSON.stringify({ ksql: 'SHOW TABLES;' }), good);
    expect(h2.status).toBe(200);
    expect((await fetch(`${server.url}/chc/live`)).status).toBe(200);
    await sleep(0);
  });
});
