import { badStatement, unsupported } from '../errors.js';
import type { Expr, Query, SelectItem } from '../sql/ast.js';
import {
  compile,
  exprText,
  nullOnError,
  resolveColumn,
  type Compiled,
  type CompileContext,
  type Row,
  type ScopeColumn,
} from '../sql/expressions.js';
import { BIGINT, INTEGER, formatType, sameType, type SqlType } from '../sql/types.js';
import { compileAggregate, type Aggregate } from './aggregates.js';
import { DeserializationError, deserializeKafkaKey, jsonValueDecoder } from './serde.js';
import type { DataSource, SourceColumn } from './source.js';

export const PSEUDO_COLUMNS: { name: string; type: SqlType }[] = [
  { name: 'ROWTIME', type: BIGINT },
  { name: 'ROWPARTITION', type: INTEGER },
  { name: 'ROWOFFSET', type: BIGINT },
];

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
  /** Processes one input record; with `emitting` false it only rebuilds state (replay after a restart). */
  process(input: number, record: DecodedRecord, emitting: boolean): void;
  /** Largest record timestamp seen, for the stream-stream join's window and grace. */
  streamTime: number;
  /** Restores an aggregation's state from one of its own output rows (read back from the sink topic). */
  restore?(values: unknown[]): void;
  /** Records dropped as late by a windowed join. */
  lateRecords: number;
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
  createProcessor(emit: (row: ResultRow) => void): Processor;
}

export interface PlanOptions {
  /** Persistent queries must project their key; transient ones just output columns. */
  persistent: boolean;
  sinkName?: string;
  onExpressionError?: (error: unknown) => void;
}

export type SourceLookup = (name: string) => DataSource | undefined;

function lookupSource(lookup: SourceLookup, name: string, line: number, column: number): DataSource {
  const source = lookup(name);
  if (!source) throw badStatement(`line ${line}:${column}: ${name} does not exist.`);
  return source;
}

/**
 * `used` collects the row slots the query's expressions read (filled while the plan compiles; `slotOffset` is where
 * this input's columns start in a joined row): the value decoder, built at the first record, keeps only those, so
 * join and table state hold no strings the query never reads.
 */
function makeInput(
  source: DataSource,
  alias: string,
  replay: ReplayPolicy,
  used: Set<number>,
  slotOffset: number,
): PlanInput {
  const width = source.columns.length;
  const keys = source.columns.map((c, i) => ({ c, i })).filter(({ c }) => c.key);
  const values = source.columns.map((c, i) => ({ c, i })).filter(({ c }) => !c.key);
  let decodeValue: ((bytes: Buffer) => unknown[]) | undefined;
  return {
    source,
    alias,
    replay,
    decode(record) {
      const row: Row = new Array(width + 3).fill(null);
      if (keys.length === 1) {
        try {
          row[keys[0]!.i] = deserializeKafkaKey(keys[0]!.c.type, record.key);
        } catch (error) {
          throw error instanceof DeserializationError ? error : new DeserializationError(String(error));
        }
      }
      const tombstone = record.value === null;
      if (!tombstone) {
        decodeValue ??= jsonValueDecoder(
          values.map(({ c }) => c),
          values.map(({ i }) => used.has(slotOffset + i)),
        );
        const decoded = decodeValue(record.value!);
        for (let j = 0; j < values.length; j++) row[values[j]!.i] = decoded[j];
      }
      row[width] = record.timestamp;
      row[width + 1] = record.partition;
      row[width + 2] = record.offset;
      return { row, tombstone, timestamp: record.timestamp };
    },
  };
}

function scopeColumns(source: DataSource, alias: string, offset: number): ScopeColumn[] {
  const columns = source.columns.map((c, i) => ({ qualifier: alias, name: c.name, type: c.type, index: offset + i }));
  PSEUDO_COLUMNS.forEach((p, i) => {
    columns.push({ qualifier: alias, name: p.name, type: p.type, index: offset + source.columns.length + i });
  });
  return columns;
}

