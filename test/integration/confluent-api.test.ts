import { readFileSync } from 'node:fs';
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
  bootstrapServers,
  type ConfluentApiError,
  type ConfluentCloud,
  type Credentials,
  type KafkaCluster,
  type KafkaRest,
} from '../../src/confluent-api/index.js';
import { SecretRegistry } from '../../src/core/redact.js';
import { scaledClock } from '../../src/core/waiter.js';
import { startConfluentCloudEmulator, type RunningEmulator } from '../emulators/confluent-cloud/index.js';
import { localKsqlBackend } from '../emulators/confluent-cloud/ksql-backend.js';
import { eventually } from '../helpers/poll.js';
import { stackEndpoints } from '../helpers/stack.js';

const clock = scaledClock(0.01);
const run = `${process.pid}${Date.now().toString(36)}`;
let dir: string;
let emulator: RunningEmulator;
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

beforeAll(async () => {
  const stack = stackEndpoints();
  dir = mkdtempSync(join(tmpdir(), 'cc-emulator-it-'));
  emulator = await startConfluentCloudEmulator({
    timeScale: 0.001,
    durations: { ksqlClusterMs: 2_000_000, apiKeyMs: 1_000_000 },
    logFile: join(dir, 'exchanges.jsonl'),
    kafka: { plaintext: stack.kafka.plaintext, saslSsl: stack.kafka.saslSsl, users: stack.kafka.users },
    connect: { url: stack.connect.url, mongoUri: stack.ferretdb.uri },
    ksql: localKsqlBackend(stack.kafka.plaintext),
  });
  cloud = createConfluentCloud({
    baseUrl: emulator.url,
    apiKey: emulator.cloudCredentials.key,
    apiSecret: emulator.cloudCredentials.secret,
    clock,
    secrets: new SecretRegistry(),
  });
  envId = (await cloud.environments.create({ displayName: `it-${run}` })).id;
  const created = await cloud.clusters.create({
    displayName: 'it',
    environmentId: envId,
    cloud: 'aws',
    region: 'us-east-2',
  });
  cluster = await cloud.waiters.waitForClusterProvisioned(cloud.clusters, created.id, envId, { clock });
  saId = (await cloud.serviceAccounts.create({ displayName: `it-app-${run}` })).id;
  kafkaKey = (await cloud.apiKeys.create({ ownerId: saId, resourceId: cluster.id, displayName: 'it-kafka' }))
    .credentials;
  kafka = cloud.kafka({ restEndpoint: restEndpoint(cluster)!, clusterId: cluster.id, credentials: kafkaKey });
  // New keys become usable after apiKeyMs (1 s at this time scale): until then the API answers 401.
  await eventually(
    () =>
      kafka.listTopics().then(
        () => true,
        (error: { status?: number }) => (error.status === 401 ? undefined : true),
      ),
    10_000,
    'the Kafka API key to become usable',
  );
});

