import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConfluentCloud, type ConfluentCloud } from '../../src/confluent-api/index.js';
import type { PlanResult } from '../../src/commands/plan.js';
import type { StatusResult } from '../../src/commands/status.js';
import { scaledClock } from '../../src/core/waiter.js';
import { runCli, type CliRun } from '../helpers/cli.js';
import { isMutating } from '../helpers/emulator.js';
import { startConfluentCloudEmulator, type RunningEmulator } from '../emulators/confluent-cloud/index.js';

// Display names of environments, Kafka clusters and ksqlDB clusters are not unique on Confluent Cloud: `plan`, `up`
// and `status` must never take one this deployment did not make (issue #20). The CLI runs against the emulator
// alone: looking resources up needs no local stack.
const clock = scaledClock(0.01);
const run = Date.now().toString(36);
let dir: string;
let emulator: RunningEmulator;
let cloud: ConfluentCloud;
let exchanges: { method: string; path: string }[] = [];
let caseIndex = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cloud-adoption-'));
  emulator = await startConfluentCloudEmulator({
    timeScale: 0.001,
    onExchange: (exchange) => exchanges.push(exchange),
  });
  cloud = createConfluentCloud({
    baseUrl: emulator.url,
    apiKey: emulator.cloudCredentials.key,
    apiSecret: emulator.cloudCredentials.secret,
    clock,
  });
});

afterAll(async () => {
  await emulator?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function newCase(): { prefix: string; cli(args: string[]): Promise<CliRun> } {
  caseIndex++;
  const prefix = `adopt-c${caseIndex}-${run}`;
  const cwd = mkdtempSync(join(dir, `case-${caseIndex}-`));
  const env = {
    MARKETPLACE_TARGET: 'cloud',
    MARKETPLACE_CLOUD_API_URL: emulator.url,
    MARKETPLACE_PREFIX: prefix,
    MARKETPLACE_WAIT_SCALE: '0.001',
    CONFLUENT_CLOUD_API_KEY: emulator.cloudCredentials.key,
    CONFLUENT_CLOUD_API_SECRET: emulator.cloudCredentials.secret,
  };
  return { prefix, cli: (args) => runCli(args, { cwd, env, timeoutMs: 60_000 }) };
}

/** An environment named like the deployment's, holding a ksqlDB cluster that runs as `account` (or another one). */
async function environmentNamed(name: string, account: string): Promise<string> {
  const env = await cloud.environments.create({ displayName: name });
  const created = await cloud.clusters.create({
    displayName: name.replace(/-env$/, '-kafka'),
    environmentId: env.id,
    cloud: 'aws',
    region: 'us-east-2',
  });
  await cloud.waiters.waitForClusterProvisioned(cloud.clusters, created.id, env.id, { clock });
  await cloud.ksqlClusters.create({
    displayName: name.replace(/-env$/, '-ksqldb'),
    environmentId: env.id,
    kafkaClusterId: created.id,
    credentialIdentityId: account,
    csu: 4,
  });
  return env.id;
}

describe('resources found by name are adopted only when this deployment made them', () => {
  it("someone else's environment with the deployment's name is not adopted: plan creates one", async () => {
    const { prefix, cli } = newCase();
    const stranger = await cloud.serviceAccounts.create({ displayName: `stranger-${prefix}` });
    await environmentNamed(`${prefix}-env`, stranger.id);
    exchanges = [];
    const plan = await cli(['plan', '--json']);
    expect(plan.code, plan.stderr).toBe(0);
    const steps = (JSON.parse(plan.stdout) as PlanResult).steps;
    expect(steps.find((step) => step.id === 'environment')?.action).toBe('create');
    expect(steps.every((step) => step.action === 'create')).toBe(true);
    expect(exchanges.filter(isMutating)).toEqual([]);
  });

  it("of two environments with its name, status takes the one tied to the deployment's service account", async () => {
    const { prefix, cli } = newCase();
    const stranger = await cloud.serviceAccounts.create({ displayName: `stranger-${prefix}` });
    const account = await cloud.serviceAccounts.create({ displayName: `${prefix}-app` });
    await environmentNamed(`${prefix}-env`, stranger.id);
    const ours = await environmentNamed(`${prefix}-env`, account.id);
    const status = await cli(['status', '--json']);
    const resources = (JSON.parse(status.stdout) as StatusResult).resources;
    expect(resources.find((r) => r.id === 'environment')).toMatchObject({ health: 'present', resourceId: ours });
    expect(resources.find((r) => r.id === 'service-account')).toMatchObject({ resourceId: account.id });
  });

  it('two environments that both look like the deployment are an error naming both ids, not a guess', async () => {
    const { prefix, cli } = newCase();
    const account = await cloud.serviceAccounts.create({ displayName: `${prefix}-app` });
    const first = await environmentNamed(`${prefix}-env`, account.id);
    const second = await environmentNamed(`${prefix}-env`, account.id);
    exchanges = [];
    const plan = await cli(['plan']);
    expect(plan.code).toBe(2);
    const lines = plan.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`named "${prefix}-env"`);
    expect(lines[0]).toContain(first);
    expect(lines[0]).toContain(second);
    expect(lines[0]).toMatch(/ — /);
    expect(exchanges.filter(isMutating)).toEqual([]);
  });
});
