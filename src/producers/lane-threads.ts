import { Worker } from 'node:worker_threads';
import { settleWithin } from '../core/waiter.js';
import type { LaneEvents } from './lane.js';
import type { OutageNotices } from './outage.js';
import {
  LaneThreadError,
  type LaneReply,
  type LaneRequest,
  type LaneThreadData,
  type TopicPartitions,
} from './lane-thread-protocol.js';
import type { WordPools } from './population.js';
import type { LaneHandle } from './runner.js';

/**
 * The young generation all producer threads share, and each thread's old generation, MB: caps that keep the process
 * under 200 MB at full speed. Records are encoded as soon as they are made, so little outlives a scavenge and a
 * small young generation costs little; the old generation holds the customers, the waiting orders and kafkajs.
 */
const YOUNG_GENERATION_MB = 16;
const OLD_GENERATION_MB = 96;
const MIN_YOUNG_GENERATION_MB = 8;

/** A producer thread died (out of memory, a bug): not a Kafka error, which a thread reports instead of dying. */
export class ProducerThreadCrash extends Error {
  readonly outOfMemory: boolean;

  constructor(readonly reason: Error) {
    const outOfMemory = (reason as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY';
    super(
      outOfMemory
        ? `a producer thread ran out of memory (its heap is capped at ${OLD_GENERATION_MB} MB): ${reason.message}`
        : `a producer thread failed: ${reason.message}`,
    );
    this.name = 'ProducerThreadCrash';
    this.outOfMemory = outOfMemory;
  }
}

/**
 * The main thread's side of a producer thread (lane-thread.ts). Job times go in; the thread's reports come back as
 * lane events. The backlog is estimated from the thread's last report plus the jobs posted since.
 */
export class RemoteLane implements LaneHandle {
  private readonly worker: Worker;
  private readonly recordsPerJob: number;
  private posted = 0;
  private reportedQueued = 0;
  private reportedJobs = 0;
  private connecting: { resolve: () => void; reject: (error: Error) => void } | undefined;
  private finishing: (() => void) | undefined;
  private closing: (() => void) | undefined;
  private dead: Error | undefined;
  private closed = false;

  /** `threads`: how many producer threads share the memory budget. */
  constructor(
    data: LaneThreadData,
    threads: number,
    private readonly events: LaneEvents,
    log: (line: string) => void,
    private readonly notices: OutageNotices = {},
  ) {
    this.recordsPerJob = Math.max(1, data.topics.filter((topic) => topic !== 'tradie_truck_location').length);
    const resourceLimits = {
      maxYoungGenerationSizeMb: Math.max(MIN_YOUNG_GENERATION_MB, Math.floor(YOUNG_GENERATION_MB / threads)),
      maxOldGenerationSizeMb: OLD_GENERATION_MB,
    };
    this.worker = new Worker(new URL('./lane-thread.js', import.meta.url), { workerData: data, resourceLimits });
    this.worker.on('message', (reply: LaneReply) => this.onReply(reply, log));
    this.worker.on('error', (error) => this.fail(new ProducerThreadCrash(error)));
    this.worker.on('exit', (code) => {
      if (!this.closed) this.fail(new ProducerThreadCrash(new Error(`it stopped unexpectedly (exit code ${code})`)));
      this.closing?.();
    });
  }

  connect(pools: WordPools, partitions: TopicPartitions): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.dead) return reject(this.dead);
      this.connecting = { resolve, reject };
      this.request({ type: 'connect', pools, partitions });
    });
  }

  addJobs(times: Float64Array, now: number): void {
    if (this.dead) return;
    this.posted += times.length;
    this.request({ type: 'jobs', times, now });
  }

  backlog(): number {
    return this.reportedQueued + (this.posted - this.reportedJobs) * this.recordsPerJob;
  }

  finish(flushOrders: boolean): Promise<void> {
    return new Promise((resolve) => {
      if (this.dead) return resolve();
      this.finishing = resolve;
      this.request({ type: 'finish', flushOrders });
    });
  }

  /** Ctrl-C: the thread stops re-sending through a broker outage. */
  abort(): void {
    if (!this.dead && !this.closed) this.request({ type: 'abort' });
  }

  /**
   * Disconnects the thread's producer and ends the thread. A producer whose broker stopped answering cannot
   * disconnect cleanly (kafkajs waits for the answers first): after a moment the thread is ended anyway.
   */
  async close(): Promise<void> {
    if (!this.dead && !this.closed) {
      const closed = new Promise<void>((resolve) => (this.closing = resolve));
      this.request({ type: 'close' });
      await settleWithin(closed, 2_000);
    }
    this.closed = true;
    await this.worker.terminate();
  }

  private request(request: LaneRequest): void {
    this.worker.postMessage(request);
  }

  private onReply(reply: LaneReply, log: (line: string) => void): void {
    switch (reply.type) {
      case 'log':
        log(reply.line);
        break;
      case 'connected':
        this.connecting?.resolve();
        this.connecting = undefined;
        break;
      case 'connect-failed':
        this.connecting?.reject(new LaneThreadError(reply.error));
        this.connecting = undefined;
        break;
      case 'progress':
        this.note(reply.queued, reply.jobsSeen);
        break;
      case 'sent':
        this.note(reply.queued, reply.jobsSeen);
        this.events.sent(reply.count);
        break;
      case 'acked':
        this.note(reply.queued, reply.jobsSeen);
        this.events.acked(reply.ack);
        break;
      case 'failed':
        this.events.failed(new LaneThreadError(reply.error), reply.count);
        break;
      case 'outage':
        this.notices.onOutage?.(reply.reason);
        break;
      case 'recovered':
        this.notices.onRecovered?.(reply.outageMs);
        break;
      case 'gave-up':
        this.notices.onGaveUp?.(reply.outageMs);
        break;
      case 'finished':
        this.finishing?.();
        this.finishing = undefined;
        break;
      case 'closed':
        this.closed = true;
        this.closing?.();
        break;
    }
  }

  private note(queued: number, jobsSeen: number): void {
    this.reportedQueued = queued;
    this.reportedJobs = jobsSeen;
  }

  /** The thread died (a crash, not a Kafka error, which arrives as a report): nothing more will be acknowledged. */
  private fail(error: Error): void {
    if (this.dead) return;
    this.dead = error;
    this.connecting?.reject(error);
    this.connecting = undefined;
    this.events.failed(error, 0);
    this.finishing?.();
    this.finishing = undefined;
  }
}