afterAll(async () => {
  await emulator?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Kafka REST v3 against the emulator backed by the local broker', () => {
  it('a new key is rejected (HTML 401) until usable, then forbidden (40301) until the role binding takes effect', async () => {
    const stack = stackEndpoints();
    expect(stack.kafka.users.map((u) => u.username)).toContain(kafkaKey.key);
    const fresh = (
      await cloud.apiKeys.create({
        ownerId: saId,
        resourceId: cluster.id,
        displayName: 'it-fresh',
      })
    ).credentials;
    const freshKafka = cloud.kafka({ restEndpoint: restEndpoint(cluster)!, clusterId: cluster.id, credentials: fresh });
    const unauthenticated = await failure(freshKafka.listTopics());
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.shape).toBe('html');

    const forbidden = await failure(kafka.listTopics());
    expect(forbidden.status).toBe(403);
    expect(forbidden.code).toBe('40301');
    expect(forbidden.hint).toMatch(/CloudClusterAdmin/);

    const binding = await cloud.roleBindings.create({
      principal: `User:${saId}`,
      roleName: 'CloudClusterAdmin',
      crnPattern: clusterRbacCrn(cluster),
    });
    await cloud.waiters.waitForRoleBindingEffective(binding.id, cloud.waiters.topicListAllowed(kafka), {
      clock,
      timeoutMs: 60_000,
    });
    const progress: string[] = [];
    await cloud.waiters.waitForApiKeyUsable(freshKafka, fresh.key, {
      clock,
      timeoutMs: 60_000,
      onProgress: (status) => progress.push(status),
    });
    expect(progress.some((status) => status.includes('401'))).toBe(true);
    await cloud.apiKeys.delete(fresh.key);
  });

  it('a Cloud API key is rejected by Kafka REST with its HTML 401 page', async () => {
    const wrong = cloud.kafka({
      restEndpoint: restEndpoint(cluster)!,
      clusterId: cluster.id,
      credentials: emulator.cloudCredentials,
    });
    const error = await failure(wrong.listTopics());
    expect(error.status).toBe(401);
    expect(error.shape).toBe('html');
  });

  it('creates a topic that exists on the local broker, refuses a duplicate with 40002, and deletes it', async () => {
    const name = `it-orders-${run}`;
    const topic = await kafka.createTopic({ name, partitions: 3 });
    // Confluent answers the create before the partitions exist; a read shows them.
    expect([topic.partitions_count, topic.replication_factor]).toEqual([0, 0]);
    expect((await kafka.getTopic(name)).partitions_count).toBe(3);
    const admin = new Kafka({ brokers: [stackEndpoints().kafka.plaintext], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const [meta] = (await admin.fetchTopicMetadata({ topics: [name] })).topics;
      expect(meta?.partitions).toHaveLength(3);
      const duplicate = await failure(kafka.createTopic({ name }));
      expect(duplicate.status).toBe(400);
      expect(duplicate.code).toBe('40002');
      expect(duplicate.message).toContain('already exists');
      expect((await kafka.listTopics()).topics.map((t) => t.topic_name)).toContain(name);
      const badRf = await failure(kafka.createTopic({ name: `${name}-rf`, replicationFactor: 2 }));
      expect(badRf.status).toBe(400);
      await kafka.deleteTopic(name);
      expect(await kafka.findByName(name)).toBeUndefined();
      expect(await admin.listTopics()).not.toContain(name);
    } finally {
      await admin.disconnect();
    }
  });

  it('after a create whose answer is lost, finds the topic instead of failing on "already exists"', async () => {
    const name = `it-lost-${run}`;
    emulator.faults.set({
      rules: [
        { kind: 'drop', when: 'after', count: 1, method: 'POST', path: `/kafka/v3/clusters/${cluster.id}/topics` },
      ],
    });
    const topic = await kafka.createTopic({ name, partitions: 1 });
    emulator.faults.clear();
    expect(topic.topic_name).toBe(name);
    await kafka.deleteTopic(name);
  });

  it('retries the HTML 429 page Kafka REST throttles with', async () => {
    emulator.faults.set({ rules: [{ kind: 'throttle', count: 2, path: `/kafka/v3/clusters/${cluster.id}/topics` }] });
    const { status } = await kafka.listTopics();
    emulator.faults.clear();
    expect(status).toBe(200);
    const throttled = readFileSync(emulator.logFile!, 'utf8')
      .split('\n')
      .filter((line) => line.includes('"fault":"throttle"') && line.includes('text/html'));
    expect(throttled.length).toBeGreaterThanOrEqual(2);
  });

  it('creates, lists and deletes ACLs; a CLUSTER ACL must be named kafka-cluster', async () => {
    const acl = {
      resource_type: 'TOPIC',
      resource_name: 'orders',
      pattern_type: 'LITERAL',
      principal: `User:${saId}`,
      host: '*',
      operation: 'READ',
      permission: 'ALLOW',
    } as const;
    await kafka.createAcls([
      acl,
      { ...acl, resource_type: 'GROUP', resource_name: 'connect-lcc', pattern_type: 'PREFIXED' },
    ]);
    expect(await kafka.listAcls({ principal: `User:${saId}` })).toHaveLength(2);
    const bad = await failure(
      kafka.createAcls([{ ...acl, resource_type: 'CLUSTER', resource_name: 'x', operation: 'DESCRIBE' }]),
    );
    expect(bad.status).toBe(400);
    expect(bad.message).toContain('kafka-cluster');
    const deleted = await kafka.deleteAcls({
      resource_type: 'TOPIC',
      pattern_type: 'LITERAL',
      operation: 'READ',
      permission: 'ALLOW',
      resource_name: 'orders',
    });
    expect(deleted).toHaveLength(1);
  });

  it('the issued Kafka API key works over the local SASL_SSL listener the cluster advertises', async () => {
    const stack = stackEndpoints();
    const client = new Kafka({
      brokers: [bootstrapServers(cluster)!],
      ssl: { ca: [readFileSync(stack.kafka.caFile, 'utf8')] },
      sasl: { mechanism: 'plain', username: kafkaKey.key, password: kafkaKey.secret },
      logLevel: logLevel.NOTHING,
    }).admin();
    await client.connect();
    try {
      expect(Array.isArray(await client.listTopics())).toBe(true);
    } finally {
      await client.disconnect();
    }
  });
});

