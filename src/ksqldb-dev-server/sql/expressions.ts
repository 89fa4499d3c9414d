import { badStatement } from '../errors.js';
import type { ComparisonOp, Expr } from './ast.js';
import { Decimal, ensureMax, toDecimal } from './decimal.js';
import { AGGREGATE_FUNCTIONS, resolveFunction } from './functions.js';
import { exactLong, javaDoubleToString, longOp, sameValue, toInt32 } from './numbers.js';
import {
  BOOLEAN,
  DOUBLE,
  STRING,
  asDecimal,
  baseTypeName,
  decimal,
  formatType,
  isNumeric,
  sameType,
  widerNumeric,
  type SqlType,
} from './types.js';

export interface ScopeColumn {
  /** Source alias the column belongs to (upper case). */
  qualifier: string;
  name: string;
  type: SqlType;
  /** Position of the value in the evaluated row array. */
  index: number;
}

export type Row = unknown[];

export interface Compiled {
  /** null only for a bare NULL literal, whose type comes from its context. */
  type: SqlType | null;
  evaluate(row: Row): unknown;
}

export interface CompileContext {
  columns: ScopeColumn[];
  /** Called for aggregate function calls; absent where aggregates are not allowed. */
  aggregate?: (call: Extract<Expr, { kind: 'call' }>) => Compiled;
  /** Expressions (by their canonical text) already computed into a row slot, e.g. GROUP BY keys. */
  precomputed?: Map<string, Compiled>;
  /** Collects the row slots that compiled expressions read, so decoders can leave the others out. */
  used?: Set<number>;
}

export function resolveColumn(context: CompileContext, expr: Extract<Expr, { kind: 'column' }>): ScopeColumn {
  if (expr.qualifier !== undefined) {
    if (!context.columns.some((c) => c.qualifier === expr.qualifier)) {
      throw badStatement(
        `line ${expr.pos.line}:${expr.pos.column}: '${expr.qualifier}' is not a valid stream/table name or alias.`,
      );
    }
    const column = context.columns.find((c) => c.qualifier === expr.qualifier && c.name === expr.name);
    if (!column)
      throw badStatement(
        `line ${expr.pos.line}:${expr.pos.column}: Column '${expr.qualifier}.${expr.name}' cannot be resolved.`,
      );
    context.used?.add(column.index);
    return column;
  }
  const matches = context.columns.filter((c) => c.name === expr.name);
  if (matches.length === 0)
    throw badStatement(`line ${expr.pos.line}:${expr.pos.column}: Column '${expr.name}' cannot be resolved.`);
  if (matches.length > 1) {
    throw badStatement(
      `line ${expr.pos.line}:${expr.pos.column}: Column '${expr.name}' is ambiguous. Could be any of: ${matches.map((m) => `${m.qualifier}.${m.name}`).join(', ')}`,
    );
  }
  context.used?.add(matches[0]!.index);
  return matches[0]!;
}

