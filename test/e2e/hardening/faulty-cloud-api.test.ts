import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli, type CliRun } from '../../helpers/cli.js';
import {
  EMPTY_INVENTORY,
  demoTopicNames,
  demoTopicsOnBroker,
  localConnectors,
  requireNoDemoTopics,
  startCloudEmulatorHarness,
  type CloudEmulatorHarness,
  type CloudInventory,
} from '../../helpers/emulator.js';
import { checkAndRecord } from '../../helpers/reliability.js';
import { mulberry32 } from '../../emulators/confluent-cloud/faults.js';
import { stackEndpoints } from '../../helpers/stack.js';
import type { DownResult } from '../../../src/commands/down.js';

// Hardening item 4: `up` and `down` against a Confluent Cloud that throttles, fails and stalls, and an `up` killed
// at random points over and over. Provisioning phases run at TIME_SCALE (a 2-minute cluster takes 120 ms) and the
// CLI's waits and retry back-offs are scaled the same way; the 2 s latency spikes are real time.
const TIME_SCALE = 0.001;
const KILLS = 20;
/**
 * Each run is killed at a call drawn from 1..20. A no-op `up` makes 17 Cloud API calls (it observes each resource once)
 * and any other run makes more, so nearly every run is killed; one that finishes first is counted, and another is run.
 */
const KILL_WITHIN_EXCHANGES = 20;
const SEED = Number(process.env.MARKETPLACE_HARDENING_SEED ?? Math.floor(Math.random() * 2 ** 31));
const run = Date.now().toString(36);

let harness: CloudEmulatorHarness;
let root: string;
let caseIndex = 0;

beforeAll(async () => {
  process.stderr.write(`faulty-cloud-api: seed ${SEED} (replay with MARKETPLACE_HARDENING_SEED=${SEED})\n`);
  root = mkdtempSync(join(tmpdir(), 'e2e-hardening-cloud-'));
  harness = await startCloudEmulatorHarness(stackEndpoints(), { dir: root, timeScale: TIME_SCALE });
});

afterAll(async () => {
  if (harness) {
    harness.emulator.faults.clear();
    await harness.close();
  }
  if (root) rmSync(root, { recursive: true, force: true });
});

interface Deployment {
  cwd: string;
  prefix: string;
  cli(args: string[]): Promise<CliRun>;
}

async function newDeployment(): Promise<Deployment> {
  caseIndex++;
  await requireNoDemoTopics(stackEndpoints());
  const cwd = mkdtempSync(join(root, `case-${caseIndex}-`));
  const prefix = `hard-c${caseIndex}-${run}`;
  const env = harness.cliEnv({ prefix, waitScale: TIME_SCALE, sink: true });
  return { cwd, prefix, cli: (args) => runCli(args, { cwd, env, timeoutMs: 150_000 }) };
}

/** Leaves nothing behind for the next file, whatever the test did. */
async function cleanUp(deployment: Deployment): Promise<void> {
  harness.emulator.faults.clear();
  if (Object.values(harness.inventory()).some((items) => items.length > 0))
    await deployment.cli(['down', '--yes', '--discover']);
  await harness.reapKsqlServers();
}

function expectOk(result: CliRun, what: string): void {
  expect(result.code, `${what}: exit ${result.code}\n${result.stderr.slice(-3000)}`).toBe(0);
}

/** One of each resource of the demo, owned by one service account, and nothing else in the organization. */
function expectExactlyOneDeployment(prefix: string, inventory: CloudInventory): void {
  const names = (items: { name: string }[]) => items.map((item) => item.name);
  expect(names(inventory.environments)).toEqual([`${prefix}-env`]);
  expect(names(inventory.clusters)).toEqual([`${prefix}-kafka`]);
  expect(names(inventory.serviceAccounts)).toEqual([`${prefix}-app`]);
  expect(names(inventory.ksqlClusters)).toEqual([`${prefix}-ksqldb`]);
  expect(names(inventory.connectors)).toEqual([`${prefix}-mongo-sink`]);
  const sa = inventory.serviceAccounts[0]!.id;
  expect(
    inventory.apiKeys
      .map((key) => `${key.name} owner=${key.ownerId === sa ? 'sa' : key.ownerId} on=${key.resourceId}`)
      .sort(),
  ).toEqual(
    [
      `${prefix}-kafka-key owner=sa on=${inventory.clusters[0]!.id}`,
      `${prefix}-ksqldb-key owner=sa on=${inventory.ksqlClusters[0]!.id}`,
      `${prefix}-sr-key owner=sa on=${inventory.subjects[0]?.split('/')[0]}`,
    ].sort(),
  );
  expect(inventory.roleBindings.map((rb) => `${rb.roleName} ${rb.principal}`).sort()).toEqual(
    [
      `CloudClusterAdmin User:${sa}`,
      `KsqlAdmin User:${sa}`,
      ...DATA_CONTRACTS.map(() => `ResourceOwner User:${sa}`),
    ].sort(),
  );
  expect(inventory.subjects.map((subject) => subject.split('/')[1]).sort()).toEqual(DATA_CONTRACTS);
}

