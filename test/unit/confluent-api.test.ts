import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  clusterRbacCrn,
  createConfluentCloud,
  isConfluentApiError,
  type ConfluentApiError,
  type ConfluentCloud,
} from '../../src/confluent-api/index.js';
import { normaliseFailure } from '../../src/confluent-api/errors.js';
import { OperationError, UserError } from '../../src/core/errors.js';
import { SecretRegistry } from '../../src/core/redact.js';
import type { Clock } from '../../src/core/waiter.js';
import { startConfluentCloudEmulator, type RunningEmulator } from '../emulators/confluent-cloud/index.js';
import type { RecordedExchange } from '../emulators/confluent-cloud/recorder.js';
import { eventually } from '../helpers/poll.js';

/** A clock whose sleeps are recorded and shortened 100×, so retry and wait delays can be asserted. */
function recordingClock(): Clock & { sleeps: number[] } {
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => Date.now(),
    sleep: (ms) => {
      sleeps.push(ms);
      return new Promise((resolve) => setTimeout(resolve, ms / 100));
    },
  };
}

let dir: string;
let emulator: RunningEmulator;
let clock: ReturnType<typeof recordingClock>;
let secrets: SecretRegistry;
let debugLines: string[];
let cloud: ConfluentCloud;

function client(overrides: Partial<Parameters<typeof createConfluentCloud>[0]> = {}): ConfluentCloud {
  return createConfluentCloud({
    baseUrl: emulator.url,
    apiKey: emulator.cloudCredentials.key,
    apiSecret: emulator.cloudCredentials.secret,
    clock,
    secrets,
    logger: { debug: (line) => debugLines.push(line) },
    ...overrides,
  });
}

function exchanges(): RecordedExchange[] {
  return readFileSync(emulator.logFile!, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RecordedExchange);
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

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cc-emulator-'));
  emulator = await startConfluentCloudEmulator({ timeScale: 0.001, logFile: join(dir, 'exchanges.jsonl') });
});

afterAll(async () => {
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});