/** Compiles an expression to a typed evaluator; a runtime failure inside it throws (callers turn it into NULL). */
export function compile(expr: Expr, context: CompileContext): Compiled {
  const pre = context.precomputed?.get(exprText(expr));
  if (pre) return pre;
  switch (expr.kind) {
    case 'literal': {
      const value = expr.value;
      return { type: expr.type, evaluate: () => value };
    }
    case 'column': {
      const column = resolveColumn(context, expr);
      const index = column.index;
      return { type: column.type, evaluate: (row) => row[index] ?? null };
    }
    case 'negate': {
      const operand = compile(expr.operand, context);
      if (operand.type && !isNumeric(operand.type)) throw typeError(`Cannot negate ${formatType(operand.type)}`, expr);
      if (operand.type?.kind === 'DECIMAL') {
        return {
          type: operand.type,
          evaluate: (row) => {
            const v = operand.evaluate(row);
            return v == null ? null : toDecimal(v).negate();
          },
        };
      }
      return {
        type: operand.type,
        evaluate: (row) => {
          const v = operand.evaluate(row);
          return v == null ? null : typeof v === 'bigint' ? exactLong(BigInt.asIntN(64, -v)) : -(v as number);
        },
      };
    }
    case 'binary':
      return compileArithmetic(expr, context);
    case 'compare':
      return compileComparison(expr, context);
    case 'logical': {
      const left = booleanOperand(expr.left, context);
      const right = booleanOperand(expr.right, context);
      if (expr.op === 'AND') {
        return {
          type: BOOLEAN,
          evaluate: (row) => {
            const l = left.evaluate(row);
            if (l === false) return false;
            const r = right.evaluate(row);
            if (r === false) return false;
            return l == null || r == null ? null : true;
          },
        };
      }
      return {
        type: BOOLEAN,
        evaluate: (row) => {
          const l = left.evaluate(row);
          if (l === true) return true;
          const r = right.evaluate(row);
          if (r === true) return true;
          return l == null || r == null ? null : false;
        },
      };
    }
    case 'not': {
      const operand = booleanOperand(expr.operand, context);
      return {
        type: BOOLEAN,
        evaluate: (row) => {
          const v = operand.evaluate(row);
          return v == null ? null : !v;
        },
      };
    }
    case 'isNull': {
      const operand = compile(expr.operand, context);
      const negated = expr.negated;
      return { type: BOOLEAN, evaluate: (row) => (operand.evaluate(row) == null) !== negated };
    }
    case 'between': {
      const low = compileComparison(
        { kind: 'compare', op: '>=', left: expr.operand, right: expr.low, pos: expr.pos },
        context,
        true,
      );
      const high = compileComparison(
        { kind: 'compare', op: '<=', left: expr.operand, right: expr.high, pos: expr.pos },
        context,
        true,
      );
      const negated = expr.negated;
      return {
        type: BOOLEAN,
        evaluate: (row) => {
          const l = low.evaluate(row);
          const h = high.evaluate(row);
          if (l == null || h == null) return null;
          return (l && h) !== negated;
        },
      };
    }
    case 'in': {
      const checks = expr.list.map((item) =>
        compileComparison({ kind: 'compare', op: '=', left: expr.operand, right: item, pos: expr.pos }, context, true),
      );
      const negated = expr.negated;
      return { type: BOOLEAN, evaluate: (row) => checks.some((c) => c.evaluate(row) === true) !== negated };
    }
    case 'like': {
      const operand = compile(expr.operand, context);
      const pattern = compile(expr.pattern, context);
      if ((operand.type && operand.type.kind !== 'STRING') || (pattern.type && pattern.type.kind !== 'STRING'))
        throw typeError('LIKE needs STRING operands', expr);
      const negated = expr.negated;
      return {
        type: BOOLEAN,
        evaluate: (row) => {
          const v = operand.evaluate(row);
          const p = pattern.evaluate(row);
          if (v == null || p == null) return null;
          const regex = new RegExp(
            `^${(p as string)
              .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
              .replace(/%/g, '.*')
              .replace(/_/g, '.')}$`,
            's',
          );
          return regex.test(v as string) !== negated;
        },
      };
    }
    case 'case':
      return compileCase(expr, context);
    case 'cast': {
      const operand = compile(expr.operand, context);
      const convert = castFunction(operand.type, expr.target, expr);
      return {
        type: expr.target,
        evaluate: (row) => {
          const v = operand.evaluate(row);
          return v == null ? null : convert(v);
        },
      };
    }
    case 'call': {
      if (AGGREGATE_FUNCTIONS.has(expr.name)) {
        if (!context.aggregate)
          throw badStatement(`Use of aggregate function ${expr.name} requires a GROUP BY clause.`);
        return context.aggregate(expr);
      }
      // As in ksqlDB, FUNCTION(*) of a function that is not an aggregate is a call without arguments.
      const args = expr.star ? [] : expr.args.map((a) => compile(a, context));
      const fn = resolveFunction(
        expr.name,
        args.map((a) => a.type),
      );
      return { type: fn.returnType, evaluate: (row) => fn.invoke(args.map((a) => a.evaluate(row))) };
    }
  }
}

