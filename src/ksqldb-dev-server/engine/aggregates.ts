import { badStatement, unsupported } from '../errors.js';
import type { Expr } from '../sql/ast.js';
import { compile, exprText, nullOnError, type CompileContext, type Row } from '../sql/expressions.js';
import { BIGINT, isNumeric, type SqlType } from '../sql/types.js';
import { longOp } from '../sql/numbers.js';

/** One aggregate column: its state is exactly its output value, so it can be restored from the sink topic. */
export interface Aggregate {
  type: SqlType;
  initial(): unknown;
  update(current: unknown, row: Row): unknown;
}

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
      const latest = call.name === 'LATEST_BY_OFFSET';
      return {
        type: argType ?? BIGINT,
        initial: () => null,
        update: (current, row) => {
          if (!latest && current != null) return current;
          const v = value.evaluate(row);
          return v == null && ignoreNulls ? current : v;
        },
      };
    }
    case 'COUNT': {
      const value = args[0];
      return {
        type: BIGINT,
        initial: () => 0,
        update: (current, row) => (!value || value.evaluate(row) != null ? (current as number) + 1 : current),
      };
    }
    case 'SUM':
    case 'MIN':
    case 'MAX': {
      if (args.length !== 1 || (argType && !isNumeric(argType)))
        throw badStatement(`Function '${call.name}' does not accept parameters (${exprText(call)}).`);
      const value = args[0]!;
      const sumLongs = longOp(
        (a, b) => a + b,
        (a, b) => a + b,
      );
      const combine: (a: number, b: number) => number =
        call.name === 'SUM'
          ? argType?.kind === 'BIGINT' || argType?.kind === 'INTEGER'
            ? (sumLongs as unknown as (a: number, b: number) => number)
            : (a, b) => Number(a) + Number(b)
          : call.name === 'MIN'
            ? smaller
            : larger;
      return {
        type: argType ?? BIGINT,
        initial: () => (call.name === 'SUM' ? 0 : null),
        update: (current, row) => {
          const v = value.evaluate(row) as number | null;
          if (v == null) return current;
          return current == null ? v : combine(current as number, v);
        },
      };
    }
    default:
      throw badStatement(`Can't find any functions with the name '${call.name}'`);
  }
}

/** MIN/MAX compare with `<`, which orders numbers, bigints and strings alike (Math.min would turn strings into NaN). */
function smaller<T>(a: T, b: T): T {
  if (b < a) return b;
  return a;
}

function larger<T>(a: T, b: T): T {
  if (b > a) return b;
  return a;
}
