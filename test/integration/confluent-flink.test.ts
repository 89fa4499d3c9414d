import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createConfluentCloud,
  isConfluentApiError,
  restEndpoint,
  schemaRegistryEndpoint,
  type ConfluentApiError,
  type ConfluentCloud,
  type FlinkStatements,
} from '../../src/confluent-api/index.js';
import { waitForComputePoolDeleted, waitForComputePoolProvisioned } from '../../src/confluent-api/compute-pools.js';
import { waitForStatementDeleted, waitForStatementRunning } from '../../src/confluent-api/flink-statements.js';
import { waitForSchemaRegistry } from '../../src/confluent-api/schema-registry-clusters.js';
import { SecretRegistry } from '../../src/core/redact.js';
import { scaledClock } from '../../src/core/waiter.js';
import {
  checkExchangeLog,
  startConfluentCloudEmulator,
  type RunningEmulator,
} from '../emulators/confluent-cloud/index.js';
import { flinkStack, testKafka, uniqueSuffix, type TestKafka } from '../helpers/flink.js';
import { eventually } from '../helpers/poll.js';
import { stackEndpoints } from '../helpers/stack.js';

/**
 * The Confluent Cloud Flink APIs (fcpm/v2 compute pools and regions, sql/v1 statements) through src/confluent-api,
 * against the strict emulator, whose statements really run on the local Flink over the local Kafka.
 */
const scale = 0.01;
const clock = scaledClock(scale);
const waits = { clock };
const suffix = uniqueSuffix().replace(/_/g, '');
const jobsTopic = `fl_jobs_${suffix}`;
const ordersTopic = `fl_orders_${suffix}`;
const matches = `fl_matches_${suffix}`;
let dir: string;
let emulator: RunningEmulator;
let cloud: ConfluentCloud;
let kafka: TestKafka;
let statements: FlinkStatements;
let envId: string;
let envName: string;
let clusterName: string;
let poolId: string;
let sa: string;

