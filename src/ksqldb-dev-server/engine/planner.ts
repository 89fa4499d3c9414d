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
import { AGGREGATE_NAMES, compileAggregate } from './aggregates.js';
import type { AggregationSpec, JoinSide, JoinSpec, OutputColumn, PlanInput, QueryPlan, ReplayPolicy } from './plan.js';
import { createProcessor } from './processor.js';
import { DeserializationError, deserializeKafkaKey, jsonValueDecoder } from './serde.js';
import type { DataSource, SourceColumn } from './source.js';

export type {
  AggregationSpec,
  DecodedRecord,
  JoinSide,
  JoinSpec,
  OutputColumn,
  PlanInput,
  Processor,
  ProcessorOptions,
  QueryPlan,
  RawRecord,
  ReplayPolicy,
  ResultRow,
} from './plan.js';

export const PSEUDO_COLUMNS: { name: string; type: SqlType }[] = [
  { name: 'ROWTIME', type: BIGINT },
  { name: 'ROWPARTITION', type: INTEGER },
  { name: 'ROWOFFSET', type: BIGINT },
];

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

/**
 * Expands `*` and names every projected column the way ksqlDB's AstSanitizer does: in a join, columns expanded from
 * `*` are ALIAS_NAME, a qualified column is ALIAS_NAME only when its name is in both sources (or is a pseudo column),
 * other expressions are KSQL_COL_n.
 */
function projectionItems(
  select: SelectItem[],
  sides: { source: DataSource; alias: string }[],
  isJoin: boolean,
): ProjectionItem[] {
  const items: ProjectionItem[] = [];
  let generated = 0;
  const pos = { line: 1, column: 1 };
  const clashing = (name: string): boolean =>
    PSEUDO_COLUMNS.some((p) => p.name === name) ||
    sides.filter((side) => side.source.columns.some((c) => c.name === name)).length > 1;
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
        name =
          isJoin && item.expr.qualifier && clashing(item.expr.name)
            ? `${item.expr.qualifier}_${item.expr.name}`
            : item.expr.name;
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
  return items;
}

function containsAggregate(expr: Expr): boolean {
  switch (expr.kind) {
    case 'call':
      return AGGREGATE_NAMES.includes(expr.name) || expr.args.some(containsAggregate);
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

/** ROWKEY, or ROWKEY_n when a source already has a column of that name: ksqlDB's synthetic join key. */
function syntheticKeyName(sides: { source: DataSource }[]): string {
  const used = new Set<number>();
  for (const side of sides)
    for (const column of side.source.columns) {
      const match = /^ROWKEY(?:_(\d+))?$/.exec(column.name);
      if (match) used.add(match[1] === undefined ? 0 : Number(match[1]));
    }
  let n = 0;
  while (used.has(n)) n++;
  return n === 0 ? 'ROWKEY' : `ROWKEY_${n}`;
}

/** `A`, `A and B`, `A, B and C`: ksqlDB's GrammaticalJoiner. */
function joinWords(words: string[], last: 'and' | 'or'): string {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} ${last} ${words[words.length - 1]}`;
}

const AS_VALUE_HINT =
  '\nEach key column must only be in the projection once. If you intended to copy the key into the value, then ' +
  'consider using the AS_VALUE function to indicate which key reference should be copied.';

/** ksqlDB's "Key missing from projection" (PlanNode.throwKeysNotIncludedError). */
function keyMissing(sinkName: string, type: string, required: string[], requireAll: boolean, synthetic = false): Error {
  const keyPostfix = requireAll && required.length > 1 ? 's' : '';
  const types = type + (required.length === 1 ? '' : 's');
  const example = requireAll ? required.join(', ') : required[0];
  return badStatement(
    `Key${keyPostfix} missing from projection (ie, SELECT). ${synthetic ? 'See https://cnfl.io/2LV7ouS.' : ''}\n` +
      `The query used to build \`${sinkName}\` must include the ${types} ${joinWords(required, requireAll ? 'and' : 'or')} in its projection (eg, SELECT ${example}...).` +
      (synthetic
        ? `\n${required[0]} was added as a synthetic key column because the join criteria did not match any source column. This expression must be included in the projection and may be aliased. `
        : ''),
  );
}