describe('connect/v1 MongoDbAtlasSink running as MongoSinkConnector on local Connect', () => {
  const sinkConfig = (topic: string, collection: string): Record<string, string> => ({
    'connector.class': 'MongoDbAtlasSink',
    'kafka.auth.mode': 'KAFKA_API_KEY',
    'kafka.api.key': kafkaKey.key,
    'kafka.api.secret': kafkaKey.secret,
    topics: topic,
    'input.data.format': 'JSON',
    'connection.host': 'cluster0.example.mongodb.net',
    'connection.user': 'marketplace',
    'connection.password': 'not-used-locally',
    database: `it_${run}`,
    collection,
    'doc.id.strategy': 'BsonOidStrategy',
    'tasks.max': '1',
  });

  it('rejects a config missing required keys, listing them', async () => {
    const connectors = cloud.connectors(envId, cluster.id);
    const { 'input.data.format': _omitted, ...incomplete } = sinkConfig('t', 'c');
    const error = await connectors.create(`bad-${run}`, incomplete).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain('input.data.format');
    expect(await connectors.list()).not.toContain(`bad-${run}`);
  });

  it('creates the sink, waits for RUNNING, writes records to FerretDB, pauses, resumes, deletes', async () => {
    const topic = `it-status-${run}`;
    await kafka.createTopic({ name: topic, partitions: 1 });
    const connectors = cloud.connectors(envId, cluster.id);
    const name = `sink-${run}`;
    const created = await connectors.create(name, sinkConfig(topic, 'job_status'));
    expect(created.config['kafka.api.secret']).not.toBe(kafkaKey.secret);
    const running = await cloud.waiters.waitForConnectorRunning(connectors, name, { clock, timeoutMs: 120_000 });
    expect(running.connector.state).toBe('RUNNING');

    const producer = new Kafka({ brokers: [stackEndpoints().kafka.plaintext], logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [{ key: 'job-1', value: JSON.stringify({ job_id: 'job-1', status: 'DONE' }) }],
    });
    await producer.disconnect();
    const mongo = new MongoClient(stackEndpoints().ferretdb.uri);
    try {
      const collection = mongo.db(`it_${run}`).collection('job_status');
      let found = 0;
      for (let i = 0; i < 60 && found === 0; i++) {
        found = await collection.countDocuments({ job_id: 'job-1' });
        if (found === 0) await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      expect(found).toBe(1);
      await mongo.db(`it_${run}`).dropDatabase();
    } finally {
      await mongo.close();
    }

    await connectors.pause(name);
    let state = '';
    for (let i = 0; i < 30 && state !== 'PAUSED'; i++) {
      state = (await connectors.status(name)).connector.state;
      if (state !== 'PAUSED') await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(state).toBe('PAUSED');
    await connectors.resume(name);
    await cloud.waiters.waitForConnectorRunning(connectors, name, { clock, timeoutMs: 60_000 });
    const updated = await connectors.updateConfig(name, { ...sinkConfig(topic, 'job_status'), 'max.batch.size': '10' });
    expect(updated.config['max.batch.size']).toBe('10');
    await connectors.delete(name);
    expect(await connectors.findByName(name)).toBeUndefined();
    await kafka.deleteTopic(topic);
  });

  it('a connector with a wrong Kafka API secret ends FAILED and the waiter shows the trace', async () => {
    const connectors = cloud.connectors(envId, cluster.id);
    const name = `broken-${run}`;
    await connectors.create(name, { ...sinkConfig(`it-none-${run}`, 'x'), 'kafka.api.secret': 'wrong-secret' });
    const error = await cloud.waiters
      .waitForConnectorRunning(connectors, name, { clock, timeoutMs: 60_000, failedPolls: 1 })
      .catch((e: Error) => e);
    expect((error as Error).message).toMatch(/FAILED: .*Authentication failed/);
    await connectors.delete(name);
  });
});

describe('ksqlDB cluster backed by the ksqlDB dev server', () => {
  it('provisions, publishes its endpoint, and takes statements with the issued ksqlDB key', async () => {
    const ksql = await cloud.ksqlClusters.create({
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
    const ksqlKey = (await cloud.apiKeys.create({ ownerId: saId, resourceId: ksql.id, displayName: 'it-ksql' }))
      .credentials;
    const ready = await cloud.waiters.waitForKsqlClusterReady(cloud.http, cloud.ksqlClusters, ksql.id, envId, ksqlKey, {
      clock,
      timeoutMs: 120_000,
    });
    expect(ready.status.phase).toBe('PROVISIONED');
    expect(ready.status.http_endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);
    const rejected = await cloud.http.request({
      method: 'GET',
      path: `${ready.status.http_endpoint}/info`,
      credentials: kafkaKey,
      acceptStatuses: [401],
    });
    expect(rejected.status).toBe(401);
    await cloud.ksqlClusters.delete(ksql.id, envId);
  });
});

describe('recorded exchanges', () => {
  it('no response of the emulator broke the spec during these tests', () => {
    expect(emulator.responseViolations).toEqual([]);
  });
});
