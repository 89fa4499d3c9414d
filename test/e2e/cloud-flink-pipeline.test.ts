import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DownResult } from '../../src/commands/down.js';
import type { LineageResult } from '../../src/commands/lineage.js';
import type { PlanResult } from '../../src/commands/plan.js';
import type { StatusResult } from '../../src/commands/status.js';
import type { SinkVerifyResult } from '../../src/commands/sink.js';
import type { UpResult } from '../../src/commands/up.js';
import type { ProduceResult } from '../../src/producers/produce-run.js';
import { checkExchangeLog } from '../emulators/confluent-cloud/index.js';
import { type CliRun, startCli } from '../helpers/cli.js';
import { CloudPipeline, type TailRow } from '../helpers/cloud-pipeline.js';
import { EMPTY_INVENTORY } from '../helpers/emulator.js';
import { flinkStack } from '../helpers/flink.js';
import { eventually } from '../helpers/poll.js';
import { stackEndpoints } from '../helpers/stack.js';

/**
 * The demo on Confluent Cloud for Apache Flink through the real CLI: up --engine flink (data contracts, compute
 * pool, Flink key, the statements of templates/flink-cloud) → produce → tail (a SELECT statement's paged results, and
 * the topic) → sink verify → status, lineage → down, against the emulator, whose statements run on the local Flink.
 */
const JOBS = 120;
const TIME_SCALE = 0.002;
const prefix = `e2e-cflink-${Date.now().toString(36)}`;
let root: string;
let pipeline: CloudPipeline;
let restUrl: string;

const json = <T>(run: CliRun): T => {
  expect(run.code, `exit ${run.code}\n${run.stderr}`).toBe(0);
  return JSON.parse(run.stdout) as T;
};
const jsonl = (run: CliRun): TailRow[] => {
  expect(run.code, `exit ${run.code}\n${run.stderr}`).toBe(0);
  return run.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as TailRow);
};

/** Jobs on the local Flink, by name, that are not over. */
async function activeFlinkJobs(): Promise<string[]> {
  const overview = (await (await fetch(`${restUrl}/jobs/overview`)).json()) as {
    jobs: { name: string; state: string }[];
  };
  return overview.jobs
    .filter((job) => job.name.startsWith(prefix) && !['CANCELED', 'FINISHED', 'FAILED'].includes(job.state))
    .map((job) => `${job.name} ${job.state}`);
}

beforeAll(async () => {
  const flink = await flinkStack();
  restUrl = flink.restUrl;
  root = mkdtempSync(join(tmpdir(), 'e2e-cloud-flink-'));
  pipeline = await CloudPipeline.start(stackEndpoints(), {
    dir: root,
    prefix,
    timeScale: TIME_SCALE,
    flink: { gatewayUrl: flink.gatewayUrl, restUrl: flink.restUrl },
    env: { MARKETPLACE_ENGINE: 'flink' },
  });
});

