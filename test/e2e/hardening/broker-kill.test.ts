import { randomBytes } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../../src/kafka/client.js';
import { scanTopic } from '../../../src/kafka/consumer.js';
import { createTopicsAndWait } from '../../../src/kafka/topics.js';
import type { ProduceResult } from '../../../src/producers/produce-run.js';
import { startCli, type CliRun } from '../../helpers/cli.js';
import { eventually } from '../../helpers/poll.js';
import { checkAndRecord } from '../../helpers/reliability.js';
import { killService, serviceRunning, startStoppedServices } from '../../helpers/stack-faults.js';
import { stackEndpoints } from '../../helpers/stack.js';

/**
 * Hardening item 1: the broker of the local stack is SIGKILLed while `produce --rate 2000` runs. Every record the
 * producer reported acknowledged must be in its topic exactly once (each job id once per topic), the producer must
 * say on stderr that Kafka went away and came back, and keep producing afterwards; if the broker stays away longer
 * than --max-outage, produce must fail with one clear line and exit 1, not hang.
 */
const TOPICS = [
  { name: 'job_created', partitions: 1 },
  { name: 'order_placed', partitions: 1 },
  { name: 'joblocation', partitions: 6 },
] as const;
const run = randomBytes(3).toString('hex');
const prefixes: string[] = [];
let kafka: Kafka;
let admin: Admin;
let home: string;

beforeAll(async () => {
  const stack = stackEndpoints();
  home = stack.home;
  kafka = createKafka({ target: 'local', bootstrap: [stack.kafka.plaintext], clientId: 'hardening-broker-kill' });
  admin = kafka.admin();
  await admin.connect();
});

afterAll(async () => {
  // Whatever happened above, the next test file gets a running broker and no leftover topics.
  if (!(await serviceRunning(home, 'kafka'))) await startStoppedServices(home);
  const topics = prefixes.flatMap((prefix) => TOPICS.map((t) => `${prefix}${t.name}`));
  if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
});

async function newTopicSet(scenario: string): Promise<string> {
  const prefix = `hardening-${scenario}-${run}-`;
  prefixes.push(prefix);
  // Plain (not compacted) topics, so a duplicate could not hide behind compaction.
  await createTopicsAndWait(
    admin,
    TOPICS.map((t) => ({ topic: `${prefix}${t.name}`, numPartitions: t.partitions, replicationFactor: 1 })),
  );
  return prefix;
}

function startProduce(prefix: string, extra: string[]) {
  return startCli(
    [
      'produce',
      '--rate',
      '2000',
      '--trucks',
      '0',
      '--topics',
      TOPICS.map((t) => t.name).join(','),
      '--topic-prefix',
      prefix,
      '--json',
      ...extra,
    ],
    {
      env: { MARKETPLACE_TARGET: 'local', MARKETPLACE_BOOTSTRAP_SERVERS: stackEndpoints().kafka.plaintext },
      timeoutMs: 240_000,
    },
  );
}