let counter = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${++counter}`;

describe('Confluent Cloud client against the strict emulator', () => {
  beforeAll(() => {
    clock = recordingClock();
    secrets = new SecretRegistry();
    debugLines = [];
    cloud = client();
  });
  afterEach(() => {
    emulator.faults.clear();
    clock.sleeps.length = 0;
    const violations = emulator.responseViolations.splice(0);
    expect(violations).toEqual([]);
  });

  it('creates, reads, lists, finds and deletes an environment with Stream Governance ESSENTIALS', async () => {
    const name = unique('env');
    const env = await cloud.environments.create({ displayName: name });
    expect(env.id).toMatch(/^env-/);
    expect(env.stream_governance_config?.package).toBe('ESSENTIALS');
    expect((await cloud.environments.get(env.id)).display_name).toBe(name);
    expect((await cloud.environments.listByName(name)).map((e) => e.id)).toEqual([env.id]);
    await cloud.environments.delete(env.id);
    await cloud.waiters.waitForEnvironmentDeleted(cloud.environments, env.id, { clock });
    expect(await cloud.environments.find(env.id)).toBeUndefined();
    expect(await cloud.environments.listByName(name)).toEqual([]);
  });

  it('finds the organization and builds the cluster CRN role bindings use', async () => {
    const org = await cloud.organizations.current();
    expect(org.id).toMatch(/^[0-9a-f-]{36}$/);
    const env = await cloud.environments.create({ displayName: unique('env') });
    const cluster = await cloud.clusters.create({
      displayName: 'demo',
      environmentId: env.id,
      cloud: 'aws',
      region: 'us-east-2',
    });
    expect(clusterRbacCrn(cluster)).toBe(
      `crn://confluent.cloud/organization=${org.id}/environment=${env.id}/cloud-cluster=${cluster.id}`,
    );
  });

  it('creates a Kafka cluster (202) and waits until it is PROVISIONED, reporting progress', async () => {
    const env = await cloud.environments.create({ displayName: unique('env') });
    const created = await cloud.clusters.create({
      displayName: 'demo',
      environmentId: env.id,
      cloud: 'aws',
      region: 'us-east-2',
    });
    expect(created.status.phase).toBe('PROVISIONING');
    const progress: string[] = [];
    const ready = await cloud.waiters.waitForClusterProvisioned(cloud.clusters, created.id, env.id, {
      clock,
      onProgress: (status) => progress.push(status),
    });
    expect(ready.status.phase).toBe('PROVISIONED');
    expect(progress.every((status) => status === 'PROVISIONING')).toBe(true);
    expect(ready.spec.kafka_bootstrap_endpoint).toMatch(/^SASL_SSL:\/\//);
    expect((await cloud.clusters.listByName(env.id, 'demo')).map((c) => c.id)).toEqual([created.id]);
    const post = exchanges().find(
      (e) =>
        e.method === 'POST' &&
        e.path === '/cmk/v2/clusters' &&
        e.response.body &&
        (e.response.body as { id: string }).id === created.id,
    );
    expect(post?.response.status).toBe(202);
    expect(post?.response.headers['Location']).toContain(created.id);
  });

  it('rejects an invalid region with a one-line user error', async () => {
    const env = await cloud.environments.create({ displayName: unique('env') });
    const error = await failure(
      cloud.clusters.create({ displayName: 'x', environmentId: env.id, cloud: 'aws', region: 'mars-1' }),
    );
    expect(error).toBeInstanceOf(UserError);
    expect(error.status).toBe(400);
    expect(error.message).toContain('invalid or unavailable');
    expect(error.message).not.toContain('\n');
  });

  it('manages service accounts, API keys (secret only at create, registered as a secret) and role bindings', async () => {
    const name = unique('sa');
    const sa = await cloud.serviceAccounts.create({ displayName: name, description: 'demo' });
    expect((await cloud.serviceAccounts.findByName(name))?.id).toBe(sa.id);
    const duplicate = await failure(cloud.serviceAccounts.create({ displayName: name }));
    expect(duplicate.status).toBe(409);
    expect(duplicate).toBeInstanceOf(UserError);
    expect(duplicate.hint).toMatch(/already exists/);

    const env = await cloud.environments.create({ displayName: unique('env') });
    const cluster = await cloud.clusters.create({
      displayName: 'c',
      environmentId: env.id,
      cloud: 'gcp',
      region: 'us-central1',
    });
    const { key, credentials } = await cloud.apiKeys.create({
      ownerId: sa.id,
      resourceId: cluster.id,
      displayName: 'k',
    });
    expect(credentials.secret.length).toBeGreaterThan(10);
    expect(secrets.redact(`secret=${credentials.secret}`)).toBe('secret=****');
    expect((await cloud.apiKeys.get(key.id)).spec.secret).toBeUndefined();
    expect((await cloud.apiKeys.list({ ownerId: sa.id })).map((k) => k.id)).toEqual([key.id]);

    const crnPattern = clusterRbacCrn(await cloud.clusters.get(cluster.id, env.id));
    const binding = await cloud.roleBindings.create({
      principal: `User:${sa.id}`,
      roleName: 'CloudClusterAdmin',
      crnPattern,
    });
    expect(
      (await cloud.roleBindings.findByName({ principal: `User:${sa.id}`, roleName: 'CloudClusterAdmin', crnPattern }))
        ?.id,
    ).toBe(binding.id);
    await cloud.roleBindings.delete(binding.id);
    const deleteExchange = exchanges().find(
      (e) => e.method === 'DELETE' && e.path === `/iam/v2/role-bindings/${binding.id}`,
    );
    expect(deleteExchange?.response.status).toBe(200);
    expect(await cloud.roleBindings.find(binding.id)).toBeUndefined();

    await cloud.serviceAccounts.delete(sa.id);
    expect(await cloud.apiKeys.find(key.id)).toBeUndefined();
    expect(JSON.stringify(debugLines)).not.toContain(credentials.secret);
    expect(readFileSync(emulator.logFile!, 'utf8')).not.toContain(credentials.secret);
  });

  it('creates a ksqlDB cluster (202) that provisions after its configured duration', async () => {
    const env = await cloud.environments.create({ displayName: unique('env') });
    const sa = await cloud.serviceAccounts.create({ displayName: unique('ksql-sa') });
    const kafka = await cloud.clusters.create({
      displayName: 'k',
      environmentId: env.id,
      cloud: 'aws',
      region: 'us-east-2',
    });
    const early = await failure(
      cloud.ksqlClusters.create({
        displayName: 'ksql',
        environmentId: env.id,
        kafkaClusterId: kafka.id,
        credentialIdentityId: sa.id,
        csu: 4,
        // The Kafka cluster provisions in 120 ms here: no list before the create, so it is still PROVISIONING.
        existingIds: [],
      }),
    );
    expect(early.status).toBe(409);
    await cloud.waiters.waitForClusterProvisioned(cloud.clusters, kafka.id, env.id, { clock });
    const ksql = await cloud.ksqlClusters.create({
      displayName: 'ksql',
      environmentId: env.id,
      kafkaClusterId: kafka.id,
      credentialIdentityId: sa.id,
      csu: 4,
    });
    expect(ksql.status.phase).toBe('PROVISIONING');
    expect(ksql.status.topic_prefix).toMatch(/^pksqlc-/);
    expect((await cloud.ksqlClusters.listByName(env.id, 'ksql')).map((k) => k.id)).toEqual([ksql.id]);
    const phase = () => cloud.ksqlClusters.get(ksql.id, env.id).then((cluster) => cluster.status.phase);
    expect(await eventually(async () => ((await phase()) === 'PROVISIONED' ? 'PROVISIONED' : undefined), 10_000)).toBe(
      'PROVISIONED',
    );
    await cloud.ksqlClusters.delete(ksql.id, env.id);
    await cloud.waiters.waitForKsqlClusterDeleted(cloud.ksqlClusters, ksql.id, env.id, { clock });
    expect(await cloud.ksqlClusters.find(ksql.id, env.id)).toBeUndefined();
  });

  it('follows metadata.next over three pages', async () => {
    const prefix = unique('page');
    for (let i = 0; i < 205; i++) await cloud.serviceAccounts.create({ displayName: `${prefix}-${i}` });
    const before = exchanges().length;
    const all = await cloud.serviceAccounts.list();
    const pages = exchanges()
      .slice(before)
      .filter((e) => e.method === 'GET' && e.path === '/iam/v2/service-accounts');
    expect(pages).toHaveLength(3);
    expect(pages[1]!.query).toContain('page_token=');
    expect(all.filter((sa) => sa.display_name.startsWith(prefix))).toHaveLength(205);
    expect(new Set(all.map((sa) => sa.id)).size).toBe(all.length);
  });

  it('rides out a 429 storm, waiting at least as long as Retry-After says', async () => {
    emulator.faults.set({
      rules: [{ kind: 'throttle', count: 4, retryAfterSeconds: 2, path: '/org/v2/environments' }],
    });
    const envs = await cloud.environments.list();
    expect(Array.isArray(envs)).toBe(true);
    expect(clock.sleeps).toHaveLength(4);
    for (const ms of clock.sleeps) expect(ms).toBeGreaterThanOrEqual(2000);
  });

  it('honours the relative X-RateLimit-Reset when there is no Retry-After', async () => {
    emulator.faults.set({
      rules: [{ kind: 'throttle', count: 1, rateLimitResetSeconds: 7, path: '/iam/v2/service-accounts' }],
    });
    await cloud.serviceAccounts.list({ displayName: 'nobody' });
    expect(clock.sleeps[0]).toBeGreaterThanOrEqual(7000);
    expect(clock.sleeps[0]).toBeLessThan(9000);
  });

  it('retries 5xx and dropped connections on reads, then succeeds', async () => {
    emulator.faults.set({
      rules: [
        { kind: 'server-error', count: 2, status: 503, path: '/org/v2/organizations' },
        { kind: 'drop', count: 1, path: '/org/v2/organizations' },
      ],
    });
    const org = await cloud.organizations.current();
    expect(org.id).toBe(emulator.state.organizationId);
    expect(clock.sleeps.length).toBeGreaterThanOrEqual(2);
  });

  it('gives up at the per-call deadline with the last error', async () => {
    emulator.faults.set({ rules: [{ kind: 'server-error', status: 500, path: '/org/v2/organizations' }] });
    const impatient = client({ deadlineMs: 3000, retry: { baseDelayMs: 1000, maxDelayMs: 1000, random: () => 1 } });
    const error = await failure(impatient.organizations.list());
    expect(error.status).toBe(500);
    expect(error).toBeInstanceOf(OperationError);
  });

  it('after an ambiguous 5xx on create, finds the resource by name instead of creating a duplicate', async () => {
    const name = unique('ambiguous');
    emulator.faults.set({
      rules: [{ kind: 'server-error', when: 'after', count: 1, method: 'POST', path: '/iam/v2/service-accounts' }],
    });
    const sa = await cloud.serviceAccounts.create({ displayName: name });
    expect(sa.display_name).toBe(name);
    const posts = exchanges().filter(
      (e) =>
        e.method === 'POST' &&
        e.path === '/iam/v2/service-accounts' &&
        (e.request.body as { display_name: string }).display_name === name,
    );
    expect(posts).toHaveLength(1);
    expect([...emulator.state.serviceAccounts.values()].filter((s) => s.displayName === name)).toHaveLength(1);
  });

  it('after a create times out (the server did create it), looks it up and does not create it twice', async () => {
    const name = unique('slow-env');
    emulator.faults.set({
      rules: [{ kind: 'delay', when: 'after', delayMs: 1500, count: 1, method: 'POST', path: '/org/v2/environments' }],
    });
    const hasty = client({ timeoutMs: 300 });
    const env = await hasty.environments.create({ displayName: name });
    expect(env.display_name).toBe(name);
    expect([...emulator.state.environments.values()].filter((e) => e.displayName === name)).toHaveLength(1);
    expect(debugLines.some((line) => line.includes('ETIMEDOUT'))).toBe(true);
  });

  it('after a dropped connection on create of a cluster, adopts the cluster that was created', async () => {
    const env = await cloud.environments.create({ displayName: unique('env') });
    emulator.faults.set({
      rules: [{ kind: 'drop', when: 'after', count: 1, method: 'POST', path: '/cmk/v2/clusters' }],
    });
    const cluster = await cloud.clusters.create({
      displayName: 'dropped',
      environmentId: env.id,
      cloud: 'aws',
      region: 'us-east-2',
    });
    expect([...emulator.state.clusters.values()].filter((c) => c.environmentId === env.id)).toHaveLength(1);
    expect(cluster.spec.display_name).toBe('dropped');
  });

  it('replaces an API key whose create answer was lost: the orphan (secret unknown) is deleted', async () => {
    const sa = await cloud.serviceAccounts.create({ displayName: unique('key-owner') });
    emulator.faults.set({
      rules: [{ kind: 'server-error', when: 'after', count: 1, method: 'POST', path: '/iam/v2/api-keys' }],
    });
    const { key, credentials } = await cloud.apiKeys.create({ ownerId: sa.id, displayName: 'cloud-key' });
    expect(credentials.secret).toBeTruthy();
    const keys = await cloud.apiKeys.list({ ownerId: sa.id });
    expect(keys.map((k) => k.id)).toEqual([key.id]);
  });

  it('does not retry a create after an ambiguous failure when it cannot look the resource up', async () => {
    emulator.faults.set({ rules: [{ kind: 'server-error', count: 1, method: 'POST', path: '/iam/v2/role-bindings' }] });
    const error = await failure(
      cloud.http.request({
        method: 'POST',
        path: '/iam/v2/role-bindings',
        body: { principal: 'User:sa-x', role_name: 'X', crn_pattern: 'crn://x' },
      }),
    );
    expect(error.status).toBe(500);
  });
});

