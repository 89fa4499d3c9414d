import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clusterRbacCrn,
  createConfluentCloud,
  isConfluentApiError,
  restEndpoint,
} from '../../src/confluent-api/index.js';
import { SecretRegistry } from '../../src/core/redact.js';
import { scaledClock } from '../../src/core/waiter.js';
import {
  checkExchangeLog,
  loadOpenApiSpecs,
  openApiDir,
  startConfluentCloudEmulator,
  type RunningEmulator,
} from '../emulators/confluent-cloud/index.js';
import { stackEndpoints } from '../helpers/stack.js';

const specsDir = openApiDir();
const run = `${process.pid}${Date.now().toString(36)}`;
let dir: string;
let emulator: RunningEmulator;

beforeAll(async () => {
  const stack = stackEndpoints();
  dir = mkdtempSync(join(tmpdir(), 'cc-contract-it-'));
  emulator = await startConfluentCloudEmulator({
    timeScale: 0.001,
    logFile: join(dir, 'exchanges.jsonl'),
    kafka: { plaintext: stack.kafka.plaintext, saslSsl: stack.kafka.saslSsl, users: stack.kafka.users },
    connect: { url: stack.connect.url, mongoUri: stack.ferretdb.uri },
  });
});
afterAll(async () => {
  await emulator?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!specsDir)('contract: data-plane traffic replayed against the official OpenAPI specs', () => {
  it('Kafka REST topics/ACLs and connect/v1 requests and answers all validate, under throttling and 5xx', async () => {
    const clock = scaledClock(0.001);
    const cloud = createConfluentCloud({
      baseUrl: emulator.url,
      apiKey: emulator.cloudCredentials.key,
      apiSecret: emulator.cloudCredentials.secret,
      clock,
      secrets: new SecretRegistry(),
    });
    const env = await cloud.environments.create({ displayName: `contract-${run}` });
    const created = await cloud.clusters.create({
      displayName: 'contract',
      environmentId: env.id,
      cloud: 'aws',
      region: 'us-east-2',
    });
    const cluster = await cloud.waiters.waitForClusterProvisioned(cloud.clusters, created.id, env.id, { clock });
    const sa = await cloud.serviceAccounts.create({ displayName: `contract-${run}` });
    const { credentials } = await cloud.apiKeys.create({
      ownerId: sa.id,
      resourceId: cluster.id,
      displayName: 'contract',
    });
    const binding = await cloud.roleBindings.create({
      principal: `User:${sa.id}`,
      roleName: 'CloudClusterAdmin',
      crnPattern: clusterRbacCrn(cluster),
    });
    const kafka = cloud.kafka({ restEndpoint: restEndpoint(cluster)!, clusterId: cluster.id, credentials });
    await cloud.waiters.waitForRoleBindingEffective(binding.id, cloud.waiters.topicListAllowed(kafka), {
      clock,
      timeoutMs: 30_000,
    });
    await cloud.waiters.waitForApiKeyUsable(kafka, credentials.key, { clock, timeoutMs: 30_000 });

    emulator.faults.set({
      seed: 11,
      rules: [
        { kind: 'throttle', probability: 0.2 },
        { kind: 'server-error', probability: 0.1 },
      ],
    });
    const topic = `contract-${run}`;
    await kafka.createTopic({ name: topic, partitions: 2, configs: { 'cleanup.policy': 'delete' } });
    await kafka.getTopic(topic);
    await kafka.listTopics();
    await kafka.createAcls([
      {
        resource_type: 'TOPIC',
        resource_name: topic,
        pattern_type: 'LITERAL',
        principal: `User:${sa.id}`,
        host: '*',
        operation: 'READ',
        permission: 'ALLOW',
      },
    ]);
    await kafka.createAcls([
      {
        resource_type: 'CLUSTER',
        resource_name: 'kafka-cluster',
        pattern_type: 'LITERAL',
        principal: `User:${sa.id}`,
        host: '*',
        operation: 'DESCRIBE',
        permission: 'ALLOW',
      },
      {
        resource_type: 'GROUP',
        resource_name: 'connect-lcc',
        pattern_type: 'PREFIXED',
        principal: `User:${sa.id}`,
        host: '*',
        operation: 'READ',
        permission: 'ALLOW',
      },
    ]);
    await kafka.listAcls({ principal: `User:${sa.id}` });

    const connectors = cloud.connectors(env.id, cluster.id);
    const config = {
      'connector.class': 'MongoDbAtlasSink',
      'kafka.auth.mode': 'KAFKA_API_KEY',
      'kafka.api.key': credentials.key,
      'kafka.api.secret': credentials.secret,
      topics: topic,
      'input.data.format': 'JSON',
      'connection.host': 'cluster0.example.mongodb.net',
      'connection.user': 'marketplace',
      'connection.password': 'unused-locally',
      database: `contract_${run}`,
      'tasks.max': '1',
    };
    await connectors.create('contract-sink', config);
    await cloud.waiters.waitForConnectorRunning(connectors, 'contract-sink', { clock, timeoutMs: 60_000 });
    await connectors.list();
    await connectors.get('contract-sink');
    await connectors.updateConfig('contract-sink', { ...config, 'max.batch.size': '5' });
    await connectors.pause('contract-sink');
    await connectors.resume('contract-sink');
    emulator.faults.clear();
    const duplicate = await connectors.create('contract-sink', config).catch((e: unknown) => e);
    expect(isConfluentApiError(duplicate) && duplicate.status).toBe(409);
    await connectors.delete('contract-sink');
    await kafka.deleteAcls({ resource_type: 'TOPIC', pattern_type: 'LITERAL', operation: 'READ', permission: 'ALLOW' });
    const missing = await kafka.getTopic(`${topic}-missing`).catch((e: unknown) => e);
    expect(isConfluentApiError(missing) && missing.code).toBe('40403');
    await kafka.deleteTopic(topic);
    await cloud.clusters.delete(cluster.id, env.id);
    await cloud.serviceAccounts.delete(sa.id);
    await cloud.environments.delete(env.id);

    const log = readFileSync(emulator.logFile!, 'utf8');
    expect(log).toContain('"fault":"throttle"');
    expect(log).toContain('"fault":"server-error"');
    const report = checkExchangeLog(emulator.logFile!, loadOpenApiSpecs(specsDir!));
    expect(report.violations).toEqual([]);
    expect(report.checked).toBeGreaterThan(30);
    expect(emulator.responseViolations).toEqual([]);
  });
});
