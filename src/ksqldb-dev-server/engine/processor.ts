import { partitionForKey } from '../../kafka/partitioner.js';
import type { Compiled, Row } from '../sql/expressions.js';
import type { AggregationSpec, JoinSide, JoinSpec, Processor, ProcessorOptions, QueryPlan, ResultRow } from './plan.js';
import { serializeKafkaKey } from './serde.js';

export interface ProcessorSpec {
  kind: QueryPlan['kind'];
  plan: QueryPlan;
  where: Compiled | undefined;
  project: (row: Row) => unknown[];
  aggregation: AggregationSpec | undefined;
  join: JoinSpec | undefined;
  /** Row slot of the synthetic join key (ROWKEY), when the join has one. */
  syntheticKeyIndex: number | undefined;
  /** Slot of a table source's primary key column, -1 for a stream source. */
  tableKeyIndex: number;
}

/** One record in a join window: its row (ROWTIME in its own slot) and the next, later-arrived record of its key. */
interface WindowRecord {
  row: Row;
  next: WindowRecord | undefined;
}

interface KeyWindows {
  left: WindowRecord | undefined;
  right: WindowRecord | undefined;
}

interface GroupState {
  states: unknown[];
  values: unknown[];
  timestamp: number;
}

/**
 * Runs a query plan on decoded records, one at a time, with ksqlDB's semantics: a stream's null-value record is
 * forwarded by a projection but passes no filter, aggregation or join; a table's tombstone deletes its row, and a
 * table aggregation takes a changed or deleted row's old value back out of its group; a windowed join keeps stream
 * time per task, the partition of the co-partitioned (repartitioned) inputs its records go to.
 */