const DATA_CONTRACTS = ['job_created-value', 'joblocation-value', 'order_placed-value', 'tradie_truck_location-value'];

function readState(cwd: string): { mode: number; resources: Record<string, { id: string }> } {
  const path = join(cwd, '.marketplace', 'state.json');
  const resources = (JSON.parse(readFileSync(path, 'utf8')) as { resources: Record<string, { id: string }> }).resources;
  return { mode: statSync(path).mode & 0o777, resources };
}

/** The state file names exactly what exists, and is still 0600. */
function expectStateMatches(state: ReturnType<typeof readState>, inventory: CloudInventory): void {
  expect(state.mode).toBe(0o600);
  const { resources } = state;
  expect(resources['environment']?.id).toBe(inventory.environments[0]!.id);
  expect(resources['kafka-cluster']?.id).toBe(inventory.clusters[0]!.id);
  expect(resources['service-account']?.id).toBe(inventory.serviceAccounts[0]!.id);
  expect(resources['ksqldb-cluster']?.id).toBe(inventory.ksqlClusters[0]!.id);
  expect(
    [resources['kafka-api-key']?.id, resources['ksqldb-api-key']?.id, resources['schema-registry-api-key']?.id].sort(),
  ).toEqual(inventory.apiKeys.map((k) => k.id).sort());
  expect(
    [
      resources['cluster-role-binding']?.id,
      resources['ksqldb-role-binding']?.id,
      ...DATA_CONTRACTS.map((subject) => resources[`subject-role:${subject.replace(/-value$/, '')}`]?.id),
    ].sort(),
  ).toEqual(inventory.roleBindings.map((rb) => rb.id).sort());
}

async function expectNothingLeft(down: CliRun): Promise<void> {
  expect((JSON.parse(down.stdout) as DownResult).remaining).toEqual([]);
  expect(harness.inventory()).toEqual(EMPTY_INVENTORY);
  expect(await demoTopicsOnBroker(stackEndpoints())).toEqual([]);
}

/** Emulated connectors run as lcc-… connectors on the local Connect worker. */
async function emulatedConnectorsOnWorker(): Promise<string[]> {
  return (await localConnectors(stackEndpoints())).filter((name) => name.startsWith('lcc-'));
}

