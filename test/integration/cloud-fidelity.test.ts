import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clusterRbacCrn,
  createConfluentCloud,
  isConfluentApiError,
  restEndpoint,
  type ConfluentApiError,
  type ConfluentCloud,
  type Credentials,
  type KafkaCluster,
  type KafkaRest,
  type KsqlCluster,
} from '../../src/confluent-api/index.js';
import { SecretRegistry } from '../../src/core/redact.js';
import { scaledClock } from '../../src/core/waiter.js';
import { KsqlClient } from '../../src/ksql-client/client.js';
import { KsqlRequestError } from '../../src/ksql-client/errors.js';
import { startCloudEmulatorHarness, type CloudEmulatorHarness } from '../helpers/emulator.js';
import { eventually } from '../helpers/poll.js';
import { stackEndpoints } from '../helpers/stack.js';

// Confluent Cloud's data planes as the real service has them (issue #20), with the emulator backed by the local
// stack: ksqlDB keys and KsqlAdmin bindings that take a while to count, topics whose delete runs on after the 204,
// and the MongoDB Atlas sink with the real plugin's keys and its dead letter queue.
const clock = scaledClock(0.01);
const run = `${process.pid}${Date.now().toString(36)}`;
let dir: string;
let harness: CloudEmulatorHarness;
let cloud: ConfluentCloud;
let envId: string;
let cluster: KafkaCluster;
let saId: string;
let kafkaKey: Credentials;
let kafka: KafkaRest;

