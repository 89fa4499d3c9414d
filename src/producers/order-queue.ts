import type { OrderParts } from './jobs.js';

/** An order taken from the queue: its due time, job id and parts. */
export interface DueOrder extends OrderParts {
  dueAt: number;
  jobId: number;
}

/**
 * Orders waiting for their time, earliest first: a binary heap of due times and slot numbers, the orders' fields
 * kept in typed arrays by slot (a heap step moves two numbers, not six). At full speed tens of thousands of orders
 * wait at once; as objects they outlived the young generation and made most of the garbage collector's work and of
 * the process's memory, as numbers they make none.
 */
export class OrderQueue {
  private heapDueAt = new Float64Array(1024);
  private heapSlot = new Int32Array(1024);
  private jobId = new Float64Array(1024);
  private customer = new Int32Array(1024);
  private option = new Int32Array(1024);
  private contractor = new Int32Array(1024);
  private priceQuoted = new Float64Array(1024);
  /** Slots not in use: a stack; the first `size` heap entries name the slots in use. */
  private freeSlots = Int32Array.from({ length: 1024 }, (_, i) => 1023 - i);
  private freeCount = 1024;
  size = 0;

  peekDueAt(): number | undefined {
    return this.size > 0 ? this.heapDueAt[0] : undefined;
  }

  push(dueAt: number, jobId: number, order: OrderParts): void {
    if (this.freeCount === 0) this.grow();
    const slot = this.freeSlots[--this.freeCount]!;
    this.jobId[slot] = jobId;
    this.customer[slot] = order.customer;
    this.option[slot] = order.option;
    this.contractor[slot] = order.contractor;
    this.priceQuoted[slot] = order.priceQuoted;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.heapDueAt[parent]! <= dueAt) break;
      this.heapDueAt[i] = this.heapDueAt[parent]!;
      this.heapSlot[i] = this.heapSlot[parent]!;
      i = parent;
    }
    this.heapDueAt[i] = dueAt;
    this.heapSlot[i] = slot;
  }

  /** Removes the earliest order; the queue must not be empty. */
  pop(): DueOrder {
    const slot = this.heapSlot[0]!;
    const top: DueOrder = {
      dueAt: this.heapDueAt[0]!,
      jobId: this.jobId[slot]!,
      customer: this.customer[slot]!,
      option: this.option[slot]!,
      contractor: this.contractor[slot]!,
      priceQuoted: this.priceQuoted[slot]!,
    };
    this.freeSlots[this.freeCount++] = slot;
    const last = --this.size;
    if (last > 0) {
      // Sift the last entry down from the root, moving smaller children up into the hole.
      const dueAt = this.heapDueAt[last]!;
      const lastSlot = this.heapSlot[last]!;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= last) break;
        const right = left + 1;
        const child = right < last && this.heapDueAt[right]! < this.heapDueAt[left]! ? right : left;
        if (this.heapDueAt[child]! >= dueAt) break;
        this.heapDueAt[i] = this.heapDueAt[child]!;
        this.heapSlot[i] = this.heapSlot[child]!;
        i = child;
      }
      this.heapDueAt[i] = dueAt;
      this.heapSlot[i] = lastSlot;
    }
    return top;
  }

  private grow(): void {
    const old = this.heapDueAt.length;
    const capacity = old * 2;
    const grown = <T extends Float64Array | Int32Array>(array: T): T => {
      const bigger = new (array.constructor as new (n: number) => T)(capacity);
      bigger.set(array);
      return bigger;
    };
    this.heapDueAt = grown(this.heapDueAt);
    this.heapSlot = grown(this.heapSlot);
    this.jobId = grown(this.jobId);
    this.customer = grown(this.customer);
    this.option = grown(this.option);
    this.contractor = grown(this.contractor);
    this.priceQuoted = grown(this.priceQuoted);
    // Every old slot is in use when the queue grows: the new ones are all free.
    this.freeSlots = Int32Array.from({ length: capacity }, (_, i) => (i < old ? capacity - 1 - i : 0));
    this.freeCount = old;
  }
}
