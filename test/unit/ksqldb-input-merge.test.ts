import { describe, expect, it } from 'vitest';
import { InputMerge, InputPartition, type MergeOptions } from '../../src/ksqldb-dev-server/engine/input-merge.js';

// The order in which a query takes its inputs' records, as a Kafka Streams task picks them (PartitionGroup): the
// buffered head with the smallest timestamp next; an empty partition with data still on the broker is waited for,
// a caught-up one is not (max.task.idle.ms = 0), unless max.task.idle.ms says to wait for it.

type Fed = [input: number, offset: number, timestamp: number];

function setup(options: Partial<MergeOptions> & { ends?: number[]; cuts?: number[] } = {}) {
  let clock = 0;
  const merge = new InputMerge({ ordered: true, idleMs: 0, now: () => clock, ...options });
  const partitions = [0, 1].map(
    (input) => new InputPartition(input, `t${input}`, 0, 0, options.cuts?.[input] ?? 0, options.ends?.[input] ?? 0),
  );
  for (const p of partitions) merge.add(p);
  const taken: Fed[] = [];
  const feed = (input: number, ...records: [offset: number, timestamp: number][]) => {
    const p = partitions[input]!;
    for (const [offset, timestamp] of records) {
      p.push({ offset, timestamp, decoded: undefined });
      p.fetched = offset + 1;
    }
  };
  const drain = () =>
    merge.drain((p, record) => {
      taken.push([p.input, record.offset, record.timestamp]);
      p.position = record.offset + 1;
    });
  return { merge, partitions, taken, feed, drain, tick: (ms: number) => (clock += ms) };
}

describe('ksqlDB dev server: the order of a join input records', () => {
  it('takes the earliest buffered head across partitions, each partition in offset order', () => {
    const m = setup({ ends: [3, 2] });
    m.feed(0, [0, 10], [1, 40], [2, 30]);
    m.feed(1, [0, 20], [1, 35]);
    m.drain();
    expect(m.taken).toEqual([
      [0, 0, 10],
      [1, 0, 20],
      [1, 1, 35],
      [0, 1, 40],
      [0, 2, 30],
    ]);
  });

  it('waits for an empty partition that still has data on the broker, then goes on in time order', () => {
    const m = setup({ ends: [2, 2] });
    m.feed(0, [0, 50], [1, 60]);
    m.drain();
    expect(m.taken).toEqual([]);
    m.feed(1, [0, 10], [1, 55]);
    m.drain();
    expect(m.taken.map(([input, , ts]) => [input, ts])).toEqual([
      [1, 10],
      [0, 50],
      [1, 55],
      [0, 60],
    ]);
  });

  it('does not wait for a caught-up empty partition (max.task.idle.ms = 0)', () => {
    const m = setup({ ends: [1, 0] });
    m.feed(0, [0, 5]);
    m.drain();
    expect(m.taken).toEqual([[0, 0, 5]]);
  });

  it('with max.task.idle.ms above 0, waits that long for a caught-up empty partition', () => {
    const m = setup({ ends: [1, 0], idleMs: 100 });
    m.feed(0, [0, 5]);
    expect(m.drain()).toBe(100);
    expect(m.taken).toEqual([]);
    m.tick(60);
    expect(m.drain()).toBe(40);
    m.tick(40);
    m.drain();
    expect(m.taken).toEqual([[0, 0, 5]]);
  });

  it('with max.task.idle.ms below 0, never waits', () => {
    const m = setup({ ends: [1, 5], idleMs: -1 });
    m.feed(0, [0, 5]);
    m.drain();
    expect(m.taken).toEqual([[0, 0, 5]]);
  });

  it('while rebuilding after a restart, replays up to each cut in time order before any later record', () => {
    const m = setup({ ends: [3, 3], cuts: [2, 1] });
    expect(m.merge.rebuilding).toBe(true);
    m.feed(0, [0, 10], [1, 30], [2, 5]);
    m.drain();
    // Partition 1 has not fetched the record it replays yet: wait for it.
    expect(m.taken).toEqual([]);
    m.feed(1, [0, 20], [1, 1], [2, 40]);
    m.drain();
    expect(m.merge.rebuilding).toBe(false);
    // The replay (offsets below the cuts) first, then the rest in time order.
    expect(m.taken).toEqual([
      [0, 0, 10],
      [1, 0, 20],
      [0, 1, 30],
      [1, 1, 1],
      [0, 2, 5],
      [1, 2, 40],
    ]);
  });
});

// A join runs one task per partition number of its co-partitioned inputs, and each task orders and waits on its own
// partitions only: a partition that still has data to fetch holds back its own task, never another.

/** Two inputs of two partitions each; `spread` inputs are repartitioned by key (the key is the record's timestamp). */
function tasksSetup(options: { ends: number[][]; spread?: number[]; idleMs?: number }) {
  let clock = 0;
  const merge = new InputMerge({
    ordered: true,
    idleMs: options.idleMs ?? 0,
    now: () => clock,
    tasks: 2,
    spread: (input) => options.spread?.includes(input) ?? false,
    route: (_p, record) => record.timestamp % 2,
  });
  const partitions = [0, 1].map((input) =>
    [0, 1].map(
      (partition) => new InputPartition(input, `t${input}`, partition, 0, 0, options.ends[input]![partition]!),
    ),
  );
  for (const p of partitions.flat()) merge.add(p);
  const taken: [input: number, partition: number, timestamp: number][] = [];
  const feed = (input: number, partition: number, ...timestamps: number[]) => {
    const p = partitions[input]![partition]!;
    for (const timestamp of timestamps) {
      p.push({ offset: p.fetched, timestamp, decoded: undefined });
      p.fetched++;
    }
  };
  const drain = () => merge.drain((p, record) => taken.push([p.input, p.partition, record.timestamp]));
  return { merge, partitions, taken, feed, drain, tick: (ms: number) => (clock += ms) };
}

