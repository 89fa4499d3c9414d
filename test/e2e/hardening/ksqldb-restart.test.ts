import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../../src/kafka/client.js';
import { readTopic } from '../../../src/kafka/consumer.js';
import type { TailRow } from '../../../src/tail/source.js';
import { runCli, startCli, type CliRun, type RunningCli } from '../../helpers/cli.js';
import { checkAndRecord } from '../../helpers/reliability.js';
import { killService, serviceRunning, startStoppedServices, stopService } from '../../helpers/stack-faults.js';
import { localTargetEnv, stackEndpoints } from '../../helpers/stack.js';

/**
 * Hardening item 3: the ksqlDB dev server goes away while `marketplace tail job_status` runs a push query. A restart
 * is ridden out once: tail says it reconnects, does, and prints the rows produced after the restart. A second drop,
 * or a server that does not come back, ends tail with one clear line and exit 1 — within a bounded time, never a hang.
 */
const prefix = 'hardening-ksql';
const database = `hardening_ksql_${randomBytes(3).toString('hex')}`;
const RECONNECTING = /dropped during query \S+ after \d+ row\(s\); reconnecting \(trying for up to 30 s\)…/;
const RECONNECTED = /reconnected to ksqlDB; continuing from the latest rows/;
let cwd: string;
let env: NodeJS.ProcessEnv;
let home: string;

const cli = (args: string[], timeoutMs = 120_000): Promise<CliRun> => runCli(args, { cwd, env, timeoutMs });
// From the beginning: the jobs are produced right after tail starts, maybe before its push query runs, and rows
// of jobs made before that would be skipped from the latest offset (a loaded CI machine missed two of five).
const startTail = (): RunningCli =>
  startCli(['tail', 'job_status', '--from-beginning', '--format', 'jsonl'], { cwd, env, timeoutMs: 150_000 });

beforeAll(async () => {
  const stack = stackEndpoints();
  home = stack.home;
  cwd = await mkdtemp(join(tmpdir(), 'marketplace-hardening-ksql-'));
  env = localTargetEnv(stack, { prefix, database });
  await cli(['down', '--yes', '--discover']);
  const up = await cli(['up'], 240_000);
  expect(up.code, up.stderr).toBe(0);
});

afterAll(async () => {
  if (!(await serviceRunning(home, 'ksqldb'))) await startStoppedServices(home);
  await cli(['down', '--yes', '--discover']);
});

/** Produces `jobs` jobs (orders right behind them) and returns their job ids, read back from job_created. */
async function produceJobs(jobs: number): Promise<Set<string>> {
  const kafka = createKafka({
    target: 'local',
    bootstrap: [stackEndpoints().kafka.plaintext],
    clientId: 'hardening-ksql',
  });
  const before = new Set((await readTopic(kafka, 'job_created')).map((r) => r.key!));
  const produced = await cli([
    'produce',
    '--count',
    String(jobs),
    '--rate',
    '50',
    '--trucks',
    '0',
    '--order-delay',
    '100ms',
  ]);
  expect(produced.code, produced.stderr).toBe(0);
  return new Set((await readTopic(kafka, 'job_created')).map((r) => r.key!).filter((key) => !before.has(key)));
}

function tailedJobIds(tail: RunningCli): Set<string> {
  return new Set(
    tail
      .stdout()
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => String((JSON.parse(line) as TailRow).JOB_ID)),
  );
}