describe('hardening 4: up and down against a faulty Confluent Cloud API', () => {
  it('with 30% of calls answered 429/500/502/503 and 2 s latency spikes, up and down both complete', async () => {
    const deployment = await newDeployment();
    try {
      // Four independent rules of 8.5% each: 1 - 0.915^4 ≈ 30% of calls fail one way or another.
      const p = 1 - 0.7 ** (1 / 4);
      harness.emulator.faults.set({
        seed: SEED,
        rules: [
          { kind: 'throttle', probability: p, retryAfterSeconds: 1 },
          { kind: 'server-error', status: 500, probability: p },
          { kind: 'server-error', status: 502, probability: p },
          { kind: 'server-error', status: 503, probability: p },
          { kind: 'delay', delayMs: 2000, probability: 0.06 },
        ],
      });
      const mark = harness.mark();
      let started = Date.now();
      const up = await deployment.cli(['up', '--json']);
      const upMs = Date.now() - started;
      const upExchanges = harness.exchangesSince(mark);
      const inventoryAfterUp = harness.inventory();
      const afterUp = harness.mark();
      started = Date.now();
      const down = await deployment.cli(['down', '--yes', '--json']);
      const downMs = Date.now() - started;
      const downExchanges = harness.exchangesSince(afterUp);
      harness.emulator.faults.clear();

      const summary = (exchanges: typeof upExchanges) => {
        const faulted = exchanges.filter((e) => e.fault);
        // A fault is retried when the same call was made again afterwards.
        const retried = faulted.filter((f) =>
          exchanges.slice(exchanges.indexOf(f) + 1).some((e) => e.method === f.method && e.path === f.path),
        );
        const byStatus = new Map<number, number>();
        for (const f of faulted) byStatus.set(f.response.status, (byStatus.get(f.response.status) ?? 0) + 1);
        return {
          calls: exchanges.length,
          faulted: faulted.length,
          retried: retried.length,
          spikes: exchanges.filter((e) => (e.delayedMs ?? 0) > 0).length,
          byStatus: [...byStatus]
            .sort(([a], [b]) => a - b)
            .map(([status, n]) => `${n}×${status}`)
            .join(' '),
        };
      };
      const u = summary(upExchanges);
      const d = summary(downExchanges);
      const all = summary([...upExchanges, ...downExchanges]);
      const line = (name: string, s: typeof u, ms: number) =>
        `${name} exit ${name === 'up' ? up.code : down.code} in ${(ms / 1000).toFixed(1)} s: ${s.calls} calls, ${s.faulted} faults injected ` +
        `(${s.byStatus}), ${s.retried} retried, ${s.spikes} 2 s spikes`;

      await checkAndRecord(
        {
          item: 4,
          scenario:
            '`up` then `down` with 30% of Cloud API calls answered 429/500/502/503 and 6% delayed 2 s (seed ' +
            SEED +
            ')',
          expectation: 'both exit 0; one of each resource after up; nothing left after down; every fault retried',
          observed: `${line('up', u, upMs)}; ${line('down', d, downMs)}`,
        },
        async () => {
          expectOk(up, 'up');
          expectOk(down, 'down');
          expect(all.faulted / all.calls).toBeGreaterThan(0.15);
          expect(all.faulted / all.calls).toBeLessThan(0.5);
          expect(all.byStatus).toMatch(/×429/);
          expect(all.byStatus).toMatch(/×50[023]/);
          expect(all.spikes).toBeGreaterThan(0);
          expect(all.retried).toBe(all.faulted);
          expectExactlyOneDeployment(deployment.prefix, inventoryAfterUp);
          await expectNothingLeft(down);
          expect(harness.emulator.responseViolations).toEqual([]);
        },
      );
    } finally {
      await cleanUp(deployment);
    }
  });

  it(`up SIGKILLed at ${KILLS} random points in a row, then run again: one of each resource; down removes everything`, async () => {
    const deployment = await newDeployment();
    const connectorsBefore = await emulatedConnectorsOnWorker();
    const random = mulberry32(SEED);
    const kills: string[] = [];
    let completedEarly = 0;
    try {
      for (let attempt = 0; kills.length < KILLS && attempt < KILLS * 2; attempt++) {
        const at = 1 + Math.floor(random() * KILL_WITHIN_EXCHANGES);
        const lostAnswer = random() < 0.5;
        const killed = await upKilledAt(deployment, at, lostAnswer);
        if (killed) kills.push(`#${at}${lostAnswer ? ' (answer lost)' : ''} ${killed}`);
        else completedEarly++;
      }
      const resumed = await deployment.cli(['up', '--json']);
      const inventory = harness.inventory();
      const workerConnectors = (await emulatedConnectorsOnWorker()).filter((name) => !connectorsBefore.includes(name));
      const topicsAfterUp = await demoTopicsOnBroker(stackEndpoints());
      const stateAfterUp = resumed.code === 0 ? readState(deployment.cwd) : undefined;
      const down = await deployment.cli(['down', '--yes', '--json']);

      await checkAndRecord(
        {
          item: 4,
          scenario: `\`up\` SIGKILLed at ${KILLS} seeded random points in a row (seed ${SEED}), then \`up\` again, then \`down\``,
          expectation:
            'the last `up` exits 0 with exactly one environment, cluster, service account, 2 role bindings, 2 API keys, ' +
            '6 topics, ksqlDB cluster and connector, and nothing orphaned; `down` leaves the organization and the broker empty',
          observed:
            `${kills.length} kills (${completedEarly} runs finished before their kill point); ` +
            `last up exit ${resumed.code}; inventory ${inventory.environments.length} env, ${inventory.clusters.length} cluster, ` +
            `${inventory.serviceAccounts.length} SA, ${inventory.roleBindings.length} role bindings, ${inventory.apiKeys.length} keys, ` +
            `${inventory.ksqlClusters.length} ksqlDB, ${inventory.connectors.length} connector (${workerConnectors.length} on the worker); ` +
            `down exit ${down.code}. Kill points: ${kills.join('; ')}`,
        },
        async () => {
          expect(kills).toHaveLength(KILLS);
          expectOk(resumed, 'up after the kills');
          expect(resumed.stderr).not.toMatch(/already exists|already in use/);
          expectExactlyOneDeployment(deployment.prefix, inventory);
          expectStateMatches(stateAfterUp!, inventory);
          expect(workerConnectors).toEqual(inventory.connectors.map((c) => c.workerName));
          expect(topicsAfterUp.sort()).toEqual(demoTopicNames().sort());
          expectOk(down, 'down');
          await expectNothingLeft(down);
          expect(await emulatedConnectorsOnWorker()).toEqual(connectorsBefore);
        },
      );
    } finally {
      await cleanUp(deployment);
    }
  });

  it('down itself finds what would stay orphaned: a role binding of the deleted service account and a prefixed API key', async () => {
    const deployment = await newDeployment();
    try {
      const up = await deployment.cli(['up', '--json']);
      expectOk(up, 'up');
      const state = JSON.parse(readFileSync(join(deployment.cwd, '.marketplace', 'state.json'), 'utf8')) as {
        resources: Record<string, { id: string; attributes?: Record<string, unknown> }>;
      };
      const sa = state.resources['service-account']!.id;
      // What someone might add by hand beside the demo: neither is in the state file or the resource graph.
      const binding = await cloudApi('POST', '/iam/v2/role-bindings', {
        principal: `User:${sa}`,
        role_name: 'DeveloperRead',
        crn_pattern: String(state.resources['kafka-cluster']!.attributes!['rbacCrn']),
      });
      const key = await cloudApi('POST', '/iam/v2/api-keys', {
        spec: {
          display_name: `${deployment.prefix}-by-hand`,
          description: 'made outside marketplace',
          owner: { id: harness.emulator.state.adminUserId },
        },
      });
      const down = await deployment.cli(['down', '--yes', '--json']);
      const remaining = down.code === 1 ? (JSON.parse(down.stdout) as DownResult).remaining : [];
      await checkAndRecord(
        {
          item: 4,
          scenario:
            "`down` with a role binding of the demo's service account and a prefixed API key that `up` did not make",
          expectation:
            '`down` deletes everything it made, then reports both leftovers by id and exits 1 (nothing left silently)',
          observed: `down exit ${down.code}; remaining: ${remaining.join('; ') || '(none)'}`,
        },
        () => {
          expect(down.code, down.stderr).toBe(1);
          expect(remaining).toEqual(
            expect.arrayContaining([
              expect.stringContaining(String(binding['id'])),
              expect.stringContaining(String(key['id'])),
            ]),
          );
          expect(remaining).toHaveLength(2);
        },
      );
      await cloudApi('DELETE', `/iam/v2/role-bindings/${String(binding['id'])}`);
      await cloudApi('DELETE', `/iam/v2/api-keys/${String(key['id'])}`);
      expect(harness.inventory().roleBindings).toEqual([]);
      expect(harness.inventory().apiKeys).toEqual([]);
    } finally {
      await cleanUp(deployment);
    }
  });
});

