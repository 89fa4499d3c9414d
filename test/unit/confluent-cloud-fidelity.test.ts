import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  clusterRbacCrn,
  createConfluentCloud,
  isConfluentApiError,
  restEndpoint,
  type ConfluentApiError,
  type ConfluentCloud,
} from '../../src/confluent-api/index.js';
import { OperationError } from '../../src/core/errors.js';
import { SecretRegistry } from '../../src/core/redact.js';
import { scaledClock } from '../../src/core/waiter.js';
import { startConfluentCloudEmulator, type RunningEmulator } from '../emulators/confluent-cloud/index.js';
import type { RecordedExchange } from '../emulators/confluent-cloud/recorder.js';

// What Confluent Cloud does that a kinder emulator hid (issue #20), against the emulator without a local stack:
// asynchronous deletes, the answers for deleted objects and rejected keys, display names that are not unique, and a
// ksqlDB endpoint that is published before the cluster serves it.
const clock = scaledClock(0.01);
let dir: string;
let emulator: RunningEmulator;
let cloud: ConfluentCloud;
let counter = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${++counter}`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cc-fidelity-'));
  emulator = await startConfluentCloudEmulator({
    timeScale: 0.001,
    // Deletes take a second here, so a test sees them running; provisioning stays quick.
    durations: { clusterDeleteMs: 1_000_000, ksqlClusterDeleteMs: 1_000_000, environmentDeleteMs: 1_000_000 },
    logFile: join(dir, 'exchanges.jsonl'),
  });
  cloud = createConfluentCloud({
    baseUrl: emulator.url,
    apiKey: emulator.cloudCredentials.key,
    apiSecret: emulator.cloudCredentials.secret,
    clock,
    secrets: new SecretRegistry(),
  });
});

afterAll(async () => {
  await emulator?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  emulator.faults.clear();
  expect(emulator.responseViolations.splice(0)).toEqual([]);
  expect(emulator.internalErrors).toEqual([]);
});

function exchanges(): RecordedExchange[] {
  return readFileSync(emulator.logFile!, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RecordedExchange);
}

function lastExchange(method: string, path: string): RecordedExchange {
  const found = exchanges().filter((e) => e.method === method && e.path === path);
  expect(found.length).toBeGreaterThan(0);
  return found[found.length - 1]!;
}

async function failure(promise: Promise<unknown>): Promise<ConfluentApiError> {
  try {
    await promise;
  } catch (error) {
    if (isConfluentApiError(error)) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

async function environmentWithCluster() {
  const env = await cloud.environments.create({ displayName: unique('env') });
  const created = await cloud.clusters.create({
    displayName: 'fidelity',
    environmentId: env.id,
    cloud: 'aws',
    region: 'us-east-2',
  });
  const cluster = await cloud.waiters.waitForClusterProvisioned(cloud.clusters, created.id, env.id, { clock });
  return { env, cluster };
}

describe('asynchronous deletes', () => {
  it('a ksqlDB cluster, Kafka cluster and environment stay listed until gone, then answer 403, 403 and 404', async () => {
    const { env, cluster } = await environmentWithCluster();
    const sa = await cloud.serviceAccounts.create({ displayName: unique('sa') });
    const ksql = await cloud.ksqlClusters.create({
      displayName: 'fidelity',
      environmentId: env.id,
      kafkaClusterId: cluster.id,
      credentialIdentityId: sa.id,
      csu: 4,
    });

    await cloud.ksqlClusters.delete(ksql.id, env.id);
    expect((await cloud.ksqlClusters.get(ksql.id, env.id)).status.phase).toBe('DEPROVISIONING');
    expect((await cloud.ksqlClusters.list(env.id)).map((k) => [k.id, k.status.phase])).toEqual([
      [ksql.id, 'DEPROVISIONING'],
    ]);
    // Its Kafka cluster cannot go while the ksqlDB cluster is still there.
    expect((await failure(cloud.clusters.delete(cluster.id, env.id))).status).toBe(409);
    const progress: string[] = [];
    await cloud.waiters.waitForKsqlClusterDeleted(cloud.ksqlClusters, ksql.id, env.id, {
      clock,
      onProgress: (status) => progress.push(status),
    });
    expect(progress).toContain('DEPROVISIONING');
    const ksqlGone = await failure(cloud.ksqlClusters.get(ksql.id, env.id));
    expect([ksqlGone.status, ksqlGone.code]).toEqual([403, 'forbidden_access']);
    expect(await cloud.ksqlClusters.find(ksql.id, env.id)).toBeUndefined();

    await cloud.clusters.delete(cluster.id, env.id);
    const deleting = await cloud.clusters.get(cluster.id, env.id);
    expect(deleting.status.phase).toBe('DEPROVISIONING');
    expect(deleting.metadata.deleted_at).toMatch(/^\d{4}-/);
    await cloud.waiters.waitForClusterDeleted(cloud.clusters, cluster.id, env.id, { clock });
    const clusterGone = await failure(cloud.clusters.get(cluster.id, env.id));
    expect([clusterGone.status, clusterGone.code]).toEqual([403, 'forbidden_access']);
    expect(lastExchange('GET', `/cmk/v2/clusters/${cluster.id}`).response.body).toEqual({
      errors: [
        { id: expect.any(String), status: '403', code: 'forbidden_access', detail: 'Forbidden Access', source: {} },
      ],
    });

    await cloud.environments.delete(env.id);
    expect((await cloud.environments.get(env.id)).id).toBe(env.id);
    expect((await cloud.environments.list()).map((e) => e.id)).toContain(env.id);
    await cloud.waiters.waitForEnvironmentDeleted(cloud.environments, env.id, { clock });
    const envGone = await failure(cloud.environments.get(env.id));
    expect([envGone.status, envGone.code]).toEqual([404, 'resource_not_found']);
    expect((await cloud.environments.list()).map((e) => e.id)).not.toContain(env.id);
  });

  it('deleting an environment takes its clusters along; a cluster whose environment is gone reads 403, so it is gone', async () => {
    const { env, cluster } = await environmentWithCluster();
    await cloud.environments.delete(env.id);
    expect((await cloud.clusters.get(cluster.id, env.id)).status.phase).toBe('DEPROVISIONING');
    await cloud.waiters.waitForEnvironmentDeleted(cloud.environments, env.id, { clock });
    const parentGone = await failure(cloud.clusters.get(cluster.id, env.id));
    expect(parentGone.status).toBe(403);
    await cloud.waiters.waitForClusterDeleted(cloud.clusters, cluster.id, env.id, { clock, timeoutMs: 5_000 });
  });

  it('the wait for a delete ends at its deadline, naming what and the last phase, and at once when aborted', async () => {
    const { env, cluster } = await environmentWithCluster();
    await cloud.clusters.delete(cluster.id, env.id);
    const late = await cloud.waiters
      .waitForClusterDeleted(cloud.clusters, cluster.id, env.id, { clock, timeoutMs: 100 })
      .catch((error: unknown) => error);
    expect(late).toBeInstanceOf(OperationError);
    expect((late as Error).message).toMatch(
      new RegExp(`waiting for Kafka cluster ${cluster.id} to be deleted \\(last status: DEPROVISIONING\\)`),
    );
    const controller = new AbortController();
    const waiting = cloud.waiters
      .waitForClusterDeleted(cloud.clusters, cluster.id, env.id, { clock, signal: controller.signal })
      .catch((error: unknown) => error);
    controller.abort(new Error('interrupted'));
    expect(((await waiting) as Error).message).toBe('interrupted');
    await cloud.waiters.waitForClusterDeleted(cloud.clusters, cluster.id, env.id, { clock });
  });
});

describe('what deleted objects and rejected keys answer', () => {
  it('a deleted API key answers 403 forbidden_access, a deleted role binding 403 with error_code 40301', async () => {
    const { cluster } = await environmentWithCluster();
    const sa = await cloud.serviceAccounts.create({ displayName: unique('sa') });
    const { key } = await cloud.apiKeys.create({ ownerId: sa.id, resourceId: cluster.id, displayName: 'k' });
    await cloud.apiKeys.delete(key.id);
    const keyGone = await failure(cloud.apiKeys.get(key.id));
    expect([keyGone.status, keyGone.code]).toEqual([403, 'forbidden_access']);
    expect(await cloud.apiKeys.find(key.id)).toBeUndefined();

    const binding = await cloud.roleBindings.create({
      principal: `User:${sa.id}`,
      roleName: 'CloudClusterAdmin',
      crnPattern: clusterRbacCrn(cluster),
    });
    await cloud.roleBindings.delete(binding.id);
    const bindingGone = await failure(cloud.roleBindings.get(binding.id));
    expect(bindingGone.status).toBe(403);
    expect(lastExchange('GET', `/iam/v2/role-bindings/${binding.id}`).response.body).toEqual({
      error_code: 40301,
      message: 'Either unauthorized to access role binding or role binding does not exist',
    });
    expect(await cloud.roleBindings.find(binding.id)).toBeUndefined();
  });

  it('a rejected Cloud API key gets a 401 without code or title; the client still says what to check', async () => {
    const wrong = createConfluentCloud({ baseUrl: emulator.url, apiKey: 'NOTAKEY', apiSecret: 'nope', clock });
    const error = await failure(wrong.environments.list());
    expect(error.status).toBe(401);
    expect(error.hint).toMatch(/CONFLUENT_CLOUD_API_KEY/);
    const answer = lastExchange('GET', '/org/v2/environments');
    expect(answer.response.body).toEqual({
      errors: [{ id: expect.any(String), status: '401', detail: 'Unauthorized', source: {} }],
    });
    expect(answer.response.headers['WWW-Authenticate']).toMatch(/invalid_key/);
  });

  it('Kafka REST answers a key it does not accept with an HTML 401 page; the client reads it as a 401', async () => {
    const { cluster } = await environmentWithCluster();
    const kafka = cloud.kafka({
      restEndpoint: restEndpoint(cluster)!,
      clusterId: cluster.id,
      credentials: { key: 'UNKNOWNKEY', secret: 'unknown-secret' },
    });
    const error = await failure(kafka.listTopics());
    expect([error.status, error.shape]).toEqual([401, 'html']);
    expect(error.hint).toMatch(/Kafka cluster API key/);
    expect((await kafka.listTopics({ acceptStatuses: [401] })).status).toBe(401);
    const answer = lastExchange('GET', `/kafka/v3/clusters/${cluster.id}/topics`);
    expect(answer.response.contentType).toMatch(/^text\/html/);
    expect(answer.response.rawBody).toContain('<title>Error 401 Unauthorized</title>');
  });

  it('connect/v1 answers an unknown connector with {"error_code":404,"message":…}', async () => {
    const { env, cluster } = await environmentWithCluster();
    const connectors = cloud.connectors(env.id, cluster.id);
    expect(await connectors.findByName('no-such-connector')).toBeUndefined();
    const answer = lastExchange(
      'GET',
      `/connect/v1/environments/${env.id}/clusters/${cluster.id}/connectors/no-such-connector`,
    );
    expect(answer.response.status).toBe(404);
    expect(answer.response.body).toEqual({ error_code: 404, message: expect.any(String) });
  });
});

describe('names and ksqlDB endpoints as Confluent has them', () => {
  it('environments may share a display name; after a lost answer the client takes the new one, not an older namesake', async () => {
    const name = unique('shared');
    const older = await cloud.environments.create({ displayName: name });
    const second = await cloud.environments.create({ displayName: name });
    expect(second.id).not.toBe(older.id);
    emulator.faults.set({
      rules: [{ kind: 'drop', when: 'after', count: 1, method: 'POST', path: '/org/v2/environments' }],
    });
    const third = await cloud.environments.create({ displayName: name });
    expect([older.id, second.id]).not.toContain(third.id);
    expect((await cloud.environments.listByName(name)).map((e) => e.id).sort()).toEqual(
      [older.id, second.id, third.id].sort(),
    );
    const posts = exchanges().filter(
      (e) =>
        e.method === 'POST' &&
        e.path === '/org/v2/environments' &&
        (e.request.body as { display_name: string }).display_name === name,
    );
    expect(posts).toHaveLength(3);
  });

  it('a ksqlDB cluster may share its name; its endpoint is in the create answer while it is still PROVISIONING', async () => {
    const { env, cluster } = await environmentWithCluster();
    const sa = await cloud.serviceAccounts.create({ displayName: unique('sa') });
    const input = {
      displayName: 'same-name',
      environmentId: env.id,
      kafkaClusterId: cluster.id,
      credentialIdentityId: sa.id,
      csu: 4,
    };
    const first = await cloud.ksqlClusters.create(input);
    expect(first.status.phase).toBe('PROVISIONING');
    expect(first.status.http_endpoint).toMatch(/^https?:\/\/\S+/);
    const second = await cloud.ksqlClusters.create(input);
    expect((await cloud.ksqlClusters.listByName(env.id, 'same-name')).map((k) => k.id).sort()).toEqual(
      [first.id, second.id].sort(),
    );
  });
});