export function createProcessor(
  spec: ProcessorSpec,
  emit: (row: ResultRow) => void,
  options: ProcessorOptions = {},
): Processor {
  const { plan, where, project, aggregation } = spec;
  const tasks = taskCount(spec.join, options.partitions);
  const streamTimes = new Array<number>(tasks).fill(-1);
  const processor: Processor = {
    get streamTime() {
      let max = -1;
      for (const t of streamTimes) if (t > max) max = t;
      return max;
    },
    taskStreamTimes: () => streamTimes.slice(),
    advanceStreamTimes: (times) => {
      if (times.length !== tasks) return;
      times.forEach((t, i) => {
        if (t > streamTimes[i]!) streamTimes[i] = t;
      });
    },
    lateRecords: 0,
    tasks,
    spread: () => false,
    taskOf: () => 0,
    process: () => undefined,
  };

  const groups = new Map<unknown, GroupState>();
  const emitGroup = (key: unknown, group: GroupState) => {
    const agg = aggregation!;
    for (const { index, aggregate } of agg.aggregates) group.values[index] = aggregate.result(group.states[index]);
    const keyRow = [key];
    for (const { index, value } of agg.constants) group.values[index] = value.evaluate(keyRow);
    emit({ values: group.values.slice(), tombstone: false, timestamp: group.timestamp });
  };
  const groupOf = (key: unknown, timestamp: number): GroupState => {
    let group = groups.get(key);
    if (!group) {
      const agg = aggregation!;
      const values = new Array(plan.columns.length).fill(null);
      values[agg.keyIndex] = key;
      const states = new Array(plan.columns.length);
      for (const { index, aggregate } of agg.aggregates) states[index] = aggregate.initial();
      group = { states, values, timestamp };
      groups.set(key, group);
    }
    return group;
  };
  /** Adds a row to its group (or with `undo`, takes it back out) and emits the group's new values. */
  const aggregate = (row: Row, timestamp: number, undo: boolean): void => {
    const agg = aggregation!;
    const key = agg.groupKey.evaluate(row);
    if (key == null) return;
    const group = groupOf(key, timestamp);
    for (const { index, aggregate: fn } of agg.aggregates)
      group.states[index] = undo ? fn.undo!(group.states[index], row) : fn.update(group.states[index], row);
    group.timestamp = Math.max(group.timestamp, timestamp);
    emitGroup(key, group);
  };
  if (aggregation) {
    processor.restore = (values) => {
      const key = values[aggregation.keyIndex];
      if (key == null) return;
      const group = groupOf(key, 0);
      for (const { index, aggregate: fn } of aggregation.aggregates) group.states[index] = fn.restore(values[index]);
    };
  }

  /** WHERE, then projection or aggregation, for a (joined) stream row. */
  const handle = (row: Row, timestamp: number): void => {
    if (where && where.evaluate(row) !== true) return;
    if (aggregation) aggregate(row, timestamp, false);
    else emit({ values: project(row), tombstone: false, timestamp });
  };

  if (spec.kind === 'transform') {
    const sourceIsTable = plan.inputs[0]!.source.type === 'TABLE';
    if (!sourceIsTable) {
      processor.process = (_input, record, emitting) => {
        if (record.timestamp > streamTimes[0]!) streamTimes[0] = record.timestamp;
        // An aggregation's state comes back from its sink topic: a replayed record has nothing to rebuild.
        if (!emitting) return;
        if (record.tombstone) {
          // A null value passes no filter or aggregation; a projection forwards it, keyed as it came.
          if (!where && !aggregation)
            emit({ values: project(record.row), tombstone: true, timestamp: record.timestamp });
          return;
        }
        handle(record.row, record.timestamp);
      };
      return processor;
    }
    const tableKey = spec.tableKeyIndex;
    if (!aggregation) {
      processor.process = (_input, record, emitting) => {
        if (record.timestamp > streamTimes[0]!) streamTimes[0] = record.timestamp;
        // A table has no row without a key: such a record is skipped, as Kafka Streams' table source does.
        if (!emitting || record.row[tableKey] == null) return;
        // A tombstone, or a row the filter no longer passes, deletes the key from the result.
        const deleted = record.tombstone || (where !== undefined && where.evaluate(record.row) !== true);
        emit({ values: project(record.row), tombstone: deleted, timestamp: record.timestamp });
      };
      return processor;
    }
    // A table aggregation needs each source row's previous value, to take it out of its group when it changes.
    const previous = new Map<unknown, Row>();
    processor.process = (_input, record, emitting) => {
      if (record.timestamp > streamTimes[0]!) streamTimes[0] = record.timestamp;
      const key = record.row[tableKey];
      if (key == null) return;
      const current = record.tombstone || (where && where.evaluate(record.row) !== true) ? undefined : record.row;
      const old = previous.get(key);
      if (current) previous.set(key, current);
      else previous.delete(key);
      if (!emitting) return;
      if (old && groups.has(aggregation.groupKey.evaluate(old))) aggregate(old, record.timestamp, true);
      if (current) aggregate(current, record.timestamp, false);
    };
    return processor;
  }

  const join = spec.join!;
  const syntheticKey = spec.syntheticKeyIndex;
  const width = join.leftWidth + join.rightWidth + (syntheticKey === undefined ? 0 : 1);
  const combine = (leftRow: Row | null, rightRow: Row | null, key: unknown): Row => {
    const row = new Array(width);
    if (leftRow) for (let i = 0; i < join.leftWidth; i++) row[i] = leftRow[i];
    if (rightRow) for (let i = 0; i < join.rightWidth; i++) row[join.leftWidth + i] = rightRow[i];
    if (syntheticKey !== undefined) row[syntheticKey] = key;
    return row;
  };
  // The right side's key expression reads the right row at its joined offset.
  const scratch = new Array(width);
  const keyOf = (isLeft: boolean, row: Row): unknown => {
    if (isLeft) return join.left.key.evaluate(row);
    for (let i = 0; i < join.rightWidth; i++) scratch[join.leftWidth + i] = row[i];
    return join.right.key.evaluate(scratch);
  };
  const route = taskRouter(join, tasks);
  processor.spread = (input) => tasks > 1 && (input === 0 ? join.left.repartitioned : join.right.repartitioned);
  const dropsNull = spec.kind === 'streamStreamJoin';
  processor.taskOf = (input, record) => {
    const isLeft = input === 0;
    // A stream side's null value, or a null join key, never reaches a task.
    if (record.tombstone && (isLeft || dropsNull)) return -1;
    const key = keyOf(isLeft, record.row);
    return key == null ? -1 : route(isLeft, record.row, key);
  };
  const advance = (task: number, timestamp: number): number => {
    if (timestamp > streamTimes[task]!) streamTimes[task] = timestamp;
    return streamTimes[task]!;
  };

  if (spec.kind === 'streamTableJoin') {
    const table = new Map<unknown, Row>();
    processor.process = (input, record, emitting, routed) => {
      const isLeft = input === 0;
      if (isLeft && record.tombstone) return;
      const key = keyOf(isLeft, record.row);
      if (key == null) return;
      advance(routed ?? route(isLeft, record.row, key), record.timestamp);
      if (!isLeft) {
        if (record.tombstone) table.delete(key);
        else table.set(key, record.row);
        return;
      }
      if (!emitting) return;
      const tableRow = table.get(key);
      if (tableRow) handle(combine(record.row, tableRow, key), record.timestamp);
    };
    return processor;
  }

  // Stream-stream join: per key, the records of each side still inside their window plus grace, oldest first, as
  // linked lists (most keys hold one record a side; arrays would cost far more memory, and GC time, per key).
  const state = new Map<unknown, KeyWindows>();
  const retention = join.beforeMs + join.afterMs + join.graceMs;
  // ROWTIME's slot in each side's own row.
  const leftTime = join.leftWidth - 3;
  const rightTime = join.rightWidth - 3;
  // Per task, record timestamps and keys in arrival order, to evict expired records without scanning all state; two
  // flat arrays rather than an object per record.
  const expiry = Array.from({ length: tasks }, () => ({ times: [] as number[], keys: [] as unknown[], head: 0 }));
  let processedSinceSweep = 0;
  const prune = (first: WindowRecord | undefined, slot: number, horizon: number): WindowRecord | undefined => {
    while (first && (first.row[slot] as number) < horizon) first = first.next;
    let previous = first;
    while (previous?.next) {
      if ((previous.next.row[slot] as number) < horizon) previous.next = previous.next.next;
      else previous = previous.next;
    }
    return first;
  };
  const last = (first: WindowRecord): WindowRecord => {
    let node = first;
    while (node.next) node = node.next;
    return node;
  };
  const sweep = () => {
    expiry.forEach((queue, task) => {
      const horizon = streamTimes[task]! - retention;
      while (queue.head < queue.times.length && queue.times[queue.head]! < horizon) {
        const key = queue.keys[queue.head];
        queue.keys[queue.head++] = undefined;
        const entry = state.get(key);
        if (!entry) continue;
        entry.left = prune(entry.left, leftTime, horizon);
        entry.right = prune(entry.right, rightTime, horizon);
        if (!entry.left && !entry.right) state.delete(key);
      }
      if (queue.head > 50_000 && queue.head * 2 > queue.times.length) {
        queue.times = queue.times.slice(queue.head);
        queue.keys = queue.keys.slice(queue.head);
        queue.head = 0;
      }
    });
  };
  processor.process = (input, record, emitting, routed) => {
    if (record.tombstone) return;
    const isLeft = input === 0;
    const key = keyOf(isLeft, record.row);
    if (key == null) return;
    const ts = record.timestamp;
    const task = routed ?? route(isLeft, record.row, key);
    const streamTime = advance(task, ts);
    // A record whose window closed (window end plus grace) before its task's stream time is late: dropped.
    const windowEnd = ts + (isLeft ? join.afterMs : join.beforeMs);
    if (windowEnd + join.graceMs < streamTime) {
      processor.lateRecords++;
      return;
    }
    let entry = state.get(key);
    if (!entry) {
      entry = { left: undefined, right: undefined };
      state.set(key, entry);
    }
    const node: WindowRecord = { row: record.row, next: undefined };
    if (isLeft) {
      if (entry.left) last(entry.left).next = node;
      else entry.left = node;
      // Replayed records only rebuild the windows: their joins were emitted before the restart.
      if (emitting) {
        const from = ts - join.beforeMs;
        const to = ts + join.afterMs;
        for (let other = entry.right; other; other = other.next) {
          const otherTs = other.row[rightTime] as number;
          if (otherTs >= from && otherTs <= to) handle(combine(record.row, other.row, key), Math.max(ts, otherTs));
        }
      }
    } else {
      if (entry.right) last(entry.right).next = node;
      else entry.right = node;
      if (emitting) {
        const from = ts - join.afterMs;
        const to = ts + join.beforeMs;
        for (let other = entry.left; other; other = other.next) {
          const otherTs = other.row[leftTime] as number;
          if (otherTs >= from && otherTs <= to) handle(combine(other.row, record.row, key), Math.max(ts, otherTs));
        }
      }
    }
    const queue = expiry[task]!;
    queue.times.push(ts);
    queue.keys.push(key);
    if (++processedSinceSweep >= 1_000) {
      processedSinceSweep = 0;
      sweep();
    }
  };
  return processor;
}

