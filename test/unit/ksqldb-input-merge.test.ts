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
