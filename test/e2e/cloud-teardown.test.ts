import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DownResult } from '../../src/commands/down.js';
import { runCli, startCli, type CliRun } from '../helpers/cli.js';
import {
  EMPTY_INVENTORY,
  demoTopicsOnBroker,
  requireNoDemoTopics,
  startCloudEmulatorHarness,
  type CloudEmulatorHarness,
} from '../helpers/emulator.js';
import { stackEndpoints } from '../helpers/stack.js';

// `down` against deletes that run on after Confluent's 204 (issue #20): the ksqlDB cluster, Kafka cluster and
// environment stay listed, DEPROVISIONING, for a few seconds here. `down` waits for each, shows it, can be stopped
// with Ctrl-C, and only then checks that nothing is left.
const TIME_SCALE = 0.001;
const prefix = `e2e-tdown-${Date.now().toString(36)}`;
let harness: CloudEmulatorHarness;
let root: string;
let cwd: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  await requireNoDemoTopics(stackEndpoints());
  root = mkdtempSync(join(tmpdir(), 'e2e-cloud-teardown-'));
  cwd = mkdtempSync(join(root, 'cwd-'));
  harness = await startCloudEmulatorHarness(stackEndpoints(), {
    dir: root,
    timeScale: TIME_SCALE,
    // 4 s each at this scale: long enough to interrupt, short enough to wait for.
    durations: { ksqlClusterDeleteMs: 4_000_000, clusterDeleteMs: 4_000_000, environmentDeleteMs: 4_000_000 },
  });
  env = harness.cliEnv({ prefix, waitScale: TIME_SCALE });
});

afterAll(async () => {
  if (harness) {
    if (Object.values(harness.inventory()).some((items) => items.length > 0))
      await runCli(['down', '--yes', '--discover'], { cwd, env, timeoutMs: 180_000 });
    await harness.close();
  }
  if (root) rmSync(root, { recursive: true, force: true });
});

function cli(args: string[]): Promise<CliRun> {
  return runCli(args, { cwd, env, timeoutMs: 180_000 });
}

function recorded(): string[] {
  const state = JSON.parse(readFileSync(join(cwd, '.marketplace', 'state.json'), 'utf8')) as {
    resources: Record<string, unknown>;
  };
  return Object.keys(state.resources);
}

describe('down waits for asynchronous deletes', () => {
  it('Ctrl-C while a delete runs stops down (exit 130) with what is not gone still recorded', async () => {
    const up = await cli(['up', '--json']);
    expect(up.code, up.stderr).toBe(0);
    const ksqlId = harness.inventory().ksqlClusters[0]!.id;

    const down = startCli(['down', '--yes'], { cwd, env, timeoutMs: 120_000 });
    await down.waitFor(/ksqlDB cluster .*: deleting, still DEPROVISIONING/);
    expect(harness.emulator.state.ksqlClusters.get(ksqlId)?.deletion).toBeDefined();
    down.kill('SIGINT');
    const stopped = await down.done;
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toMatch(/interrupted/);
    expect(stopped.stderr).toContain('marketplace down');
    expect(recorded()).toEqual(expect.arrayContaining(['ksqldb-cluster', 'kafka-cluster', 'environment']));
  });

  it('run again, down waits for each delete to finish, says so, and only then finds nothing left', async () => {
    const down = await cli(['down', '--yes', '--json']);
    expect(down.code, down.stderr).toBe(0);
    expect((JSON.parse(down.stdout) as DownResult).remaining).toEqual([]);
    expect(down.stderr).toMatch(/Kafka cluster .*: deleting, still DEPROVISIONING/);
    expect(down.stderr).toMatch(/environment .*: deleting, still being deleted/);
    expect(harness.inventory()).toEqual(EMPTY_INVENTORY);
    expect(harness.emulator.internalErrors).toEqual([]);
    expect(harness.emulator.responseViolations).toEqual([]);
    expect(await demoTopicsOnBroker(stackEndpoints())).toEqual([]);
    expect(recorded()).toEqual([]);
  });
});
