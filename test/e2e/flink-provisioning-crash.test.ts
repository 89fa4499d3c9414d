import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DownResult } from '../../src/commands/down.js';
import { CLI, runCli, type CliRun } from '../helpers/cli.js';
import {
  EMPTY_INVENTORY,
  demoTopicsOnBroker,
  isMutating,
  requireNoDemoTopics,
  startCloudEmulatorHarness,
  type CloudEmulatorHarness,
} from '../helpers/emulator.js';
import { flinkStack } from '../helpers/flink.js';
import { stackEndpoints } from '../helpers/stack.js';

// `up --engine flink` killed at the moments that matter for the Flink resources (the compute pool, the Flink key and
// role binding, each statement), then run again: one of each, the same two jobs running on the local Flink, and a
// `down` that leaves nothing. test/e2e/hardening/faulty-flink-api.test.ts has the throttling, failing API.
const TIME_SCALE = 0.002;
const run = Date.now().toString(36);
const FLINK_API = /^\/(fcpm\/v2|sql\/v1)\//;
let harness: CloudEmulatorHarness;
let restUrl: string;
let root: string;
let cwd: string;
let prefix: string;
let caseIndex = 0;

beforeAll(async () => {
  const flink = await flinkStack();
  restUrl = flink.restUrl;
  root = mkdtempSync(join(tmpdir(), 'e2e-flink-crash-'));
  harness = await startCloudEmulatorHarness(stackEndpoints(), { dir: root, timeScale: TIME_SCALE, flink });
});