afterAll(async () => {
  await pipeline?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('Confluent Cloud for Apache Flink: the pipeline against the emulator', () => {
  let expected: Map<string, string>;

  it('plan lists the pool, the Flink key and one statement per template; up creates them and runs the jobs', async () => {
    const plan = json<PlanResult>(await pipeline.cli(['plan', '--json']));
    const ids = plan.steps.map((step) => step.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        'compute-pool',
        'flink-api-key',
        'flink-role-binding',
        'schema-registry',
        'subject:order_placed-value',
        'flink-statement:job-status-table',
        'flink-statement:job-status',
        'flink-statement:truck-tracker-table',
        'flink-statement:truck-tracker',
      ]),
    );
    expect(ids).not.toContain('ksqldb-cluster');
    expect(ids).not.toContain('topic:job_status');

    const up = json<UpResult>(await pipeline.up());
    expect(up.nothingToDo).toBe(false);
    const inventory = pipeline.harness.inventory();
    expect(inventory.ksqlClusters).toEqual([]);
    expect(inventory.computePools.map((pool) => pool.name)).toEqual([`${prefix}-pool`]);
    const sa = inventory.serviceAccounts[0]!.id;
    expect(
      inventory.statements.map((s) => `${s.name} ${s.phase} ${s.principal === sa ? 'sa' : s.principal}`).sort(),
    ).toEqual([
      `${prefix}-job-status RUNNING sa`,
      `${prefix}-job-status-table COMPLETED sa`,
      `${prefix}-truck-tracker RUNNING sa`,
      `${prefix}-truck-tracker-table COMPLETED sa`,
    ]);
    expect(inventory.roleBindings.map((rb) => rb.roleName).sort()).toEqual([
      'CloudClusterAdmin',
      'FlinkDeveloper',
      ...Array<string>(6).fill('ResourceOwner'),
    ]);
    const flinkKey = inventory.apiKeys.find((key) => key.name === `${prefix}-flink-key`);
    expect(flinkKey?.resourceId).toBe('aws.us-east-2');
    expect((await activeFlinkJobs()).sort()).toEqual([
      `${prefix}-job-status RUNNING`,
      `${prefix}-truck-tracker RUNNING`,
    ]);

    const again = await pipeline.cli(['up']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('Nothing to do');
  });

  it(`produce ${JOBS} jobs; every record matches its data contract`, async () => {
    const produced = json<ProduceResult>(await pipeline.produce(JOBS, 17));
    expect(produced).toMatchObject({ jobs: JOBS, errors: 0 });
    expected = await pipeline.expectedStatuses();
    expect(expected.size).toBe(JOBS);
  });

  it('tail job_status reads a SELECT statement page by page: one row per job with its status', async () => {
    const rows = jsonl(await pipeline.tail(JOBS));
    expect(rows).toHaveLength(JOBS);
    expect(Object.keys(rows[0]!)).toEqual(['JOB_ID', 'CUSTOMER_ID', 'SERVICE_OPTION', 'PRICE', 'CURRENT_STATUS']);
    expect(new Map(rows.map((row) => [String(row.JOB_ID), row.CURRENT_STATUS]))).toEqual(expected);
    const viaKafka = jsonl(await pipeline.tail(JOBS, ['--via', 'kafka']));
    expect(new Map(viaKafka.map((row) => [String(row.JOB_ID), row.CURRENT_STATUS]))).toEqual(expected);
    // The tail's statement is deleted when it ends: only the demo's four remain.
    await expect
      .poll(() => pipeline.harness.inventory().statements.filter((s) => s.name.includes('-tail-')).length, {
        timeout: 30_000,
      })
      .toBe(0);
  });

  it('sink verify counts every job_status record in MongoDB (the sink reads JSON_SR)', async () => {
    const verify = json<SinkVerifyResult>(await pipeline.sinkVerify());
    expect(verify).toMatchObject({ documents: JOBS, topicRecords: JOBS, missing: 0 });
  });

  it('status shows the pool and each statement with its phase; lineage draws the statements', async () => {
    const status = json<StatusResult>(await pipeline.cli(['status', '--json']));
    expect(status.engine).toBe('flink');
    expect(status.healthy).toBe(true);
    const pool = status.resources.find((r) => r.id === 'compute-pool');
    expect(pool).toMatchObject({ health: 'present', detail: 'PROVISIONED' });
    // Each statement, the registry, its key and the data contracts are rows of their own, checked live.
    const row = (id: string) => status.resources.find((r) => r.id === id);
    expect(
      [
        'flink-statement:job-status-table',
        'flink-statement:job-status',
        'flink-statement:truck-tracker-table',
        'flink-statement:truck-tracker',
      ].map((id) => `${id} ${row(id)?.health} ${row(id)?.detail}`),
    ).toEqual([
      'flink-statement:job-status-table present COMPLETED',
      'flink-statement:job-status present RUNNING',
      'flink-statement:truck-tracker-table present COMPLETED',
      'flink-statement:truck-tracker present RUNNING',
    ]);
    expect(
      [
        'schema-registry',
        'schema-registry-api-key',
        'subject:order_placed-value',
        'subject:job_created-value',
        'subject:joblocation-value',
        'subject:tradie_truck_location-value',
      ].map((id) => `${id} ${row(id)?.health}`),
    ).toEqual([
      'schema-registry present',
      'schema-registry-api-key present',
      'subject:order_placed-value present',
      'subject:job_created-value present',
      'subject:joblocation-value present',
      'subject:tradie_truck_location-value present',
    ]);
    expect(status.queries.map((q) => `${q.id} ${q.state} ${q.sinks.join(',')}`).sort()).toEqual([
      `${prefix}-job-status RUNNING job_status`,
      `${prefix}-truck-tracker RUNNING truck_tracker`,
    ]);
    expect(status.topics.map((t) => t.name)).toEqual(expect.arrayContaining(['job_status', 'truck_tracker']));
    expect(status.topics.find((t) => t.name === 'job_status')?.endOffset).toBe(JOBS);

    const lineage = json<LineageResult>(await pipeline.cli(['lineage', '--json']));
    const edges = lineage.edges.map((edge) => `${edge.from} → ${edge.to}`);
    expect(edges).toEqual(
      expect.arrayContaining([
        `stream:job_created → query:${prefix}-job-status`,
        `stream:order_placed → query:${prefix}-job-status`,
        `query:${prefix}-job-status → stream:job_status`,
        `query:${prefix}-truck-tracker → table:truck_tracker`,
      ]),
    );
    // Each topic with the data contract the registry holds for its values: ours for the inputs, CREATE TABLE's for
    // the outputs.
    const contractOf = (topic: string) => lineage.nodes.find((node) => node.id === `topic:${topic}`)?.contract;
    expect(['order_placed', 'job_created', 'joblocation', 'tradie_truck_location'].map(contractOf)).toEqual([
      'order_placed-value v1',
      'job_created-value v1',
      'joblocation-value v1',
      'tradie_truck_location-value v1',
    ]);
    expect(contractOf('job_status')).toMatch(/^job_status-value v\d+$/);
    const mermaid = await pipeline.cli(['lineage', '--format', 'mermaid']);
    expect(mermaid.stdout).toContain('topic: order_placed, contract order_placed-value v1');
  });

  it("the dashboard's health says the statements run, in Confluent Cloud's word for them", async () => {
    const dashboard = startCli(['dashboard', '--port', '0', '--no-open'], {
      cwd: pipeline.cwd,
      env: pipeline.env,
      timeoutMs: 180_000,
    });
    try {
      await dashboard.waitFor(/at http:\/\/127\.0\.0\.1:\d+\//, { timeoutMs: 120_000 });
      const url = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(dashboard.stderr())![1]!;
      const stream = await fetch(`${url}events`);
      const reader = stream.body!.getReader();
      let events = '';
      const engineHealth = /"name":"Apache Flink","up":true,"detail":"([^"]*)"/;
      try {
        await eventually(
          async () => {
            const { value, done } = await reader.read();
            if (!done) events += Buffer.from(value).toString('utf8');
            return engineHealth.test(events) || done ? true : undefined;
          },
          90_000,
          "the engine's health on the event stream",
          0,
        );
      } finally {
        await reader.cancel().catch(() => undefined);
      }
      expect(engineHealth.exec(events)?.[1]).toBe('statements running');
      dashboard.kill('SIGINT');
      expect((await dashboard.done).code).toBe(130);
    } finally {
      dashboard.kill('SIGKILL');
    }
  });

  it('a statement whose SQL differs from its template is replaced alone; a new pool size is an update', async () => {
    const { state } = pipeline.harness.emulator;
    const statement = [...state.statements.values()].find((s) => s.name === `${prefix}-truck-tracker`)!;
    const others = [...state.statements.values()].filter((s) => s !== statement).map((s) => `${s.name} ${s.uid}`);
    // As if the running statement came from an older version of templates/flink-cloud/04-truck-tracker.sql.
    statement.statement = `${statement.statement}\n-- an older version`;

    const plan = json<PlanResult>(await pipeline.cli(['plan', '--json']));
    const changed = plan.steps.filter((step) => step.action !== 'none');
    expect(changed.map((step) => `${step.id} ${step.action} ${(step.changes ?? []).join('; ')}`)).toEqual([
      'flink-statement:truck-tracker update its SQL changed',
    ]);
    const resized = json<PlanResult>(
      await pipeline.cli(['plan', '--json'], 60_000, { ...pipeline.env, MARKETPLACE_FLINK_MAX_CFU: '10' }),
    );
    expect(resized.steps.find((step) => step.id === 'compute-pool')).toMatchObject({
      action: 'update',
      changes: ['max_cfu 5 → 10'],
    });

    const up = json<UpResult>(await pipeline.up());
    expect(up.updated).toEqual(['flink-statement:truck-tracker']);
    expect(up.created).toEqual([]);
    const after = [...state.statements.values()];
    const replaced = after.find((s) => s.name === `${prefix}-truck-tracker`)!;
    expect(replaced.uid).not.toBe(statement.uid);
    expect(replaced.phase).toBe('RUNNING');
    expect(replaced.statement).not.toContain('an older version');
    expect(after.filter((s) => s !== replaced).map((s) => `${s.name} ${s.uid}`)).toEqual(others);
    expect((await activeFlinkJobs()).sort()).toEqual([
      `${prefix}-job-status RUNNING`,
      `${prefix}-truck-tracker RUNNING`,
    ]);
  });

  it('down stops and deletes the statements, drops the tables, deletes the pool, then everything else', async () => {
    // Keeping the environment shows what down itself removes: the environment's registry keeps no subject of the
    // demo (the output tables' subjects go with DROP TABLE), and no pool or statement is left in it.
    const kept = json<DownResult>(await pipeline.cli(['down', '--yes', '--keep-environment', '--json']));
    expect(kept.remaining).toEqual([]);
    expect(kept.deleted).toEqual(
      expect.arrayContaining([
        'compute-pool',
        'flink-api-key',
        'flink-statement:job-status',
        'subject:job_created-value',
      ]),
    );
    const inEnvironment = pipeline.harness.inventory();
    expect(inEnvironment.environments.map((e) => e.name)).toEqual([`${prefix}-env`]);
    expect(inEnvironment.subjects).toEqual([]);
    expect(inEnvironment.computePools).toEqual([]);
    expect(inEnvironment.statements).toEqual([]);
    expect(inEnvironment.apiKeys).toEqual([]);
    expect(inEnvironment.roleBindings).toEqual([]);
    expect(await activeFlinkJobs()).toEqual([]);

    const down = json<DownResult>(await pipeline.down());
    expect(down.remaining).toEqual([]);
    const left = await pipeline.leftovers();
    expect(left.inventory).toEqual(EMPTY_INVENTORY);
    expect(left.demoTopics).toEqual([]);
    expect(left.connectors).toEqual([]);
    expect(left.emulatorErrors).toEqual([]);
    expect(await activeFlinkJobs()).toEqual([]);
  });

  it('every exchange was a valid request and a documented answer of the official specs', () => {
    const { emulator } = pipeline.harness;
    expect(emulator.responseViolations).toEqual([]);
    expect(checkExchangeLog(emulator.logFile!, emulator.specs!).violations).toEqual([]);
  });
});
