import type { OrderParts } from './jobs.js';

/** An order taken from the queue: its due time, job id and parts. */
export interface DueOrder extends OrderParts {
  dueAt: number;
  jobId: number;
}

/**
 * Orders waiting for their time, earliest first: a binary heap kept in typed arrays. At full speed tens of
 * thousands of orders wait at once; as objects they outlived the young generation and made most of the garbage
 * collector's work and of the process's memory, as numbers they make none.
 */
export class OrderQueue {
  private dueAt = new Float64Array(1024);
  private jobId = new Float64Array(1024);
  private customer = new Int32Array(1024);
  private option = new Int32Array(1024);
  private contractor = new Int32Array(1024);
  private priceQuoted = new Float64Array(1024);
  size = 0;

  peekDueAt(): number | undefined {
    return this.size > 0 ? this.dueAt[0] : undefined;
  }

  push(dueAt: number, jobId: number, order: OrderParts): void {
    if (this.size === this.dueAt.length) this.grow();
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.dueAt[parent]! <= dueAt) break;
      this.move(parent, i);
      i = parent;
    }
    this.dueAt[i] = dueAt;
    this.jobId[i] = jobId;
    this.customer[i] = order.customer;
    this.option[i] = order.option;
    this.contractor[i] = order.contractor;
    this.priceQuoted[i] = order.priceQuoted;
  }

  /** Removes the earliest order; the queue must not be empty. */
  pop(): DueOrder {
    const top: DueOrder = {
      dueAt: this.dueAt[0]!,
      jobId: this.jobId[0]!,
      customer: this.customer[0]!,
      option: this.option[0]!,
      contractor: this.contractor[0]!,
      priceQuoted: this.priceQuoted[0]!,
    };
    const last = --this.size;
    if (last > 0) {
      // Sift the last entry down from the root, moving smaller children up into the hole.
      const dueAt = this.dueAt[last]!;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= last) break;
        const right = left + 1;
        const child = right < last && this.dueAt[right]! < this.dueAt[left]! ? right : left;
        if (this.dueAt[child]! >= dueAt) break;
        this.move(child, i);
        i = child;
      }
      this.move(last, i);
    }
    return top;
  }

  private move(from: number, to: number): void {
    this.dueAt[to] = this.dueAt[from]!;
    this.jobId[to] = this.jobId[from]!;
    this.customer[to] = this.customer[from]!;
    this.option[to] = this.option[from]!;
    this.contractor[to] = this.contractor[from]!;
    this.priceQuoted[to] = this.priceQuoted[from]!;
  }

  private grow(): void {
    const capacity = this.dueAt.length * 2;
    const grown = <T extends Float64Array | Int32Array>(array: T): T => {
      const bigger = new (array.constructor as new (n: number) => T)(capacity);
      bigger.set(array);
      return bigger;
    };
    this.dueAt = grown(this.dueAt);
    this.jobId = grown(this.jobId);
    this.customer = grown(this.customer);
    this.option = grown(this.option);
    this.contractor = grown(this.contractor);
    this.priceQuoted = grown(this.priceQuoted);
  }
}