function typeError(message: string, expr: Expr): Error {
  return badStatement(`line ${expr.pos.line}:${expr.pos.column}: ${message}`);
}

function booleanOperand(expr: Expr, context: CompileContext): Compiled {
  const compiled = compile(expr, context);
  if (compiled.type && compiled.type.kind !== 'BOOLEAN')
    throw typeError(
      `Logical operators need BOOLEAN operands, got ${formatType(compiled.type)}: ${exprText(expr)}`,
      expr,
    );
  return compiled;
}

/** Result type of arithmetic as ksqlDB computes it (src Operator.resultType / DecimalUtil). */
export function arithmeticType(op: string, left: SqlType, right: SqlType): SqlType {
  if (left.kind === 'DOUBLE' || right.kind === 'DOUBLE') return DOUBLE;
  if (left.kind === 'DECIMAL' || right.kind === 'DECIMAL') {
    const l = asDecimal(left);
    const r = asDecimal(right);
    switch (op) {
      case '+':
      case '-': {
        const scale = Math.max(l.scale, r.scale);
        return decimal(scale + Math.max(l.precision - l.scale, r.precision - r.scale) + 1, scale);
      }
      case '*':
        return decimal(l.precision + r.precision + 1, l.scale + r.scale);
      case '/': {
        const scale = Math.max(6, l.scale + r.precision + 1);
        return decimal(l.precision - l.scale + r.scale + scale, scale);
      }
      default: {
        const scale = Math.max(l.scale, r.scale);
        return decimal(Math.min(l.precision - l.scale, r.precision - r.scale) + scale, scale);
      }
    }
  }
  return widerNumeric(left, right);
}

function compileArithmetic(expr: Extract<Expr, { kind: 'binary' }>, context: CompileContext): Compiled {
  const left = compile(expr.left, context);
  const right = compile(expr.right, context);
  const lt = left.type;
  const rt = right.type;
  if (expr.op === '||' || (expr.op === '+' && (lt?.kind === 'STRING' || rt?.kind === 'STRING'))) {
    if ((lt && lt.kind !== 'STRING') || (rt && rt.kind !== 'STRING'))
      throw typeError(`Unsupported arithmetic types. ${fmt(lt)} ${fmt(rt)}`, expr);
    return {
      type: STRING,
      evaluate: (row) => {
        const l = left.evaluate(row);
        const r = right.evaluate(row);
        return l == null || r == null ? null : (l as string) + (r as string);
      },
    };
  }
  if ((lt && !isNumeric(lt)) || (rt && !isNumeric(rt)))
    throw typeError(`Unsupported arithmetic types. ${fmt(lt)} ${fmt(rt)}`, expr);
  const type = arithmeticType(expr.op, lt ?? rt ?? DOUBLE, rt ?? lt ?? DOUBLE);
  const op = arithmetic(expr.op, type);
  return {
    type,
    evaluate: (row) => {
      const l = left.evaluate(row);
      if (l == null) return null;
      const r = right.evaluate(row);
      if (r == null) return null;
      return op(l as number, r as number);
    },
  };
}

function fmt(type: SqlType | null): string {
  return type ? formatType(type) : 'NULL';
}

function arithmetic(op: string, type: SqlType): (l: number, r: number) => unknown {
  if (type.kind === 'BIGINT') return longArithmetic(op) as unknown as (l: number, r: number) => number;
  if (type.kind === 'DECIMAL') {
    const exact = decimalArithmetic(op, type.precision, type.scale);
    return (l, r) => exact(toDecimal(l), toDecimal(r));
  }
  // A DECIMAL operand of DOUBLE arithmetic takes part as a double, as ksqlDB casts it.
  const exactOperands = (f: (l: number, r: number) => number) => (l: number, r: number) => f(Number(l), Number(r));
  return exactOperands(numberArithmetic(op, type));
}

