import type { Compiled, Row } from '../sql/expressions.js';
import type { SqlType } from '../sql/types.js';
import type { Aggregate } from './aggregates.js';
import type { DataSource } from './source.js';

/** The shapes a planned query is made of, shared by the planner that builds it and the processor that runs it. */

export interface ProcessorOptions {
  /** Partition count of each input topic (default 1 each): a join runs one task per partition. */
  partitions?: readonly number[];
}

export interface RawRecord {
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  partition: number;
  offset: number;
}

/** A record of one input as a row: the source's columns in declared order, then ROWTIME, ROWPARTITION, ROWOFFSET. */
export interface DecodedRecord {
  row: Row;
  /** The record's value is null: a table's tombstone, a stream's null-value record. */
  tombstone: boolean;
  timestamp: number;
}

export type ReplayPolicy = 'window' | 'all' | 'none';

export interface PlanInput {
  source: DataSource;
  alias: string;
  replay: ReplayPolicy;
  /** Throws DeserializationError for a record ksqlDB would skip. */
  decode(record: RawRecord): DecodedRecord;
}

export interface OutputColumn {
  name: string;
  type: SqlType;
  key: boolean;
}

export interface ResultRow {
  /** Values of all output columns in projection order (only the key is meaningful for a tombstone). */
  values: unknown[];
  tombstone: boolean;
  timestamp: number;
}

export interface Processor {
  /**
   * Processes one input record; with `emitting` false it only rebuilds state (replay after a restart). `task` is the
   * record's task when the caller routed it already (`taskOf`).
   */
  process(input: number, record: DecodedRecord, emitting: boolean, task?: number): void;
  /** A join's tasks, one per partition of its co-partitioned (or repartitioned) inputs; 1 for any other query. */
  readonly tasks: number;
  /** Whether the input's records are spread over the tasks by their join key (a side ksqlDB repartitions). */
  spread(input: number): boolean;
  /** The task a join record goes to, or -1 when it reaches none (a null join key; a null value on a stream side). */
  taskOf(input: number, record: DecodedRecord): number;
  /** Largest record timestamp seen by any task. */
  readonly streamTime: number;
  /** Stream time of each task (a partition of the join's co-partitioned inputs); -1 before its first record. */
  taskStreamTimes(): number[];
  /** Moves tasks' stream times forward to where they were before a restart. */
  advanceStreamTimes(times: readonly number[]): void;
  /** Restores an aggregation's state from one of its own output rows (read back from the sink topic). */
  restore?(values: unknown[]): void;
  /** Records dropped as late by a windowed join. */
  lateRecords: number;
}

/** How a join side's records reach the join's tasks, as ksqlDB partitions them. */
export interface JoinSide {
  /** The side's join expression, over the side's own row. */
  key: Compiled;
  keyType: SqlType;
  /** Joined on the source's key column: the records stay on their partition; otherwise repartitioned by the key. */
  repartitioned: boolean;
}

export interface QueryPlan {
  kind: 'transform' | 'streamStreamJoin' | 'streamTableJoin';
  inputs: PlanInput[];
  columns: OutputColumn[];
  /** Index of the key column in `columns`, -1 when the result has no key. */
  keyIndex: number;
  resultType: 'STREAM' | 'TABLE';
  aggregated: boolean;
  /** How far back (ms) a windowed join must replay its inputs to rebuild state. */
  windowRetentionMs: number;
  warnings: string[];
  /** `partitions` is each input topic's partition count, for the tasks a join's records are spread over. */
  createProcessor(emit: (row: ResultRow) => void, options?: ProcessorOptions): Processor;
}

export interface JoinSpec {
  left: JoinSide;
  right: JoinSide;
  leftWidth: number;
  rightWidth: number;
  beforeMs: number;
  afterMs: number;
  graceMs: number;
}

export interface AggregationSpec {
  groupKey: Compiled;
  aggregates: { index: number; aggregate: Aggregate }[];
  /** Non-aggregate, non-key columns: functions of the group key alone (constants included). */
  constants: { index: number; value: Compiled }[];
  keyIndex: number;
  /** A table source: rows change and are deleted, and aggregates take old rows back out (ksqlDB's undo). */
  fromTable: boolean;
}
