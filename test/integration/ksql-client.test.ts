import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KsqlClient } from '../../src/ksql-client/client.js';
import { KsqlConnectionError, KsqlError, KsqlRequestError } from '../../src/ksql-client/errors.js';
import { applyTemplates, TEMPLATES_DIR } from '../../src/ksql-client/templates.js';
import { startKsqlDevServer, type KsqlDevServer } from '../../src/ksqldb-dev-server/index.js';
import { stackEndpoints } from '../helpers/stack.js';

const { Kafka, logLevel, Partitioners } = kafkajs;

/** Every topic, stream and service id of this file carries the run id, so parallel runs never meet. */
const run = randomUUID().slice(0, 8);
const BIG = 9007199254740993n; // 2^53 + 1: JSON.parse would read it as 9007199254740992

let server: KsqlDevServer;
let kafka: InstanceType<typeof Kafka>;
let admin: kafkajs.Admin;
let producer: kafkajs.Producer;

beforeAll(async () => {
  const bootstrap = stackEndpoints().kafka.plaintext;
  server = await startKsqlDevServer({
    listen: '127.0.0.1:0',
    bootstrap,
    serviceId: `kc_${run}_`,
    log: () => undefined,
  });
  kafka = new Kafka({ clientId: `ksql-client-test-${run}`, brokers: [bootstrap], logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await Promise.all([admin.connect(), producer.connect()]);
});

afterAll(async () => {
  await server?.close();
  const topics = (await admin.listTopics()).filter((topic) => topic.includes(run));
  if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
  const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.includes(run));
  if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
  await Promise.all([producer?.disconnect(), admin?.disconnect()]);
});

/** Writes JSON text as-is, so numbers beyond 2^53 reach the topic exactly. */
async function produceJson(topic: string, values: string[], key?: (i: number) => string): Promise<void> {
  await producer.send({ topic, messages: values.map((value, i) => ({ key: key?.(i) ?? null, value })) });
}

describe.each(['http2', 'http1'] as const)('ksqlDB client over %s', (protocol) => {
  const wire = protocol === 'http2' ? 'HTTP/2' : 'HTTP/1.1';
  const tag = `${protocol}_${run}`.toUpperCase();
  const stream = `READINGS_${tag}`;
  const topic = `kc_readings_${protocol}_${run}`;
  let client: KsqlClient;

  beforeAll(async () => {
    client = new KsqlClient({ url: server.url, protocol });
  });
  afterAll(() => client?.close());

  it(`speaks ${wire} and reports server info and health`, async () => {
    expect(await client.protocol()).toBe(wire);
    const info = await client.serverInfo();
    expect(info.ksqlServiceId).toBe(`kc_${run}_`);
    expect(info.version).toMatch(/^\d+\.\d+/);
    const health = await client.health();
    expect(health.isHealthy).toBe(true);
  });

  it('creates a stream, chains the commandSequenceNumber, and lists and describes it', async () => {
    const before = client.lastCommandSequenceNumber;
    const created = await client.executeStatement(
      `CREATE STREAM ${stream} (id VARCHAR KEY, n BIGINT, label VARCHAR) WITH (KAFKA_TOPIC='${topic}', PARTITIONS=2, VALUE_FORMAT='JSON');`,
    );
    expect(created['@type']).toBe('currentStatus');
    const status = created as Extract<typeof created, { '@type': 'currentStatus' }>;
    expect(status.commandStatus.status).toBe('SUCCESS');
    expect(status.commandId).toBe(`stream/${stream}/create`);
    expect(client.lastCommandSequenceNumber).toBe(status.commandSequenceNumber);
    if (before !== undefined) expect(client.lastCommandSequenceNumber).toBeGreaterThan(before);
    expect(await client.commandStatus(status.commandId)).toMatchObject({ status: 'SUCCESS' });
    const unknown = await client.commandStatus('stream/NO_SUCH_THING/create').catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(KsqlError);
    expect((unknown as KsqlError).errorCode).toBe(40400);

    expect((await client.listStreams()).map((s) => s.name)).toContain(stream);
    expect((await client.listTopics()).map((t) => t.name)).toContain(topic);
    const description = await client.describeSource(stream.toLowerCase());
    expect(description.name).toBe(stream);
    expect(description.topic).toBe(topic);
    expect(description.fields.map((f) => [f.name, f.schema.type, f.type ?? null])).toEqual([
      ['ID', 'STRING', 'KEY'],
      ['N', 'BIGINT', null],
      ['LABEL', 'STRING', null],
    ]);
  });

  it('sends the last commandSequenceNumber: a number the server has not reached makes it wait and answer 50301', async () => {
    const saved = client.lastCommandSequenceNumber!;
    client.lastCommandSequenceNumber = saved + 1_000_000;
    try {
      const error = await client.listStreams().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KsqlError);
      expect((error as KsqlError).errorCode).toBe(50301);
    } finally {
      client.lastCommandSequenceNumber = saved;
    }
    // with the real number the same request goes through
    expect((await client.listStreams()).map((s) => s.name)).toContain(stream);
  }, 30_000);

  it('reads 500 rows of a push query with exact BIGINTs, then close() ends it on the server', async () => {
    const values = Array.from({ length: 600 }, (_, i) => `{"N":${BIG + BigInt(i)},"LABEL":"r${i}"}`);
    await produceJson(topic, values, (i) => `k${i % 7}`);
    const query = await client.streamQuery(`SELECT id, n, label FROM ${stream} EMIT CHANGES;`, {
      properties: { 'auto.offset.reset': 'earliest' },
    });
    expect(query.queryId).toBeTruthy();
    expect(query.columnNames).toEqual(['ID', 'N', 'LABEL']);
    expect(query.columnTypes).toEqual(['STRING', 'BIGINT', 'STRING']);
    const byLabel = new Map<string, unknown>();
    for await (const row of query) {
      byLabel.set(row.get('LABEL') as string, row.get('N'));
      if (query.rowsRead === 500) break;
    }
    expect(byLabel.size).toBe(500);
    expect([...byLabel.values()].every((n) => typeof n === 'bigint')).toBe(true);
    expect(query.isDone).toBe(true);

    // the server no longer knows the query: it is not listed, and closing it again is refused
    const running = (await client.listQueries()).map((q) => q.id);
    expect(running).not.toContain(query.queryId);
    const again = await client.terminatePushQuery(query.queryId!).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(KsqlRequestError);
    expect((again as KsqlRequestError).errorCode).toBe(40000);
    // exactly 2^53 + 1 and 2^53 + 3, not rounded to the nearest double
    expect([byLabel.get('r0'), byLabel.get('r2')]).toEqual([BIG, BIG + 2n]);
  });

  it('runs a push query with LIMIT to completion with executeQuery', async () => {
    const result = await client.executeQuery(`SELECT label, n FROM ${stream} WHERE n = ${BIG} EMIT CHANGES LIMIT 1;`, {
      properties: { 'auto.offset.reset': 'earliest' },
    });
    expect(result.rows.map((row) => row.values)).toEqual([['r0', BIG]]);
  });

  it('runs a pull query against a materialized table', async () => {
    const table = `COUNTS_${tag}`;
    await client.executeStatement(
      `CREATE TABLE ${table} WITH (KAFKA_TOPIC='kc_counts_${protocol}_${run}', PARTITIONS=2) AS SELECT id, COUNT(*) AS c, MAX(n) AS top FROM ${stream} GROUP BY id EMIT CHANGES;`,
      { properties: { 'auto.offset.reset': 'earliest' } },
    );
    expect((await client.listTables()).map((t) => t.name)).toContain(table);
    const query = (await client.listQueries()).find((q) => q.sinks.includes(table));
    expect(query?.id).toMatch(/^CTAS_/);
    // the table fills in the background: poll the pull query until every key has all its rows
    let rows: unknown[][] = [];
    for (let attempt = 0; attempt < 80; attempt++) {
      const result = await client.executeQuery(`SELECT id, c, top FROM ${table} WHERE id = 'k0';`);
      expect(result.columnNames).toEqual(['ID', 'C', 'TOP']);
      rows = result.rows.map((row) => [...row.values]);
      if (rows.length === 1 && rows[0]![1] === 86n) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    // keys k0..k6 over 600 rows: k0 gets i = 0, 7, …, 595 → 86 rows, largest n = BIG + 595
    expect(rows).toEqual([['k0', 86n, BIG + 595n]]);
  }, 60_000);

  it('rejects a bad statement with its error code and statement, and a SELECT sent to /ksql', async () => {
    const error = await client
      .executeStatement('CREATE STREAM broken (a INT) WITH (KAFKA_TOPIC=);')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KsqlRequestError);
    expect((error as KsqlRequestError).errorCode).toBe(40001);
    expect((error as KsqlRequestError).statementText).toContain('CREATE STREAM broken');
    const select = await client.executeStatements(`SELECT * FROM ${stream};`).catch((e: unknown) => e);
    expect((select as KsqlRequestError).errorCode).toBe(40002);
    const missing = await client.streamQuery('SELECT * FROM no_such_stream EMIT CHANGES;').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(KsqlRequestError);
    expect((missing as KsqlRequestError).message).toMatch(/NO_SUCH_STREAM does not exist/i);
  });

  it('substitutes session variables defined on the client', async () => {
    client.define('wanted', 'r1');
    try {
      const result = await client.executeQuery(
        `SELECT n FROM ${stream} WHERE label = '\${wanted}' EMIT CHANGES LIMIT 1;`,
        {
          properties: { 'auto.offset.reset': 'earliest' },
        },
      );
      expect(result.rows[0]?.get('N')).toBe(BIG + 1n);
    } finally {
      client.undefine('wanted');
    }
    expect(client.getVariables()).toEqual({});
  });

  it('ends a push query when the server terminates it (TERMINATE <transient id>), without an error', async () => {
    const query = await client.streamQuery(`SELECT * FROM ${stream} EMIT CHANGES;`);
    const rows: unknown[] = [];
    const reading = (async () => {
      for await (const row of query) rows.push(row);
    })();
    // streamQuery resolves once the header names the query: the server runs it from then on.
    const [terminated] = await client.executeStatements(`TERMINATE ${query.queryId};`);
    expect(terminated?.['@type']).toBe('terminate_query');
    await expect(reading).resolves.toBeUndefined();
    expect(query.isDone).toBe(true);
  });

  if (protocol === 'http2') {
    it('streams inserts with acks, keeping BIGINTs exact, and reports a bad row', async () => {
      const target = `INSERTS_${tag}`;
      await client.executeStatement(
        `CREATE STREAM ${target} (id VARCHAR KEY, n BIGINT) WITH (KAFKA_TOPIC='kc_inserts_${run}', PARTITIONS=1, VALUE_FORMAT='JSON');`,
      );
      await client.insertInto(target, { ID: 'single', N: BIG });
      const inserts = await client.streamInserts(target);
      const acks = await Promise.all(
        Array.from({ length: 50 }, (_, i) => inserts.insert({ ID: `row${i}`, N: BIG + BigInt(i) })),
      );
      expect(acks.map((ack) => ack.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
      await inserts.end();

      const result = await client.executeQuery(`SELECT id, n FROM ${target} EMIT CHANGES LIMIT 51;`, {
        properties: { 'auto.offset.reset': 'earliest' },
      });
      const byId = new Map(result.rows.map((row) => [row.get('ID'), row.get('N')]));
      expect(byId.size).toBe(51);

      // a row the server refuses fails on its own; the rows around it are still acknowledged
      const mixed = await client.streamInserts(target);
      const [good, bad, after] = await Promise.allSettled([
        mixed.insert({ ID: 'good1', N: 1 }),
        mixed.insert({ ID: 'dup', id: 'dup-again', N: 2 }),
        mixed.insert({ ID: 'good2', N: 3 }),
      ]);
      expect(good).toEqual({ status: 'fulfilled', value: { seq: 0 } });
      expect(after).toEqual({ status: 'fulfilled', value: { seq: 2 } });
      const rowError = (bad as PromiseRejectedResult).reason as KsqlRequestError;
      expect(rowError).toBeInstanceOf(KsqlRequestError);
      expect(rowError.message).toMatch(/Duplicate column name: ID/);
      await expect(mixed.end()).rejects.toBe(rowError);

      const unknown = await client.streamInserts('no_such_stream').catch((e: unknown) => e);
      expect(unknown).toBeInstanceOf(KsqlRequestError);
      expect((unknown as KsqlRequestError).errorCode).toBe(40001);

      // written and read back exactly, not rounded to the nearest double
      expect([byId.get('single'), byId.get('row49')]).toEqual([BIG, BIG + 49n]);
    });
  } else {
    it('refuses inserts-stream up front over HTTP/1.1 with what to use instead', async () => {
      const error = await client.insertInto(stream, { ID: 'x', N: 1 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KsqlError);
      expect((error as KsqlError).hint).toMatch(/INSERT INTO … VALUES/);
    });
  }
});

describe('protocol negotiation', () => {
  it('auto picks HTTP/2 when the server accepts h2c prior knowledge', async () => {
    const client = new KsqlClient({ url: server.url });
    try {
      expect(await client.protocol()).toBe('HTTP/2');
    } finally {
      client.close();
    }
  });

  it('auto falls back to HTTP/1.1 against a server that does not speak HTTP/2', async () => {
    const http = await import('node:http');
    // A plain HTTP/1.1 front that forwards to the dev server, as a reverse proxy without h2c would.
    const proxy = http.createServer((req, res) => {
      const upstream = http.request(
        `${server.url}${req.url}`,
        { method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const { port } = proxy.address() as { port: number };
    const client = new KsqlClient({ url: `http://127.0.0.1:${port}` });
    try {
      expect(await client.protocol()).toBe('HTTP/1.1');
      expect((await client.serverInfo()).ksqlServiceId).toBe(`kc_${run}_`);
      const forced = new KsqlClient({ url: `http://127.0.0.1:${port}`, protocol: 'http2' });
      const error = await forced.serverInfo().catch((e: unknown) => e);
      forced.close();
      expect(error).toBeInstanceOf(KsqlConnectionError);
      expect((error as Error).message).toMatch(/did not accept HTTP\/2/);
    } finally {
      client.close();
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });
});

describe('TLS', () => {
  let dir: string;
  let cert: string;
  let key: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ksql-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    key = readFileSync(join(dir, 'key.pem'), 'utf8');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A TLS front forwarding to the dev server, like the load balancer in front of Confluent Cloud ksqlDB. */
  async function tlsFront(kind: 'h1-only' | 'h2-alpn'): Promise<{ url: string; close: () => Promise<void> }> {
    const http = await import('node:http');
    const forward = (req: import('node:http').IncomingMessage | import('node:http2').Http2ServerRequest, res: any) => {
      const headers: Record<string, string> = {};
      for (const name of ['accept', 'content-type', 'authorization']) {
        const value = req.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      const upstream = http.request(`${server.url}${req.url}`, { method: req.method, headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, {
          'content-type': answer.headers['content-type'] ?? 'application/json',
        });
        answer.pipe(res);
      });
      (req as NodeJS.ReadableStream).pipe(upstream);
    };
    const front =
      kind === 'h1-only'
        ? (await import('node:https')).createServer({ key, cert }, forward)
        : (await import('node:http2')).createSecureServer({ key, cert, allowHTTP1: true }, forward);
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    const { port } = front.address() as { port: number };
    return {
      url: `https://127.0.0.1:${port}`,
      close: () =>
        new Promise<void>((resolve) => {
          (front as { closeAllConnections?: () => void }).closeAllConnections?.();
          front.close(() => resolve());
          setTimeout(resolve, 500);
        }),
    };
  }

  it('uses h2 via ALPN when the TLS endpoint offers it, and verifies the server with the given CA', async () => {
    const front = await tlsFront('h2-alpn');
    const client = new KsqlClient({ url: front.url, tls: { ca: cert } });
    try {
      expect(await client.protocol()).toBe('HTTP/2');
      expect((await client.serverInfo()).ksqlServiceId).toBe(`kc_${run}_`);
    } finally {
      client.close();
      await front.close();
    }
  });

  it('falls back to HTTP/1.1 when the TLS endpoint has no h2, and queries still stream', async () => {
    const front = await tlsFront('h1-only');
    const client = new KsqlClient({ url: front.url, tls: { ca: cert } });
    try {
      expect(await client.protocol()).toBe('HTTP/1.1');
      const result = await client.executeQuery(
        `SELECT label FROM READINGS_HTTP1_${run.toUpperCase()} EMIT CHANGES LIMIT 3;`,
        {
          properties: { 'auto.offset.reset': 'earliest' },
        },
      );
      expect(result.rows).toHaveLength(3);
    } finally {
      client.close();
      await front.close();
    }
  });

  it('an untrusted certificate is a TLS error that says what to check', async () => {
    const front = await tlsFront('h1-only');
    const client = new KsqlClient({ url: front.url });
    try {
      const error = await client.serverInfo().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KsqlConnectionError);
      expect((error as Error).message).toMatch(/^TLS connection to ksqlDB at https:\/\/127\.0\.0\.1:\d+ failed \(/);
      expect((error as KsqlConnectionError).hint).toMatch(/CA certificate/);
    } finally {
      client.close();
      await front.close();
    }
  });
});

describe('applyTemplates', () => {
  /** The real templates with every topic renamed for this run, so the test never touches the demo's topics. */
  function templatesForRun(): string {
    const dir = mkdtempSync(join(tmpdir(), 'ksql-templates-'));
    cpSync(TEMPLATES_DIR, dir, { recursive: true });
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.sql'))) {
      const text = readFileSync(join(dir, file), 'utf8')
        .replace(/KAFKA_TOPIC = '([^']+)'/g, (_m, t: string) => `KAFKA_TOPIC = 'kc_${t}_${run}'`)
        .replace(
          /\b(orders_placed|jobs_created|job_status|joblocation|vehicles|truck_tracker)\b/gi,
          (name) => `${name}_t${run}`,
        );
      writeFileSync(join(dir, file), text);
    }
    return dir;
  }

  it('creates everything once; a second run finds it all there and changes nothing', async () => {
    await admin.createTopics({
      topics: [`kc_order_placed_${run}`, `kc_job_created_${run}`].map((topic) => ({ topic, numPartitions: 2 })),
    });
    const dir = templatesForRun();
    const client = new KsqlClient({ url: server.url });
    try {
      const first = await applyTemplates(client, { dir });
      const names = ['ORDERS_PLACED', 'JOBS_CREATED', 'JOB_STATUS', 'JOBLOCATION', 'VEHICLES', 'TRUCK_TRACKER'].map(
        (n) => `${n}_T${run.toUpperCase()}`,
      );
      expect(first.created).toEqual(names);
      expect(first.existing).toEqual([]);
      expect(first.statements.find((s) => s.name === names[2])?.queryId).toMatch(/^CSAS_/);
      const queriesBefore = (await client.listQueries()).map((q) => q.id).sort();

      const second = await applyTemplates(client, { dir });
      expect(second.created).toEqual([]);
      expect(second.existing).toEqual(names);
      expect((await client.listQueries()).map((q) => q.id).sort()).toEqual(queriesBefore);
    } finally {
      client.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('names the file and line of a failing statement', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ksql-templates-'));
    writeFileSync(join(dir, '01-ok.sql'), 'SHOW STREAMS;\n');
    writeFileSync(
      join(dir, '02-bad.sql'),
      `-- a comment\n\nCREATE STREAM bad_${run} (a INT)\n  WITH (KAFKA_TOPIC='kc_missing_${run}', VALUE_FORMAT='JSON');\n`,
    );
    const client = new KsqlClient({ url: server.url });
    try {
      const error = await applyTemplates(client, { dir }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KsqlRequestError);
      expect((error as Error).message).toMatch(
        new RegExp(`^${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/02-bad\\.sql:3:\\d+: `),
      );
      expect((error as Error).message).toMatch(/does not exist/);
    } finally {
      client.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
