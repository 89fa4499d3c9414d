import { partitionForKeyRange } from '../kafka/partitioner.js';
import type { PartitionBatch } from '../kafka/producer.js';
import { RecordSectionBuilder } from '../kafka/record-batch.js';
import type { InputTopic, RecordSink } from './records.js';
import type { LaneEvents, LaneHandle } from './lane-handle.js';
import type { Clock } from '../core/waiter.js';
import type { Workload } from './workload.js';

export type { LaneAck, LaneEvents } from './lane-handle.js';

/** Sends one request's batches and resolves when the broker acknowledged all of them. */
export type BatchSender = (batches: Array<PartitionBatch<InputTopic>>) => Promise<void>;

export interface LaneOptions {
  /** Generates the records of this lane's topics; it sees every job, so all lanes describe the same jobs. */
  workload: Workload;
  /** Partition count of each topic the lane produces to (records are partitioned by key, as the Java client does). */
  partitions: Partial<Record<InputTopic, number>>;
  send: BatchSender;
  clock: Clock;
  events: LaneEvents;
  maxBatchBytes?: number;
}

/**
 * On a stop, orders still waiting go out this many at a time, the next ones once these are on their way: at full
 * speed over a hundred thousand wait, tens of MB of batches if encoded at once.
 */
const FLUSH_ORDERS = 10_000;

/** Below the broker's default max.message.bytes (1 MiB), with room for the batch header. */
const MAX_BATCH_BYTES = 900_000;

/** A record batch of one partition on its way to the broker, with what the acknowledgement reports. */
interface QueuedBatch {
  batch: PartitionBatch<InputTopic>;
  from: PartitionQueue;
  queuedAt: number[];
  bytes: number;
}

/** One partition's records: the batch being filled, and full batches waiting for their turn. */
class PartitionQueue {
  private readonly builder = new RecordSectionBuilder();
  private queuedAt: number[] = [];
  private bytes = 0;
  private readonly full: QueuedBatch[] = [];

  constructor(
    readonly topic: InputTopic,
    readonly partition: number,
    private readonly maxBatchBytes: number,
  ) {}

  append(bytes: Buffer, keyEnd: number, valueEnd: number, timestamp: number, now: number): void {
    this.builder.append(bytes, keyEnd, valueEnd, timestamp);
    this.queuedAt.push(now);
    this.bytes += valueEnd;
    if (this.builder.size >= this.maxBatchBytes) this.full.push(this.seal());
  }

  /** The next batch to send: the oldest full one, else whatever is being filled; undefined when empty. */
  take(): QueuedBatch | undefined {
    if (this.full.length > 0) return this.full.shift();
    return this.builder.count > 0 ? this.seal() : undefined;
  }

  /** The batch was acknowledged: its buffer can hold the next one. */
  recycle(batch: QueuedBatch): void {
    this.builder.recycle(batch.batch.section);
  }

  private seal(): QueuedBatch {
    const batch = { topic: this.topic, partition: this.partition, section: this.builder.seal() };
    const sealed = { batch, from: this, queuedAt: this.queuedAt, bytes: this.bytes };
    this.queuedAt = [];
    this.bytes = 0;
    return sealed;
  }
}

/**
 * One producer's share of the work: turns job times into this lane's records, releases delayed orders and truck
 * reports when they fall due, encodes each record into its partition's batch as soon as it is made, and sends the
 * batches one request at a time (the idempotent producer's rule), the next request filling meanwhile. Runs on a
 * producer thread, or on the main thread with --threads 0.
 */
export class Lane implements LaneHandle {
  private readonly workload: Workload;
  private readonly partitions = new Map<InputTopic, PartitionQueue[]>();
  private queuedRecords = 0;
  private sending: Promise<void> | undefined;
  private failure: unknown;
  /** Why generation stopped early (a record broke its contract). */
  private broken: unknown;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private finishing: { flushOrders: boolean; resolve: () => void } | undefined;
  /** The time records made now are queued at (for their acknowledgement latency). */
  private now = 0;
  /** Encodes each record the workload makes into its partition's batch. */
  private readonly sink: RecordSink = (topic, bytes, keyEnd, valueEnd, timestamp) => {
    const queues = this.partitions.get(topic);
    if (!queues) throw new Error(`lane has no partitions for topic ${topic}`);
    const partition = queues.length === 1 ? 0 : partitionForKeyRange(bytes, 0, keyEnd, queues.length);
    queues[partition]!.append(bytes, keyEnd, valueEnd, timestamp, this.now);
    this.queuedRecords++;
  };
  jobsSeen = 0;

