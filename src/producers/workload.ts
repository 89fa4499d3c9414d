import { Fleet } from './fleet.js';
import { JobGenerator } from './jobs.js';
import { OrderQueue } from './order-queue.js';
import type { WordPools } from './population.js';
import { jobCreatedJson, jobLocationJson, jobLocationPrefix, orderPlacedJson, vehiclePositionJson } from './record-json.js';
import type { InputTopic, OrderPlaced, OutgoingRecord } from './records.js';

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

/**
 * Everything the produce command sends, as a function of time: each new job yields its job_created and
 * joblocation records at once and its order_placed after the job's order delay; trucks report on their own clock.
 * Times are epoch milliseconds and become the records' Kafka timestamps.
 */
export class Workload {
  private readonly jobs: JobGenerator;
  private readonly fleet: Fleet | undefined;
  private readonly orders = new OrderQueue();
  /** jobLocationPrefix of each customer (by number), made once: customers come back for more jobs. */
  private readonly locationPrefixes: Array<string | undefined> = [];
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
      out.push({ topic: 'job_created', key: job.key, value: jobCreatedJson(job.jobCreated), timestamp });
    }
    if (this.topics.has('joblocation')) {
      const prefix = (this.locationPrefixes[job.order.customer] ??= jobLocationPrefix(job.jobLocation));
      out.push({ topic: 'joblocation', key: job.key, value: jobLocationJson(job.jobLocation, prefix), timestamp });
    }
    if (this.topics.has('order_placed')) {
      const dueAt = at + job.orderDelayMs;
      if (job.orderDelayMs <= 0) out.push(orderRecord(job.key, this.jobs.orderPlaced(job.jobId, job.order), dueAt));
      else this.orders.push(dueAt, job.jobId, job.order);
    }
    this.fleet?.addJob(job.key, job.destination.lat, job.destination.long);
  }

  /** Creates `count` jobs at time `now`, appending the records due immediately to `out`. */
  addJobs(count: number, now: number, out: OutgoingRecord[]): void {
    for (let i = 0; i < count; i++) this.addJob(now, out);
  }

  /** Appends delayed orders (up to maxOrders) and truck reports that are due at or before `now`. */
  due(now: number, out: OutgoingRecord[], maxOrders = Number.POSITIVE_INFINITY): void {
    for (let taken = 0; taken < maxOrders && this.orders.size > 0 && this.orders.peekDueAt()! <= now; taken++) {
      const order = this.orders.pop();
      out.push(orderRecord(String(order.jobId), this.jobs.orderPlaced(order.jobId, order), order.dueAt));
    }
    if (!this.fleet) return;
    for (const report of this.fleet.due(now)) {
      out.push({
        topic: 'tradie_truck_location',
        key: report.vehicleId,
        value: vehiclePositionJson(report.position),
        timestamp: Math.floor(report.at),
      });
    }
  }

  /** On stop: every order still waiting goes out now (up to maxOrders a call), so no job is left without its order. */
  flushOrders(now: number, out: OutgoingRecord[], maxOrders = Number.POSITIVE_INFINITY): void {
    for (let taken = 0; taken < maxOrders && this.orders.size > 0; taken++) {
      const order = this.orders.pop();
      out.push(orderRecord(String(order.jobId), this.jobs.orderPlaced(order.jobId, order), Math.min(order.dueAt, now)));
    }
  }

  /** The next time something becomes due by itself (a delayed order or a truck report), if anything. */
  nextDueAt(): number | undefined {
    const order = this.orders.peekDueAt();
    const truck = this.fleet?.nextDueAt();
    if (order === undefined) return truck;
    if (truck === undefined) return order;
    return Math.min(order, truck);
  }
}

function orderRecord(key: string, order: OrderPlaced, at: number): OutgoingRecord {
  return { topic: 'order_placed', key, value: orderPlacedJson(order), timestamp: Math.floor(at) };
}
