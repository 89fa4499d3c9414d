import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConfluentCloud, clusterRbacCrn, isConfluentApiError } from '../../src/confluent-api/index.js';
import { SecretRegistry } from '../../src/core/redact.js';
import { scaledClock } from '../../src/core/waiter.js';
import {
  checkExchangeLog,
  loadOpenApiSpecs,
  openApiDir,
  startConfluentCloudEmulator,
  type RunningEmulator,
} from '../emulators/confluent-cloud/index.js';
import type { RecordedExchange } from '../emulators/confluent-cloud/recorder.js';

const specsDir = openApiDir();
let dir: string;
let emulator: RunningEmulator;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cc-contract-'));
  emulator = await startConfluentCloudEmulator({ timeScale: 0.001, logFile: join(dir, 'exchanges.jsonl') });
});
afterAll(async () => {
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!specsDir)(
  'contract: the control-plane client and the emulator against the official OpenAPI specs',
  () => {
    it('every request the client sent and every answer the emulator gave validates, faults and errors included', async () => {
      const clock = scaledClock(0.001);
      const cloud = createConfluentCloud({
        baseUrl: emulator.url,
        apiKey: emulator.cloudCredentials.key,
        apiSecret: emulator.cloudCredentials.secret,
        clock,
        secrets: new SecretRegistry(),
      });
      emulator.faults.set({
        seed: 7,
        rules: [
          { kind: 'throttle', probability: 0.15, retryAfterSeconds: 1 },
          { kind: 'server-error', probability: 0.1, status: 500 },
          { kind: 'drop', probability: 0.05 },
          { kind: 'server-error', when: 'after', probability: 0.1, method: 'POST' },
        ],
      });
      const env = await cloud.environments.create({ displayName: 'contract' });
      const org = await cloud.organizations.current();
      const kafka = await cloud.clusters.create({
        displayName: 'contract',
        environmentId: env.id,
        cloud: 'azure',
        region: 'eastus',
      });
      const ready = await cloud.waiters.waitForClusterProvisioned(cloud.clusters, kafka.id, env.id, { clock });
      const sa = await cloud.serviceAccounts.create({ displayName: 'contract-sa', description: 'contract' });
      const key = await cloud.apiKeys.create({
        ownerId: sa.id,
        resourceId: kafka.id,
        displayName: 'contract',
      });
      await cloud.apiKeys.create({ ownerId: sa.id, displayName: 'contract-cloud-key' });
      const binding = await cloud.roleBindings.create({
        principal: `User:${sa.id}`,
        roleName: 'CloudClusterAdmin',
        crnPattern: clusterRbacCrn(ready),
      });
      await cloud.roleBindings.create({
        principal: `User:${sa.id}`,
        roleName: 'EnvironmentAdmin',
        crnPattern: `crn://confluent.cloud/organization=${org.id}/environment=${env.id}`,
      });
      const ksql = await cloud.ksqlClusters.create({
        displayName: 'contract',
        environmentId: env.id,
        kafkaClusterId: kafka.id,
        credentialIdentityId: sa.id,
        csu: 1,
      });
      await cloud.environments.list();
      await cloud.clusters.list(env.id);
      await cloud.apiKeys.list({ ownerId: sa.id, resourceId: kafka.id });
      await cloud.ksqlClusters.list(env.id);
      await cloud.roleBindings.list({ crnPattern: clusterRbacCrn(ready) });
      emulator.faults.clear();
      const expectFailure = async (promise: Promise<unknown>, status: number) => {
        const error = await promise.catch((e: unknown) => e);
        expect(isConfluentApiError(error) && error.status).toBe(status);
      };
      await expectFailure(cloud.serviceAccounts.create({ displayName: 'contract-sa' }), 409);
      await expectFailure(cloud.environments.get('env-gone'), 403);
      await expectFailure(cloud.clusters.get('lkc-gone', env.id), 404);
      await expectFailure(
        cloud.http.request({ method: 'POST', path: '/org/v2/environments', body: { display_name: 'a b c!' } }),
        422,
      );
      await expectFailure(
        createConfluentCloud({ baseUrl: emulator.url, apiKey: 'X', apiSecret: 'Y' }).environments.list(),
        401,
      );
      await cloud.roleBindings.delete(binding.id);
      await cloud.apiKeys.delete(key.key.id);
      await cloud.ksqlClusters.delete(ksql.id, env.id);
      await cloud.waiters.waitForKsqlClusterDeleted(cloud.ksqlClusters, ksql.id, env.id, { clock });
      await cloud.clusters.delete(kafka.id, env.id);
      await cloud.waiters.waitForClusterDeleted(cloud.clusters, kafka.id, env.id, { clock });
      await cloud.serviceAccounts.delete(sa.id);
      await cloud.environments.delete(env.id);
      await cloud.waiters.waitForEnvironmentDeleted(cloud.environments, env.id, { clock });

      const report = checkExchangeLog(emulator.logFile!, loadOpenApiSpecs(specsDir!));
      expect(report.violations).toEqual([]);
      const exchanges = readFileSync(emulator.logFile!, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as RecordedExchange);
      // Every exchange was checked; how many there are beyond the 27 calls above depends on the injected faults.
      expect(report.checked).toBe(exchanges.length);
      expect(report.checked).toBeGreaterThanOrEqual(27);
      const statuses = new Set(exchanges.map((exchange) => exchange.response.status));
      for (const status of [200, 201, 202, 204, 401, 403, 404, 409, 422, 429]) expect(statuses).toContain(status);
    });

    it('the checker catches a response the spec does not allow and a request it does not accept', () => {
      const file = join(dir, 'bad.jsonl');
      const base = {
        at: '',
        requestId: 'r',
        query: '',
        request: { headers: {}, contentType: 'application/json', body: undefined, rawBody: '' },
      };
      const bad: RecordedExchange[] = [
        // A cluster without status: the 200 schema requires it.
        {
          ...base,
          method: 'GET',
          path: '/cmk/v2/clusters/lkc-1',
          query: '?environment=env-1',
          response: {
            status: 200,
            headers: {},
            contentType: 'application/json',
            body: { api_version: 'cmk/v2', kind: 'Cluster', id: 'lkc-1', spec: {} },
            rawBody: '{}',
          },
        },
        // Role-binding delete answered 204: the spec says 200 with the binding.
        {
          ...base,
          method: 'DELETE',
          path: '/iam/v2/role-bindings/rb-1',
          response: { status: 204, headers: {}, body: undefined, rawBody: '' },
        },
        // A request body with a wrong type that the emulator accepted.
        {
          ...base,
          method: 'POST',
          path: '/iam/v2/service-accounts',
          request: {
            headers: {},
            contentType: 'application/json',
            body: { display_name: 5 },
            rawBody: '{"display_name":5}',
          },
          response: {
            status: 201,
            headers: {},
            contentType: 'application/json',
            body: { display_name: 'x' },
            rawBody: '{}',
          },
        },
      ];
      for (const exchange of bad) appendFileSync(file, `${JSON.stringify(exchange)}\n`);
      const report = checkExchangeLog(file, loadOpenApiSpecs(specsDir!));
      expect(report.violations.some((v) => v.includes('/cmk/v2/clusters/lkc-1') && v.includes('status'))).toBe(true);
      expect(report.violations.some((v) => v.includes('role-bindings') && v.includes('204'))).toBe(true);
      expect(
        report.violations.some((v) => v.includes('service-accounts') && v.includes('request body/display_name')),
      ).toBe(true);
    });
  },
);