/** The key column of a join result: the first projected join column (FROM side first), or the synthetic key. */
interface JoinKeyPlan {
  /** Column references that equal the join key: the join expressions that are plain columns, left first. */
  viable: { alias: string; name: string; index: number }[];
  /** Name of the synthetic key (ROWKEY) when neither join expression is a column, and its row slot. */
  synthetic?: { name: string; index: number };
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
    return finishPlan({
      kind: 'transform',
      query,
      inputs: [makeInput(left, query.from.alias, 'none', used, 0)],
      context,
      sides: [{ source: left, alias: query.from.alias }],
      options,
      onError,
      warnings,
      windowRetentionMs: 0,
    });
  }

  const join = query.join;
  const right = lookupSource(lookup, join.right.name, join.right.pos.line, join.right.pos.column);
  if (join.right.alias === query.from.alias)
    throw badStatement(
      `Can not join '${left.name}' to '${right.name}': the same alias '${join.right.alias}' is used for both sides.`,
    );
  const sides = [
    { source: left, alias: query.from.alias },
    { source: right, alias: join.right.alias },
  ];
  const leftWidth = left.columns.length + PSEUDO_COLUMNS.length;
  const rightWidth = right.columns.length + PSEUDO_COLUMNS.length;
  const columns = [...scopeColumns(left, query.from.alias, 0), ...scopeColumns(right, join.right.alias, leftWidth)];
  const context: CompileContext = { columns, used };
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
  const keyType = leftKey.type;
  const viable = [leftExpr, rightExpr].flatMap((e) => {
    if (e.kind !== 'column') return [];
    const column = resolveColumn(context, e);
    return [{ alias: column.qualifier, name: column.name, index: column.index }];
  });
  const joinKey: JoinKeyPlan = { viable };
  if (viable.length === 0) {
    // The synthetic key has a slot of its own after both sides' columns, filled with the join key.
    joinKey.synthetic = { name: syntheticKeyName(sides), index: leftWidth + rightWidth };
    columns.push({ qualifier: '', name: joinKey.synthetic.name, type: keyType, index: joinKey.synthetic.index });
  }
  // A side joined on its own key column keeps its partitioning; any other join expression repartitions that side.
  const onSourceKey = (expr: Expr, source: DataSource) =>
    expr.kind === 'column' && source.columns.some((c) => c.key && c.name === resolveColumn(context, expr).name);
  const leftSide: JoinSide = {
    key: nullOnError(leftKey, onError),
    keyType,
    repartitioned: !onSourceKey(leftExpr, left),
  };
  // The right side's expression reads slots after the left side's: it is evaluated on a joined row.
  const rightSide: JoinSide = {
    key: nullOnError(rightKey, onError),
    keyType,
    repartitioned: !onSourceKey(rightExpr, right),
  };

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
    return finishPlan({
      kind: 'streamStreamJoin',
      query,
      inputs: [
        makeInput(left, query.from.alias, 'window', used, 0),
        makeInput(right, join.right.alias, 'window', used, leftWidth),
      ],
      context,
      sides,
      options,
      onError,
      warnings,
      windowRetentionMs: beforeMs + afterMs + graceMs,
      joinKey,
      join: { left: leftSide, right: rightSide, leftWidth, rightWidth, beforeMs, afterMs, graceMs },
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
  return finishPlan({
    kind: 'streamTableJoin',
    query,
    inputs: [
      makeInput(left, query.from.alias, 'none', used, 0),
      makeInput(right, join.right.alias, 'all', used, leftWidth),
    ],
    context,
    sides,
    options,
    onError,
    warnings,
    windowRetentionMs: 0,
    joinKey,
    join: { left: leftSide, right: rightSide, leftWidth, rightWidth, beforeMs: 0, afterMs: 0, graceMs: 0 },
  });
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
  windowRetentionMs: number;
  joinKey?: JoinKeyPlan;
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
  let aggregation: AggregationSpec | undefined;

  if (groupBy) {
    if (containsAggregate(groupBy)) throw badStatement('GROUP BY does not support aggregate functions.');
    const groupKey = nullOnError(compile(groupBy, context), onError);
    const groupText = exprText(groupBy);
    const keyItems = items.filter((item) => exprText(item.expr) === groupText);
    if (options.persistent && keyItems.length > 1)
      throw badStatement(
        `The projection contains a key column more than once: ${joinWords(
          keyItems.map((item) => `\`${item.name}\``),
          'and',
        )}.${AS_VALUE_HINT}`,
      );
    // Non-aggregate columns see only the group key (slot 0 of the row they are evaluated on).
    const keyValue: Compiled = { type: groupKey.type, evaluate: (row: Row) => row[0] ?? null };
    const keyOnly: CompileContext = { columns: [], precomputed: new Map([[groupText, keyValue]]) };
    const aggregates: AggregationSpec['aggregates'] = [];
    const constants: AggregationSpec['constants'] = [];
    columns = items.map((item, index) => {
      if (exprText(item.expr) === groupText) {
        if (keyIndex < 0) {
          keyIndex = index;
          return { name: item.name, type: groupKey.type ?? BIGINT, key: true };
        }
        constants.push({ index, value: keyValue });
        return { name: item.name, type: groupKey.type ?? BIGINT, key: false };
      }
      if (item.expr.kind === 'call' && AGGREGATE_NAMES.includes(item.expr.name)) {
        const aggregate = compileAggregate(item.expr, context, onError);
        aggregates.push({ index, aggregate });
        return { name: item.name, type: aggregate.type, key: false };
      }
      if (containsAggregate(item.expr))
        throw unsupported(
          `An expression around an aggregate function (${exprText(item.expr)}); project the aggregate itself`,
        );
      let value: Compiled;
      try {
        value = nullOnError(compile(item.expr, keyOnly), onError);
      } catch {
        throw badStatement(
          `Non-aggregate SELECT expression(s) not part of GROUP BY: ${exprText(item.expr)}\nEither add the column(s) to the GROUP BY or remove them from the SELECT.`,
        );
      }
      if (!value.type) throw nullTypeError();
      constants.push({ index, value });
      return { name: item.name, type: value.type, key: false };
    });
    if (keyIndex < 0) {
      throw keyMissing(sinkName, 'grouping expression', [groupText], true);
    }
    if (options.persistent && columns.every((c) => c.key))
      throw badStatement('The projection contains no value columns.');
    const fromTable = args.kind === 'transform' && args.sides[0]!.source.type === 'TABLE';
    if (fromTable) {
      const names = [...new Set(aggregates.filter((a) => !a.aggregate.undo).map((a) => a.aggregate.name))];
      if (names.length > 0)
        throw badStatement(
          `The aggregation function${names.length === 1 ? '' : 's'} ${joinWords(names, 'and')} cannot be applied to a table source, only to a stream source.`,
        );
    }
    // After a restart, the table's rows are read again (without output) for the old values later changes take out.
    if (fromTable) args.inputs[0]!.replay = 'all';
    aggregation = { groupKey, aggregates, constants, keyIndex, fromTable };
    project = () => [];
  } else {
    if (items.some((i) => containsAggregate(i.expr)))
      throw badStatement('Use of aggregate function requires a GROUP BY clause.');
    const compiled = items.map((item) => nullOnError(compile(item.expr, context), onError));
    if (compiled.some((c) => c.type === null)) throw nullTypeError();
    columns = items.map((item, i) => ({ name: item.name, type: compiled[i]!.type!, key: false }));
    if (options.persistent) {
      keyIndex = projectedKey(items, args, context, sinkName);
      if (keyIndex >= 0) columns[keyIndex] = { ...columns[keyIndex]!, key: true };
      if (columns.every((c) => c.key)) throw badStatement('The projection contains no value columns.');
    }
    project = (row) => compiled.map((c) => c.evaluate(row));
  }
  const seen = new Set<string>();
  for (const column of columns) {
    if (seen.has(column.name))
      throw badStatement(`Duplicate value columns found in schema: \`${column.name}\` ${formatType(column.type)}`);
    seen.add(column.name);
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
    createProcessor: (emit, processorOptions) =>
      createProcessor(
        {
          kind: args.kind,
          plan,
          where,
          project,
          aggregation,
          join: args.join,
          syntheticKeyIndex: args.joinKey?.synthetic?.index,
          tableKeyIndex: leftIsTable ? args.sides[0]!.source.columns.findIndex((c) => c.key) : -1,
        },
        emit,
        processorOptions,
      ),
  };
  return plan;
}

