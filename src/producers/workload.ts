import { ContractGuard } from './contracts.js';
import { Fleet } from './fleet.js';
import { JobGenerator, type OrderParts } from './jobs.js';
import { OrderQueue } from './order-queue.js';
import type { WordPools } from './population.js';
import { RecordEncoder } from './record-encoder.js';
import type { InputTopic, RecordSink } from './records.js';

export interface WorkloadOptions {
  seed: number;
  pools: WordPools;
  /** Topics that get records; jobs are still generated (trucks need them) when their topics are not chosen. */
  topics: ReadonlySet<InputTopic>;
  acceptRatio: number;
  maxOrderDelayMs: number;
  trucks: number;
  truckIntervalMs: number;
  /** Checks each record against its topic's contract before it is handed on; default: templates/schemas. */
  contracts?: ContractGuard;
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
  private readonly encoder: RecordEncoder;
  private readonly topics: ReadonlySet<InputTopic>;
  private readonly contracts: ContractGuard;

  constructor(options: WorkloadOptions) {
    this.topics = options.topics;
    this.contracts = options.contracts ?? new ContractGuard();
    this.jobs = new JobGenerator({
      seed: options.seed,
      pools: options.pools,
      acceptRatio: options.acceptRatio,
      maxOrderDelayMs: options.maxOrderDelayMs,
    });
    this.encoder = new RecordEncoder((n) => this.jobs.customer(n));
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

  /** Creates one job at time `at`, handing the records due immediately to `sink`. */
  addJob(at: number, sink: RecordSink): void {
    const timestamp = Math.floor(at);
    const job = this.jobs.next(at);
    const encoder = this.encoder;
    const contracts = this.contracts;
    if (this.topics.has('job_created')) {
      const made = encoder.fragmentsMade;
      const valueEnd = encoder.jobCreated(job.jobCreated);
      if (encoder.fragmentsMade !== made) contracts.wholeRecord('job_created', encoder.bytes, encoder.keyEnd, valueEnd);
      else contracts.jobCreated(job.jobCreated);
      sink('job_created', encoder.bytes, encoder.keyEnd, valueEnd, timestamp);
    }
    if (this.topics.has('joblocation')) {
      const made = encoder.fragmentsMade;
      const valueEnd = encoder.jobLocation(job.jobId, job.order.customer, job.jobLocation.REPORTING_TIME);
      if (encoder.fragmentsMade !== made) contracts.wholeRecord('joblocation', encoder.bytes, encoder.keyEnd, valueEnd);
      else contracts.jobLocation(job.jobLocation);
      sink('joblocation', encoder.bytes, encoder.keyEnd, valueEnd, timestamp);
    }
    if (this.topics.has('order_placed')) {
      const dueAt = at + job.orderDelayMs;
      if (job.orderDelayMs <= 0) this.sendOrder(job.jobId, job.order, dueAt, sink);
      else this.orders.push(dueAt, job.jobId, job.order);
    }
    this.fleet?.addJob(String(job.jobId), job.destination.lat, job.destination.long);
  }

  /** Creates `count` jobs at time `now`, handing the records due immediately to `sink`. */
  addJobs(count: number, now: number, sink: RecordSink): void {
    for (let i = 0; i < count; i++) this.addJob(now, sink);
  }

  /** Hands delayed orders and truck reports that are due at or before `now` to `sink`. */
  due(now: number, sink: RecordSink): void {
    while (this.orders.size > 0 && this.orders.peekDueAt()! <= now) {
      const order = this.orders.pop();
      this.sendOrder(order.jobId, order, order.dueAt, sink);
    }
    if (!this.fleet) return;
    const encoder = this.encoder;
    for (const report of this.fleet.due(now)) {
      this.contracts.truckPosition(report.position);
      const valueEnd = encoder.text(report.vehicleId, JSON.stringify(report.position));
      sink('tradie_truck_location', encoder.bytes, encoder.keyEnd, valueEnd, Math.floor(report.at));
    }
  }

  /** On stop: orders still waiting go out now (up to maxOrders a call), so no job is left without its order. */
  flushOrders(now: number, sink: RecordSink, maxOrders = Number.POSITIVE_INFINITY): void {
    for (let taken = 0; taken < maxOrders && this.orders.size > 0; taken++) {
      const order = this.orders.pop();
      this.sendOrder(order.jobId, order, Math.min(order.dueAt, now), sink);
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

  private sendOrder(jobId: number, order: OrderParts, at: number, sink: RecordSink): void {
    const encoder = this.encoder;
    const made = encoder.fragmentsMade;
    const valueEnd = encoder.orderPlaced(jobId, order);
    if (encoder.fragmentsMade !== made)
      this.contracts.wholeRecord('order_placed', encoder.bytes, encoder.keyEnd, valueEnd);
    else this.contracts.orderPlaced(jobId, order.priceQuoted);
    sink('order_placed', encoder.bytes, encoder.keyEnd, valueEnd, Math.floor(at));
  }
}