/**
 * Runs `up` and SIGKILLs it at its `at`-th Cloud API call: before the answer is written (`lostAnswer`: the change is
 * made, the CLI never learns of it) or just after. Returns where it was killed, or undefined when `up` finished first.
 */
async function upKilledAt(deployment: Deployment, at: number, lostAnswer: boolean): Promise<string | undefined> {
  const child = spawn(process.execPath, [CLI, 'up'], {
    cwd: deployment.cwd,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...harness.cliEnv({ prefix: deployment.prefix, waitScale: TIME_SCALE, sink: true }),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let seen = 0;
  let killedAt: string | undefined;
  const stop = harness.watch((exchange) => {
    if (killedAt || ++seen < at) return;
    killedAt = `${exchange.method} ${exchange.path}`;
    if (lostAnswer) child.kill('SIGKILL');
    else setImmediate(() => child.kill('SIGKILL'));
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on('close', (exitCode, exitSignal) => resolve([exitCode, exitSignal])),
    );
    if (!killedAt) {
      if (code !== 0) throw new Error(`up exited ${code} (${signal}) before its call #${at}:\n${stderr}`);
      return undefined;
    }
    if (signal !== 'SIGKILL') throw new Error(`up was to be killed at call #${at} but exited ${code}:\n${stderr}`);
    return killedAt;
  } finally {
    clearTimeout(timer);
    stop();
  }
}

/** A call to the emulated Cloud API with the organization's Cloud API key, as someone working by hand would make. */
async function cloudApi(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const { key, secret } = harness.emulator.cloudCredentials;
  const response = await fetch(`${harness.emulator.url}${path}`, {
    method,
    headers: {
      Authorization: `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}
