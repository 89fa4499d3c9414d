import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DownResult } from '../../../src/commands/down.js';
import { mulberry32 } from '../../emulators/confluent-cloud/faults.js';
import { CLI, runCli, type CliRun } from '../../helpers/cli.js';
import {
  EMPTY_INVENTORY,
  demoTopicsOnBroker,
  requireNoDemoTopics,
  startCloudEmulatorHarness,
  type CloudEmulatorHarness,
  type CloudInventory,
} from '../../helpers/emulator.js';
import { flinkStack } from '../../helpers/flink.js';
import { checkAndRecord } from '../../helpers/reliability.js';
import { stackEndpoints } from '../../helpers/stack.js';

// Hardening item 4 for Confluent Cloud Flink: `up --engine flink` and `down` against an API that throttles, fails
// and stalls (fcpm/v2 and sql/v1 included), and an `up` killed at random points over and over. Phases run at
// TIME_SCALE and the CLI's waits and back-offs are scaled the same way; latency spikes are real time.
const TIME_SCALE = 0.002;
const KILLS = 10;
/** A fresh `up --engine flink` makes about 90 calls; each kill is drawn from the first 70. */
const KILL_WITHIN_EXCHANGES = 70;
const SEED = Number(process.env.MARKETPLACE_HARDENING_SEED ?? Math.floor(Math.random() * 2 ** 31));
const FLINK_API = /^\/(fcpm\/v2|sql\/v1)\//;
/** srcm/v3 and the registry's own API (the emulator serves it at its root). */
const SCHEMA_API = /^\/(srcm\/v3\/|subjects)/;
const run = Date.now().toString(36);

let harness: CloudEmulatorHarness;
let restUrl: string;
let root: string;
let caseIndex = 0;