interface ProjectionItem {
  name: string;
  expr: Expr;
}

/** Expands `*`, names every projected column the way ksqlDB does (join columns as ALIAS_NAME, others KSQL_COL_n). */
function projectionItems(
  select: SelectItem[],
  sides: { source: DataSource; alias: string }[],
  isJoin: boolean,
): ProjectionItem[] {
  const items: ProjectionItem[] = [];
  let generated = 0;
  const pos = { line: 1, column: 1 };
  for (const item of select) {
    if (item.kind === 'star') {
      const expanded = sides.filter((s) => item.qualifier === undefined || s.alias === item.qualifier);
      if (expanded.length === 0) throw badStatement(`'${item.qualifier}' is not a valid stream/table name or alias.`);
      for (const side of expanded) {
        for (const column of side.source.columns) {
          items.push({
            name: isJoin ? `${side.alias}_${column.name}` : column.name,
            expr: { kind: 'column', qualifier: side.alias, name: column.name, pos },
          });
        }
      }
      continue;
    }
    let name = item.alias;
    if (!name) {
      if (item.expr.kind === 'column')
        name = isJoin && item.expr.qualifier ? `${item.expr.qualifier}_${item.expr.name}` : item.expr.name;
      else {
        const used = new Set([
          ...items.map((i) => i.name),
          ...select.flatMap((s) => (s.kind === 'expr' && s.alias ? [s.alias] : [])),
        ]);
        while (used.has(`KSQL_COL_${generated}`)) generated++;
        name = `KSQL_COL_${generated++}`;
      }
    }
    items.push({ name, expr: item.expr });
  }
  const seen = new Set<string>();
  for (const item of items) {
    if (seen.has(item.name)) throw badStatement(`Duplicate value columns found in schema: \`${item.name}\``);
    seen.add(item.name);
  }
  return items;
}

function containsAggregate(expr: Expr): boolean {
  switch (expr.kind) {
    case 'call':
      return (
        ['LATEST_BY_OFFSET', 'EARLIEST_BY_OFFSET', 'COUNT', 'SUM', 'MIN', 'MAX'].includes(expr.name) ||
        expr.args.some(containsAggregate)
      );
    case 'binary':
    case 'compare':
    case 'logical':
      return containsAggregate(expr.left) || containsAggregate(expr.right);
    case 'not':
    case 'negate':
    case 'isNull':
    case 'cast':
      return containsAggregate(expr.operand);
    case 'case':
      return (
        (expr.operand ? containsAggregate(expr.operand) : false) ||
        expr.whens.some((w) => containsAggregate(w.when) || containsAggregate(w.then)) ||
        (expr.otherwise ? containsAggregate(expr.otherwise) : false)
      );
    case 'between':
      return containsAggregate(expr.operand) || containsAggregate(expr.low) || containsAggregate(expr.high);
    case 'in':
      return containsAggregate(expr.operand) || expr.list.some(containsAggregate);
    case 'like':
      return containsAggregate(expr.operand) || containsAggregate(expr.pattern);
    default:
      return false;
  }
}

/** Which join side(s) an expression reads columns from. */
function sidesOf(expr: Expr, context: CompileContext, leftAlias: string, rightAlias: string): Set<string> {
  const sides = new Set<string>();
  const visit = (e: Expr): void => {
    switch (e.kind) {
      case 'column': {
        const column = resolveColumn(context, e);
        sides.add(column.qualifier === leftAlias ? 'left' : column.qualifier === rightAlias ? 'right' : '?');
        return;
      }
      case 'call':
        e.args.forEach(visit);
        return;
      case 'binary':
      case 'compare':
      case 'logical':
        visit(e.left);
        visit(e.right);
        return;
      case 'not':
      case 'negate':
      case 'isNull':
      case 'cast':
        visit(e.operand);
        return;
      case 'case':
        if (e.operand) visit(e.operand);
        e.whens.forEach((w) => {
          visit(w.when);
          visit(w.then);
        });
        if (e.otherwise) visit(e.otherwise);
        return;
      case 'between':
        visit(e.operand);
        visit(e.low);
        visit(e.high);
        return;
      case 'in':
        visit(e.operand);
        e.list.forEach(visit);
        return;
      case 'like':
        visit(e.operand);
        visit(e.pattern);
        return;
      default:
        return;
    }
  };
  visit(expr);
  return sides;
}