  constructor(private readonly options: LaneOptions) {
    this.workload = options.workload;
    const maxBatchBytes = options.maxBatchBytes ?? MAX_BATCH_BYTES;
    for (const [topic, count] of Object.entries(options.partitions) as Array<[InputTopic, number]>) {
      if (!(count >= 1)) throw new Error(`topic ${topic} has no partitions`);
      this.partitions.set(
        topic,
        Array.from({ length: count }, (_, partition) => new PartitionQueue(topic, partition, maxBatchBytes)),
      );
    }
  }

  /** Records waiting to be sent (not counting the request in flight). */
  get queued(): number {
    return this.queuedRecords;
  }

  backlog(): number {
    return this.queued;
  }

  get pendingOrders(): number {
    return this.workload.pendingOrders;
  }

  /** New jobs, each at its own time (epoch ms, not after `now`). */
  addJobs(times: ArrayLike<number>, now: number): void {
    this.now = now;
    if (this.broken !== undefined) return;
    try {
      for (let i = 0; i < times.length; i++) this.workload.addJob(times[i]!, this.sink);
    } catch (error) {
      this.stopGenerating(error);
    }
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
      this.advance(this.options.clock.now());
    });
  }

  /** Queues what is due at `now`, starts a send if none is in flight, and sets the timer for the next due event. */
  private advance(now: number): void {
    this.now = now;
    try {
      if (this.broken === undefined) this.workload.due(now, this.sink);
      if (this.finishing?.flushOrders && this.broken === undefined && this.queued < FLUSH_ORDERS)
        this.workload.flushOrders(now, this.sink, FLUSH_ORDERS);
    } catch (error) {
      this.stopGenerating(error);
    }
    if (!this.sending && this.queued > 0 && this.failure === undefined) {
      this.sending = this.pump().finally(() => {
        this.sending = undefined;
        this.advance(this.options.clock.now());
      });
    }
    this.schedule(now);
    this.checkFinished();
  }

  /**
   * A record could not be made (it broke its contract): nothing more is generated, the records made before it are
   * still sent, and the run ends with that error.
   */
  private stopGenerating(error: unknown): void {
    if (this.broken !== undefined) return;
    this.broken = error;
    this.options.events.failed(error, 0);
  }

  private schedule(now: number): void {
    const next = this.failure === undefined && this.broken === undefined ? this.workload.nextDueAt() : undefined;
    if (next === undefined || next >= this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Number.POSITIVE_INFINITY;
        this.advance(this.options.clock.now());
      },
      Math.max(0, next - now),
    );
  }

  private checkFinished(): void {
    if (!this.finishing || this.sending) return;
    const done =
      this.failure !== undefined ||
      (this.queued === 0 && (this.workload.pendingOrders === 0 || this.broken !== undefined));
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
      const request = this.takeRequest();
      let count = 0;
      for (const queued of request) count += queued.batch.section.count;
      this.queuedRecords -= count;
      events.sent(count);
      try {
        await this.options.send(request.map((queued) => queued.batch));
      } catch (error) {
        this.failure = error;
        events.failed(error, count);
        return;
      }
      const ackedAt = clock.now();
      const byTopic: Partial<Record<InputTopic, number>> = {};
      const latencies = new Float64Array(count);
      let bytes = 0;
      let i = 0;
      for (const queued of request) {
        const { batch, queuedAt } = queued;
        byTopic[batch.topic] = (byTopic[batch.topic] ?? 0) + batch.section.count;
        bytes += queued.bytes;
        for (const at of queuedAt) latencies[i++] = ackedAt - at;
        queued.from.recycle(queued);
      }
      events.acked({ count, byTopic, bytes, latencies });
    }
  }

  /** One batch from every partition that has records: a produce request takes at most one per partition. */
  private takeRequest(): QueuedBatch[] {
    const request: QueuedBatch[] = [];
    for (const queues of this.partitions.values()) {
      for (const queue of queues) {
        const batch = queue.take();
        if (batch) request.push(batch);
      }
    }
    return request;
  }
}