afterAll(async () => {
  await harness?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

beforeEach(async () => {
  caseIndex++;
  cwd = mkdtempSync(join(root, `case-${caseIndex}-`));
  prefix = `e2e-fc${caseIndex}-${run}`;
  await requireNoDemoTopics(stackEndpoints());
});

afterEach(async () => {
  harness.emulator.faults.clear();
  if (Object.values(harness.inventory()).some((items) => items.length > 0)) await cli(['down', '--yes', '--discover']);
});

function env(): NodeJS.ProcessEnv {
  return harness.cliEnv({ prefix, waitScale: TIME_SCALE, extra: { MARKETPLACE_ENGINE: 'flink' } });
}

function cli(args: string[]): Promise<CliRun> {
  return runCli(args, { cwd, env: env(), timeoutMs: 180_000 });
}

function expectOk(result: CliRun): void {
  expect(result.code, `exit ${result.code}\n${result.stderr}`).toBe(0);
}

/** Jobs of this case's statements on the local Flink that are not over. */
async function activeJobs(): Promise<string[]> {
  const overview = (await (await fetch(`${restUrl}/jobs/overview`)).json()) as {
    jobs: { name: string; state: string }[];
  };
  return overview.jobs
    .filter((job) => job.name.startsWith(`${prefix}-`) && !['CANCELED', 'FINISHED', 'FAILED'].includes(job.state))
    .map((job) => job.name)
    .sort();
}

/**
 * Runs the command (`up` unless told) and SIGKILLs it at the n-th mutating request `counts` picks. `lostAnswer`:
 * killed before the emulator writes its answer (the change is made, the CLI never learns of it); otherwise just after
 * the answer went out.
 */
async function upKilledAt(
  n: number,
  lostAnswer: boolean,
  counts: (exchange: { method: string; path: string }, seenFlink: boolean) => boolean,
  args: string[] = ['up'],
): Promise<string> {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env() },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let seen = 0;
  let seenFlink = false;
  let killedAt: string | undefined;
  const stop = harness.watch((exchange) => {
    if (!isMutating(exchange) || killedAt) return;
    if (exchange.path === '/fcpm/v2/compute-pools') seenFlink = true;
    if (!counts(exchange, seenFlink) || ++seen < n) return;
    killedAt = `${exchange.method} ${exchange.path}`;
    if (lostAnswer) child.kill('SIGKILL');
    else setImmediate(() => child.kill('SIGKILL'));
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
  try {
    const [code] = await new Promise<[number | null]>((resolve) =>
      child.on('close', (exitCode) => resolve([exitCode])),
    );
    if (!killedAt) throw new Error(`${args[0]} finished (exit ${code}) before the chosen request #${n}:\n${stderr}`);
    return killedAt;
  } finally {
    clearTimeout(timer);
    stop();
  }
}

async function expectExactlyOneDeployment(): Promise<void> {
  const inventory = harness.inventory();
  const names = (items: { name: string }[]) => items.map((item) => item.name);
  expect(names(inventory.environments)).toEqual([`${prefix}-env`]);
  expect(names(inventory.clusters)).toEqual([`${prefix}-kafka`]);
  expect(names(inventory.serviceAccounts)).toEqual([`${prefix}-app`]);
  expect(names(inventory.computePools)).toEqual([`${prefix}-pool`]);
  expect(inventory.ksqlClusters).toEqual([]);
  const sa = inventory.serviceAccounts[0]!.id;
  expect(inventory.apiKeys.map((k) => `${k.name} ${k.ownerId === sa ? 'sa' : k.ownerId}`).sort()).toEqual([
    `${prefix}-flink-key sa`,
    `${prefix}-kafka-key sa`,
    `${prefix}-sr-key sa`,
  ]);
  expect(inventory.roleBindings.map((rb) => rb.roleName).sort()).toEqual([
    'CloudClusterAdmin',
    'FlinkDeveloper',
    ...Array<string>(6).fill('ResourceOwner'),
  ]);
  expect(inventory.statements.map((s) => `${s.name} ${s.phase}`).sort()).toEqual([
    `${prefix}-job-status RUNNING`,
    `${prefix}-job-status-table COMPLETED`,
    `${prefix}-truck-tracker RUNNING`,
    `${prefix}-truck-tracker-table COMPLETED`,
  ]);
  // One job per INSERT statement: a statement created by the killed run was adopted, not started twice.
  expect(await activeJobs()).toEqual([`${prefix}-job-status`, `${prefix}-truck-tracker`]);
}

function expectStateFileSound(): Record<string, { id: string }> {
  const path = join(cwd, '.marketplace', 'state.json');
  expect(statSync(path).mode & 0o777).toBe(0o600);
  return (JSON.parse(readFileSync(path, 'utf8')) as { resources: Record<string, { id: string }> }).resources;
}

async function downLeavesNothing(): Promise<void> {
  const down = await cli(['down', '--yes', '--json']);
  expectOk(down);
  expect((JSON.parse(down.stdout) as DownResult).remaining).toEqual([]);
  expect(harness.inventory()).toEqual(EMPTY_INVENTORY);
  expect(await demoTopicsOnBroker(stackEndpoints())).toEqual([]);
  expect(await activeJobs()).toEqual([]);
}

const cases: { label: string; n: number; counts: Parameters<typeof upKilledAt>[2] }[] = [
  // The pool's create and each statement's create (fcpm/v2 and sql/v1 are only these in a fresh up).
  ...[1, 2, 3, 4, 5].map((n) => ({
    label: `the ${n === 1 ? 'compute pool create' : `statement create #${n - 1}`}`,
    n,
    counts: (exchange: { path: string }) => FLINK_API.test(exchange.path),
  })),
  // What is made alongside once the pool is asked for: the FlinkDeveloper binding, the Flink key, the subjects' roles.
  ...[2, 3, 4, 5, 6].map((n) => ({
    label: `mutating request #${n} from the pool's create on`,
    n,
    counts: (_exchange: { path: string }, seenFlink: boolean) => seenFlink,
  })),
];

describe('up --engine flink killed at a Flink step, then run again', () => {
  for (const [index, { label, n, counts }] of cases.entries()) {
    const lostAnswer = index % 2 === 0;
    it(`killed at ${label} (${lostAnswer ? 'answer lost' : 'answer delivered'}): one of everything`, async () => {
      const killedAt = await upKilledAt(n, lostAnswer, counts);
      expect(killedAt).toMatch(/^(POST|PUT|PATCH|DELETE) \//);

      const resumed = await cli(['up', '--json']);
      expectOk(resumed);
      expect(resumed.stderr).not.toMatch(/already exists|already in use/);
      await expectExactlyOneDeployment();
      const resources = expectStateFileSound();
      expect(resources['compute-pool']?.id).toBe(harness.inventory().computePools[0]!.id);
      expect(
        Object.keys(resources)
          .filter((id) => id.startsWith('flink-statement:'))
          .sort(),
      ).toEqual([
        'flink-statement:job-status',
        'flink-statement:job-status-table',
        'flink-statement:truck-tracker',
        'flink-statement:truck-tracker-table',
      ]);

      await downLeavesNothing();
    });
  }
});

describe('down killed at a Flink step, then run again', () => {
  // down's nine Flink requests: the two INSERTs' deletes; per table its statement's delete, its DROP TABLE (a statement
  // of its own) and that one's delete; last the compute pool's delete, once every statement is gone.
  for (const n of [1, 2, 3, 4, 5, 6, 7, 8, 9]) {
    const lostAnswer = n % 2 === 1;
    it(`killed at Flink request #${n} of down (${lostAnswer ? 'answer lost' : 'answer delivered'}): the next down leaves nothing`, async () => {
      expectOk(await cli(['up', '--json']));
      const killedAt = await upKilledAt(n, lostAnswer, (exchange) => FLINK_API.test(exchange.path), ['down', '--yes']);
      expect(killedAt).toMatch(n === 9 ? /^DELETE \/fcpm\/v2\/compute-pools\// : /^(POST|DELETE) \/sql\/v1\//);
      await downLeavesNothing();
    });
  }
});

describe('a lost state file', () => {
  it('down --discover finds the deployment by its names and removes it, statements and jobs included', async () => {
    expectOk(await cli(['up', '--json']));
    await expectExactlyOneDeployment();
    // Gone with the state file: every id, and the Flink key's secret, without which no statement can be deleted.
    rmSync(join(cwd, '.marketplace', 'state.json'));
    const down = await cli(['down', '--yes', '--discover', '--json']);
    expectOk(down);
    expect((JSON.parse(down.stdout) as DownResult).remaining).toEqual([]);
    expect(harness.inventory()).toEqual(EMPTY_INVENTORY);
    expect(await demoTopicsOnBroker(stackEndpoints())).toEqual([]);
    await expect.poll(activeJobs, { timeout: 30_000 }).toEqual([]);
  });
});

describe('an answer lost on the way', () => {
  it('a statement create whose answer is lost to a dropped connection is found by name, not made twice', async () => {
    harness.emulator.faults.set({
      rules: [{ kind: 'drop', when: 'after', method: 'POST', path: '^/sql/v1/.*/statements$', count: 2 }],
    });
    expectOk(await cli(['up', '--json']));
    expect(harness.emulator.faults.describe().rules[0]?.injected).toBe(2);
    harness.emulator.faults.clear();
    await expectExactlyOneDeployment();
    await downLeavesNothing();
  });
});