function nullTypeError(): Error {
  return badStatement(
    "Can't infer a type of null. Please explicitly cast it to a required type, e.g. CAST(null AS VARCHAR).",
  );
}

/**
 * Which projected column is the key of a persistent, non-aggregate query: the source's key column, or for a join the
 * first projected join column (FROM side first) or the synthetic key. Each may be projected once only.
 */
function projectedKey(items: ProjectionItem[], args: FinishArgs, context: CompileContext, sinkName: string): number {
  const slotOf = (item: ProjectionItem): number | undefined =>
    item.expr.kind === 'column' ? resolveColumn(context, item.expr).index : undefined;
  const onlyOnce = (keyName: string, slot: number): number => {
    const found = items.map((item, index) => ({ item, index })).filter(({ item }) => slotOf(item) === slot);
    if (found.length > 1)
      throw badStatement(
        `The projection contains a key column (\`${keyName}\`) more than once, aliased as: ${joinWords(
          found.map(({ item }) => item.name).sort(),
          'and',
        )}.${AS_VALUE_HINT}`,
      );
    return found[0]?.index ?? -1;
  };
  const joinKey = args.joinKey;
  if (joinKey) {
    if (joinKey.synthetic) {
      const index = onlyOnce(joinKey.synthetic.name, joinKey.synthetic.index);
      if (index < 0) throw keyMissing(sinkName, 'join expression', [joinKey.synthetic.name], false, true);
      return index;
    }
    const chosen = joinKey.viable.find((v) => items.some((item) => slotOf(item) === v.index));
    if (!chosen)
      throw keyMissing(
        sinkName,
        'join expression',
        joinKey.viable.map((v) => `${v.alias}.${v.name}`),
        false,
      );
    return onlyOnce(`${chosen.alias}_${chosen.name}`, chosen.index);
  }
  const source = args.sides[0]!.source;
  let keyIndex = -1;
  source.columns.forEach((column, slot) => {
    if (!column.key) return;
    const index = onlyOnce(column.name, slot);
    if (index < 0) throw keyMissing(sinkName, 'key column', [column.name], true);
    keyIndex = index;
  });
  return keyIndex;
}

export function outputSourceColumns(plan: QueryPlan): SourceColumn[] {
  return plan.columns.map((c) => ({ name: c.name, type: c.type, key: c.key }));
}
