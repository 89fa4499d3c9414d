import { LatencyHistogram } from './latency.js';
import { INPUT_TOPICS, type InputTopic } from './records.js';

export interface StatsSnapshot {
  elapsedMs: number;
  jobs: number;
  sent: number;
  acked: number;
  errors: number;
  ackedByTopic: Record<InputTopic, number>;
  /** Jobs per second over the last 10 s (or the whole run when shorter). */
  jobRate: number;
  p50Ms: number | undefined;
  p99Ms: number | undefined;
}

const WINDOW_MS = 10_000;

/** Counters of one run. "sent" = handed to the producer, "acked" = acknowledged by all in-sync replicas. */
export class ProduceStats {
  sent = 0;
  acked = 0;
  /** Key + value characters of acknowledged records (bytes, for the ASCII-only data this tool makes). */
  ackedBytes = 0;
  errors = 0;
  jobs = 0;
  /** When the latest job was generated: the achieved rate is jobs over [startedAt, lastJobAt]. */
  lastJobAt: number | undefined;
  readonly ackedByTopic = Object.fromEntries(INPUT_TOPICS.map((t) => [t, 0])) as Record<InputTopic, number>;
  readonly latency = new LatencyHistogram();
  private readonly samples: Array<{ at: number; jobs: number }> = [];

  /** When producing began (the producers connected); set again by the run loop when it starts. */
  constructor(public startedAt: number) {}

  snapshot(now: number): StatsSnapshot {
    this.samples.push({ at: now, jobs: this.jobs });
    while (this.samples.length > 1 && this.samples[1]!.at <= now - WINDOW_MS) this.samples.shift();
    const first = this.samples[0]!.at < now ? this.samples[0]! : { at: this.startedAt, jobs: 0 };
    const span = now - first.at;
    return {
      elapsedMs: now - this.startedAt,
      jobs: this.jobs,
      sent: this.sent,
      acked: this.acked,
      errors: this.errors,
      ackedByTopic: { ...this.ackedByTopic },
      jobRate: span > 0 ? ((this.jobs - first.jobs) * 1000) / span : 0,
      p50Ms: this.latency.percentile(50),
      p99Ms: this.latency.percentile(99),
    };
  }
}

export function formatStatsLine(s: StatsSnapshot): string {
  return [
    `${(s.elapsedMs / 1000).toFixed(0)}s`,
    `jobs ${s.jobs}`,
    `sent ${s.sent}`,
    `acked ${s.acked}`,
    `errors ${s.errors}`,
    `rate ${s.jobRate.toFixed(1)} jobs/s`,
    `ack p50 ${formatMs(s.p50Ms)} p99 ${formatMs(s.p99Ms)}`,
  ].join(' · ');
}

export function formatMs(ms: number | undefined): string {
  if (ms === undefined) return '–';
  return ms < 10 ? `${ms.toFixed(1)}ms` : `${Math.round(ms)}ms`;
}
