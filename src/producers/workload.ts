import { Fleet } from './fleet.js';
import { JobGenerator } from './jobs.js';
import type { WordPools } from './population.js';
import type { InputTopic, OutgoingRecord } from './records.js';

export interface WorkloadOptions {
  seed: number;
  pools: WordPools;
  /** Topics that get records; jobs are still generated (trucks need them) when their topics are not chosen. */
  topics: ReadonlySet<InputTopic>;
  acceptRatio: number;
  maxOrderDelayMs: number;
  trucks: number;
  truckIntervalMs: number;
}

interface PendingOrder {
  dueAt: number;
  record: OutgoingRecord;
}

/**
 * Everything the produce command sends, as a function of time: each new job yields its job_created and
 * joblocation records at once and its order_placed after the job's order delay; trucks report on their own clock.
 * Times are epoch milliseconds and become the records' Kafka timestamps.
 */
export class Workload {
  private readonly jobs: JobGenerator;
  private readonly fleet: Fleet | undefined;
  private readonly orders = new MinHeap<PendingOrder>((a, b) => a.dueAt - b.dueAt);
  private readonly topics: ReadonlySet<InputTopic>;

  constructor(options: WorkloadOptions) {
    this.topics = options.topics;
    this.jobs = new JobGenerator({
      seed: options.seed,
      pools: options.pools,
      acceptRatio: options.acceptRatio,
      maxOrderDelayMs: options.maxOrderDelayMs,
    });
    this.fleet =
      options.topics.has('tradie_truck_location') && options.trucks > 0
        ? new Fleet({ seed: options.seed, trucks: options.trucks, reportIntervalMs: options.truckIntervalMs })
        : undefined;
  }

  get jobsGenerated(): number {
    return this.jobs.count;
  }

  get pendingOrders(): number {
    return this.orders.size;
  }

  get activeTrucks(): number {
    return this.fleet?.active ?? 0;
  }

  /** Creates one job at time `at`, appending the records due immediately to `out`. */
  addJob(at: number, out: OutgoingRecord[]): void {
    const timestamp = Math.floor(at);
    const job = this.jobs.next(at);
    if (this.topics.has('job_created')) {
      out.push({ topic: 'job_created', key: job.key, value: JSON.stringify(job.jobCreated), timestamp });
    }
    if (this.topics.has('joblocation')) {
      out.push({ topic: 'joblocation', key: job.key, value: JSON.stringify(job.jobLocation), timestamp });
    }
    if (this.topics.has('order_placed')) {
      const dueAt = at + job.orderDelayMs;
      const record = { topic: 'order_placed' as const, key: job.key, value: JSON.stringify(job.orderPlaced), timestamp: Math.floor(dueAt) };
      if (job.orderDelayMs <= 0) out.push(record);
      else this.orders.push({ dueAt, record });
    }
    this.fleet?.addJob(job.key, job.destination.lat, job.destination.long);
  }

  /** Creates `count` jobs at time `now`, appending the records due immediately to `out`. */
  addJobs(count: number, now: number, out: OutgoingRecord[]): void {
    for (let i = 0; i < count; i++) this.addJob(now, out);
  }

  /** Appends delayed orders and truck reports that are due at or before `now`. */
  due(now: number, out: OutgoingRecord[]): void {
    while (this.orders.size > 0 && this.orders.peek()!.dueAt <= now) out.push(this.orders.pop()!.record);
    if (!this.fleet) return;
    for (const report of this.fleet.due(now)) {
      out.push({
        topic: 'tradie_truck_location',
        key: report.vehicleId,
        value: JSON.stringify(report.position),
        timestamp: Math.floor(report.at),
      });
    }
  }

  /** On stop: every order still waiting goes out now, so no job is left without its order. */
  flushOrders(now: number, out: OutgoingRecord[]): void {
    while (this.orders.size > 0) {
      const { record } = this.orders.pop()!;
      out.push({ ...record, timestamp: Math.min(record.timestamp, Math.floor(now)) });
    }
  }

  /** The next time something becomes due by itself (a delayed order or a truck report), if anything. */
  nextDueAt(): number | undefined {
    const order = this.orders.peek()?.dueAt;
    const truck = this.fleet?.nextDueAt();
    if (order === undefined) return truck;
    if (truck === undefined) return order;
    return Math.min(order, truck);
  }
}

class MinHeap<T> {
  private readonly items: T[] = [];

  constructor(private readonly compare: (a: T, b: T) => number) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.compare(items[i]!, items[parent]!) >= 0) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < items.length && this.compare(items[left]!, items[smallest]!) < 0) smallest = left;
        if (right < items.length && this.compare(items[right]!, items[smallest]!) < 0) smallest = right;
        if (smallest === i) break;
        [items[i], items[smallest]] = [items[smallest]!, items[i]!];
        i = smallest;
      }
    }
    return top;
  }
}
