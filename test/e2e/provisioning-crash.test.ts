import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CLI, runCli, type CliRun } from '../helpers/cli.js';
import {
  EMPTY_INVENTORY,
  demoTopicsOnBroker,
  isMutating,
  localConnectors,
  requireNoDemoTopics,
  startCloudEmulatorHarness,
  type CloudEmulatorHarness,
} from '../helpers/emulator.js';
import { stackEndpoints } from '../helpers/stack.js';
import type { DownResult } from '../../src/commands/down.js';

// `up` killed at the worst moments, and an API that throttles and fails: the next `up` must finish without
// duplicating anything, and `down` must still remove everything.
const TIME_SCALE = 0.001;
const DATA_CONTRACTS = ['job_created-value', 'joblocation-value', 'order_placed-value', 'tradie_truck_location-value'];
const KILL_POINTS = 15;
const run = Date.now().toString(36);
let harness: CloudEmulatorHarness;
let root: string;
let cwd: string;
let prefix: string;
let caseIndex = 0;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'e2e-provisioning-crash-'));
  harness = await startCloudEmulatorHarness(stackEndpoints(), { dir: root, timeScale: TIME_SCALE });
});

afterAll(async () => {
  await harness?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

beforeEach(async () => {
  caseIndex++;
  cwd = mkdtempSync(join(root, `case-${caseIndex}-`));
  prefix = `e2e-c${caseIndex}-${run}`;
  await requireNoDemoTopics(stackEndpoints());
});

afterEach(async () => {
  harness.emulator.faults.clear();
  if (Object.values(harness.inventory()).some((items) => items.length > 0)) await cli(['down', '--yes', '--discover']);
  await harness.reapKsqlServers();
});

function cli(args: string[]): Promise<CliRun> {
  return runCli(args, { cwd, env: harness.cliEnv({ prefix, waitScale: TIME_SCALE, sink: true }), timeoutMs: 120_000 });
}

function expectOk(result: CliRun): void {
  expect(result.code, `exit ${result.code}\n${result.stderr}`).toBe(0);
}

/**
 * Runs `up` and SIGKILLs it at the n-th mutating request. `lostAnswer`: killed before the emulator writes its answer
 * (the change is made, the CLI never learns its id); otherwise killed just after the answer went out.
 */
async function upKilledAt(
  n: number,
  lostAnswer: boolean,
): Promise<{ killedAt?: string; signal: NodeJS.Signals | null }> {
  const child = spawn(process.execPath, [CLI, 'up'], {
    cwd,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...harness.cliEnv({ prefix, waitScale: TIME_SCALE, sink: true }),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let seen = 0;
  let killedAt: string | undefined;
  const stop = harness.watch((exchange) => {
    if (!isMutating(exchange) || killedAt) return;
    if (++seen < n) return;
    killedAt = `${exchange.method} ${exchange.path}`;
    if (lostAnswer) child.kill('SIGKILL');
    else setImmediate(() => child.kill('SIGKILL'));
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on('close', (exitCode, exitSignal) => resolve([exitCode, exitSignal])),
    );
    if (!killedAt) throw new Error(`up finished (exit ${code}) before its mutating request #${n}:\n${stderr}`);
    return { killedAt, signal };
  } finally {
    clearTimeout(timer);
    stop();
  }
}

function expectExactlyOneDeployment(): void {
  const inventory = harness.inventory();
  const names = (items: { name: string }[]) => items.map((item) => item.name);
  expect(names(inventory.environments)).toEqual([`${prefix}-env`]);
  expect(names(inventory.clusters)).toEqual([`${prefix}-kafka`]);
  expect(names(inventory.serviceAccounts)).toEqual([`${prefix}-app`]);
  expect(names(inventory.ksqlClusters)).toEqual([`${prefix}-ksqldb`]);
  expect(inventory.connectors.map((c) => c.name)).toEqual([`${prefix}-mongo-sink`]);
  const sa = inventory.serviceAccounts[0]!.id;
  const keys = inventory.apiKeys.filter((key) => key.ownerId === sa);
  expect(keys.filter((key) => key.resourceId === inventory.clusters[0]!.id).map((k) => k.name)).toEqual([
    `${prefix}-kafka-key`,
  ]);
  expect(keys.filter((key) => key.resourceId === inventory.ksqlClusters[0]!.id).map((k) => k.name)).toEqual([
    `${prefix}-ksqldb-key`,
  ]);
  expect(keys.filter((key) => key.resourceId?.startsWith('lsrc-')).map((k) => k.name)).toEqual([`${prefix}-sr-key`]);
  expect(inventory.apiKeys).toHaveLength(3);
  expect(inventory.roleBindings.map((rb) => `${rb.roleName} ${rb.principal}`).sort()).toEqual(
    [
      `CloudClusterAdmin User:${sa}`,
      `KsqlAdmin User:${sa}`,
      ...DATA_CONTRACTS.map(() => `ResourceOwner User:${sa}`),
    ].sort(),
  );
  expect(inventory.subjects.map((subject) => subject.split('/')[1]).sort()).toEqual(DATA_CONTRACTS);
}

function expectStateFileSound(): Record<string, { id: string }> {
  const path = join(cwd, '.marketplace', 'state.json');
  expect(statSync(path).mode & 0o777).toBe(0o600);
  return (JSON.parse(readFileSync(path, 'utf8')) as { resources: Record<string, { id: string }> }).resources;
}

async function expectNothingLeft(workerNames: string[]): Promise<void> {
  expect(harness.inventory()).toEqual(EMPTY_INVENTORY);
  expect(await demoTopicsOnBroker(stackEndpoints())).toEqual([]);
  const connectors = await localConnectors(stackEndpoints());
  for (const worker of workerNames) expect(connectors).not.toContain(worker);
}

describe('up killed after each of the first mutating requests, then run again', () => {
  for (let n = 1; n <= KILL_POINTS; n++) {
    const lostAnswer = n % 2 === 1;
    it(`killed at mutating request #${n} (${lostAnswer ? 'answer lost' : 'answer delivered'}): one of everything`, async () => {
      const killed = await upKilledAt(n, lostAnswer);
      expect(killed.signal).toBe('SIGKILL');

      const resumed = await cli(['up', '--json']);
      expectOk(resumed);
      expect(resumed.stderr).not.toMatch(/already exists|already in use/);
      expectExactlyOneDeployment();
      const inventory = harness.inventory();
      const resources = expectStateFileSound();
      expect(resources['environment']?.id).toBe(inventory.environments[0]!.id);
      expect(resources['kafka-cluster']?.id).toBe(inventory.clusters[0]!.id);
      expect(resources['service-account']?.id).toBe(inventory.serviceAccounts[0]!.id);
      expect(resources['ksqldb-cluster']?.id).toBe(inventory.ksqlClusters[0]!.id);

      const down = await cli(['down', '--yes']);
      expectOk(down);
      await expectNothingLeft(inventory.connectors.map((c) => c.workerName));
    });
  }
});

describe('partial deployments and an unreliable API', () => {
  it('down after an up killed mid-way removes everything, including what the killed run never recorded', async () => {
    // Request #7 is the KsqlAdmin role binding (after environment, SA, cluster, CloudClusterAdmin, ksqlDB cluster,
    // Kafka key); its answer is lost, so the state file lacks it and nothing else would take it away.
    const killed = await upKilledAt(7, true);
    expect(killed.killedAt).toBe('POST /iam/v2/role-bindings');
    const recorded = Object.keys(expectStateFileSound());
    expect(recorded.length).toBeGreaterThan(0);
    const workerNames = harness.inventory().connectors.map((c) => c.workerName);

    const down = await cli(['down', '--yes', '--json']);
    expectOk(down);
    expect((JSON.parse(down.stdout) as DownResult).remaining).toEqual([]);
    await expectNothingLeft(workerNames);
    expect(Object.keys(expectStateFileSound())).toEqual([]);
  });

  it('with 30% of calls answered 429 or 503, up and down still complete', async () => {
    // Two independent rules of ~16.3% each: about 30% of calls fail one way or the other.
    harness.emulator.faults.set({
      seed: 20261124,
      rules: [
        { kind: 'throttle', probability: 0.163, retryAfterSeconds: 1 },
        { kind: 'server-error', status: 503, probability: 0.163 },
      ],
    });
    const mark = harness.mark();
    const up = await cli(['up', '--json']);
    expectOk(up);
    expectExactlyOneDeployment();
    const workerNames = harness.inventory().connectors.map((c) => c.workerName);

    const down = await cli(['down', '--yes', '--json']);
    expectOk(down);
    const exchanges = harness.exchangesSince(mark);
    const faulted = exchanges.filter((e) => e.fault);
    expect(faulted.some((e) => e.response.status === 429)).toBe(true);
    expect(faulted.some((e) => e.response.status === 503)).toBe(true);
    expect(faulted.length / exchanges.length).toBeGreaterThan(0.2);
    harness.emulator.faults.clear();
    await expectNothingLeft(workerNames);
    expect(harness.emulator.responseViolations).toEqual([]);
    expect(harness.emulator.internalErrors).toEqual([]);
  });
});