/**
 * DECIMAL arithmetic as ksqlDB generates it: `l.op(r, new MathContext(precision, UNNECESSARY)).setScale(scale)`, so
 * the result is exact or there is none (an expression error: NULL).
 */
function decimalArithmetic(op: string, precision: number, scale: number): (l: Decimal, r: Decimal) => Decimal {
  const exactly = (value: Decimal): Decimal => {
    let exact = value;
    if (exact.precision > precision) exact = exact.setScale(exact.scale - (exact.precision - precision));
    return exact.setScale(scale);
  };
  switch (op) {
    case '+':
      return (l, r) => exactly(l.add(r));
    case '-':
      return (l, r) => exactly(l.subtract(r));
    case '*':
      return (l, r) => exactly(l.multiply(r));
    case '/':
      return (l, r) => l.divide(r, precision, scale);
    default:
      return (l, r) => exactly(l.remainder(r));
  }
}

function longArithmetic(op: string): (l: number | bigint, r: number | bigint) => number | bigint {
  const divisor = (r: number | bigint) => {
    if (r === 0 || r === 0n) throw new Error('/ by zero');
  };
  switch (op) {
    case '+':
      return longOp(
        (a, b) => a + b,
        (a, b) => a + b,
      );
    case '-':
      return longOp(
        (a, b) => a - b,
        (a, b) => a - b,
      );
    case '*':
      return longOp(
        (a, b) => a * b,
        (a, b) => a * b,
      );
    case '/': {
      const divide = longOp(
        (a, b) => a / b,
        (a, b) => Math.trunc(a / b),
      );
      return (l, r) => {
        divisor(r);
        return divide(l, r);
      };
    }
    default: {
      const remainder = longOp(
        (a, b) => a % b,
        (a, b) => a % b,
      );
      return (l, r) => {
        divisor(r);
        return remainder(l, r);
      };
    }
  }
}

function numberArithmetic(op: string, type: SqlType): (l: number, r: number) => number {
  const integral = type.kind === 'INTEGER' || type.kind === 'BIGINT';
  const wrap = type.kind === 'INTEGER' ? toInt32 : (v: number) => v;
  switch (op) {
    case '+':
      return (l, r) => wrap(l + r);
    case '-':
      return (l, r) => wrap(l - r);
    case '*':
      return (l, r) => wrap(l * r);
    case '/':
      if (integral)
        return (l, r) => {
          if (r === 0) throw new Error('/ by zero');
          return wrap(Math.trunc(l / r));
        };
      return (l, r) => l / r;
    default:
      if (integral)
        return (l, r) => {
          if (r === 0) throw new Error('/ by zero');
          return l % r;
        };
      return (l, r) => l % r;
  }
}

function comparable(left: SqlType, right: SqlType): boolean {
  if (isNumeric(left) && isNumeric(right)) return true;
  return left.kind === right.kind && left.kind !== 'ARRAY';
}

/**
 * `allowNull` is for the comparisons IN, BETWEEN and a simple CASE are made of; a comparison written with a NULL
 * operand is refused, as ksqlDB refuses it.
 */
