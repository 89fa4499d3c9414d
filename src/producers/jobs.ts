import { SERVICE_OPTIONS, serviceLabel } from './catalogue.js';
import { Population, contractorId, pickContractorNumber, type Customer, type WordPools } from './population.js';
import { Random } from './random.js';
import type { JobCreated, JobLocation, OrderPlaced } from './records.js';

export interface JobGeneratorOptions {
  seed: number;
  pools: WordPools;
  /** Share of orders that quote at or above the job's minimum price (→ ACCEPTED in job_status). */
  acceptRatio: number;
  /** The order follows its job by a delay drawn uniformly from [0, maxOrderDelayMs]. */
  maxOrderDelayMs: number;
}

/** An order as numbers (see JobGenerator.orderPlaced): what an order waiting for its time keeps. */
export interface OrderParts {
  customer: number;
  option: number;
  contractor: number;
  priceQuoted: number;
}

/** One job and everything that describes it, all sharing job_id. */
export interface GeneratedJob {
  jobId: number;
  jobCreated: JobCreated;
  /** The order_placed value is made from these when it is due: JobGenerator.orderPlaced(jobId, order). */
  order: OrderParts;
  jobLocation: JobLocation;
  orderDelayMs: number;
  destination: { lat: number; long: number };
}

const DAY_MS = 86_400_000;

/** Correlated job_created / order_placed / joblocation records; the same seed gives the same sequence. */
export class JobGenerator {
  private readonly random: Random;
  private readonly population: Population;
  private nextJobId: number;
  private generated = 0;
  private accepted = 0;

  constructor(private readonly options: JobGeneratorOptions) {
    const root = new Random(options.seed);
    this.random = root.fork(1);
    this.population = new Population(options.seed, options.pools);
    // Ids start at a seed-dependent point between 10^12 and ~10^15: unique within a run, distinct between unseeded
    // runs in practice, and always exact in a JSON number (< 2^53).
    this.nextJobId = 1_000_000_000_000 + (root.uint32() % 1_000_000) * 1_000_000_000 + (root.uint32() % 1_000_000_000);
  }

  get count(): number {
    return this.generated;
  }

  next(nowMs: number): GeneratedJob {
    const random = this.random;
    const jobId = this.nextJobId++;
    const optionIndex = random.index(SERVICE_OPTIONS.length);
    const option = SERVICE_OPTIONS[optionIndex]!;
    const customerNumber = this.population.pickCustomerNumber(random);
    const customer = this.population.customer(customerNumber);
    const price = roundTo(random.int(option.minCharge[0], option.minCharge[1]), 5);
    const accept = this.decideAcceptance();
    const priceQuoted = accept
      ? random.int(price, Math.round(price * 1.4))
      : random.int(Math.round(price * 0.6), price - 1);

    const today = Math.floor(nowMs / DAY_MS) * DAY_MS;
    const start = today + random.int(1, 21) * DAY_MS;
    const end = start + random.int(option.days[0], option.days[1]) * DAY_MS;

    const order = {
      customer: customerNumber,
      option: optionIndex,
      contractor: pickContractorNumber(random),
      priceQuoted,
    };
    this.generated++;
    return {
      jobId,
      jobCreated: {
        job_id: jobId,
        job_start_date: isoDate(start),
        job_end_date: isoDate(end),
        price,
        job_status: 'Yet To Begin',
      },
      order,
      jobLocation: {
        CUSTOMERNAME: customer.name,
        EMAIL: customer.email,
        ADDRESS: customer.address,
        DEST_LAT: customer.lat,
        DEST_LONG: customer.long,
        REPORTING_TIME: Math.floor(nowMs),
      },
      orderDelayMs: Math.round(random.next() * this.options.maxOrderDelayMs),
      destination: { lat: customer.lat, long: customer.long },
    };
  }

  customer(n: number): Customer {
    return this.population.customer(n);
  }

  /** The order_placed value of job `jobId` from its parts. */
  orderPlaced(jobId: number, order: OrderParts): OrderPlaced {
    const customer = this.population.customer(order.customer);
    const option = SERVICE_OPTIONS[order.option]!;
    return {
      job_id: jobId,
      customer_id: customer.id,
      service_option: serviceLabel(option),
      contractor_id: contractorId(option.trade, order.contractor),
      location: customer.address,
      price_quoted: order.priceQuoted,
    };
  }

  /**
   * Random, but steered so the running share of accepted quotes never drifts more than about one job from the
   * ratio asked for (a plain coin flip would wander by ±1% even over 10,000 jobs).
   */
  private decideAcceptance(): boolean {
    const ratio = this.options.acceptRatio;
    const deficit = ratio * this.generated - this.accepted;
    const accept = this.random.chance(Math.min(1, Math.max(0, ratio + deficit)));
    if (accept) this.accepted++;
    return accept;
  }
}

function roundTo(value: number, step: number): number {
  return Math.max(step, Math.round(value / step) * step);
}

const isoDates = new Map<number, string>();

/** YYYY-MM-DD (UTC); cached because a run only ever touches a few dozen days. */
function isoDate(epochMs: number): string {
  let text = isoDates.get(epochMs);
  if (text === undefined) {
    text = new Date(epochMs).toISOString().slice(0, 10);
    if (isoDates.size < 10_000) isoDates.set(epochMs, text);
  }
  return text;
}