async function untilTailed(tail: RunningCli, ids: Set<string>, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = tailedJobIds(tail);
    const missing = [...ids].filter((id) => !seen.has(id)).length;
    if (missing === 0 || Date.now() > deadline) return missing;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function failureLines(run: CliRun): string[] {
  return run.stderr.split('\n').filter((line) => line.startsWith('✖'));
}

describe('hardening 3: ksqlDB dev server restarted during tail job_status', () => {
  it('a restart is ridden out once (rows produced afterwards arrive); a second drop fails with exit 1', async () => {
    const tail = startTail();
    try {
      // The push query is running once a first batch of rows comes through.
      const early = await produceJobs(10);
      expect(await untilTailed(tail, early, 60_000), 'rows before the restart').toBe(0);

      const restartStarted = Date.now();
      await stopService(home, 'ksqldb');
      const restartSeconds = await startStoppedServices(home);
      await tail.waitFor(RECONNECTED, { timeoutMs: 45_000 });
      const reconnectSeconds = (Date.now() - restartStarted) / 1000;
      const late = await produceJobs(20);
      const lateMissing = await untilTailed(tail, late, 60_000);
      const stillRunning = tail.stderr().match(/✖/) === null;

      await checkAndRecord(
        {
          item: 3,
          scenario: 'ksqlDB dev server restarted (`local stop` ksqldb, `local start`) while `tail job_status` runs',
          expectation:
            'tail says it is reconnecting, reconnects once, and prints the rows of jobs produced after the restart',
          observed:
            `server down and back in ${restartSeconds.toFixed(1)} s, tail reconnected ${reconnectSeconds.toFixed(1)} s after the stop; ` +
            `${early.size} jobs before the restart tailed; ${late.size - lateMissing} of ${late.size} jobs produced after it tailed`,
        },
        () => {
          expect(tail.stderr()).toMatch(RECONNECTING);
          expect(tail.stderr()).toMatch(RECONNECTED);
          expect(stillRunning, tail.stderr()).toBe(true);
          expect(late.size).toBe(20);
          expect(lateMissing, 'jobs produced after the restart that tail did not print').toBe(0);
        },
      );

      // The one reconnect is spent: the next drop ends tail.
      const killedAt = Date.now();
      await killService(home, 'ksqldb', 'SIGKILL');
      const outcome = await Promise.race([
        tail.done,
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 30_000)),
      ]);
      const exitSeconds = (Date.now() - killedAt) / 1000;
      await startStoppedServices(home);
      const failure = outcome ? failureLines(outcome) : [];

      await checkAndRecord(
        {
          item: 3,
          scenario: 'after that reconnect, the dev server SIGKILLed (a second drop)',
          expectation:
            'tail fails with one line saying the connection dropped a second time, exit 1, no stack trace, no hang',
          observed: outcome
            ? `exit ${outcome.code} ${exitSeconds.toFixed(1)} s after the kill; message "${failure[0] ?? '(none)'}"`
            : `still running ${exitSeconds.toFixed(0)} s after the kill`,
        },
        () => {
          expect(outcome, 'tail still running 30 s after the second drop').toBeDefined();
          expect(outcome!.code, outcome!.stderr).toBe(1);
          expect(failure).toHaveLength(1);
          expect(failure[0]).toMatch(
            /^✖ Error: the connection to ksqlDB at \S+ dropped .*second drop, and tail reconnects only once — /,
          );
          expect(outcome!.stderr).not.toMatch(/\n\s+at /);
        },
      );
    } finally {
      tail.kill('SIGKILL');
    }
  });

  it('a server that stays down: tail gives up after its 30 s reconnect window with one clear line, exit 1', async () => {
    const tail = startTail();
    try {
      const early = await produceJobs(5);
      expect(await untilTailed(tail, early, 60_000), 'rows before the kill').toBe(0);
      const killedAt = Date.now();
      await killService(home, 'ksqldb', 'SIGKILL');
      const outcome = await Promise.race([
        tail.done,
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 75_000)),
      ]);
      const exitSeconds = (Date.now() - killedAt) / 1000;
      const failure = outcome ? failureLines(outcome) : [];

      await checkAndRecord(
        {
          item: 3,
          scenario: 'dev server SIGKILLed during `tail job_status` and left down',
          expectation:
            'tail tries to reconnect for 30 s, then fails with one line naming the server and what to do, exit 1, no hang',
          observed: outcome
            ? `exit ${outcome.code} ${exitSeconds.toFixed(1)} s after the kill; message "${failure[0] ?? '(none)'}"`
            : `still running ${exitSeconds.toFixed(0)} s after the kill`,
        },
        () => {
          expect(outcome, 'tail still running 75 s after the server died').toBeDefined();
          expect(outcome!.code, outcome!.stderr).toBe(1);
          expect(outcome!.stderr).toMatch(RECONNECTING);
          expect(failure).toHaveLength(1);
          expect(failure[0]).toMatch(
            /^✖ Error: lost the push query on job_status: .+, and ksqlDB did not take it again within 30 s \(last error: cannot reach ksqlDB at \S+ \(connection refused\)\) — Start the local stack/,
          );
          expect(outcome!.stderr).not.toMatch(/\n\s+at /);
          expect(exitSeconds).toBeGreaterThanOrEqual(25);
          expect(exitSeconds).toBeLessThan(60);
        },
      );
    } finally {
      tail.kill('SIGKILL');
      if (!(await serviceRunning(home, 'ksqldb'))) await startStoppedServices(home);
    }
  });
});