beforeAll(async () => {
  process.stderr.write(`faulty-flink-api: seed ${SEED} (replay with MARKETPLACE_HARDENING_SEED=${SEED})\n`);
  const flink = await flinkStack();
  restUrl = flink.restUrl;
  root = mkdtempSync(join(tmpdir(), 'e2e-hardening-flink-'));
  harness = await startCloudEmulatorHarness(stackEndpoints(), { dir: root, timeScale: TIME_SCALE, flink });
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
  env: NodeJS.ProcessEnv;
  cli(args: string[]): Promise<CliRun>;
}

async function newDeployment(): Promise<Deployment> {
  caseIndex++;
  await requireNoDemoTopics(stackEndpoints());
  const cwd = mkdtempSync(join(root, `case-${caseIndex}-`));
  const prefix = `hard-fl${caseIndex}-${run}`;
  const env = harness.cliEnv({ prefix, waitScale: TIME_SCALE, sink: true, extra: { MARKETPLACE_ENGINE: 'flink' } });
  return { cwd, prefix, env, cli: (args) => runCli(args, { cwd, env, timeoutMs: 240_000 }) };
}

async function cleanUp(deployment: Deployment): Promise<void> {
  harness.emulator.faults.clear();
  if (Object.values(harness.inventory()).some((items) => items.length > 0))
    await deployment.cli(['down', '--yes', '--discover']);
}

function expectOk(result: CliRun, what: string): void {
  expect(result.code, `${what}: exit ${result.code}\n${result.stderr.slice(-3000)}`).toBe(0);
}

/** Jobs of the deployment's statements on the local Flink that are not over. */
async function activeJobs(prefix: string): Promise<string[]> {
  const overview = (await (await fetch(`${restUrl}/jobs/overview`)).json()) as {
    jobs: { name: string; state: string }[];
  };
  return overview.jobs
    .filter((job) => job.name.startsWith(`${prefix}-`) && !['CANCELED', 'FINISHED', 'FAILED'].includes(job.state))
    .map((job) => job.name)
    .sort();
}

/** One of each Flink resource of the demo, run as one service account, and the two jobs, once each. */
function expectExactlyOneDeployment(prefix: string, inventory: CloudInventory, jobs: string[]): void {
  expect(inventory.environments.map((e) => e.name)).toEqual([`${prefix}-env`]);
  expect(inventory.clusters.map((c) => c.name)).toEqual([`${prefix}-kafka`]);
  expect(inventory.computePools.map((p) => p.name)).toEqual([`${prefix}-pool`]);
  expect(inventory.connectors.map((c) => c.name)).toEqual([`${prefix}-mongo-sink`]);
  const sa = inventory.serviceAccounts.map((s) => s.id);
  expect(sa).toHaveLength(1);
  expect(inventory.apiKeys.map((k) => k.name).sort()).toEqual([
    `${prefix}-flink-key`,
    `${prefix}-kafka-key`,
    `${prefix}-sr-key`,
  ]);
  expect(inventory.roleBindings.map((rb) => rb.roleName).sort()).toEqual([
    'CloudClusterAdmin',
    'FlinkDeveloper',
    ...Array<string>(6).fill('ResourceOwner'),
  ]);
  expect(
    inventory.statements.map((s) => `${s.name} ${s.phase} ${s.principal === sa[0] ? 'sa' : s.principal}`).sort(),
  ).toEqual([
    `${prefix}-job-status RUNNING sa`,
    `${prefix}-job-status-table COMPLETED sa`,
    `${prefix}-truck-tracker RUNNING sa`,
    `${prefix}-truck-tracker-table COMPLETED sa`,
  ]);
  expect(jobs).toEqual([`${prefix}-job-status`, `${prefix}-truck-tracker`]);
}

async function expectNothingLeft(prefix: string, down: CliRun): Promise<void> {
  expect((JSON.parse(down.stdout) as DownResult).remaining).toEqual([]);
  expect(harness.inventory()).toEqual(EMPTY_INVENTORY);
  expect(await demoTopicsOnBroker(stackEndpoints())).toEqual([]);
  expect(await activeJobs(prefix)).toEqual([]);
}

/** Runs `up` and SIGKILLs it at its n-th exchange; undefined when it finished before. */
async function upKilledAt(deployment: Deployment, n: number, lostAnswer: boolean): Promise<string | undefined> {
  const child = spawn(process.execPath, [CLI, 'up'], {
    cwd: deployment.cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...deployment.env },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  let seen = 0;
  let killedAt: string | undefined;
  const stop = harness.watch((exchange) => {
    if (killedAt || ++seen < n) return;
    killedAt = `${exchange.method} ${exchange.path}`;
    if (lostAnswer) child.kill('SIGKILL');
    else setImmediate(() => child.kill('SIGKILL'));
  });
  try {
    await new Promise<void>((resolve) => child.on('close', () => resolve()));
    return killedAt;
  } finally {
    stop();
  }
}

describe('hardening 4: up --engine flink and down against a faulty Confluent Cloud API', () => {
  it('with 30% of calls (Flink ones included) answered 429/500/502/503 and 2 s spikes, up and down complete', async () => {
    const deployment = await newDeployment();
    try {
      const p = 1 - 0.7 ** (1 / 4);
      harness.emulator.faults.set({
        seed: SEED,
        rules: [
          { kind: 'throttle', probability: p, retryAfterSeconds: 1 },
          { kind: 'server-error', status: 500, probability: p },
          { kind: 'server-error', status: 502, probability: p },
          { kind: 'server-error', status: 503, probability: p },
          { kind: 'delay', delayMs: 2000, probability: 0.04 },
        ],
      });
      const mark = harness.mark();
      const up = await deployment.cli(['up', '--json']);
      const inventoryAfterUp = harness.inventory();
      const upJobs = await activeJobs(deployment.prefix);
      const afterUp = harness.mark();
      const down = await deployment.cli(['down', '--yes', '--json']);
      const exchanges = harness.exchangesSince(mark);
      harness.emulator.faults.clear();
      const flink = exchanges.filter((e) => FLINK_API.test(e.path));
      const faulted = exchanges.filter((e) => e.fault);
      const flinkFaulted = flink.filter((e) => e.fault);
      const schemaFaulted = faulted.filter((e) => SCHEMA_API.test(e.path));
      const retried = faulted.filter((f) =>
        exchanges.slice(exchanges.indexOf(f) + 1).some((e) => e.method === f.method && e.path === f.path),
      );
      await checkAndRecord(
        {
          item: 4,
          scenario: `\`up --engine flink\` then \`down\` with 30% of Cloud API calls (fcpm/v2, sql/v1, srcm/v3 and Schema Registry included) answered 429/500/502/503 and 4% delayed 2 s (seed ${SEED})`,
          expectation:
            'both exit 0; one compute pool, Flink key and four statements (two jobs on Flink) after up; nothing left after down; every fault retried',
          observed:
            `up exit ${up.code}, down exit ${down.code}; ${exchanges.length} calls (${flink.length} to Flink APIs), ` +
            `${faulted.length} faults (${flinkFaulted.length} on Flink APIs, ${schemaFaulted.length} on Schema Registry ones), ${retried.length} retried; ` +
            `after up ${inventoryAfterUp.statements.length} statements, jobs ${upJobs.join(', ') || '(none)'}; ` +
            `down after ${harness.exchangesSince(afterUp).length} calls`,
        },
        async () => {
          expectOk(up, 'up');
          expectOk(down, 'down');
          expect(faulted.length / exchanges.length).toBeGreaterThan(0.15);
          expect(flinkFaulted.some((e) => e.path.startsWith('/sql/v1'))).toBe(true);
          expect(flinkFaulted.some((e) => e.path.startsWith('/fcpm/v2'))).toBe(true);
          expect(schemaFaulted.some((e) => e.path.startsWith('/subjects'))).toBe(true);
          expect(retried.length).toBe(faulted.length);
          expectExactlyOneDeployment(deployment.prefix, inventoryAfterUp, upJobs);
          await expectNothingLeft(deployment.prefix, down);
          expect(harness.emulator.responseViolations).toEqual([]);
          expect(harness.emulator.internalErrors).toEqual([]);
        },
      );
    } finally {
      await cleanUp(deployment);
    }
  });

  it(`up --engine flink SIGKILLed at ${KILLS} random points in a row, then again: one of each; down removes everything`, async () => {
    const deployment = await newDeployment();
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
      const jobs = await activeJobs(deployment.prefix);
      const down = await deployment.cli(['down', '--yes', '--json']);
      await checkAndRecord(
        {
          item: 4,
          scenario: `\`up --engine flink\` SIGKILLed at ${KILLS} seeded random points in a row (seed ${SEED}), then \`up\` again, then \`down\``,
          expectation:
            'the last `up` exits 0 with one compute pool, one Flink key, four statements and two jobs on Flink, nothing doubled; `down` leaves nothing',
          observed:
            `${kills.length} kills (${completedEarly} runs finished before their kill point); last up exit ${resumed.code}; ` +
            `${inventory.computePools.length} pool, ${inventory.statements.length} statements, jobs ${jobs.join(', ') || '(none)'}; ` +
            `down exit ${down.code}. Kill points: ${kills.join('; ')}`,
        },
        async () => {
          expect(kills).toHaveLength(KILLS);
          expectOk(resumed, 'up after the kills');
          expect(resumed.stderr).not.toMatch(/already exists|already in use/);
          expectExactlyOneDeployment(deployment.prefix, inventory, jobs);
          expectOk(down, 'down');
          await expectNothingLeft(deployment.prefix, down);
        },
      );
    } finally {
      await cleanUp(deployment);
    }
  });
});
