import { SERVICE_OPTIONS, serviceLabel } from './catalogue.js';
import type { OrderParts } from './jobs.js';
import { contractorId, type Customer } from './population.js';
import type { JobCreated } from './records.js';

/**
 * Writes a record's key and JSON value as UTF-8 straight into one scratch buffer: the key from byte 0, the value
 * right after it, for the caller to copy into a record batch. Each value is exactly the text JSON.stringify makes of
 * the record (same keys, same order, same escapes), put together from byte fragments made once per customer,
 * service option and contractor, and date, with the integers written digit by digit. Building each value as a
 * string and then encoding it took a third of the producer's CPU at full speed; this takes a fraction of that.
 */
export class RecordEncoder {
  /** Far more than any record needs: values are a few hundred bytes. */
  readonly bytes = Buffer.allocUnsafeSlow(64 * 1024);
  /** Where the key written last ends and its value begins. */
  keyEnd = 0;
  /**
   * How many pieces were made so far: a record encoded while this grew contains a piece no record had before (the
   * contract guard checks such a record whole).
   */
  fragmentsMade = 0;
  /** The job whose id the key bytes hold, so a job's three records write it once. */
  private keyJobId = Number.NaN;
  /** `,"customer_id":…,"service_option":` by customer number. */
  private readonly customerIds: Array<Buffer | undefined> = [];
  /** `"…","price_quoted":` (the order's location) by customer number. */
  private readonly locations: Array<Buffer | undefined> = [];
  /** `{"CUSTOMERNAME":…,"REPORTING_TIME":` by customer number. */
  private readonly jobLocationPrefixes: Array<Buffer | undefined> = [];
  /** `"<service option>","contractor_id":"<id>","location":` by option and contractor number. */
  private readonly optionContractors: Array<Buffer | undefined> = [];
  private readonly startDates = new Map<string, Buffer>();
  private readonly endDates = new Map<string, Buffer>();
  private readonly jobStatuses = new Map<string, Buffer>();

  constructor(private readonly customer: (n: number) => Customer) {}

  /** job_created of a job; returns the value's end. */
  jobCreated(value: JobCreated): number {
    const bytes = this.bytes;
    let o = this.jobIdField(value.job_id);
    o = put(
      bytes,
      o,
      this.cached(
        this.startDates,
        value.job_start_date,
        (d) => `,"job_start_date":${JSON.stringify(d)},"job_end_date":`,
      ),
    );
    o = put(
      bytes,
      o,
      this.cached(this.endDates, value.job_end_date, (d) => `${JSON.stringify(d)},"price":`),
    );
    o = writeDecimal(bytes, o, value.price);
    return put(
      bytes,
      o,
      this.cached(this.jobStatuses, value.job_status, (s) => `,"job_status":${JSON.stringify(s)}}`),
    );
  }

  /** order_placed of job `jobId` from its parts (the same text as JSON.stringify(JobGenerator.orderPlaced(…))). */
  orderPlaced(jobId: number, order: OrderParts): number {
    const bytes = this.bytes;
    let o = this.jobIdField(jobId);
    let customerId = this.customerIds[order.customer];
    if (customerId === undefined) {
      customerId = this.customerIds[order.customer] = this.made(
        `,"customer_id":${JSON.stringify(this.customer(order.customer).id)},"service_option":`,
      );
    }
    o = put(bytes, o, customerId);
    o = put(bytes, o, this.optionContractor(order.option, order.contractor));
    let location = this.locations[order.customer];
    if (location === undefined) {
      location = this.locations[order.customer] = this.made(
        `${JSON.stringify(this.customer(order.customer).address)},"price_quoted":`,
      );
    }
    o = put(bytes, o, location);
    o = writeDecimal(bytes, o, order.priceQuoted);
    bytes[o] = CLOSE_BRACE;
    return o + 1;
  }

  /** joblocation of job `jobId` for customer number `customer`; returns the value's end. */
  jobLocation(jobId: number, customer: number, reportingTime: number): number {
    const bytes = this.bytes;
    let prefix = this.jobLocationPrefixes[customer];
    if (prefix === undefined)
      prefix = this.jobLocationPrefixes[customer] = this.made(jobLocationPrefix(this.customer(customer)));
    let o = put(bytes, this.key(jobId), prefix);
    o = writeDecimal(bytes, o, reportingTime);
    bytes[o] = CLOSE_BRACE;
    return o + 1;
  }