describe("ksqlDB dev server: a join's tasks", () => {
  it("a partition with data still to fetch holds back its own task's records, not another task's", () => {
    // Task 0 is partition 0 of both inputs, task 1 partition 1. Input 1's partition 0 has data on the broker.
    const m = tasksSetup({
      ends: [
        [2, 2],
        [1, 2],
      ],
    });
    m.feed(0, 0, 10, 20);
    m.feed(0, 1, 15, 40);
    m.feed(1, 1, 30, 35);
    m.drain();
    expect(m.taken).toEqual([
      [0, 1, 15],
      [1, 1, 30],
      [1, 1, 35],
      [0, 1, 40],
    ]);
    m.feed(1, 0, 12);
    m.drain();
    expect(m.taken.slice(4)).toEqual([
      [0, 0, 10],
      [1, 0, 12],
      [0, 0, 20],
    ]);
  });

  it('a side repartitioned by its key feeds every task from each of its partitions, in time order', () => {
    // Input 0 is spread by key (here the timestamp's parity); input 1 keeps its partitioning.
    const m = tasksSetup({
      ends: [
        [3, 3],
        [1, 1],
      ],
      spread: [0],
    });
    m.feed(0, 0, 5, 8, 11);
    m.feed(1, 0, 6);
    m.feed(1, 1, 7);
    m.drain();
    // Partition 1 of input 0 feeds both tasks and has data to fetch: each task waits for it.
    expect(m.taken).toEqual([]);
    m.feed(0, 1, 4, 9, 10);
    m.drain();
    const byTask = (parity: number) =>
      m.taken.filter(([input, partition, ts]) => (input === 0 ? ts % 2 : partition) === parity);
    expect(byTask(0).map(([, , ts]) => ts)).toEqual([4, 6, 8, 10]);
    expect(byTask(1).map(([, , ts]) => ts)).toEqual([5, 7, 9, 11]);
  });

  it("a partition's position passes only records every task has processed", () => {
    const m = tasksSetup({
      ends: [
        [3, 0],
        [0, 1],
      ],
      spread: [0],
    });
    // Input 0, partition 0: offset 0 goes to task 1 (odd), offsets 1 and 2 to task 0.
    m.feed(0, 0, 1, 2, 4);
    m.drain();
    // Task 1 waits for input 1's partition 1, which has data to fetch; task 0 goes on.
    expect(m.taken).toEqual([
      [0, 0, 2],
      [0, 0, 4],
    ]);
    const p = m.partitions[0]![0]!;
    expect(p.position).toBe(0);
    m.feed(1, 1, 3);
    m.drain();
    expect(p.position).toBe(3);
  });

  it('with max.task.idle.ms above 0, each task waits for its own caught-up empty partitions', () => {
    const m = tasksSetup({
      ends: [
        [1, 2],
        [0, 1],
      ],
      idleMs: 100,
    });
    m.feed(0, 0, 5);
    m.feed(0, 1, 6, 8);
    m.feed(1, 1, 7);
    expect(m.drain()).toBe(100);
    // Task 0 waits for input 1's partition 0 at once; task 1 has both of its partitions buffered until 7 is taken.
    expect(m.taken).toEqual([
      [0, 1, 6],
      [1, 1, 7],
    ]);
    m.tick(60);
    expect(m.drain()).toBe(40);
    m.tick(40);
    m.drain();
    expect(m.taken.slice(2)).toEqual([
      [0, 0, 5],
      [0, 1, 8],
    ]);
  });
});

describe('ksqlDB dev server: rebuilding a spread partition after a restart', () => {
  it('replays what each task had processed past the committed offset, and only then goes on', () => {
    const merge = new InputMerge({
      ordered: true,
      idleMs: 0,
      tasks: 2,
      spread: () => true,
      route: (_p, record) => record.timestamp % 2,
    });
    // Committed at offset 1, when task 0 had processed its records up to offset 4 and task 1 up to offset 1.
    const p = new InputPartition(0, 't0', 0, 0, 1, 5, [4, 1]);
    merge.add(p);
    const timestamps = [10, 20, 31, 40, 50];
    for (const [offset, timestamp] of timestamps.entries()) p.push({ offset, timestamp, decoded: undefined });
    p.fetched = 5;
    const taken: [offset: number, replayed: boolean][] = [];
    merge.drain((partition, record) => taken.push([record.offset, partition.replays(record)]));
    // Offset 2 (task 1) and 4 (task 0) were not processed before: they come after the rebuild, with output.
    expect(taken).toEqual([
      [0, true],
      [1, true],
      [3, true],
      [4, false],
      [2, false],
    ]);
    expect(merge.rebuilding).toBe(false);
    expect(p.position).toBe(5);
  });
});
