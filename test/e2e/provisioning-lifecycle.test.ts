import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../helpers/cli.js';
import {
  EMPTY_INVENTORY,
  demoTopicNames,
  demoTopicsOnBroker,
  isMutating,
  localConnectors,
  requireNoDemoTopics,
  startCloudEmulatorHarness,
  type CloudEmulatorHarness,
} from '../helpers/emulator.js';
import { stackEndpoints } from '../helpers/stack.js';
import type { DownResult } from '../../src/commands/down.js';
import type { PlanResult } from '../../src/commands/plan.js';
import type { StatusResult } from '../../src/commands/status.js';
import type { UpResult } from '../../src/commands/up.js';

// `marketplace up / plan / status / down` (cloud target) as a user runs them: the built CLI in a child process
// against the strict Confluent Cloud emulator, which backs topics, keys, the Atlas sink and ksqlDB by the local stack.
const TIME_SCALE = 0.001;
const run = Date.now().toString(36);
let harness: CloudEmulatorHarness;
let root: string;
let cwd: string;
let testIndex = 0;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'e2e-provisioning-'));
  harness = await startCloudEmulatorHarness(stackEndpoints(), { dir: root, timeScale: TIME_SCALE });
});

afterAll(async () => {
  await harness?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

beforeEach(async () => {
  cwd = mkdtempSync(join(root, `case-${++testIndex}-`));
  await requireNoDemoTopics(stackEndpoints());
});

// Whatever a test did, leave the emulator and the shared broker clean for the next one.
afterEach(async () => {
  if (Object.values(harness.inventory()).some((items) => items.length > 0)) {
    await cli(['down', '--yes', '--discover']);
  }
  await harness.reapKsqlServers();
  harness.emulator.faults.clear();
});

function prefixFor(name: string): string {
  return `e2e-${name}-${run}`.slice(0, 32).replace(/-$/, '');
}

let currentPrefix = '';
function cli(args: string[], prefix = currentPrefix, extra: NodeJS.ProcessEnv = {}, sink = false): Promise<CliRun> {
  return runCli(args, { cwd, env: harness.cliEnv({ prefix, waitScale: TIME_SCALE, sink, extra }), timeoutMs: 120_000 });
}

function expectOk(result: CliRun): void {
  expect(result.code, `exit ${result.code}\n${result.stderr}`).toBe(0);
}

function mutationsIn(mark: number): string[] {
  return harness
    .exchangesSince(mark)
    .filter(isMutating)
    .map((e) => `${e.method} ${e.path}`);
}

/** Nothing left in the emulator, and nothing failed inside it on the way (a failed clean-up leaves topics behind). */
function expectEmulatorEmpty(): void {
  expect(harness.inventory()).toEqual(EMPTY_INVENTORY);
  expect(harness.emulator.internalErrors).toEqual([]);
}

describe('cloud target end to end', () => {
  it('up → second up (no-op) → plan → status → down leaves nothing behind; secrets never printed', async () => {
    currentPrefix = prefixFor('life');
    const stack = stackEndpoints();
    const sink = true;

    let mark = harness.mark();
    const plan = await cli(['plan', '--json'], currentPrefix, {}, sink);
    expectOk(plan);
    const planned = JSON.parse(plan.stdout) as PlanResult;
    expect(planned.steps.every((step) => step.action === 'create')).toBe(true);
    expect(planned.changes).toBe(planned.steps.length);
    expect(mutationsIn(mark)).toEqual([]);

    mark = harness.mark();
    const up = await cli(['up', '--json', '--verbose'], currentPrefix, {}, sink);
    expectOk(up);
    const applied = JSON.parse(up.stdout) as UpResult;
    expect(applied.nothingToDo).toBe(false);
    expect(applied.adopted).toEqual([]);
    expect(applied.created).toHaveLength(planned.steps.length);
    expect(Object.keys(applied.timings)).toHaveLength(planned.steps.length);
    expect(mutationsIn(mark).length).toBeGreaterThan(0);

    const inventory = harness.inventory();
    expect(inventory.environments.map((e) => e.name)).toEqual([`${currentPrefix}-env`]);
    expect(inventory.clusters.map((c) => c.name)).toEqual([`${currentPrefix}-kafka`]);
    expect(inventory.serviceAccounts.map((s) => s.name)).toEqual([`${currentPrefix}-app`]);
    expect(inventory.ksqlClusters.map((k) => k.name)).toEqual([`${currentPrefix}-ksqldb`]);
    expect(inventory.apiKeys.map((k) => k.name).sort()).toEqual([
      `${currentPrefix}-kafka-key`,
      `${currentPrefix}-ksqldb-key`,
      `${currentPrefix}-sr-key`,
    ]);
    expect(inventory.roleBindings.map((r) => r.roleName).sort()).toEqual([
      'CloudClusterAdmin',
      'KsqlAdmin',
      'ResourceOwner',
      'ResourceOwner',
      'ResourceOwner',
      'ResourceOwner',
    ]);
    expect(inventory.subjects.map((subject) => subject.split('/')[1]).sort()).toEqual([
      'job_created-value',
      'joblocation-value',
      'order_placed-value',
      'tradie_truck_location-value',
    ]);
    expect(inventory.connectors.map((c) => c.name)).toEqual([`${currentPrefix}-mongo-sink`]);
    const workerNames = inventory.connectors.map((c) => c.workerName);
    expect(await localConnectors(stack)).toEqual(expect.arrayContaining(workerNames));
    expect((await demoTopicsOnBroker(stack)).sort()).toEqual(demoTopicNames().sort());

    const statePath = join(cwd, '.marketplace', 'state.json');
    expect(statSync(statePath).mode & 0o777).toBe(0o600);
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as { resources: Record<string, { id: string }> };
    expect(Object.keys(state.resources).sort()).toEqual(planned.steps.map((step) => step.id).sort());

    mark = harness.mark();
    const again = await cli(['up'], currentPrefix, {}, sink);
    expectOk(again);
    expect(again.stderr).toContain('Nothing to do');
    expect(mutationsIn(mark)).toEqual([]);

    mark = harness.mark();
    const replan = await cli(['plan', '--json'], currentPrefix, {}, sink);
    expectOk(replan);
    expect((JSON.parse(replan.stdout) as PlanResult).changes).toBe(0);
    expect(mutationsIn(mark)).toEqual([]);

    mark = harness.mark();
    const status = await cli(['status', '--json', '--verbose'], currentPrefix, {}, sink);
    expectOk(status);
    const health = JSON.parse(status.stdout) as StatusResult;
    expect(health.healthy).toBe(true);
    expect(health.resources.every((r) => r.health === 'present')).toBe(true);
    expect(health.queries.length).toBeGreaterThan(0);
    expect(health.topics.map((t) => t.name).sort()).toEqual(demoTopicNames().sort());
    expect(mutationsIn(mark)).toEqual([]);

    const down = await cli(['down', '--yes', '--json', '--verbose'], currentPrefix, {}, sink);
    expectOk(down);
    const removed = JSON.parse(down.stdout) as DownResult;
    expect(removed.remaining).toEqual([]);
    expect(removed.deleted.sort()).toEqual(planned.steps.map((step) => step.id).sort());
    expectEmulatorEmpty();
    expect(await demoTopicsOnBroker(stack)).toEqual([]);
    const leftConnectors = await localConnectors(stack);
    for (const worker of workerNames) expect(leftConnectors).not.toContain(worker);
    expect(Object.keys((JSON.parse(readFileSync(statePath, 'utf8')) as { resources: object }).resources)).toEqual([]);

    // The emulator is strict: nothing the CLI sent was rejected as invalid or conflicting, and every answer matched
    // the spec.
    const rejected = harness
      .exchangesSince(0)
      .filter((e) => [400, 409, 415, 422].includes(e.response.status))
      .map((e) => `${e.method} ${e.path} → ${e.response.status}`);
    expect(rejected).toEqual([]);
    expect(harness.emulator.responseViolations).toEqual([]);

    const secrets = harness.issuedSecrets();
    expect(secrets.length).toBeGreaterThanOrEqual(3);
    const printed = [plan, up, again, replan, status, down].map((r) => r.stdout + r.stderr).join('\n');
    for (const secret of [...secrets, 'e2e-mongo-password-not-real']) expect(printed).not.toContain(secret);
    // --verbose really printed the HTTP exchanges, so the check above looked at something.
    expect(up.stderr).toMatch(/POST \/iam\/v2\/api-keys/);
  });

  it('down --discover with the state file deleted removes everything', async () => {
    currentPrefix = prefixFor('disc');
    expectOk(await cli(['up']));
    rmSync(join(cwd, '.marketplace', 'state.json'));

    // Without the state file a plain `down` deletes nothing, but notices what carries the prefix and says so.
    const plain = await cli(['down', '--yes']);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(new RegExp(`Still present: .*${currentPrefix}-env`));
    expect(plain.stderr).toContain('marketplace down --discover');
    expect(harness.inventory().clusters).toHaveLength(1);

    const down = await cli(['down', '--yes', '--discover', '--json']);
    expectOk(down);
    expect((JSON.parse(down.stdout) as DownResult).remaining).toEqual([]);
    expectEmulatorEmpty();
    expect(await demoTopicsOnBroker(stackEndpoints())).toEqual([]);
  });
});

describe('refused before any request', () => {
  const cases: { name: string; args?: string[]; env?: NodeJS.ProcessEnv; configFile?: object; message: RegExp }[] = [
    {
      name: 'no Cloud API key',
      env: { CONFLUENT_CLOUD_API_KEY: undefined },
      message: /CONFLUENT_CLOUD_API_KEY is not set/,
    },
    {
      name: 'no Cloud API secret',
      env: { CONFLUENT_CLOUD_API_SECRET: undefined },
      message: /CONFLUENT_CLOUD_API_SECRET is not set/,
    },
    {
      name: 'empty key and secret',
      env: { CONFLUENT_CLOUD_API_KEY: '', CONFLUENT_CLOUD_API_SECRET: '  ' },
      message: /not set/,
    },
    { name: 'malformed key', env: { CONFLUENT_CLOUD_API_KEY: 'not-a-key!' }, message: /does not look like an API key/ },
    {
      name: 'malformed secret',
      env: { CONFLUENT_CLOUD_API_SECRET: 'short' },
      message: /does not look like an API secret/,
    },
    { name: 'missing region', configFile: { region: '' }, message: /"region" must be/ },
    { name: 'unknown region', env: { MARKETPLACE_REGION: 'us-east-9' }, message: /unknown aws region "us-east-9"/ },
    {
      name: 'region of another cloud',
      env: { MARKETPLACE_CLOUD: 'gcp', MARKETPLACE_REGION: 'us-east-2' },
      message: /unknown gcp region/,
    },
    { name: 'unknown cluster type', env: { MARKETPLACE_CLUSTER_TYPE: 'huge' }, message: /"clusterType" must be/ },
    { name: 'prefix with illegal characters', env: { MARKETPLACE_PREFIX: 'Bad_Prefix!' }, message: /"prefix" must be/ },
  ];

  for (const command of [['up'], ['plan'], ['down', '--yes'], ['status']]) {
    it(`${command[0]}: one-line error, exit 2, no request reached the emulator`, async () => {
      currentPrefix = prefixFor('bad');
      const seen: string[] = [];
      const stop = harness.watch((exchange) => seen.push(`${exchange.method} ${exchange.path}`));
      const mark = harness.mark();
      try {
        for (const bad of cases) {
          const configPath = join(cwd, 'marketplace.config.json');
          if (bad.configFile) writeFileSync(configPath, JSON.stringify(bad.configFile));
          const env = { ...harness.cliEnv({ prefix: currentPrefix, waitScale: TIME_SCALE }), ...bad.env };
          for (const [name, value] of Object.entries(bad.env ?? {})) if (value === undefined) delete env[name];
          const result = await runCli([...command, ...(bad.args ?? [])], { cwd, env, timeoutMs: 30_000 });
          rmSync(configPath, { force: true });
          expect(result.code, `${bad.name}: ${result.stderr}`).toBe(2);
          const lines = result.stderr.trim().split('\n');
          expect(lines, `${bad.name}: ${result.stderr}`).toHaveLength(1);
          expect(lines[0], bad.name).toMatch(bad.message);
          expect(result.stdout).toBe('');
        }
      } finally {
        stop();
      }
      expect(seen).toEqual([]);
      expect(harness.exchangesSince(mark)).toEqual([]);
      expect(harness.inventory().environments).toEqual([]);
    });
  }
});