function compileComparison(
  expr: Extract<Expr, { kind: 'compare' }>,
  context: CompileContext,
  allowNull = false,
): Compiled {
  const left = compile(expr.left, context);
  const right = compile(expr.right, context);
  if (!left.type || !right.type) {
    if (!allowNull)
      throw badStatement(
        `Comparison with NULL not supported: ${baseTypeName(left.type)} ${expr.op} ${baseTypeName(right.type)}\nUse 'IS NULL' or 'IS NOT NULL' instead.`,
      );
  } else if (
    !comparable(left.type, right.type) ||
    (left.type.kind === 'BOOLEAN' && !['=', '<>', 'IS DISTINCT FROM', 'IS NOT DISTINCT FROM'].includes(expr.op))
  ) {
    throw typeError(
      `Cannot compare ${exprText(expr.left)} (${fmt(left.type)}) to ${exprText(expr.right)} (${fmt(right.type)}) with ${COMPARISON_NAMES[expr.op]}.`,
      expr,
    );
  }
  const decimals = left.type?.kind === 'DECIMAL' || right.type?.kind === 'DECIMAL';
  const test = decimals ? decimalComparator(expr.op, left.type, right.type) : comparator(expr.op);
  if (expr.op === 'IS DISTINCT FROM' || expr.op === 'IS NOT DISTINCT FROM') {
    const distinct = expr.op === 'IS DISTINCT FROM';
    return {
      type: BOOLEAN,
      evaluate: (row) => {
        const l = left.evaluate(row);
        const r = right.evaluate(row);
        if (l == null || r == null) return ((l == null) !== (r == null)) === distinct;
        return test(l as number, r as number);
      },
    };
  }
  return {
    type: BOOLEAN,
    evaluate: (row) => {
      const l = left.evaluate(row);
      if (l == null) return false;
      const r = right.evaluate(row);
      if (r == null) return false;
      return test(l as number, r as number);
    },
  };
}

const COMPARISON_NAMES: Record<ComparisonOp, string> = {
  '=': 'EQUAL',
  '<>': 'NOT_EQUAL',
  '<': 'LESS_THAN',
  '<=': 'LESS_THAN_OR_EQUAL',
  '>': 'GREATER_THAN',
  '>=': 'GREATER_THAN_OR_EQUAL',
  'IS DISTINCT FROM': 'IS_DISTINCT_FROM',
  'IS NOT DISTINCT FROM': 'IS_NOT_DISTINCT_FROM',
};

function comparator(op: ComparisonOp): (l: number, r: number) => boolean {
  switch (op) {
    case '=':
    case 'IS NOT DISTINCT FROM':
      return (l, r) => sameValue(l, r);
    case '<>':
    case 'IS DISTINCT FROM':
      return (l, r) => !sameValue(l, r);
    case '<':
      return (l, r) => l < r;
    case '<=':
      return (l, r) => l <= r;
    case '>':
      return (l, r) => l > r;
    default:
      return (l, r) => l >= r;
  }
}

/** With a DECIMAL on either side both compare as BigDecimals; a DOUBLE as BigDecimal.valueOf(double). */
function decimalComparator(
  op: ComparisonOp,
  leftType: SqlType | null,
  rightType: SqlType | null,
): (l: unknown, r: unknown) => boolean {
  const convert = (type: SqlType | null) =>
    type?.kind === 'DOUBLE' ? (v: unknown) => Decimal.fromDoubleText(v as number) : (v: unknown) => toDecimal(v);
  const toLeft = convert(leftType);
  const toRight = convert(rightType);
  const holds: (c: number) => boolean =
    op === '=' || op === 'IS NOT DISTINCT FROM'
      ? (c) => c === 0
      : op === '<>' || op === 'IS DISTINCT FROM'
        ? (c) => c !== 0
        : op === '<'
          ? (c) => c < 0
          : op === '<='
            ? (c) => c <= 0
            : op === '>'
              ? (c) => c > 0
              : (c) => c >= 0;
  return (l, r) => holds(toLeft(l).compareTo(toRight(r)));
}