  /** A record given as text (truck reports: few, and their coordinates are fractions); returns the value's end. */
  text(key: string, value: string): number {
    this.keyJobId = Number.NaN;
    this.keyEnd = this.bytes.write(key, 0);
    return this.keyEnd + this.bytes.write(value, this.keyEnd);
  }

  /** Writes job `jobId`'s key (its id in decimal) unless it is there already; returns where the value starts. */
  private key(jobId: number): number {
    if (jobId !== this.keyJobId) {
      this.keyEnd = writeDecimal(this.bytes, 0, jobId);
      this.keyJobId = jobId;
    }
    return this.keyEnd;
  }

  /** `{"job_id":<id>` after the key: the id's digits are the key's. */
  private jobIdField(jobId: number): number {
    const bytes = this.bytes;
    const keyEnd = this.key(jobId);
    const o = put(bytes, keyEnd, JOB_ID_FIELD);
    for (let i = 0; i < keyEnd; i++) bytes[o + i] = bytes[i]!;
    return o + keyEnd;
  }

  private optionContractor(option: number, contractor: number): Buffer {
    const index = option * CONTRACTOR_SLOTS + contractor;
    let fragment = this.optionContractors[index];
    if (fragment === undefined) {
      const service = SERVICE_OPTIONS[option]!;
      const id = contractorId(service.trade, contractor);
      fragment = this.made(
        `${JSON.stringify(serviceLabel(service))},"contractor_id":${JSON.stringify(id)},"location":`,
      );
      this.optionContractors[index] = fragment;
    }
    return fragment;
  }

  private made(text: string): Buffer {
    this.fragmentsMade++;
    return utf8(text);
  }

  private cached(fragments: Map<string, Buffer>, text: string, make: (text: string) => string): Buffer {
    let fragment = fragments.get(text);
    if (fragment === undefined) {
      fragment = this.made(make(text));
      // A run touches a few dozen dates; the bound only matters to a process that runs for years.
      if (fragments.size < 10_000) fragments.set(text, fragment);
    }
    return fragment;
  }
}

const CLOSE_BRACE = 0x7d;
const JOB_ID_FIELD = utf8('{"job_id":');
/** Room per service option for contractor numbers (1 … 40 today). */
const CONTRACTOR_SLOTS = 64;

function jobLocationPrefix(customer: Customer): string {
  const q = JSON.stringify;
  return `{"CUSTOMERNAME":${q(customer.name)},"EMAIL":${q(customer.email)},"ADDRESS":${q(customer.address)},"DEST_LAT":${customer.lat},"DEST_LONG":${customer.long},"REPORTING_TIME":`;
}

function utf8(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

function put(target: Buffer, offset: number, fragment: Buffer): number {
  target.set(fragment, offset);
  return offset + fragment.length;
}

/**
 * Writes a non-negative safe integer in decimal, as String(n) would, at `offset`; returns the end. Numbers of ten
 * digits or more are split at 10^9 so every division is on a small integer.
 */
export function writeDecimal(target: Uint8Array, offset: number, n: number): number {
  if (n < 1e9) return writeSmall(target, offset, n);
  const high = Math.floor(n / 1e9);
  offset = writeSmall(target, offset, high);
  let low = n - high * 1e9;
  for (let i = offset + 8; i >= offset; i--) {
    const tenth = (low / 10) | 0;
    target[i] = 0x30 + low - tenth * 10;
    low = tenth;
  }
  return offset + 9;
}

function writeSmall(target: Uint8Array, offset: number, n: number): number {
  const end = offset + decimalDigits(n);
  for (let i = end - 1; i >= offset; i--) {
    const tenth = (n / 10) | 0;
    target[i] = 0x30 + n - tenth * 10;
    n = tenth;
  }
  return end;
}

function decimalDigits(n: number): number {
  if (n < 10) return 1;
  if (n < 100) return 2;
  if (n < 1e3) return 3;
  if (n < 1e4) return 4;
  if (n < 1e5) return 5;
  if (n < 1e6) return 6;
  if (n < 1e7) return 7;
  if (n < 1e8) return 8;
  return 9;
}