describe('emulator controls and ksqlDB readiness', () => {
  beforeAll(() => {
    clock = recordingClock();
    secrets = new SecretRegistry();
    debugLines = [];
    cloud = client();
  });

  it('faults can be changed over HTTP at /__emulator/faults', async () => {
    const set = await fetch(`${emulator.url}/__emulator/faults`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ rules: [{ kind: 'throttle', count: 2, retryAfterSeconds: 3 }] }),
    });
    expect(set.status).toBe(200);
    await cloud.organizations.list();
    expect(clock.sleeps.filter((ms) => ms >= 3000)).toHaveLength(2);
    const cleared = await fetch(`${emulator.url}/__emulator/faults`, { method: 'DELETE' });
    expect(((await cleared.json()) as { rules: unknown[] }).rules).toEqual([]);
    const invalid = await fetch(`${emulator.url}/__emulator/faults`, {
      method: 'POST',
      body: '{"rules":[{"kind":"meteor"}]}',
    });
    expect(invalid.status).toBe(400);
  });

  it('without the specs it still serves the API and applies its own rules', async () => {
    const plain = await startConfluentCloudEmulator({ specsDir: null, timeScale: 0.001 });
    try {
      expect(plain.specs).toBeUndefined();
      const c = createConfluentCloud({
        baseUrl: plain.url,
        apiKey: plain.cloudCredentials.key,
        apiSecret: plain.cloudCredentials.secret,
        clock,
      });
      const env = await c.environments.create({ displayName: 'no-specs' });
      expect(env.id).toMatch(/^env-/);
      const notJson = await fetch(`${plain.url}/org/v2/environments`, {
        method: 'POST',
        headers: {
          Authorization: `Basic ${Buffer.from(`${plain.cloudCredentials.key}:${plain.cloudCredentials.secret}`).toString('base64')}`,
          'Content-Type': 'text/plain',
        },
        body: 'display_name=x',
      });
      expect(notJson.status).toBe(415);
      expect(((await notJson.json()) as { errors: unknown[] }).errors).toHaveLength(1);
    } finally {
      await plain.close();
    }
  });

  it('a ksqlDB cluster whose /info answers 50321 fails the wait at once, naming the ACLs', async () => {
    // The ksqlDB dev server cannot misconfigure ACLs; this stands in for a cluster whose service account lacks them.
    const { createServer } = await import('node:http');
    const broken = createServer((_req, res) => {
      res
        .writeHead(503, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ error_code: 50321, message: 'KSQL is not yet ready to serve requests.' }));
    });
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
    const port = (broken.address() as { port: number }).port;
    const withKsql = await startConfluentCloudEmulator({
      timeScale: 0.0001,
      ksql: { start: async () => ({ url: `http://127.0.0.1:${port}`, stop: async () => undefined }) },
    });
    try {
      const c = createConfluentCloud({
        baseUrl: withKsql.url,
        apiKey: withKsql.cloudCredentials.key,
        apiSecret: withKsql.cloudCredentials.secret,
        clock,
      });
      const env = await c.environments.create({ displayName: 'ksql-acls' });
      const kafka = await c.clusters.create({
        displayName: 'k',
        environmentId: env.id,
        cloud: 'aws',
        region: 'us-east-2',
      });
      await c.waiters.waitForClusterProvisioned(c.clusters, kafka.id, env.id, { clock });
      const sa = await c.serviceAccounts.create({ displayName: 'ksql' });
      const ksql = await c.ksqlClusters.create({
        displayName: 'ksql',
        environmentId: env.id,
        kafkaClusterId: kafka.id,
        credentialIdentityId: sa.id,
        csu: 4,
      });
      const key = await c.apiKeys.create({
        ownerId: sa.id,
        resourceId: ksql.id,
        displayName: 'ksql',
      });
      const error = await c.waiters
        .waitForKsqlClusterReady(c.http, c.ksqlClusters, ksql.id, env.id, key.credentials, { clock, timeoutMs: 20_000 })
        .catch((e: Error) => e);
      expect(error).toBeInstanceOf(OperationError);
      expect((error as OperationError).message).toContain('50321');
      expect((error as OperationError).message).toMatch(/ACLs/);
    } finally {
      await withKsql.close();
      broken.close();
    }
  });
});