function compileCase(expr: Extract<Expr, { kind: 'case' }>, context: CompileContext): Compiled {
  const whens = expr.whens.map(({ when, then }) => ({
    when: expr.operand
      ? compileComparison({ kind: 'compare', op: '=', left: expr.operand, right: when, pos: when.pos }, context, true)
      : booleanOperand(when, context),
    then: compile(then, context),
  }));
  const otherwise = expr.otherwise ? compile(expr.otherwise, context) : undefined;
  const results = [...whens.map((w) => w.then), ...(otherwise ? [otherwise] : [])];
  const typed = results.filter((r) => r.type !== null);
  if (typed.length === 0) throw badStatement('Invalid Case expression. All case branches have NULL type');
  let type: SqlType = typed[0]!.type!;
  for (const r of typed) {
    if (!sameType(type, r.type!)) {
      if (isNumeric(type) && isNumeric(r.type!)) type = widerNumeric(type, r.type!);
      else
        throw typeError(
          `Invalid Case expression. Type for all 'THEN' clauses should be the same. THEN expression '${exprText(expr)}' has type: ${fmt(r.type)}. Previous THEN expression(s) type: ${fmt(type)}.`,
          expr,
        );
    }
  }
  // Every branch yields a value of the CASE's type: a narrower DECIMAL or an integer gets the DECIMAL's scale.
  const resultType = type;
  const coerce =
    resultType.kind === 'DECIMAL'
      ? (v: unknown) => (v == null ? null : toDecimal(v).setScale(resultType.scale))
      : resultType.kind === 'DOUBLE'
        ? (v: unknown) => (v == null ? null : Number(v))
        : (v: unknown) => v;
  return {
    type,
    evaluate: (row) => {
      for (const w of whens) if (w.when.evaluate(row) === true) return coerce(w.then.evaluate(row));
      return otherwise ? coerce(otherwise.evaluate(row)) : null;
    },
  };
}

function castFunction(from: SqlType | null, to: SqlType, expr: Expr): (v: unknown) => unknown {
  if (from && from.kind === 'ARRAY')
    throw typeError(`Cast of ${formatType(from)} to ${formatType(to)} is not supported`, expr);
  switch (to.kind) {
    case 'STRING':
      if (from?.kind === 'DECIMAL') return (v) => toDecimal(v).toString();
      return (v) => (typeof v === 'number' && from?.kind === 'DOUBLE' ? javaDoubleToString(v) : String(v));
    case 'BOOLEAN':
      if (from && from.kind !== 'STRING' && from.kind !== 'BOOLEAN')
        throw typeError(`Cast of ${formatType(from)} to BOOLEAN is not supported`, expr);
      return (v) => (typeof v === 'boolean' ? v : String(v).trim().toLowerCase() === 'true');
    case 'INTEGER':
    case 'BIGINT':
    case 'DOUBLE':
    case 'DECIMAL': {
      if (from && from.kind === 'BOOLEAN')
        throw typeError(`Cast of BOOLEAN to ${formatType(to)} is not supported`, expr);
      if (to.kind === 'DECIMAL') return decimalCast(from, to.precision, to.scale);
      if (from?.kind === 'DECIMAL') {
        // BigDecimal's intValue/longValue drop the fraction (and wrap); doubleValue rounds to the nearest double.
        if (to.kind === 'DOUBLE') return (v) => toDecimal(v).toNumber();
        const bits = to.kind === 'INTEGER' ? 32 : 64;
        return (v) => exactLong(BigInt.asIntN(bits, toDecimal(v).toBigInt()));
      }
      const toNumber = (v: unknown): number => {
        if (typeof v === 'number') return v;
        const n = Number(String(v).trim());
        if (String(v).trim() === '' || Number.isNaN(n))
          throw new Error(`Cannot cast '${String(v)}' to ${formatType(to)}`);
        return n;
      };
      if (to.kind === 'DOUBLE') return (v) => (typeof v === 'bigint' ? Number(v) : toNumber(v));
      return (v) => {
        if (typeof v === 'bigint') return to.kind === 'INTEGER' ? Number(BigInt.asIntN(32, v)) : v;
        if (typeof v === 'string' && !/^\s*[+-]?\d+\s*$/.test(v)) throw new Error(`Cannot cast '${v}' to ${to.kind}`);
        const n = Math.trunc(toNumber(v));
        return to.kind === 'INTEGER' ? toInt32(n) : n;
      };
    }
    case 'ARRAY':
      throw typeError(`Cast to ${formatType(to)} is not supported`, expr);
  }
}

