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

// `up` and `down` against Confluent Cloud's delays (issue #20), a few seconds each here: the ksqlDB cluster refuses
// statements (403) for a while after it is up, though /info answers; deletes run on after the 204, the ksqlDB
// cluster, Kafka cluster and environment staying listed, DEPROVISIONING. `up` waits until a statement works; `down`
// waits for each delete, shows it, can be stopped with Ctrl-C, and only then checks that nothing is left.
const TIME_SCALE = 0.001;
const prefix = `e2e-delay-${Date.now().toString(36)}`;
let harness: CloudEmulatorHarness;
let root: string;
let cwd: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  await requireNoDemoTopics(stackEndpoints());
  root = mkdtempSync(join(tmpdir(), 'e2e-cloud-delays-'));
  cwd = mkdtempSync(join(root, 'cwd-'));
  harness = await startCloudEmulatorHarness(stackEndpoints(), {
    dir: root,
    timeScale: TIME_SCALE,
    // Seconds at this scale: long enough to notice (and interrupt), short enough to wait for.
    durations: {
      ksqlAuthSyncMs: 3_000_000,
      ksqlClusterDeleteMs: 4_000_000,
      clusterDeleteMs: 4_000_000,
      environmentDeleteMs: 4_000_000,
    },
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

describe('up and down wait for what Confluent Cloud does later', () => {
  it('up waits until the ksqlDB cluster takes a statement with its key; API keys are made with resource {id}', async () => {
    const mark = harness.mark();
    const up = await cli(['up', '--json']);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stderr).toMatch(/KsqlAdmin role binding is not effective yet \(SHOW STREAMS answered HTTP 403\)/);
    const ksqlId = harness.inventory().ksqlClusters[0]!.id;
    // The API keys (Kafka, ksqlDB and the data contracts' Schema Registry) are created with resource {id} only, as
    // the official clients send it.
    const registryId = harness.inventory().subjects[0]?.split('/')[0] ?? 'no Schema Registry';
    const keyCreates = harness.exchangesSince(mark).filter((e) => e.method === 'POST' && e.path === '/iam/v2/api-keys');
    const resources = keyCreates.map((e) => (e.request.body as { spec: { resource?: { id: string } } }).spec.resource);
    expect(resources.sort((a, b) => String(a?.id).localeCompare(String(b?.id)))).toEqual(
      [{ id: harness.inventory().clusters[0]!.id }, { id: ksqlId }, { id: registryId }].sort((a, b) =>
        a.id.localeCompare(b.id),
      ),
    );
  });

  it('Ctrl-C while a delete runs stops down (exit 130) with what is not gone still recorded', async () => {
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