export function planQuery(query: Query, lookup: SourceLookup, options: PlanOptions): QueryPlan {
  if (query.limit !== undefined && options.persistent)
    throw badStatement('LIMIT clause not supported in a persistent query (CREATE ... AS SELECT).');
  if (query.groupBy && query.groupBy.length > 1) throw unsupported('GROUP BY on more than one expression');
  const onError = options.onExpressionError ?? (() => undefined);
  const left = lookupSource(lookup, query.from.name, query.from.pos.line, query.from.pos.column);
  const warnings: string[] = [];
  const used = new Set<number>();

  if (!query.join) {
    const context: CompileContext = { columns: scopeColumns(left, query.from.alias, 0), used };
    const input = makeInput(left, query.from.alias, 'none', used, 0);
    return finishPlan({
      kind: 'transform',
      query,
      inputs: [input],
      context,
      sides: [{ source: left, alias: query.from.alias }],
      options,
      onError,
      warnings,
      joinKeyTexts: [],
      windowRetentionMs: 0,
    });
  }

  const join = query.join;
  const right = lookupSource(lookup, join.right.name, join.right.pos.line, join.right.pos.column);
  if (join.right.alias === query.from.alias)
    throw badStatement(
      `Can not join '${left.name}' to '${right.name}': the same alias '${join.right.alias}' is used for both sides.`,
    );
  const leftWidth = left.columns.length + PSEUDO_COLUMNS.length;
  const context: CompileContext = {
    columns: [...scopeColumns(left, query.from.alias, 0), ...scopeColumns(right, join.right.alias, leftWidth)],
    used,
  };
  const on = join.on;
  if (on.kind !== 'compare' || on.op !== '=')
    throw unsupported(`Join criteria other than a single equality (${exprText(on)})`);
  const first = sidesOf(on.left, context, query.from.alias, join.right.alias);
  const second = sidesOf(on.right, context, query.from.alias, join.right.alias);
  let leftExpr: Expr;
  let rightExpr: Expr;
  if (first.size === 1 && second.size === 1 && first.has('left') && second.has('right'))
    [leftExpr, rightExpr] = [on.left, on.right];
  else if (first.size === 1 && second.size === 1 && first.has('right') && second.has('left'))
    [leftExpr, rightExpr] = [on.right, on.left];
  else
    throw badStatement(
      `Invalid join condition: each side of ${exprText(on)} must reference exactly one source (${query.from.alias} and ${join.right.alias}).`,
    );
  const leftKey = compile(leftExpr, context);
  const rightKey = compile(rightExpr, context);
  if (!leftKey.type || !rightKey.type || !sameType(leftKey.type, rightKey.type)) {
    throw badStatement(
      `Invalid join condition: types don't match. Got ${exprText(leftExpr)}{${leftKey.type ? formatType(leftKey.type) : 'NULL'}} = ${exprText(rightExpr)}{${rightKey.type ? formatType(rightKey.type) : 'NULL'}}.`,
    );
  }
  const sides = [
    { source: left, alias: query.from.alias },
    { source: right, alias: join.right.alias },
  ];
  const joinKeyTexts = [exprText(leftExpr), exprText(rightExpr)];

  if (left.type === 'STREAM' && right.type === 'STREAM') {
    if (!join.within)
      throw badStatement(
        'Stream-Stream joins must have a WITHIN clause specified. None was provided. To learn about how to specify a WITHIN clause with a stream-stream join, please visit: https://docs.confluent.io/current/ksql/docs/syntax-reference.html#create-stream-as-select',
      );
    const { beforeMs, afterMs } = join.within;
    let graceMs = join.graceMs;
    if (graceMs === undefined) {
      warnings.push(
        'DEPRECATION NOTICE: Stream-stream joins statements without a GRACE PERIOD will not be accepted in a future ksqlDB version.\nPlease use the GRACE PERIOD clause as specified in https://docs.ksqldb.io/en/latest/developer-guide/ksqldb-reference/select-push-query/',
      );
      graceMs = Math.max(86_400_000 - beforeMs - afterMs, 0);
    }
    const inputs = [
      makeInput(left, query.from.alias, 'window', used, 0),
      makeInput(right, join.right.alias, 'window', used, leftWidth),
    ];
    return finishPlan({
      kind: 'streamStreamJoin',
      query,
      inputs,
      context,
      sides,
      options,
      onError,
      warnings,
      joinKeyTexts,
      windowRetentionMs: beforeMs + afterMs + graceMs,
      join: {
        leftKey: nullOnError(leftKey, onError),
        rightKey: nullOnError(rightKey, onError),
        leftWidth,
        beforeMs,
        afterMs,
        graceMs,
        rightWidth: right.columns.length + PSEUDO_COLUMNS.length,
      },
    });
  }
  if (join.within)
    throw badStatement(
      'A window definition was provided for a Stream-Table join. These joins are not windowed. Please drop the window definition (i.e. the WITHIN clause) and try to execute your join again.',
    );
  if (left.type === 'TABLE' && right.type === 'STREAM')
    throw badStatement(
      `Invalid join order: table-stream joins are not supported; only stream-table joins. Got ${left.name} [TABLE] JOIN ${right.name} [STREAM].`,
    );
  if (left.type === 'TABLE') throw unsupported('Table-table joins');
  const primaryKey = right.columns.find((c) => c.key);
  if (!primaryKey || rightExpr.kind !== 'column' || rightExpr.name !== primaryKey.name) {
    throw badStatement(
      `Cannot repartition a TABLE source. If this is a join, make sure that the criteria uses the TABLE's key column ${primaryKey?.name ?? '(none)'} instead of ${exprText(rightExpr)}`,
    );
  }
  const inputs = [
    makeInput(left, query.from.alias, 'none', used, 0),
    makeInput(right, join.right.alias, 'all', used, leftWidth),
  ];
  return finishPlan({
    kind: 'streamTableJoin',
    query,
    inputs,
    context,
    sides,
    options,
    onError,
    warnings,
    joinKeyTexts,
    windowRetentionMs: 0,
    join: {
      leftKey: nullOnError(leftKey, onError),
      rightKey: nullOnError(rightKey, onError),
      leftWidth,
      beforeMs: 0,
      afterMs: 0,
      graceMs: 0,
      rightWidth: right.columns.length + PSEUDO_COLUMNS.length,
    },
  });
}