/** ksqlDB's DecimalUtil.cast for each source type: overflow beyond the precision is an error (NULL). */
function decimalCast(from: SqlType | null, precision: number, scale: number): (v: unknown) => Decimal {
  switch (from?.kind) {
    case 'DECIMAL':
      return (v) => {
        const value = toDecimal(v);
        ensureMax(value, precision, scale);
        return value.setScale(scale, 'HALF_UP');
      };
    case 'INTEGER':
    case 'BIGINT':
      return (v) => {
        const value = Decimal.fromInteger(v as number | bigint).roundToPrecision(precision);
        ensureMax(value, precision, scale);
        return value.setScale(scale, 'HALF_UP');
      };
    case 'DOUBLE':
      // new BigDecimal(double, new MathContext(precision)): the double's exact value, rounded to the precision.
      return (v) => {
        const value = Decimal.fromDoubleExact(v as number).roundToPrecision(precision);
        ensureMax(value, precision, scale);
        return value.setScale(scale, 'HALF_UP');
      };
    default:
      return (v) => {
        const value = Decimal.parse(String(v).trim());
        ensureMax(value, precision, scale);
        return value.setScale(scale, 'HALF_UP');
      };
  }
}

/** Canonical text of an expression, used for column names of generated aliases, GROUP BY matching and messages. */
export function exprText(expr: Expr): string {
  switch (expr.kind) {
    case 'literal':
      return expr.type?.kind === 'STRING' ? `'${String(expr.value).replace(/'/g, "''")}'` : expr.text.toUpperCase();
    case 'column':
      return expr.qualifier ? `${expr.qualifier}.${expr.name}` : expr.name;
    case 'binary':
    case 'compare':
      return `(${exprText(expr.left)} ${expr.op} ${exprText(expr.right)})`;
    case 'logical':
      return `(${exprText(expr.left)} ${expr.op} ${exprText(expr.right)})`;
    case 'not':
      return `(NOT ${exprText(expr.operand)})`;
    case 'negate':
      return `-${exprText(expr.operand)}`;
    case 'isNull':
      return `(${exprText(expr.operand)} IS ${expr.negated ? 'NOT ' : ''}NULL)`;
    case 'between':
      return `(${exprText(expr.operand)} ${expr.negated ? 'NOT ' : ''}BETWEEN ${exprText(expr.low)} AND ${exprText(expr.high)})`;
    case 'in':
      return `(${exprText(expr.operand)} ${expr.negated ? 'NOT ' : ''}IN (${expr.list.map(exprText).join(', ')}))`;
    case 'like':
      return `(${exprText(expr.operand)} ${expr.negated ? 'NOT ' : ''}LIKE ${exprText(expr.pattern)})`;
    case 'case':
      return `(CASE ${expr.operand ? exprText(expr.operand) + ' ' : ''}${expr.whens.map((w) => `WHEN ${exprText(w.when)} THEN ${exprText(w.then)}`).join(' ')}${expr.otherwise ? ` ELSE ${exprText(expr.otherwise)}` : ''} END)`;
    case 'cast':
      return `CAST(${exprText(expr.operand)} AS ${formatType(expr.target)})`;
    case 'call':
      return `${expr.name}(${expr.star ? '*' : expr.args.map(exprText).join(', ')})`;
  }
}

/** Wraps an evaluator so that a runtime error yields NULL, as a ksqlDB expression error does. */
export function nullOnError(compiled: Compiled, onError?: (error: unknown) => void): Compiled {
  const evaluate = compiled.evaluate;
  return {
    type: compiled.type,
    evaluate: (row) => {
      try {
        return evaluate(row);
      } catch (error) {
        onError?.(error);
        return null;
      }
    },
  };
}