async function failure(promise: Promise<unknown>): Promise<ConfluentApiError> {
  try {
    await promise;
  } catch (error) {
    if (isConfluentApiError(error)) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

function plaintext(): Kafka {
  return new Kafka({
    brokers: [stackEndpoints().kafka.plaintext],
    logLevel: logLevel.NOTHING,
    clientId: 'it-fidelity',
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cc-fidelity-it-'));
  harness = await startCloudEmulatorHarness(stackEndpoints(), {
    dir,
    timeScale: 0.001,
    // Long enough (at this scale) for each test to act inside the window it is about.
    durations: { apiKeyMs: 1_000_000, ksqlAuthSyncMs: 3_000_000, connectorMs: 2_000_000, topicDeleteMs: 2_000_000 },
  });
  cloud = createConfluentCloud({
    baseUrl: harness.emulator.url,
    apiKey: harness.emulator.cloudCredentials.key,
    apiSecret: harness.emulator.cloudCredentials.secret,
    clock,
    secrets: new SecretRegistry(),
  });
  envId = (await cloud.environments.create({ displayName: `it-fidelity-${run}` })).id;
  const created = await cloud.clusters.create({
    displayName: 'it',
    environmentId: envId,
    cloud: 'aws',
    region: 'us-east-2',
  });
  cluster = await cloud.waiters.waitForClusterProvisioned(cloud.clusters, created.id, envId, { clock });
  saId = (await cloud.serviceAccounts.create({ displayName: `it-fidelity-${run}` })).id;
  const binding = await cloud.roleBindings.create({
    principal: `User:${saId}`,
    roleName: 'CloudClusterAdmin',
    crnPattern: clusterRbacCrn(cluster),
  });
  kafkaKey = (await cloud.apiKeys.create({ ownerId: saId, resourceId: cluster.id, displayName: 'it-kafka' }))
    .credentials;
  kafka = cloud.kafka({ restEndpoint: restEndpoint(cluster)!, clusterId: cluster.id, credentials: kafkaKey });
  await cloud.waiters.waitForRoleBindingEffective(binding.id, cloud.waiters.topicListAllowed(kafka), { clock });
  await cloud.waiters.waitForApiKeyUsable(kafka, kafkaKey.key, { clock });
});

afterAll(async () => {
  if (harness) {
    // Deleting the environment deletes its cluster, and with it the topics made in it (the DLQ too).
    if (envId) {
      await cloud.environments.delete(envId);
      await cloud.waiters.waitForEnvironmentDeleted(cloud.environments, envId, { clock });
    }
    expect(harness.emulator.responseViolations).toEqual([]);
    expect(harness.emulator.internalErrors).toEqual([]);
    await harness.close();
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a ksqlDB cluster takes statements only once its key and KsqlAdmin binding count there', () => {
  let ksql: KsqlCluster;

  afterAll(async () => {
    if (!ksql) return;
    await cloud.ksqlClusters.delete(ksql.id, envId);
    await cloud.waiters.waitForKsqlClusterDeleted(cloud.ksqlClusters, ksql.id, envId, { clock });
    await harness.reapKsqlServers();
  });

  const client = (url: string, key: Credentials, authRetryMs?: number) =>
    new KsqlClient({ url, auth: { username: key.key, password: key.secret }, authRetryMs, clock });

  it('its endpoint answers 503 while PROVISIONING, then /info before statements; the readiness wait waits for a statement', async () => {
    ksql = await cloud.ksqlClusters.create({
      displayName: `it-ksql-${run}`.slice(0, 32),
      environmentId: envId,
      kafkaClusterId: cluster.id,
      credentialIdentityId: saId,
      csu: 4,
    });
    await cloud.roleBindings.create({
      principal: `User:${saId}`,
      roleName: 'KsqlAdmin',
      crnPattern: ksql.metadata.resource_name!,
    });
    const key = (await cloud.apiKeys.create({ ownerId: saId, resourceId: ksql.id, displayName: 'it-ksql' }))
      .credentials;
    const endpoint = ksql.status.http_endpoint!;
    expect(ksql.status.phase).toBe('PROVISIONING');
    expect((await fetch(`${endpoint}/info`)).status).toBe(503);

    await eventually(
      async () => ((await cloud.ksqlClusters.get(ksql.id, envId)).status.phase === 'PROVISIONED' ? true : undefined),
      30_000,
      'the ksqlDB cluster to be PROVISIONED',
    );
    const url = (await cloud.ksqlClusters.get(ksql.id, envId)).status.http_endpoint!;
    // /info only authenticates: once the key counts it answers, while the cluster still refuses statements.
    const info = await eventually(
      () =>
        client(url, key)
          .serverInfo()
          .then(
            (value) => value,
            () => undefined,
          ),
      30_000,
      'the ksqlDB key to be accepted by /info',
    );
    expect(info.ksqlServiceId).toMatch(/^pksqlc-/);
    const refused = await client(url, key)
      .listStreams()
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(KsqlRequestError);
    expect((refused as KsqlRequestError).httpStatus).toBe(403);

    const progress: string[] = [];
    await cloud.waiters.waitForKsqlClusterReady(cloud.http, cloud.ksqlClusters, ksql.id, envId, key, {
      clock,
      timeoutMs: 60_000,
      onProgress: (status) => progress.push(status),
    });
    expect(progress.some((status) => /KsqlAdmin role binding is not effective yet .*HTTP 403/.test(status))).toBe(true);
    expect(await client(url, key).listStreams()).toEqual(expect.any(Array));
  });

  it('statements right after a new key and binding are made are retried through 401 and 403 within the window', async () => {
    const url = (await cloud.ksqlClusters.get(ksql.id, envId)).status.http_endpoint!;
    const other = (await cloud.serviceAccounts.create({ displayName: `it-fidelity-other-${run}` })).id;
    await cloud.roleBindings.create({
      principal: `User:${other}`,
      roleName: 'KsqlAdmin',
      crnPattern: ksql.metadata.resource_name!,
    });
    const key = (await cloud.apiKeys.create({ ownerId: other, resourceId: ksql.id, displayName: 'it-other' }))
      .credentials;
    const once = await client(url, key)
      .listStreams()
      .catch((error: unknown) => error);
    expect((once as KsqlRequestError).httpStatus).toBe(401);
    expect(await client(url, key, 60_000).listStreams()).toEqual(expect.any(Array));
  });
});

describe('Kafka REST topics', () => {
  it('a create answers 0 partitions and replication factor 0; a read shows them', async () => {
    const name = `it-fid-counts-${run}`;
    const created = await kafka.createTopic({ name, partitions: 2 });
    expect([created.partitions_count, created.replication_factor]).toEqual([0, 0]);
    const read = await kafka.getTopic(name);
    expect([read.partitions_count, read.replication_factor]).toEqual([2, 3]);
    await kafka.deleteTopic(name);
  });

  it('a name whose delete still runs is refused "marked for deletion"; createTopic waits that out', async () => {
    const name = `it-fid-again-${run}`;
    await kafka.createTopic({ name, partitions: 1 });
    await kafka.deleteTopic(name);
    expect(await kafka.findByName(name)).toBeUndefined();
    const hasty = await failure(kafka.createTopic({ name, partitions: 1 }, { markedForDeletionTimeoutMs: 1 }));
    expect([hasty.status, hasty.code]).toEqual([400, '40002']);
    expect(hasty.message).toMatch(/marked for deletion/);
    expect(hasty.message).not.toContain('\n');
    const mark = harness.mark();
    await kafka.createTopic({ name, partitions: 1 });
    const refusals = harness
      .exchangesSince(mark)
      .filter((e) => e.method === 'POST' && e.response.status === 400 && e.response.rawBody.includes('marked'));
    expect(refusals.length).toBeGreaterThan(0);
    expect((await kafka.getTopic(name)).partitions_count).toBe(1);
    await kafka.deleteTopic(name);
  });
});

describe('the MongoDB Atlas sink as the real plugin has it', () => {
  const topic = `it-fid-sink-${run}`;
  const database = `it_fid_${run}`;
  const name = `sink-${run}`;
  // The real plugin's keys; no kafka.auth.mode (KAFKA_API_KEY by default) and no connection.user (X.509 logins have
  // none), and no errors.tolerance (all by default, with a dead letter queue).
  const config = (): Record<string, string> => ({
    'connector.class': 'MongoDbAtlasSink',
    'kafka.api.key': kafkaKey.key,
    'kafka.api.secret': kafkaKey.secret,
    topics: topic,
    'input.data.format': 'JSON',
    'input.key.format': 'STRING',
    'connection.host': 'cluster0.example.mongodb.net',
    'connection.password': 'not-used-locally',
    'mongodb.instance.type': 'MONGODB_ATLAS',
    'mongodb.auth.mechanism': 'SCRAM-SHA-256',
    'delete.write.strategy': 'DefaultDeleteOneModelStrategy',
    'max.poll.records': '500',
    'max.poll.interval.ms': '300000',
    'auto.restart.on.user.error': 'true',
    database,
    collection: 'job_status',
    'doc.id.strategy': 'BsonOidStrategy',
    'tasks.max': '1',
  });

  afterAll(async () => {
    await cloud
      .connectors(envId, cluster.id)
      .delete(name)
      .catch(() => undefined);
    await kafka.deleteTopic(topic).catch(() => undefined);
    const mongo = new MongoClient(stackEndpoints().ferretdb.uri);
    try {
      await mongo.connect();
      await mongo.db(database).dropDatabase();
    } finally {
      await mongo.close();
    }
  });

  it('validates, reports type unknown and STOPPED tasks while provisioning, and masks kafka.api.key on reads', async () => {
    await kafka.createTopic({ name: topic, partitions: 1 });
    const connectors = cloud.connectors(envId, cluster.id);
    expect((await connectors.validate('MongoDbAtlasSink', { ...config(), name })).error_count).toBe(0);
    await connectors.create(name, config());
    const provisioning = await connectors.status(name);
    expect(provisioning.connector.state).toBe('PROVISIONING');
    expect(provisioning.type).toBe('unknown');
    expect(provisioning.tasks).toEqual([{ id: 0, state: 'STOPPED', worker_id: expect.any(String), msg: '' }]);
    const read = await connectors.get(name);
    expect(read.config['kafka.api.key']).toBe('****************');
    expect(read.config['kafka.api.secret']).toBe('****************');
    expect(JSON.stringify(read)).not.toContain(kafkaKey.key);
    const running = await cloud.waiters.waitForConnectorRunning(connectors, name, { clock, timeoutMs: 120_000 });
    expect(running.type).toBe('unknown');
  });

  it('a record it cannot read goes to its dead letter queue dlq-<connector id>, and it keeps RUNNING', async () => {
    const connectors = cloud.connectors(envId, cluster.id);
    const id = await connectors.id(name);
    expect(id).toMatch(/^lcc-/);
    const producer = plaintext().producer();
    await producer.connect();
    try {
      await producer.send({ topic, messages: [{ key: 'bad', value: 'this is not JSON {' }] });
      await producer.send({ topic, messages: [{ key: 'good', value: JSON.stringify({ job_id: 'good', ok: true }) }] });
    } finally {
      await producer.disconnect();
    }
    const mongo = new MongoClient(stackEndpoints().ferretdb.uri);
    try {
      await mongo.connect();
      await eventually(
        async () => ((await mongo.db(database).collection('job_status').countDocuments()) === 1 ? true : undefined),
        60_000,
        'the good record in MongoDB',
      );
    } finally {
      await mongo.close();
    }
    const admin = plaintext().admin();
    await admin.connect();
    try {
      const dead = await eventually(
        async () => {
          if (!(await admin.listTopics()).includes(`dlq-${id}`)) return undefined;
          const offsets = await admin.fetchTopicOffsets(`dlq-${id}`);
          const records = offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
          return records > 0 ? records : undefined;
        },
        60_000,
        `a record in dlq-${id}`,
      );
      expect(dead).toBe(1);
    } finally {
      await admin.disconnect();
    }
    const status = await connectors.status(name);
    expect(status.connector.state).toBe('RUNNING');
    expect(status.tasks?.map((task) => task.state)).toEqual(['RUNNING']);
  });
});
