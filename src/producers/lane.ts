import type { InputTopic, OutgoingRecord } from './records.js';
import type { LaneHandle, RunClock } from './runner.js';
import type { Workload } from './workload.js';

/** Sends one batch and resolves when the broker acknowledged all of it. */
export type BatchSender = (records: OutgoingRecord[]) => Promise<void>;

/** What a lane reports after each batch the broker acknowledged. */
export interface LaneAck {
  count: number;
  byTopic: Partial<Record<InputTopic, number>>;
  bytes: number;
  /** Milliseconds from queueing to acknowledgement, one per record. */
  latencies: Float64Array;
}

export interface LaneEvents {
  sent(count: number): void;
  acked(ack: LaneAck): void;
  /** The batch failed; the lane sends nothing more. */
  failed(error: unknown, count: number): void;
}

export interface LaneOptions {
  /** Generates the records of this lane's topics; it sees every job, so all lanes describe the same jobs. */
  workload: Workload;
  send: BatchSender;
  clock: RunClock;
  events: LaneEvents;
  maxTopicRecords?: number;
  maxTopicBytes?: number;
}

const BROKER_MESSAGE_LIMIT = 900_000;
// kafkajs groups a request's records per partition by copying the partition's array for every record (quadratic),
// so several hundred records per topic per request is the sweet spot between round trips and that copying.
const MAX_TOPIC_RECORDS = 500;

/**
 * One producer's share of the work: turns job times into this lane's records, releases delayed orders and truck
 * reports when they fall due, and sends them in batches, one request in flight (the idempotent producer's rule),
 * the next batch accumulating meanwhile. Runs on a producer thread, or on the main thread with --threads 0.
 */
export class Lane implements LaneHandle {
  private readonly workload: Workload;
  private records: OutgoingRecord[] = [];
  private queuedAt: number[] = [];
  private head = 0;
  private sending: Promise<void> | undefined;
  private failure: unknown;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private finishing: { flushOrders: boolean; resolve: () => void } | undefined;
  private readonly fresh: OutgoingRecord[] = [];
  private readonly maxTopicRecords: number;
  private readonly maxTopicBytes: number;
  jobsSeen = 0;

  constructor(private readonly options: LaneOptions) {
    this.workload = options.workload;
    this.maxTopicRecords = options.maxTopicRecords ?? MAX_TOPIC_RECORDS;
    this.maxTopicBytes = options.maxTopicBytes ?? BROKER_MESSAGE_LIMIT;
  }

  /** Records waiting to be sent (not counting the batch in flight). */
  get queued(): number {
    return this.records.length - this.head;
  }

  backlog(): number {
    return this.queued;
  }

  get pendingOrders(): number {
    return this.workload.pendingOrders;
  }

  /** New jobs, each at its own time (epoch ms, not after `now`). */
  addJobs(times: ArrayLike<number>, now: number): void {
    for (let i = 0; i < times.length; i++) this.workload.addJob(times[i]!, this.fresh);
    this.jobsSeen += times.length;
    this.advance(now);
  }

  /**
   * Stops taking jobs and resolves once everything generated is acknowledged (or a batch failed). With
   * flushOrders, delayed orders go out now; without, they go out when due (a --count run ends after the last one).
   */
  finish(flushOrders: boolean): Promise<void> {
    return new Promise((resolve) => {
      this.finishing = { flushOrders, resolve };
      if (flushOrders) {
        const now = this.options.clock.now();
        this.workload.flushOrders(now, this.fresh);
      }
      this.advance(this.options.clock.now());
    });
  }

  /** Queues what is due at `now`, starts a send if none is in flight, and sets the timer for the next due event. */
  private advance(now: number): void {
    this.workload.due(now, this.fresh);
    for (let i = 0; i < this.fresh.length; i++) {
      this.records.push(this.fresh[i]!);
      this.queuedAt.push(now);
    }
    this.fresh.length = 0;
    if (!this.sending && this.queued > 0 && this.failure === undefined) {
      this.sending = this.pump().finally(() => {
        this.sending = undefined;
        this.advance(this.options.clock.now());
      });
    }
    this.schedule(now);
    this.checkFinished();
  }

  private schedule(now: number): void {
    const next = this.failure === undefined ? this.workload.nextDueAt() : undefined;
    if (next === undefined || next >= this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.advance(this.options.clock.now());
    }, Math.max(0, next - now));
  }

  private checkFinished(): void {
    if (!this.finishing || this.sending) return;
    const done = this.failure !== undefined || (this.queued === 0 && this.workload.pendingOrders === 0);
    if (!done) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    this.finishing.resolve();
    this.finishing = undefined;
  }

  private async pump(): Promise<void> {
    const { events, clock } = this.options;
    while (this.queued > 0 && this.failure === undefined) {
      const count = this.batchLength();
      const batch = this.records.slice(this.head, this.head + count);
      const queuedAt = this.queuedAt.slice(this.head, this.head + count);
      this.head += count;
      if (this.head >= 4096 || this.head === this.records.length) {
        this.records = this.records.slice(this.head);
        this.queuedAt = this.queuedAt.slice(this.head);
        this.head = 0;
      }
      events.sent(batch.length);
      try {
        await this.options.send(batch);
      } catch (error) {
        this.failure = error;
        events.failed(error, batch.length);
        return;
      }
      const ackedAt = clock.now();
      const byTopic: Partial<Record<InputTopic, number>> = {};
      const latencies = new Float64Array(batch.length);
      let bytes = 0;
      for (let i = 0; i < batch.length; i++) {
        const record = batch[i]!;
        byTopic[record.topic] = (byTopic[record.topic] ?? 0) + 1;
        bytes += record.key.length + record.value.length;
        latencies[i] = ackedAt - queuedAt[i]!;
      }
      events.acked({ count: batch.length, byTopic, bytes, latencies });
    }
  }

  /** How many queued records fit one request without any topic batch growing too large. */
  private batchLength(): number {
    const bytes = new Map<string, number>();
    const counts = new Map<string, number>();
    const limit = this.queued;
    for (let i = 0; i < limit; i++) {
      const record = this.records[this.head + i]!;
      // 70 bytes covers the record header, key length varints and timestamp delta of a v2 record.
      const size = record.value.length + record.key.length + 70;
      const totalBytes = (bytes.get(record.topic) ?? 0) + size;
      const totalRecords = (counts.get(record.topic) ?? 0) + 1;
      if (i > 0 && (totalBytes > this.maxTopicBytes || totalRecords > this.maxTopicRecords)) return i;
      bytes.set(record.topic, totalBytes);
      counts.set(record.topic, totalRecords);
    }
    return limit;
  }
}