async function failure(promise: Promise<unknown>): Promise<ConfluentApiError> {
  try {
    await promise;
  } catch (error) {
    if (isConfluentApiError(error)) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

function succeeds<T>(call: () => Promise<T>): Promise<T> {
  return eventually(() => call().catch(() => undefined), 30_000, 'the call to succeed', 100);
}

const properties = () => ({ 'sql.current-catalog': envName, 'sql.current-database': clusterName });

beforeAll(async () => {
  const stack = stackEndpoints();
  const flink = await flinkStack();
  kafka = await testKafka(`confluent-flink-it-${suffix}`);
  dir = mkdtempSync(join(tmpdir(), 'confluent-flink-it-'));
  emulator = await startConfluentCloudEmulator({
    timeScale: scale,
    // Deletes take 3 s here, long enough to see a statement DELETING and a pool DEPROVISIONING.
    durations: { statementDeleteMs: 300_000, computePoolDeleteMs: 300_000 },
    logFile: join(dir, 'exchanges.jsonl'),
    kafka: { plaintext: stack.kafka.plaintext, saslSsl: stack.kafka.saslSsl, users: stack.kafka.users },
    flink: { gatewayUrl: flink.gatewayUrl, restUrl: flink.restUrl },
  });
  cloud = createConfluentCloud({
    baseUrl: emulator.url,
    apiKey: emulator.cloudCredentials.key,
    apiSecret: emulator.cloudCredentials.secret,
    clock,
    secrets: new SecretRegistry(),
  });
  envName = `flink-it-${suffix}`;
  envId = (await cloud.environments.create({ displayName: envName })).id;
  clusterName = 'flink-it';
  const created = await cloud.clusters.create({
    displayName: clusterName,
    environmentId: envId,
    cloud: 'aws',
    region: 'us-east-2',
  });
  const cluster = await cloud.waiters.waitForClusterProvisioned(cloud.clusters, created.id, envId, waits);
  sa = (await cloud.serviceAccounts.create({ displayName: `flink-it-${suffix}` })).id;
  const kafkaKey = (await cloud.apiKeys.create({ ownerId: sa, resourceId: cluster.id, displayName: 'k' })).credentials;
  await cloud.roleBindings.create({
    principal: `User:${sa}`,
    roleName: 'CloudClusterAdmin',
    crnPattern: cluster.metadata.resource_name!.replace(/\/kafka=[^/]+$/, ''),
  });
  const rest = cloud.kafka({ restEndpoint: restEndpoint(cluster)!, clusterId: cluster.id, credentials: kafkaKey });
  for (const topic of [jobsTopic, ordersTopic]) await succeeds(() => rest.createTopic({ name: topic, partitions: 1 }));
  // The input topics' data contracts, which Flink reads their columns from.
  const registry = await waitForSchemaRegistry(cloud.schemaRegistryClusters, envId, waits);
  const srKey = (await cloud.apiKeys.create({ ownerId: sa, resourceId: registry.id, displayName: 'sr' })).credentials;
  for (const subject of [`${jobsTopic}-value`, `${ordersTopic}-value`, `${matches}-*`])
    await cloud.roleBindings.create({
      principal: `User:${sa}`,
      roleName: 'ResourceOwner',
      crnPattern: `${registry.metadata.resource_name}/subject=${subject}`,
    });
  const sr = cloud.schemaRegistry({ endpoint: schemaRegistryEndpoint(registry)!, credentials: srKey });
  const schema = (properties: Record<string, string>) =>
    JSON.stringify({
      type: 'object',
      properties: Object.fromEntries(Object.entries(properties).map(([k, t]) => [k, { type: t }])),
    });
  await succeeds(() => sr.register(`${jobsTopic}-value`, schema({ job_id: 'integer', price: 'integer' }), 'JSON'));
  await succeeds(() => sr.register(`${ordersTopic}-value`, schema({ job_id: 'integer', quoted: 'integer' }), 'JSON'));
  for (let i = 1; i <= 3; i++) {
    const at = String(Date.now());
    await kafka.producer.send({
      topic: jobsTopic,
      messages: [{ key: String(i), value: JSON.stringify({ job_id: i, price: 100 }), timestamp: at }],
    });
    await kafka.producer.send({
      topic: ordersTopic,
      messages: [{ key: String(i), value: JSON.stringify({ job_id: i, quoted: 90 + i * 5 }), timestamp: at }],
    });
  }
}, 300_000);

afterAll(async () => {
  await emulator?.close();
  await kafka?.close(suffix);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Confluent Cloud Flink against the emulator, run on the local Flink', () => {
  it('finds the region and its endpoint; a compute pool provisions, refuses a size Confluent does not sell', async () => {
    const region = await cloud.flinkRegions.get('aws', 'us-east-2');
    expect(region.id).toBe('aws.us-east-2');
    expect(region.http_endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const badSize = await failure(
      cloud.computePools.create({
        displayName: 'x',
        environmentId: envId,
        cloud: 'aws',
        region: 'us-east-2',
        maxCfu: 7,
      }),
    );
    expect(badSize.status).toBe(422);
    const pool = await cloud.computePools.create({
      displayName: `pool-${suffix}`,
      environmentId: envId,
      cloud: 'aws',
      region: 'us-east-2',
      maxCfu: 5,
    });
    expect(pool.id).toMatch(/^lfcp-/);
    expect(pool.status.phase).toBe('PROVISIONING');
    poolId = (await waitForComputePoolProvisioned(cloud.computePools, pool.id, envId, waits)).id;
    const resized = await cloud.computePools.update(poolId, envId, { maxCfu: 10 });
    expect(resized.spec.max_cfu).toBe(10);

    // A Flink API key is scoped to the region and the environment; it needs FlinkDeveloper to run statements.
    const flinkKey = await cloud.apiKeys.create({
      ownerId: sa,
      resourceId: region.id,
      flinkEnvironmentId: envId,
      displayName: 'flink',
    });
    statements = cloud.flinkStatements({
      endpoint: region.http_endpoint,
      organizationId: emulator.state.organizationId,
      environmentId: envId,
      credentials: flinkKey.credentials,
    });
    const forbidden = await eventually(async () => {
      const error = await failure(statements.list());
      return error.status === 403 ? error : undefined;
    });
    expect(forbidden.message).toContain('FlinkDeveloper');
    await cloud.roleBindings.create({
      principal: `User:${sa}`,
      roleName: 'FlinkDeveloper',
      crnPattern: `crn://confluent.cloud/organization=${emulator.state.organizationId}/environment=${envId}`,
    });
    expect(await succeeds(() => statements.list())).toEqual([]);
  });

  it('CREATE TABLE completes and makes the topic and its value subject; the same name again is a 409', async () => {
    const create = await statements.create({
      name: `${suffix}-matches-table`,
      statement: `CREATE TABLE ${matches} (job_id BIGINT, outcome STRING) DISTRIBUTED BY (job_id) INTO 2 BUCKETS WITH ('changelog.mode' = 'append', 'key.format' = 'raw', 'value.format' = 'json-registry')`,
      properties: properties(),
      computePoolId: poolId,
      principal: sa,
    });
    expect(create.status.phase).toBe('PENDING');
    const done = await waitForStatementRunning(statements, create.name, waits);
    expect(done.status.phase).toBe('COMPLETED');
    expect(await kafka.admin.listTopics()).toContain(matches);
    expect([...emulator.state.schemaRegistries.get(envId)!.subjects.keys()]).toContain(`${matches}-value`);
    const again = await failure(
      statements.create({
        name: create.name,
        statement: 'SELECT 1',
        properties: properties(),
        computePoolId: poolId,
        principal: sa,
      }),
    );
    expect(again.status).toBe(409);
  });

  it('an INSERT runs as a job on the local Flink; a SELECT pages its rows with op codes and string values', async () => {
    const insert = await statements.create({
      name: `${suffix}-matches`,
      statement:
        `INSERT INTO ${matches} SELECT o.job_id, CASE WHEN o.quoted >= j.price THEN 'ACCEPTED' ELSE 'REJECTED' END ` +
        `FROM ${jobsTopic} j JOIN ${ordersTopic} o ON o.job_id = j.job_id ` +
        "AND o.`$rowtime` BETWEEN j.`$rowtime` - INTERVAL '1' HOUR AND j.`$rowtime` + INTERVAL '1' HOUR",
      properties: properties(),
      computePoolId: poolId,
      principal: sa,
    });
    expect(
      (await waitForStatementRunning(statements, insert.name, { ...waits, timeoutMs: 180_000 })).status.phase,
    ).toBe('RUNNING');
    expect((await cloud.computePools.get(poolId, envId)).status.current_cfu).toBeGreaterThanOrEqual(1);
    const select = await statements.create({
      name: `${suffix}-peek`,
      statement: `SELECT job_id, outcome FROM ${matches}`,
      properties: properties(),
      computePoolId: poolId,
      principal: sa,
    });
    await waitForStatementRunning(statements, select.name, { ...waits, timeoutMs: 180_000 });
    const rows: { op?: number; row: unknown[] }[] = [];
    let token: string | undefined;
    await eventually(
      async () => {
        const page = await statements.results(select.name, token);
        rows.push(...page.rows);
        expect(page.next).toBeDefined();
        token = page.next;
        return rows.length >= 3 ? true : undefined;
      },
      120_000,
      'three rows',
      500,
    );
    expect(rows.map((r) => r.row).sort()).toEqual([
      ['1', 'REJECTED'],
      ['2', 'ACCEPTED'],
      ['3', 'ACCEPTED'],
    ]);
    expect(rows.every((r) => (r.op ?? 0) === 0)).toBe(true);
    const described = await statements.get(select.name);
    expect(described.status.traits?.schema?.columns?.map((c) => c.name)).toEqual(['job_id', 'outcome']);
    await statements.delete(select.name);
    expect((await statements.get(select.name)).status.phase).toBe('DELETING');
    await waitForStatementDeleted(statements, select.name, waits);
  });

  it('stops and resumes a statement through PUT; a stale resource_version is a 409', async () => {
    const name = `${suffix}-matches`;
    const before = await statements.get(name);
    const stopped = await statements.setStopped(name, true);
    expect(stopped.spec.stopped).toBe(true);
    await eventually(async () => ((await statements.get(name)).status.phase === 'STOPPED' ? true : undefined), 120_000);
    // Writing back what was read before the stop: the service refuses it.
    const stale = await failure(
      cloud.http.request({
        method: 'PUT',
        path: `${emulator.flinkEndpoint}/sql/v1/organizations/${before.organization_id}/environments/${envId}/statements/${name}`,
        body: {
          name,
          organization_id: before.organization_id,
          environment_id: envId,
          metadata: before.metadata,
          spec: { ...before.spec, stopped: false },
        },
        credentials: (statements as unknown as { target: { credentials: { key: string; secret: string } } }).target
          .credentials,
        followRedirects: true,
      }),
    );
    expect(stale.status).toBe(409);
    await statements.setStopped(name, false);
    expect((await waitForStatementRunning(statements, name, { ...waits, timeoutMs: 180_000 })).status.phase).toBe(
      'RUNNING',
    );
  });

  it('a statement Flink refuses ends FAILED with its reason as an exception, reported in one line', async () => {
    const bad = await statements.create({
      name: `${suffix}-bad`,
      statement: `INSERT INTO ${matches} SELECT no_such_column, 'x' FROM ${jobsTopic}`,
      properties: properties(),
      computePoolId: poolId,
      principal: sa,
    });
    const error = await waitForStatementRunning(statements, bad.name, { ...waits, timeoutMs: 180_000 }).catch(
      (e: Error) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(new RegExp(`^Flink statement ${bad.name} FAILED: .*no_such_column`));
    expect((error as Error).message).not.toContain('\n');
    const exceptions = await statements.exceptions(bad.name);
    expect(exceptions[0]?.message).toContain('no_such_column');
    await statements.delete(bad.name);
  });

  it('a pool with statements cannot be deleted; once they are gone it deprovisions and disappears', async () => {
    const refused = await failure(cloud.computePools.delete(poolId, envId));
    expect(refused.status).toBe(400);
    expect(refused.message).toContain('still has statements');
    for (const statement of await statements.list())
      if (statement.status.phase !== 'DELETING') await statements.delete(statement.name);
    for (const statement of await statements.list()) await waitForStatementDeleted(statements, statement.name, waits);
    expect(await statements.list()).toEqual([]);
    await cloud.computePools.delete(poolId, envId);
    expect((await cloud.computePools.get(poolId, envId)).status.phase).toBe('DEPROVISIONING');
    await waitForComputePoolDeleted(cloud.computePools, poolId, envId, waits);
    expect(await cloud.computePools.find(poolId, envId)).toBeUndefined();
  });

  it('every exchange was a valid request and a documented answer of the official specs', () => {
    expect(emulator.internalErrors).toEqual([]);
    expect(emulator.responseViolations).toEqual([]);
    expect(checkExchangeLog(emulator.logFile!, emulator.specs!).violations).toEqual([]);
  });
});
