import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createConfluentCloud,
  isConfluentApiError,
  schemaRegistryEndpoint,
  type ConfluentApiError,
  type ConfluentCloud,
  type SchemaRegistry,
} from '../../src/confluent-api/index.js';
import { SecretRegistry } from '../../src/core/redact.js';
import { scaledClock } from '../../src/core/waiter.js';
import {
  checkExchangeLog,
  startConfluentCloudEmulator,
  type RunningEmulator,
} from '../emulators/confluent-cloud/index.js';
import { eventually } from '../helpers/poll.js';

const clock = scaledClock(0.01);
let dir: string;
let emulator: RunningEmulator;
let cloud: ConfluentCloud;

/** Retries `call` until it stops throwing (a key or role binding that is still propagating). */
function succeeds<T>(call: () => Promise<T>): Promise<T> {
  return eventually(() => call().catch(() => undefined), 10_000, 'the call to succeed', 20);
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

const SCHEMA = JSON.stringify({
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  properties: { job_id: { type: 'integer' }, price: { type: 'integer' } },
  required: ['job_id'],
  additionalProperties: false,
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sr-client-'));
  // Time runs 100× faster: the registry provisions in 3 s, keys and role bindings take effect in 0.9 s.
  emulator = await startConfluentCloudEmulator({
    timeScale: 0.01,
    durations: { schemaRegistryMs: 300_000 },
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
  rmSync(dir, { recursive: true, force: true });
});

describe('Schema Registry clusters (srcm/v3) and the Schema Registry API', () => {
  let registry: SchemaRegistry;
  let subjectCrn: (subject: string) => string;
  let owner: string;

  it('a governed environment gets its registry with its first Kafka cluster, PROVISIONING then PROVISIONED', async () => {
    const env = await cloud.environments.create({ displayName: `sr-${process.pid}`, streamGovernance: 'ESSENTIALS' });
    expect(await cloud.schemaRegistryClusters.ofEnvironment(env.id)).toBeUndefined();
    await cloud.clusters.create({ displayName: 'sr', environmentId: env.id, cloud: 'aws', region: 'us-east-2' });
    const first = await cloud.schemaRegistryClusters.ofEnvironment(env.id);
    expect(first?.id).toMatch(/^lsrc-/);
    expect(first?.spec.environment?.id).toBe(env.id);
    expect(first?.status.phase).toBe('PROVISIONING');
    const provisioned = await eventually(
      async () => {
        const cluster = await cloud.schemaRegistryClusters.get(first!.id, env.id);
        return cluster.status.phase === 'PROVISIONED' ? cluster : undefined;
      },
      10_000,
      'the registry to provision',
      20,
    );
    expect(schemaRegistryEndpoint(provisioned)).toBe(emulator.url);
    expect(provisioned.metadata.resource_name).toBe(
      `crn://confluent.cloud/organization=${emulator.state.organizationId}/environment=${env.id}/schema-registry=${first!.id}`,
    );
    owner = (await cloud.serviceAccounts.create({ displayName: `sr-app-${process.pid}` })).id;
    const key = await cloud.apiKeys.create({
      ownerId: owner,
      resourceId: provisioned.id,
      displayName: 'sr-key',
    });
    expect(key.key.spec.resource?.id).toBe(provisioned.id);
    registry = cloud.schemaRegistry({ endpoint: schemaRegistryEndpoint(provisioned)!, credentials: key.credentials });
    subjectCrn = (subject) => `${provisioned.metadata.resource_name}/subject=${subject}`;
  });

  it('admits the key once it propagated, and each subject once its owner holds a role on it', async () => {
    const unauthorized = await failure(registry.register('job_created-value', SCHEMA, 'JSON'));
    expect([401, 403]).toContain(unauthorized.status);
    const denied = await eventually(
      async () => {
        const error = await failure(registry.register('job_created-value', SCHEMA, 'JSON'));
        return error.status === 403 ? error : undefined;
      },
      10_000,
      'the key to propagate',
      20,
    );
    expect(denied.message).toContain('denied operation Write on Subject: job_created-value');
    expect(denied.hint).toMatch(/ResourceOwner on the subject/);
    await cloud.roleBindings.create({
      principal: `User:${owner}`,
      roleName: 'ResourceOwner',
      crnPattern: subjectCrn('job_created-value'),
    });
    const id = await succeeds(() => registry.register('job_created-value', SCHEMA, 'JSON'));
    expect(id).toBeGreaterThan(0);
    // The same schema again is the same version: registering is safe to repeat.
    expect(await registry.register('job_created-value', SCHEMA, 'JSON')).toBe(id);
    const latest = await registry.latest('job_created-value');
    expect(latest).toMatchObject({ subject: 'job_created-value', version: 1, id, schemaType: 'JSON' });
    expect(JSON.parse(latest.schema)).toEqual(JSON.parse(SCHEMA));
    expect(await registry.subjects()).toEqual(['job_created-value']);
    // A subject the owner has no role on stays closed.
    expect((await failure(registry.register('order_placed-value', SCHEMA, 'JSON'))).status).toBe(403);
  });

  it('refuses an incompatible schema with 409 and a hint; accepts a compatible one as the next version', async () => {
    const required = JSON.stringify({ ...JSON.parse(SCHEMA), required: ['job_id', 'price'] });
    const incompatible = await failure(registry.register('job_created-value', required, 'JSON'));
    expect(incompatible.status).toBe(409);
    expect(incompatible.message).toContain('incompatible with an earlier schema');
    expect(incompatible.hint).toMatch(/BACKWARD/);
    const wider = JSON.stringify({
      ...JSON.parse(SCHEMA),
      properties: { ...JSON.parse(SCHEMA).properties, note: { type: 'string' } },
    });
    await registry.register('job_created-value', wider, 'JSON');
    expect((await registry.latest('job_created-value')).version).toBe(2);
    const invalid = await failure(registry.register('job_created-value', '{not json', 'JSON'));
    expect(invalid.status).toBe(422);
  });

  it('deletes a subject softly, then permanently; a deleted subject reads as absent', async () => {
    await registry.deleteSubject('job_created-value');
    expect(await registry.findLatest('job_created-value')).toBeUndefined();
    expect(await registry.subjects({ deleted: true })).toEqual([]);
    // Deleting what is gone is done.
    await registry.deleteSubject('job_created-value');
  });

  it('every exchange was a valid request and a documented answer of the official specs', () => {
    expect(emulator.responseViolations).toEqual([]);
    const report = checkExchangeLog(emulator.logFile!, emulator.specs!);
    expect(report.violations).toEqual([]);
    expect(readFileSync(emulator.logFile!, 'utf8')).toContain('/subjects/job_created-value/versions');
  });
});