/**
 * A join's task count, as Kafka Streams co-partitions its inputs: a side that keeps its partitioning fixes the count;
 * when both sides are repartitioned, the repartition topics get the larger of the two partition counts.
 */
export function taskCount(join: JoinSpec | undefined, partitions: readonly number[] | undefined): number {
  if (!join) return 1;
  const counts = [partitions?.[0] ?? 1, partitions?.[1] ?? 1];
  if (!join.left.repartitioned) return counts[0]!;
  if (!join.right.repartitioned) return counts[1]!;
  return Math.max(counts[0]!, counts[1]!);
}

/**
 * The task a join record goes to: a repartitioned side's record to the partition its join key hashes to (the KAFKA
 * key format and the Java client's partitioner, as the repartition topic would get it), any other to its own.
 */
function taskRouter(join: JoinSpec, tasks: number): (isLeft: boolean, row: Row, key: unknown) => number {
  if (tasks === 1) return () => 0;
  const byKey = (side: JoinSide) => (key: unknown) => partitionForKey(serializeKafkaKey(side.keyType, key)!, tasks);
  const byPartition = (width: number) => (row: Row) => ((row[width - 2] as number) ?? 0) % tasks;
  const left = join.left.repartitioned ? byKey(join.left) : undefined;
  const right = join.right.repartitioned ? byKey(join.right) : undefined;
  const leftPartition = byPartition(join.leftWidth);
  const rightPartition = byPartition(join.rightWidth);
  return (isLeft, row, key) =>
    isLeft ? (left ? left(key) : leftPartition(row)) : right ? right(key) : rightPartition(row);
}
