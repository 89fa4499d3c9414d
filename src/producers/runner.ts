import type { ProduceStats } from './stats.js';
import { TokenBucket } from './token-bucket.js';
import type { LaneAck, LaneEvents, LaneHandle } from './lane-handle.js';
import { pause, systemClock, type Clock } from '../core/waiter.js';
import type { InputTopic } from './records.js';

export type { LaneHandle } from './lane-handle.js';

/** Collects what the lanes report into the run's stats, and wakes the run loop when something changed. */
export class RunTracker implements LaneEvents {
  failure: unknown;
  private wake: (() => void) | undefined;

  constructor(readonly stats: ProduceStats) {}

  sent(count: number): void {
    this.stats.sent += count;
    this.notify();
  }

  acked(ack: LaneAck): void {
    const stats = this.stats;
    stats.acked += ack.count;
    stats.ackedBytes += ack.bytes;
    for (const [topic, count] of Object.entries(ack.byTopic) as Array<[InputTopic, number]>)
      stats.ackedByTopic[topic] += count;
    for (let i = 0; i < ack.latencies.length; i++) stats.latency.record(ack.latencies[i]!);
    this.notify();
  }

  failed(error: unknown, count: number): void {
    this.stats.errors += count;
    this.failure ??= error;
    this.notify();
  }

  /** Resolves at the next report from a lane, or after `ms`, or on abort. */
  async progress(ms: number, clock: Clock, signal: AbortSignal): Promise<void> {
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const woken = new Promise<void>((resolve) => (this.wake = resolve));
    await Promise.race([woken, pause(clock, ms, controller.signal)]);
    controller.abort();
    signal.removeEventListener('abort', onAbort);
    this.wake = undefined;
  }

  private notify(): void {
    this.wake?.();
  }
}

export interface RunOptions {
  lanes: LaneHandle[];
  tracker: RunTracker;
  /** New jobs per second; undefined = as fast as the broker acknowledges. */
  ratePerSecond?: number;
  /** Stop after this many jobs (and their orders). */
  maxJobs?: number;
  durationMs?: number;
  signal: AbortSignal;
  clock?: Clock;
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

const MAX_BACKLOG_RECORDS = 6_000;
const MAX_JOBS_PER_TICK = 1_000;
const MIN_TICK_MS = 5;
/** A job puts at most this many records on one lane (job_created, order_placed, joblocation). */
const MAX_RECORDS_PER_JOB = 3;

/**
 * The run loop: a token bucket releases jobs and every lane is told their times; the lanes generate and send their
 * topics' records. Each job carries the time its token fell due as its event time, so the timestamps follow the
 * requested rate even when the process is briefly descheduled; a stall longer than the bucket's catch-up bound is
 * not made up. When a lane falls behind, no new jobs are made (the bucket owes them, within its bound).
 */
export async function runProducer(options: RunOptions): Promise<RunOutcome> {
  const clock = options.clock ?? systemClock;
  const { lanes, tracker, signal } = options;
  const stats = tracker.stats;
  const startedAt = clock.now();
  stats.startedAt = startedAt;
  const bucket =
    options.ratePerSecond === undefined
      ? undefined
      : new TokenBucket({ ratePerSecond: options.ratePerSecond, now: clock.now });
  const maxJobs = options.maxJobs ?? Number.POSITIVE_INFINITY;
  const deadline = options.durationMs === undefined ? Number.POSITIVE_INFINITY : startedAt + options.durationMs;
  let jobs = 0;

  let stoppedBy: StopReason;
  for (;;) {
    const now = clock.now();
    if (tracker.failure !== undefined) {
      stoppedBy = 'error';
      break;
    }
    if (signal.aborted) {
      stoppedBy = 'interrupted';
      break;
    }
    const backlog = Math.max(...lanes.map((lane) => lane.backlog()));
    // Unlimited rate: refill only once the lanes are half empty, in big steps; topping up a few jobs at every
    // report would keep the threads busy with tiny messages instead of records.
    const refill = bucket !== undefined || backlog <= MAX_BACKLOG_RECORDS / 2;
    const room = refill ? Math.max(0, Math.floor((MAX_BACKLOG_RECORDS - backlog) / MAX_RECORDS_PER_JOB)) : 0;
    const wanted = Math.min(maxJobs - jobs, room, MAX_JOBS_PER_TICK);
    let times: Float64Array | undefined;
    if (wanted > 0 && bucket) {
      // The last tick of a --duration run still takes the tokens due up to the deadline, no more.
      const first = bucket.granted;
      const granted = bucket.take(wanted, Math.min(now, deadline));
      if (granted > 0) times = Float64Array.from({ length: granted }, (_, i) => bucket.dueTime(first + i));
    } else if (wanted > 0 && now < deadline) {
      times = new Float64Array(wanted).fill(now);
    }
    if (times) {
      for (const lane of lanes) lane.addJobs(times, now);
      jobs += times.length;
      stats.jobs = jobs;
      stats.lastJobAt = now;
    }
    if (jobs >= maxJobs) {
      stoppedBy = 'count';
      break;
    }
    if (now >= deadline) {
      stoppedBy = 'duration';
      break;
    }
    if (bucket) {
      // Jobs carry their due times, so waking every few ms (not for every token) costs no accuracy.
      await pause(clock, Math.min(50, Math.max(MIN_TICK_MS, bucket.msUntilNext()), deadline - now), signal);
    } else if (room > 0) {
      await new Promise<void>((resolve) => setImmediate(resolve));
    } else {
      await tracker.progress(Math.min(50, deadline - now), clock, signal);
    }
  }

  const stoppedAt = Math.min(clock.now(), deadline);
  // Stopping: nothing new is generated, but everything already made is sent. A --count run sends each remaining
  // order when it falls due; an interrupted or timed run sends them at once.
  await Promise.all(lanes.map((lane) => lane.finish(stoppedBy !== 'count')));
  // Ctrl-C also ends a send waiting through a broker outage: that is the interruption, not a failure of its own.
  if (tracker.failure !== undefined) stoppedBy = signal.aborted ? 'interrupted' : 'error';
  stats.jobs = jobs;
  return {
    stoppedBy,
    error: stoppedBy === 'error' ? tracker.failure : undefined,
    stats,
    stoppedAt,
    endedAt: clock.now(),
  };
}