interface JoinSpec {
  leftKey: Compiled;
  rightKey: Compiled;
  leftWidth: number;
  rightWidth: number;
  beforeMs: number;
  afterMs: number;
  graceMs: number;
}

interface FinishArgs {
  kind: QueryPlan['kind'];
  query: Query;
  inputs: PlanInput[];
  context: CompileContext;
  sides: { source: DataSource; alias: string }[];
  options: PlanOptions;
  onError: (error: unknown) => void;
  warnings: string[];
  joinKeyTexts: string[];
  windowRetentionMs: number;
  join?: JoinSpec;
}

function finishPlan(args: FinishArgs): QueryPlan {
  const { query, context, options, onError } = args;
  const isJoin = args.kind !== 'transform';
  const items = projectionItems(query.select, args.sides, isJoin);
  if (query.where && containsAggregate(query.where))
    throw badStatement('Aggregate functions are not allowed in the WHERE clause.');
  const where = query.where ? nullOnError(compile(query.where, context), onError) : undefined;
  if (where?.type && where.type.kind !== 'BOOLEAN')
    throw badStatement(
      `Type error in WHERE expression: Should evaluate to boolean but is ${exprText(query.where!)} (${formatType(where.type)}) instead.`,
    );

  const sinkName = options.sinkName ?? 'the result';
  const groupBy = query.groupBy?.[0];
  let columns: OutputColumn[];
  let keyIndex = -1;
  let project: (row: Row) => unknown[];
  let aggregation:
    | { groupKey: Compiled; aggregates: { index: number; aggregate: Aggregate }[]; keyIndex: number }
    | undefined;

  if (groupBy) {
    if (containsAggregate(groupBy)) throw badStatement('GROUP BY does not support aggregate functions.');
    const groupKey = nullOnError(compile(groupBy, context), onError);
    const groupText = exprText(groupBy);
    const aggregates: { index: number; aggregate: Aggregate }[] = [];
    columns = items.map((item, index) => {
      if (exprText(item.expr) === groupText) {
        if (keyIndex < 0) {
          keyIndex = index;
          return { name: item.name, type: groupKey.type ?? BIGINT, key: true };
        }
        return { name: item.name, type: groupKey.type ?? BIGINT, key: false };
      }
      if (
        item.expr.kind === 'call' &&
        containsAggregate(item.expr) &&
        ['LATEST_BY_OFFSET', 'EARLIEST_BY_OFFSET', 'COUNT', 'SUM', 'MIN', 'MAX'].includes(item.expr.name)
      ) {
        const aggregate = compileAggregate(item.expr, context, onError);
        aggregates.push({ index, aggregate });
        return { name: item.name, type: aggregate.type, key: false };
      }
      if (containsAggregate(item.expr))
        throw unsupported(
          `An expression around an aggregate function (${exprText(item.expr)}); project the aggregate itself`,
        );
      throw badStatement(
        `Non-aggregate SELECT expression(s) not part of GROUP BY: ${exprText(item.expr)}\nEither add the column(s) to the GROUP BY or remove them from the SELECT.`,
      );
    });
    if (keyIndex < 0) {
      throw badStatement(
        `Key missing from projection (ie, SELECT). The query used to build ${sinkName} must include the grouping expression ${groupText} in its projection (eg, SELECT ${groupText}...).`,
      );
    }
    aggregation = { groupKey, aggregates, keyIndex };
    project = () => [];
  } else {
    if (items.some((i) => containsAggregate(i.expr)))
      throw badStatement('Use of aggregate function requires a GROUP BY clause.');
    const compiled = items.map((item) => nullOnError(compile(item.expr, context), onError));
    columns = items.map((item, i) => ({ name: item.name, type: compiled[i]!.type ?? BIGINT, key: false }));
    if (options.persistent) {
      if (isJoin) {
        keyIndex = items.findIndex((item) => args.joinKeyTexts.includes(exprText(item.expr)));
        if (keyIndex < 0) {
          throw badStatement(
            `Key missing from projection (ie, SELECT). The query used to build ${sinkName} must include the join expression ${args.joinKeyTexts[0]} in its projection (eg, SELECT ${args.joinKeyTexts[0]}...).`,
          );
        }
      } else {
        const sourceKeys = args.sides[0]!.source.columns.filter((c) => c.key);
        for (const key of sourceKeys) {
          const index = items.findIndex((item) => item.expr.kind === 'column' && item.expr.name === key.name);
          if (index < 0) {
            throw badStatement(
              `Key missing from projection (ie, SELECT). The query used to build ${sinkName} must include the key column ${key.name} in its projection (eg, SELECT ${key.name}...).`,
            );
          }
          keyIndex = index;
        }
      }
      if (keyIndex >= 0) columns[keyIndex] = { ...columns[keyIndex]!, key: true };
    }
    project = (row) => compiled.map((c) => c.evaluate(row));
  }

  const leftIsTable = args.sides[0]!.source.type === 'TABLE';
  const resultType: 'STREAM' | 'TABLE' = aggregation || (args.kind === 'transform' && leftIsTable) ? 'TABLE' : 'STREAM';
  const plan: QueryPlan = {
    kind: args.kind,
    inputs: args.inputs,
    columns,
    keyIndex,
    resultType,
    aggregated: aggregation !== undefined,
    windowRetentionMs: args.windowRetentionMs,
    warnings: args.warnings,
    createProcessor: (emit) => createProcessor(args, plan, where, project, aggregation, emit),
  };
  return plan;
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

function createProcessor(
  args: FinishArgs,
  plan: QueryPlan,
  where: Compiled | undefined,
  project: (row: Row) => unknown[],
  aggregation:
    | { groupKey: Compiled; aggregates: { index: number; aggregate: Aggregate }[]; keyIndex: number }
    | undefined,
  emit: (row: ResultRow) => void,
): Processor {
  const width = plan.columns.length;
  const aggState = new Map<unknown, { values: unknown[]; timestamp: number }>();
  let emitting = true;

  /** Applies WHERE, then projection or aggregation, to a (joined) input row. */
  const handle = (row: Row, timestamp: number, tombstone: boolean): void => {
    if (tombstone) {
      if (emitting) emit({ values: project(row), tombstone: true, timestamp });
      return;
    }
    if (where && where.evaluate(row) !== true) {
      if (plan.resultType === 'TABLE' && !aggregation && emitting)
        emit({ values: project(row), tombstone: true, timestamp });
      return;
    }
    if (!aggregation) {
      if (emitting) emit({ values: project(row), tombstone: false, timestamp });
      return;
    }
    const key = aggregation.groupKey.evaluate(row);
    if (key == null) return;
    let state = aggState.get(key);
    if (!state) {
      const values = new Array(width).fill(null);
      values[aggregation.keyIndex] = key;
      for (let i = 0; i < width; i++)
        if (
          i !== aggregation.keyIndex &&
          plan.columns[i]!.key === false &&
          !aggregation.aggregates.some((a) => a.index === i)
        )
          values[i] = key;
      for (const { index, aggregate } of aggregation.aggregates) values[index] = aggregate.initial();
      state = { values, timestamp: timestamp };
      aggState.set(key, state);
    }
    for (const { index, aggregate } of aggregation.aggregates)
      state.values[index] = aggregate.update(state.values[index], row);
    state.timestamp = Math.max(state.timestamp, timestamp);
    if (emitting) emit({ values: state.values.slice(), tombstone: false, timestamp: state.timestamp });
  };

  const processor: Processor = {
    streamTime: -1,
    lateRecords: 0,
    process: () => undefined,
  };
  if (aggregation) {
    processor.restore = (values) => {
      const key = values[aggregation.keyIndex];
      if (key == null) return;
      aggState.set(key, { values: values.slice(), timestamp: 0 });
    };
  }

  if (args.kind === 'transform') {
    processor.process = (_input, record, emitNow) => {
      emitting = emitNow;
      if (record.timestamp > processor.streamTime) processor.streamTime = record.timestamp;
      handle(record.row, record.timestamp, record.tombstone && plan.resultType === 'TABLE');
    };
    return processor;
  }

  const join = args.join!;
  const combine = (leftRow: Row | null, rightRow: Row | null): Row => {
    const row = new Array(join.leftWidth + join.rightWidth);
    if (leftRow) for (let i = 0; i < join.leftWidth; i++) row[i] = leftRow[i];
    if (rightRow) for (let i = 0; i < join.rightWidth; i++) row[join.leftWidth + i] = rightRow[i];
    return row;
  };

  if (args.kind === 'streamTableJoin') {
    const table = new Map<unknown, Row>();
    processor.process = (input, record, emitNow) => {
      emitting = emitNow;
      if (record.timestamp > processor.streamTime) processor.streamTime = record.timestamp;
      if (input === 1) {
        const key = join.rightKey.evaluate(combine(null, record.row));
        if (key == null) return;
        if (record.tombstone) table.delete(key);
        else table.set(key, record.row);
        return;
      }
      if (record.tombstone) return;
      const key = join.leftKey.evaluate(record.row);
      if (key == null) return;
      const tableRow = table.get(key);
      if (!tableRow) return;
      handle(combine(record.row, tableRow), record.timestamp, false);
    };
    return processor;
  }

  // Stream-stream join: per key, the records of each side still inside their window plus grace, oldest first, as
  // linked lists (most keys hold one record a side; arrays would cost far more memory, and GC time, per key).
  const state = new Map<unknown, KeyWindows>();
  const retention = join.beforeMs + join.afterMs + join.graceMs;
  // ROWTIME's slot in each side's own row.
  const leftTime = join.leftWidth - PSEUDO_COLUMNS.length;
  const rightTime = join.rightWidth - PSEUDO_COLUMNS.length;
  // Record timestamps and keys in arrival order, to evict expired records without scanning all state; two flat
  // arrays rather than an object per record.
  let expiryTimes: number[] = [];
  let expiryKeys: unknown[] = [];
  let expiryHead = 0;
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
    const horizon = processor.streamTime - retention;
    while (expiryHead < expiryTimes.length && expiryTimes[expiryHead]! < horizon) {
      const key = expiryKeys[expiryHead];
      expiryKeys[expiryHead++] = undefined;
      const entry = state.get(key);
      if (!entry) continue;
      entry.left = prune(entry.left, leftTime, horizon);
      entry.right = prune(entry.right, rightTime, horizon);
      if (!entry.left && !entry.right) state.delete(key);
    }
    if (expiryHead > 50_000 && expiryHead * 2 > expiryTimes.length) {
      expiryTimes = expiryTimes.slice(expiryHead);
      expiryKeys = expiryKeys.slice(expiryHead);
      expiryHead = 0;
    }
  };
  processor.process = (input, record, emitNow) => {
    emitting = emitNow;
    if (record.tombstone) return;
    const isLeft = input === 0;
    const key = isLeft ? join.leftKey.evaluate(record.row) : join.rightKey.evaluate(combine(null, record.row));
    if (key == null) return;
    const ts = record.timestamp;
    if (ts > processor.streamTime) processor.streamTime = ts;
    // A record whose window closed (window end plus grace) before the current stream time is late: dropped.
    const windowEnd = ts + (isLeft ? join.afterMs : join.beforeMs);
    if (windowEnd + join.graceMs < processor.streamTime) {
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
      const from = ts - join.beforeMs;
      const to = ts + join.afterMs;
      for (let other = entry.right; other; other = other.next) {
        const otherTs = other.row[rightTime] as number;
        if (otherTs >= from && otherTs <= to) handle(combine(record.row, other.row), Math.max(ts, otherTs), false);
      }
    } else {
      if (entry.right) last(entry.right).next = node;
      else entry.right = node;
      const from = ts - join.afterMs;
      const to = ts + join.beforeMs;
      for (let other = entry.left; other; other = other.next) {
        const otherTs = other.row[leftTime] as number;
        if (otherTs >= from && otherTs <= to) handle(combine(other.row, record.row), Math.max(ts, otherTs), false);
      }
    }
    expiryTimes.push(ts);
    expiryKeys.push(key);
    if (++processedSinceSweep >= 1_000) {
      processedSinceSweep = 0;
      sweep();
    }
  };
  return processor;
}

export function outputSourceColumns(plan: QueryPlan): SourceColumn[] {
  return plan.columns.map((c) => ({ name: c.name, type: c.type, key: c.key }));
}
