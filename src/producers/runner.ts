import { setTimeout as delay } from 'node:timers/promises';
import { ProduceStats } from './stats.js';
import { TokenBucket } from './token-bucket.js';
import type { OutgoingRecord } from './records.js';
import type { Workload } from './workload.js';

/** Sends one batch and resolves once every record in it is acknowledged (rejects if any is not). */
export type BatchSender = (records: OutgoingRecord[]) => Promise<void>;

export interface RunClock {
  /** Epoch milliseconds with sub-millisecond precision. */
  now(): number;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const preciseClock: RunClock = {
  now: () => performance.timeOrigin + performance.now(),
  sleep: async (ms, signal) => {
    try {
      await delay(ms, undefined, { signal });
    } catch {
      // woken by the abort signal: the loop checks it next
    }
  },
};

export interface RunOptions {
  workload: Workload;
  send: BatchSender;
  /** New jobs per second; undefined = as fast as the broker acknowledges. */
  ratePerSecond?: number;
  /** Stop after this many jobs (and their orders). */
  maxJobs?: number;
  durationMs?: number;
  signal: AbortSignal;
  clock?: RunClock;
  stats?: ProduceStats;
  /** Records per request at most; each topic's share of a request also stays under maxTopicRecords/maxTopicBytes. */
  maxBatchRecords?: number;
  maxTopicRecords?: number;
  maxTopicBytes?: number;
}

export type StopReason = 'count' | 'duration' | 'interrupted' | 'error';

export interface RunOutcome {
  stoppedBy: StopReason;
  error?: unknown;
  stats: ProduceStats;
  /** When generation stopped (the loop ended; flushing follows). */
  stoppedAt: number;
  /** When the last record was acknowledged (or failed). */
  endedAt: number;
}

const MAX_QUEUED_RECORDS = 6_000;
const MAX_JOBS_PER_TICK = 1_000;
const BROKER_MESSAGE_LIMIT = 900_000;
// kafkajs groups a request's records per partition by copying the partition's array for every record (quadratic),
// so a few thousand records per topic per request is the sweet spot between round trips and that copying.
const MAX_TOPIC_RECORDS = 500;

/**
 * The produce loop: a token bucket releases jobs, the workload turns them into records, and one sender drains the
 * queue in batches while the next batch accumulates. The idempotent producer allows one request in flight, so
 * batching (not concurrency) is what carries the throughput.
 */
export async function runProducer(options: RunOptions): Promise<RunOutcome> {
  const clock = options.clock ?? preciseClock;
  const { workload, signal } = options;
  const startedAt = clock.now();
  const stats = options.stats ?? new ProduceStats(startedAt);
  const bucket =
    options.ratePerSecond === undefined ? undefined : new TokenBucket({ ratePerSecond: options.ratePerSecond, now: clock.now });
  const maxJobs = options.maxJobs ?? Number.POSITIVE_INFINITY;
  const deadline = options.durationMs === undefined ? Number.POSITIVE_INFINITY : startedAt + options.durationMs;
  const maxBatchRecords = options.maxBatchRecords ?? 20_000;
  const maxTopicBytes = options.maxTopicBytes ?? BROKER_MESSAGE_LIMIT;
  const maxTopicRecords = options.maxTopicRecords ?? MAX_TOPIC_RECORDS;

  let queue: OutgoingRecord[] = [];
  let queuedAt: number[] = [];
  let sending: Promise<void> | undefined;
  let failure: unknown;

  const pump = async (): Promise<void> => {
    while (queue.length > 0 && failure === undefined) {
      const count = batchLength(queue, maxBatchRecords, maxTopicRecords, maxTopicBytes);
      const batch = queue.slice(0, count);
      const enqueued = queuedAt.slice(0, count);
      queue = queue.slice(count);
      queuedAt = queuedAt.slice(count);
      stats.sent += batch.length;
      try {
        await options.send(batch);
      } catch (error) {
        stats.errors += batch.length;
        failure = error;
        return;
      }
      const ackedAt = clock.now();
      stats.acked += batch.length;
      for (let i = 0; i < batch.length; i++) {
        const record = batch[i]!;
        stats.ackedByTopic[record.topic]++;
        stats.ackedBytes += record.key.length + record.value.length;
        stats.latency.record(ackedAt - enqueued[i]!);
      }
    }
  };
  const kick = () => {
    if (sending || queue.length === 0 || failure !== undefined) return;
    sending = pump().finally(() => {
      sending = undefined;
    });
  };
  const enqueue = (from: number, now: number, fresh: OutgoingRecord[]) => {
    for (let i = from; i < fresh.length; i++) {
      queue.push(fresh[i]!);
      queuedAt.push(now);
    }
  };

  let stoppedBy: StopReason;
  const fresh: OutgoingRecord[] = [];
  for (;;) {
    const now = clock.now();
    if (failure !== undefined) {
      stoppedBy = 'error';
      break;
    }
    if (signal.aborted) {
      stoppedBy = 'interrupted';
      break;
    }
    fresh.length = 0;
    const remainingJobs = maxJobs - workload.jobsGenerated;
    if (remainingJobs > 0) {
      // Stop generating when the broker falls behind, so memory stays bounded; the bucket then owes tokens and
      // catches up (within its bound) once the queue drains.
      const room = Math.max(0, Math.floor((MAX_QUEUED_RECORDS - queue.length) / 3));
      const wanted = Math.min(remainingJobs, room, MAX_JOBS_PER_TICK);
      // The last tick of a --duration run still takes the tokens due up to the deadline, no more.
      const jobs = bucket ? bucket.take(wanted, Math.min(now, deadline)) : now < deadline ? wanted : 0;
      if (jobs > 0) {
        workload.addJobs(jobs, Math.min(now, deadline), fresh);
        stats.jobs = workload.jobsGenerated;
        stats.lastJobAt = now;
      }
    }
    workload.due(now, fresh);
    enqueue(0, now, fresh);
    kick();
    if (workload.jobsGenerated >= maxJobs && workload.pendingOrders === 0) {
      stoppedBy = 'count';
      break;
    }
    if (now >= deadline) {
      stoppedBy = 'duration';
      break;
    }
    const moreJobs = workload.jobsGenerated < maxJobs;
    if (!bucket && moreJobs && queue.length < MAX_QUEUED_RECORDS / 2) {
      await new Promise<void>((resolve) => setImmediate(resolve));
    } else if (!bucket && moreJobs && sending) {
      await sending;
    } else {
      const nextToken = bucket && moreJobs ? bucket.msUntilNext() : Number.POSITIVE_INFINITY;
      const nextEvent = Math.min(nextToken, (workload.nextDueAt() ?? Number.POSITIVE_INFINITY) - now, deadline - now);
      await clock.sleep(Math.min(50, Math.max(2, nextEvent)), signal);
    }
  }

  const stoppedAt = Math.min(clock.now(), deadline);
  // Stopping: nothing new is generated, but everything already made (and every order its job still owes) is sent.
  if (stoppedBy !== 'error') {
    const now = clock.now();
    fresh.length = 0;
    workload.flushOrders(now, fresh);
    enqueue(0, now, fresh);
  }
  while (sending || (queue.length > 0 && failure === undefined)) {
    kick();
    if (sending) await sending;
  }
  if (failure !== undefined) stoppedBy = 'error';
  stats.jobs = workload.jobsGenerated;
  return { stoppedBy, error: failure, stats, stoppedAt, endedAt: clock.now() };
}

/** How many records from the head of the queue fit one request without any topic batch growing too large. */
function batchLength(queue: OutgoingRecord[], maxRecords: number, maxTopicRecords: number, maxTopicBytes: number): number {
  const bytes = new Map<string, number>();
  const records = new Map<string, number>();
  const limit = Math.min(queue.length, maxRecords);
  for (let i = 0; i < limit; i++) {
    const record = queue[i]!;
    // 70 bytes covers the record header, key length varints and timestamp delta of a v2 record.
    const size = record.value.length + record.key.length + 70;
    const totalBytes = (bytes.get(record.topic) ?? 0) + size;
    const totalRecords = (records.get(record.topic) ?? 0) + 1;
    if (i > 0 && (totalBytes > maxTopicBytes || totalRecords > maxTopicRecords)) return i;
    bytes.set(record.topic, totalBytes);
    records.set(record.topic, totalRecords);
  }
  return limit;
}