/** Records in the topic now. Just after a create or a broker restart, leadership is still settling: ask again. */
async function recordsIn(topic: string): Promise<number> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
    } catch (error) {
      if ((error as { retriable?: boolean }).retriable !== true || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

async function until(what: string, condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  await eventually(async () => (await condition()) || undefined, timeoutMs, what);
}

/** Per topic: records found, distinct keys (job ids), and how many records repeat a key already seen. */
async function census(prefix: string): Promise<Map<string, { found: number; distinct: number; duplicates: number }>> {
  const result = new Map<string, { found: number; distinct: number; duplicates: number }>();
  for (const { name } of TOPICS) {
    const keys = new Set<string>();
    let found = 0;
    await scanTopic(kafka, `${prefix}${name}`, (record) => {
      found++;
      keys.add(record.key ?? '<null>');
    });
    result.set(name, { found, distinct: keys.size, duplicates: found - keys.size });
  }
  return result;
}

function summaryOf(outcome: CliRun): ProduceResult {
  return JSON.parse(outcome.stdout) as ProduceResult;
}

function describeCensus(summary: ProduceResult, counts: Awaited<ReturnType<typeof census>>): string {
  return TOPICS.map(({ name }) => {
    const acked = summary.topics.find((t) => t.topic === name)?.acked;
    const c = counts.get(name)!;
    return `${name}: acked ${acked}, found ${c.found}, duplicates ${c.duplicates}`;
  }).join('; ');
}

describe('hardening 1: broker SIGKILLed during produce --rate 2000', () => {
  it('after the broker is restarted, every acknowledged record is in its topic exactly once and production resumes', async () => {
    const prefix = await newTopicSet('broker-restart');
    const producing = startProduce(prefix, ['--max-outage', '3m']);
    const jobCreated = `${prefix}job_created`;
    try {
      await until('produce to get going', async () => (await recordsIn(jobCreated)) >= 4_000, 60_000);

      const killedAt = Date.now();
      await killService(home, 'kafka', 'SIGKILL');
      // The broker comes back once produce has noticed it is gone.
      await producing.waitFor(/Kafka at \S+ unreachable \(.+\); retrying for up to 180 s/, {
        on: 'stderr',
        timeoutMs: 60_000,
      });
      const restartSeconds = await startStoppedServices(home);
      const outageSeconds = (Date.now() - killedAt) / 1000;
      const atRestart = await recordsIn(jobCreated);

      await producing.waitFor(/Kafka at \S+ is back after [\d.]+ s; resuming/, { timeoutMs: 120_000 });
      // Production resumed: the topic grows well beyond what it held when the broker came back.
      await until(
        'records to be acknowledged after the restart',
        async () => (await recordsIn(jobCreated)) >= atRestart + 4_000,
        90_000,
      );
      producing.kill('SIGINT');
      const outcome = await producing.done;
      const summary = summaryOf(outcome);
      const counts = await census(prefix);
      const jobCreatedAcked = summary.topics.find((t) => t.topic === 'job_created')!.acked;

      await checkAndRecord(
        {
          item: 1,
          scenario:
            'broker SIGKILLed mid-run, restarted (`local start`) once produce reports the outage; produce --rate 2000 --max-outage 3m, stopped with Ctrl-C afterwards',
          expectation:
            'every acknowledged record in its topic exactly once (by job id, per topic); outage reported on stderr; records acknowledged after the restart; exit 130 after Ctrl-C',
          observed:
            `outage ${outageSeconds.toFixed(1)} s (broker restart ${restartSeconds.toFixed(1)} s), producer saw ${summary.outages.count} outage(s), ` +
            `longest ${(summary.outages.longestMs / 1000).toFixed(1)} s; acked ${summary.acked} records, errors ${summary.errors}; ` +
            `${describeCensus(summary, counts)}; job_created acked after the restart ${jobCreatedAcked - atRestart}; exit ${outcome.code}`,
        },
        () => {
          expect(outcome.code, outcome.stderr).toBe(130);
          expect(outcome.stderr).toMatch(/Kafka at \S+ unreachable \(.+\); retrying for up to 180 s/);
          expect(outcome.stderr).toMatch(/Kafka at \S+ is back after [\d.]+ s; resuming/);
          expect(summary.outages.count).toBeGreaterThanOrEqual(1);
          expect(summary.errors).toBe(0);
          for (const { name } of TOPICS) {
            const acked = summary.topics.find((t) => t.topic === name)!.acked;
            const c = counts.get(name)!;
            expect(c.duplicates, `${name}: records whose job id repeats`).toBe(0);
            // Nothing acknowledged is missing, and nothing beyond what was acknowledged was written.
            expect(c.found, `${name}: records found vs acknowledged`).toBe(acked);
          }
          expect(jobCreatedAcked - atRestart).toBeGreaterThanOrEqual(4_000);
        },
      );
    } finally {
      producing.kill('SIGKILL');
    }
  });

  it('a broker that stays down longer than --max-outage: produce fails with one clear line and exit 1, no hang', async () => {
    const prefix = await newTopicSet('broker-down');
    const producing = startProduce(prefix, ['--max-outage', '5s', '--duration', '5m']);
    try {
      await until('produce to get going', async () => (await recordsIn(`${prefix}job_created`)) >= 2_000, 60_000);
      const killedAt = Date.now();
      await killService(home, 'kafka', 'SIGKILL');
      const outcome = await producing.done;
      const exitSeconds = (Date.now() - killedAt) / 1000;
      await startStoppedServices(home);
      const summary = summaryOf(outcome);
      const counts = await census(prefix);
      const failure = outcome.stderr.split('\n').filter((line) => line.startsWith('✖'));

      await checkAndRecord(
        {
          item: 1,
          scenario: 'broker SIGKILLed mid-run and left down; produce --rate 2000 --max-outage 5s',
          expectation:
            'produce gives up after the limit with one line naming the outage and what to do, exit 1, no stack trace; what it acknowledged is in the topics exactly once',
          observed:
            `exit ${outcome.code} ${exitSeconds.toFixed(1)} s after the kill; message "${failure[0] ?? '(none)'}"; ` +
            `acked ${summary.acked}, not sent ${summary.errors}; ${describeCensus(summary, counts)}`,
        },
        () => {
          expect(outcome.code, outcome.stderr).toBe(1);
          expect(failure).toHaveLength(1);
          expect(failure[0]).toMatch(
            /^✖ Error: cannot reach Kafka at \S+ while sending records: no acknowledgement for \d+ s, more than --max-outage allows \(5 s\); last error: .+ — Start the local stack/,
          );
          expect(outcome.stderr).not.toMatch(/\n\s+at /);
          expect(summary.stoppedBy).toBe('error');
          // Bounded: the limit plus at most one round of kafkajs' own retries, far from the 5 m --duration.
          expect(exitSeconds).toBeLessThan(60);
          for (const { name } of TOPICS) {
            const acked = summary.topics.find((t) => t.topic === name)!.acked;
            const c = counts.get(name)!;
            expect(c.duplicates, `${name}: records whose job id repeats`).toBe(0);
            // The batch in flight when produce gave up may or may not have been written; everything acked was.
            expect(c.found, `${name}: records found vs acknowledged`).toBeGreaterThanOrEqual(acked);
            expect(c.found, `${name}: records found vs acknowledged + never acknowledged`).toBeLessThanOrEqual(
              acked + summary.errors,
            );
          }
        },
      );
    } finally {
      producing.kill('SIGKILL');
      if (!(await serviceRunning(home, 'kafka'))) await startStoppedServices(home);
    }
  });

  it('Ctrl-C while produce waits for a broker that stays down: exit 130 at once, what was acknowledged is in the topics', async () => {
    const prefix = await newTopicSet('broker-down-ctrl-c');
    const producing = startProduce(prefix, ['--max-outage', '5m', '--duration', '5m']);
    try {
      await until('produce to get going', async () => (await recordsIn(`${prefix}job_created`)) >= 2_000, 60_000);
      await killService(home, 'kafka', 'SIGKILL');
      await producing.waitFor(/Kafka at \S+ unreachable \(.+\); retrying for up to 300 s/, { timeoutMs: 60_000 });
      const interruptedAt = Date.now();
      producing.kill('SIGINT');
      const outcome = await producing.done;
      const afterSigintSeconds = (Date.now() - interruptedAt) / 1000;
      await startStoppedServices(home);
      const summary = summaryOf(outcome);
      const counts = await census(prefix);

      await checkAndRecord(
        {
          item: 1,
          scenario: 'broker SIGKILLed mid-run and left down; Ctrl-C while produce --max-outage 5m waits for it',
          expectation:
            'exit 130 within 10 s of Ctrl-C (not after the outage limit), the summary says interrupted with what was acknowledged; that is in the topics exactly once',
          observed:
            `exit ${outcome.code} ${afterSigintSeconds.toFixed(1)} s after SIGINT, stopped by ${summary.stoppedBy}; ` +
            `acked ${summary.acked}, not sent ${summary.errors}; ${describeCensus(summary, counts)}`,
        },
        () => {
          expect(outcome.code, outcome.stderr).toBe(130);
          expect(afterSigintSeconds).toBeLessThan(10);
          expect(summary.stoppedBy).toBe('interrupted');
          expect(summary.error).toBeUndefined();
          expect(outcome.stderr).not.toMatch(/\n\s+at /);
          for (const { name } of TOPICS) {
            const acked = summary.topics.find((t) => t.topic === name)!.acked;
            const c = counts.get(name)!;
            expect(c.duplicates, `${name}: records whose job id repeats`).toBe(0);
            expect(c.found, `${name}: records found vs acknowledged`).toBeGreaterThanOrEqual(acked);
            expect(c.found, `${name}: records found vs acknowledged + never acknowledged`).toBeLessThanOrEqual(
              acked + summary.errors,
            );
          }
        },
      );
    } finally {
      producing.kill('SIGKILL');
      if (!(await serviceRunning(home, 'kafka'))) await startStoppedServices(home);
    }
  });
});