describe('error normalisation', () => {
  beforeAll(() => {
    clock = recordingClock();
    secrets = new SecretRegistry();
    debugLines = [];
    cloud = client();
  });

  it('401 says to check the Cloud API key and that it is not a cluster key', async () => {
    const wrong = client({ apiKey: 'NOTAKEY', apiSecret: 'wrong-secret-value' });
    const error = await failure(wrong.environments.list());
    expect(error.status).toBe(401);
    expect(error).toBeInstanceOf(UserError);
    expect(error.hint).toContain('CONFLUENT_CLOUD_API_KEY');
    expect(error.hint).toContain('not a Kafka cluster key');
    expect(error.requestId).toBeTruthy();
    expect(error.message).not.toContain('wrong-secret-value');
  });

  it('402 (quota) and 403 map to user errors that say what to do', async () => {
    emulator.faults.set({ rules: [{ kind: 'server-error', status: 402, count: 1, path: '/org/v2/environments' }] });
    const quota = await failure(cloud.environments.create({ displayName: unique('env') }));
    expect(quota.status).toBe(402);
    expect(quota.hint).toMatch(/quota/);
    emulator.faults.clear();
    const forbidden = await failure(cloud.environments.get('env-doesnotexist'));
    expect(forbidden.status).toBe(403);
    expect(forbidden.isNotFound).toBe(true);
    expect(forbidden).toBeInstanceOf(UserError);
  });

  it('422 names the offending field', async () => {
    const error = await failure(
      cloud.http.request({ method: 'POST', path: '/org/v2/environments', body: { display_name: 42 } }),
    );
    expect(error.status).toBe(422);
    expect(error.pointer).toBe('/display_name');
    expect(error.message).toContain('/display_name');
  });

  it('an unknown path is a 404 in the v2 shape; an unknown filter a 400', async () => {
    const missing = await failure(cloud.http.request({ method: 'GET', path: '/org/v2/planets' }));
    expect(missing.status).toBe(404);
    expect(missing.shape).toBe('v2-errors');
    const filter = await failure(
      cloud.http.request({ method: 'GET', path: '/org/v2/environments', query: { num_doors: 4 } }),
    );
    expect(filter.status).toBe(400);
    expect(filter.pointer).toBe('num_doors');
    const tooBig = await failure(
      cloud.http.request({ method: 'GET', path: '/org/v2/environments', query: { page_size: 500 } }),
    );
    expect(tooBig.status).toBe(400);
  });

  it('reads every Confluent error body shape', () => {
    const base = { method: 'GET', path: '/x', headers: { 'x-request-id': 'req-1' } };
    const v2 = normaliseFailure({
      ...base,
      status: 403,
      body: { errors: [{ status: '403', code: 'forbidden_access', detail: 'nope', source: { pointer: '/a' } }] },
    });
    expect(v2).toMatchObject({
      shape: 'v2-errors',
      code: 'forbidden_access',
      detail: 'nope',
      pointer: '/a',
      requestId: 'req-1',
    });
    const standard = normaliseFailure({
      ...base,
      status: 400,
      body: {
        status: 400,
        error: { code: 'invalid_argument', message: 'bad', suggestion: 'Fix it.', path: '/spec' },
        requestId: 'r2',
      },
    });
    expect(standard).toMatchObject({
      shape: 'standard',
      code: 'invalid_argument',
      detail: 'bad Fix it.',
      pointer: '/spec',
    });
    const connect = normaliseFailure({
      ...base,
      status: 400,
      body: { error: { code: 400, message: 'Connector config is invalid' } },
    });
    expect(connect).toMatchObject({ shape: 'connect', code: '400', detail: 'Connector config is invalid' });
    const connectFlat = normaliseFailure({
      ...base,
      status: 404,
      body: { error_code: 404, message: 'resource not found' },
    });
    expect(connectFlat).toMatchObject({ shape: 'kafka-rest', code: '404', detail: 'resource not found' });
    const kafka = normaliseFailure({
      ...base,
      status: 401,
      body: { error_code: 40101, message: 'Authentication failed' },
    });
    expect(kafka).toMatchObject({ shape: 'kafka-rest', code: '40101' });
    const html = normaliseFailure({
      ...base,
      status: 429,
      body: '<html><head><title>Error 429 Too Many Requests</title></head></html>',
    });
    expect(html).toMatchObject({ shape: 'html', detail: 'Error 429 Too Many Requests' });
    const empty = normaliseFailure({ ...base, status: 502, body: undefined });
    expect(empty).toMatchObject({ shape: 'none', detail: 'Server Error' });
  });

  it('--verbose lines carry request ids and never a secret', async () => {
    debugLines.length = 0;
    await cloud.environments.list();
    expect(debugLines.some((line) => /X-Request-Id [0-9a-f-]{36}/.test(line))).toBe(true);
    expect(debugLines.join('\n')).not.toContain(emulator.cloudCredentials.secret);
  });
});
