import { badStatement, unsupported } from '../errors.js';
import type { Expr } from '../sql/ast.js';
import { Decimal, ensureMax, toDecimal } from '../sql/decimal.js';
import { compile, exprText, nullOnError, type CompileContext, type Row } from '../sql/expressions.js';
import { longOp } from '../sql/numbers.js';
import { BIGINT, isNumeric, type SqlType } from '../sql/types.js';

/**
 * One aggregate column. Its state can be rebuilt from its output value (read back from the sink topic after a
 * restart). `undo` exists for the functions ksqlDB can apply to a table (COUNT and SUM): a table row that changes or
 * is deleted takes its old value back out of its group.
 */
export interface Aggregate {
  name: string;
  type: SqlType;
  initial(): unknown;
  update(state: unknown, row: Row): unknown;
  undo?(state: unknown, row: Row): unknown;
  result(state: unknown): unknown;
  restore(value: unknown): unknown;
}

export const AGGREGATE_NAMES = ['LATEST_BY_OFFSET', 'EARLIEST_BY_OFFSET', 'COUNT', 'SUM', 'MIN', 'MAX'];

const identity = (value: unknown) => value;

export function compileAggregate(
  call: Extract<Expr, { kind: 'call' }>,
  context: CompileContext,
  onError: (e: unknown) => void,
): Aggregate {
  const nested = {
    ...context,
    aggregate: () => {
      throw unsupported('Nesting an aggregate function inside another');
    },
  };
  const args = call.args.map((a) => nullOnError(compile(a, nested), onError));
  const argType = args[0]?.type ?? null;
  switch (call.name) {
    case 'LATEST_BY_OFFSET':
    case 'EARLIEST_BY_OFFSET': {
      if (args.length < 1 || args.length > 2)
        throw badStatement(`Function '${call.name}' does not accept ${args.length} parameters.`);
      if (args.length === 2 && args[1]!.type?.kind !== 'BOOLEAN')
        throw unsupported(`${call.name} with a number of values to keep`);
      const ignoreNulls = args.length === 2 ? Boolean(args[1]!.evaluate([])) : true;
      const value = args[0]!;
      if (call.name === 'LATEST_BY_OFFSET') {
        return {
          name: call.name,
          type: argType ?? BIGINT,
          initial: () => null,
          update: (current, row) => {
            const v = value.evaluate(row);
            return v == null && ignoreNulls ? current : v;
          },
          result: identity,
          restore: identity,
        };
      }
      // The earliest value may itself be a kept null: the state says whether one was taken yet.
      return {
        name: call.name,
        type: argType ?? BIGINT,
        initial: () => ({ taken: false, value: null }),
        update: (state, row) => {
          const current = state as { taken: boolean; value: unknown };
          if (current.taken) return current;
          const v = value.evaluate(row);
          return v == null && ignoreNulls ? current : { taken: true, value: v };
        },
        result: (state) => (state as { value: unknown }).value,
        restore: (v) => ({ taken: v != null || !ignoreNulls, value: v }),
      };
    }
    case 'COUNT': {
      const value = args[0];
      const counts = (row: Row) => !value || value.evaluate(row) != null;
      return {
        name: call.name,
        type: BIGINT,
        initial: () => 0,
        update: (current, row) => (counts(row) ? (current as number) + 1 : current),
        undo: (current, row) => (counts(row) ? (current as number) - 1 : current),
        result: identity,
        restore: (v) => v ?? 0,
      };
    }
    case 'SUM':
    case 'MIN':
    case 'MAX': {
      const accepted =
        call.name === 'SUM'
          ? argType && isNumeric(argType)
          : argType && (isNumeric(argType) || argType.kind === 'STRING');
      if (args.length !== 1 || (argType && !accepted))
        throw badStatement(`Function '${call.name}' does not accept parameters (${exprText(call)}).`);
      const value = args[0]!;
      const type = argType ?? BIGINT;
      if (call.name === 'SUM') return sum(type, (row) => value.evaluate(row));
      const pick = pickOne(call.name === 'MIN' ? -1 : 1, type);
      return {
        name: call.name,
        type,
        initial: () => null,
        update: (current, row) => {
          const v = value.evaluate(row);
          if (v == null) return current;
          return current == null ? v : pick(current, v);
        },
        result: identity,
        restore: identity,
      };
    }
    default:
      throw badStatement(`Can't find any functions with the name '${call.name}'`);
  }
}

/** SUM as ksqlDB's SumKudaf/DecimalSumKudaf: 0 to start, nulls skipped, exact for integers and DECIMALs. */
function sum(type: SqlType, read: (row: Row) => unknown): Aggregate {
  let add: (a: unknown, b: unknown) => unknown;
  let subtract: (a: unknown, b: unknown) => unknown;
  let zero: unknown = 0;
  if (type.kind === 'DECIMAL') {
    const checked = (v: Decimal) => {
      ensureMax(v, type.precision, type.scale);
      return v;
    };
    zero = Decimal.ZERO;
    add = (a, b) => checked(toDecimal(a).add(toDecimal(b)));
    subtract = (a, b) => checked(toDecimal(a).subtract(toDecimal(b)));
  } else if (type.kind === 'DOUBLE') {
    add = (a, b) => Number(a) + Number(b);
    subtract = (a, b) => Number(a) - Number(b);
  } else {
    const plus = longOp(
      (a, b) => a + b,
      (a, b) => a + b,
    );
    const minus = longOp(
      (a, b) => a - b,
      (a, b) => a - b,
    );
    add = (a, b) => plus(a as number, b as number);
    subtract = (a, b) => minus(a as number, b as number);
  }
  return {
    name: 'SUM',
    type,
    initial: () => zero,
    update: (current, row) => {
      const v = read(row);
      return v == null ? current : add(current, v);
    },
    undo: (current, row) => {
      const v = read(row);
      return v == null ? current : subtract(current, v);
    },
    result: identity,
    restore: (v) => v ?? zero,
  };
}

/** MIN (-1) / MAX (1): DECIMALs compare exactly; numbers, bigints and strings with `<` (Java's compareTo order). */
function pickOne(direction: 1 | -1, type: SqlType): (current: unknown, candidate: unknown) => unknown {
  if (type.kind === 'DECIMAL')
    return (current, candidate) =>
      toDecimal(candidate).compareTo(toDecimal(current)) * direction > 0 ? candidate : current;
  return direction < 0 ? smaller : larger;
}

/** `<` orders numbers, bigints and strings alike (Math.min would turn strings into NaN). */
function smaller(current: unknown, candidate: unknown): unknown {
  if ((candidate as number) < (current as number)) return candidate;
  return current;
}

function larger(current: unknown, candidate: unknown): unknown {
  if ((candidate as number) > (current as number)) return candidate;
  return current;
}
