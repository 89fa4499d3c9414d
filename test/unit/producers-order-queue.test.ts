import { describe, expect, it } from 'vitest';
import { OrderQueue } from '../../src/producers/order-queue.js';
import { Random } from '../../src/producers/random.js';

describe('OrderQueue', () => {
  it('gives orders back earliest first with every field intact, across growth and interleaved pops', () => {
    const queue = new OrderQueue();
    const random = new Random(5);
    const expected: Array<{
      dueAt: number;
      jobId: number;
      customer: number;
      option: number;
      contractor: number;
      priceQuoted: number;
    }> = [];
    const popped: typeof expected = [];
    for (let i = 0; i < 5000; i++) {
      const order = {
        dueAt: 1_000 + random.int(0, 2000),
        jobId: 1_000_000_000_000 + i,
        customer: random.int(0, 19_999),
        option: random.int(0, 40),
        contractor: random.int(1, 40),
        priceQuoted: random.int(50, 9000),
      };
      queue.push(order.dueAt, order.jobId, order);
      expected.push(order);
      if (i % 3 === 0) popped.push(queue.pop());
    }
    expect(queue.size).toBe(5000 - popped.length);
    while (queue.size > 0) {
      const next = queue.pop();
      popped.push(next);
    }
    expect(queue.peekDueAt()).toBeUndefined();
    // The tail (popped after the last push) comes out sorted; everything comes out exactly once and unchanged.
    const tail = popped.slice(Math.ceil(5000 / 3));
    for (let i = 1; i < tail.length; i++) expect(tail[i]!.dueAt).toBeGreaterThanOrEqual(tail[i - 1]!.dueAt);
    const byJob = (list: typeof expected) => [...list].sort((a, b) => a.jobId - b.jobId);
    expect(byJob(popped)).toEqual(byJob(expected));
  });

  it('pops the earliest order at every step', () => {
    const queue = new OrderQueue();
    const parts = { customer: 1, option: 2, contractor: 3, priceQuoted: 4 };
    for (const dueAt of [50, 10, 40, 10, 30, 20]) queue.push(dueAt, dueAt, parts);
    const order: number[] = [];
    while (queue.size > 0) order.push(queue.pop().dueAt);
    expect(order).toEqual([10, 10, 20, 30, 40, 50]);
  });
});
