import { badStatement } from '../errors.js';
import { type Decimal, toDecimal } from './decimal.js';
import { roundToScale } from './numbers.js';
import { BIGINT, DOUBLE, INTEGER, STRING, decimal, formatType, isNumeric, type SqlType } from './types.js';

export interface ResolvedFunction {
  returnType: SqlType;
  /** Throws on a runtime error; the caller turns that into NULL as ksqlDB does. */
  invoke(args: unknown[]): unknown;
}

type ArgType = SqlType | null;
type Resolver = (argTypes: ArgType[]) => ResolvedFunction;

const EARTH_RADIUS = { KM: 6371, MI: 3959 } as const;

/** ksqlDB names a function in this message as its UDF is registered: in lower case. */
function signatureError(name: string, argTypes: ArgType[]): never {
  throw badStatement(
    `Function '${name.toLowerCase()}' does not accept parameters (${argTypes.map((t) => (t ? formatType(t) : 'NULL')).join(', ')}).`,
  );
}

function numericArgs(name: string, argTypes: ArgType[], count: number[]): void {
  if (!count.includes(argTypes.length) || argTypes.some((t) => t !== null && !isNumeric(t)))
    signatureError(name, argTypes);
}

const resolvers: Record<string, Resolver> = {
  ROUND: (argTypes) => {
    const [valueType, scaleType] = argTypes;
    if (argTypes.length < 1 || argTypes.length > 2 || (valueType && !isNumeric(valueType)))
      signatureError('ROUND', argTypes);
    if (scaleType && scaleType.kind !== 'INTEGER') signatureError('ROUND', argTypes);
    const type = valueType ?? DOUBLE;
    if (type.kind === 'DECIMAL') {
      // Half up for positives, half down for negatives (Math.round's ties toward +∞); ROUND(d) has scale 0 and
      // ROUND(d, n) keeps d's type and scale.
      const round = (v: Decimal, places: number) => v.setScale(places, v.signum() > 0 ? 'HALF_UP' : 'HALF_DOWN');
      if (argTypes.length === 1) {
        return {
          returnType: decimal(type.precision - type.scale, 0),
          invoke: ([v]) => (v == null ? null : round(toDecimal(v), 0)),
        };
      }
      return {
        returnType: type,
        invoke: ([v, places]) =>
          v == null || places == null ? null : round(toDecimal(v), places as number).setScale(type.scale),
      };
    }
    if (argTypes.length === 1)
      return { returnType: BIGINT, invoke: ([v]) => (v == null ? null : Math.round(Number(v))) };
    const returnType = type.kind === 'DOUBLE' ? DOUBLE : BIGINT;
    return {
      returnType,
      invoke: ([v, places]) =>
        v == null || places == null ? null : roundToScale(Number(v), places as number, 'halfCeiling'),
    };
  },
  ABS: (argTypes) => {
    numericArgs('ABS', argTypes, [1]);
    if (argTypes[0]?.kind === 'DECIMAL')
      return { returnType: argTypes[0], invoke: ([v]) => (v == null ? null : toDecimal(v).abs()) };
    return { returnType: argTypes[0] ?? DOUBLE, invoke: ([v]) => (v == null ? null : Math.abs(v as number)) };
  },
  FLOOR: (argTypes) => {
    numericArgs('FLOOR', argTypes, [1]);
    const type = argTypes[0];
    if (type?.kind === 'DECIMAL')
      return {
        returnType: type,
        invoke: ([v]) => (v == null ? null : toDecimal(v).setScale(0, 'FLOOR').setScale(type.scale)),
      };
    return { returnType: type ?? DOUBLE, invoke: ([v]) => (v == null ? null : Math.floor(v as number)) };
  },
  CEIL: (argTypes) => {
    numericArgs('CEIL', argTypes, [1]);
    const type = argTypes[0];
    if (type?.kind === 'DECIMAL')
      return {
        returnType: type,
        invoke: ([v]) => (v == null ? null : toDecimal(v).setScale(0, 'CEILING').setScale(type.scale)),
      };
    return { returnType: type ?? DOUBLE, invoke: ([v]) => (v == null ? null : Math.ceil(v as number)) };
  },
  SQRT: (argTypes) => {
    numericArgs('SQRT', argTypes, [1]);
    return { returnType: DOUBLE, invoke: ([v]) => (v == null ? null : Math.sqrt(Number(v))) };
  },
  GREATEST: (argTypes) => extremum('greatest', argTypes, 1),
  LEAST: (argTypes) => extremum('least', argTypes, -1),
  GEO_DISTANCE: (argTypes) => {
    if (argTypes.length !== 4 && argTypes.length !== 5) signatureError('GEO_DISTANCE', argTypes);
    if (argTypes.slice(0, 4).some((t) => t !== null && !isNumeric(t))) signatureError('GEO_DISTANCE', argTypes);
    if (argTypes.length === 5 && argTypes[4] !== null && argTypes[4]!.kind !== 'STRING')
      signatureError('GEO_DISTANCE', argTypes);
    return { returnType: DOUBLE, invoke: (args) => geoDistance(args) };
  },
  UCASE: (argTypes) => stringFunction('UCASE', argTypes, (s) => s.toUpperCase()),
  LCASE: (argTypes) => stringFunction('LCASE', argTypes, (s) => s.toLowerCase()),
  TRIM: (argTypes) => stringFunction('TRIM', argTypes, (s) => s.trim()),
  LEN: (argTypes) => {
    if (argTypes.length !== 1 || (argTypes[0] && argTypes[0].kind !== 'STRING')) signatureError('LEN', argTypes);
    return { returnType: INTEGER, invoke: ([v]) => (v == null ? null : (v as string).length) };
  },
  CONCAT: (argTypes) => {
    if (argTypes.length < 1 || argTypes.some((t) => t && t.kind !== 'STRING')) signatureError('CONCAT', argTypes);
    return { returnType: STRING, invoke: (args) => args.filter((a) => a != null).join('') };
  },
  COALESCE: (argTypes) => {
    const type = argTypes.find((t) => t !== null) ?? STRING;
    if (argTypes.some((t) => t !== null && formatType(t) !== formatType(type))) signatureError('COALESCE', argTypes);
    return { returnType: type, invoke: (args) => args.find((a) => a != null) ?? null };
  },
  IFNULL: (argTypes) => {
    if (argTypes.length !== 2) signatureError('IFNULL', argTypes);
    return resolvers.COALESCE!(argTypes);
  },
};

function stringFunction(name: string, argTypes: ArgType[], fn: (s: string) => string): ResolvedFunction {
  if (argTypes.length !== 1 || (argTypes[0] && argTypes[0].kind !== 'STRING')) signatureError(name, argTypes);
  return { returnType: STRING, invoke: ([v]) => (v == null ? null : fn(v as string)) };
}

/** The overloads GREATEST and LEAST have in ksqlDB (the types the dev server knows). */
const EXTREMUM_OVERLOADS = ['INTEGER', 'BIGINT', 'DOUBLE', 'STRING', 'DECIMAL'] as const;
type ExtremumOverload = (typeof EXTREMUM_OVERLOADS)[number];

/** Types each argument type reaches by ksqlDB's implicit widening (INTEGER → BIGINT → DECIMAL → DOUBLE). */
const WIDENS_TO: Record<string, ExtremumOverload[]> = {
  INTEGER: ['INTEGER', 'BIGINT', 'DECIMAL', 'DOUBLE'],
  BIGINT: ['BIGINT', 'DECIMAL', 'DOUBLE'],
  DECIMAL: ['DECIMAL', 'DOUBLE'],
  DOUBLE: ['DOUBLE'],
  STRING: ['STRING'],
};

function argList(argTypes: ArgType[]): string {
  return `(${argTypes.map((t) => (t ? formatType(t) : 'null')).join(', ')})`;
}

/**
 * GREATEST/LEAST resolve as ksqlDB's UdfIndex does: an overload every argument matches exactly, else one they all
 * widen to; two candidates (INTEGER with BIGINT, or only NULLs) are ambiguous and refused.
 */
function extremum(name: 'greatest' | 'least', argTypes: ArgType[], sign: 1 | -1): ResolvedFunction {
  const signatures = EXTREMUM_OVERLOADS.map((t) => `${name.toUpperCase()}(${t} val, ${t}... vals)`).join('\n');
  const describeHint = 'For detailed information on a function run: DESCRIBE FUNCTION <Function-Name>;';
  const candidates = (allowed: (t: SqlType, overload: ExtremumOverload) => boolean) =>
    argTypes.length === 0 ? [] : EXTREMUM_OVERLOADS.filter((o) => argTypes.every((t) => t === null || allowed(t, o)));
  let found = candidates((t, o) => t.kind === o);
  if (found.length === 0) found = candidates((t, o) => (WIDENS_TO[t.kind] ?? []).includes(o));
  if (found.length === 0)
    throw badStatement(
      `Function '${name}' does not accept parameters ${argList(argTypes)}.\nValid alternatives are:\n${signatures}\n${describeHint}`,
    );
  if (found.length > 1)
    throw badStatement(
      `Function '${name}' cannot be resolved due to ambiguous method parameters ${argList(argTypes)}.\n` +
        `Use CAST() to explicitly cast your parameters to one of the supported function calls.\nValid function calls are:\n${signatures}\n${describeHint}`,
    );
  const overload = found[0]!;
  if (overload === 'DECIMAL') {
    const decimals = argTypes.filter((t): t is Extract<SqlType, { kind: 'DECIMAL' }> => t?.kind === 'DECIMAL');
    const scale = Math.max(...decimals.map((t) => t.scale));
    const whole = Math.max(...decimals.map((t) => t.precision - t.scale));
    return {
      returnType: decimal(whole + scale, scale),
      invoke: (args) => {
        let best: Decimal | null = null;
        for (const arg of args) {
          if (arg == null) continue;
          const value = toDecimal(arg);
          if (best === null || value.compareTo(best) * sign > 0) best = value;
        }
        return best?.setScale(scale) ?? null;
      },
    };
  }
  const returnType: SqlType =
    overload === 'STRING' ? STRING : overload === 'DOUBLE' ? DOUBLE : overload === 'BIGINT' ? BIGINT : INTEGER;
  const convert = overload === 'DOUBLE' ? (v: unknown) => Number(v) : (v: unknown) => v;
  return {
    returnType,
    invoke: (args) => {
      let best: unknown = null;
      for (const arg of args) {
        if (arg == null) continue;
        const value = convert(arg) as number;
        if (best === null || (sign > 0 ? value > (best as number) : value < (best as number))) best = value;
      }
      return best;
    },
  };
}

function toRadians(degrees: number): number {
  return (degrees / 180) * Math.PI;
}

/** Haversine distance as ksqlDB's GEO_DISTANCE computes it (earth radius 6371 km or 3959 miles). */
export function geoDistance(args: unknown[]): number {
  const [lat1, lon1, lat2, lon2] = args.slice(0, 4) as (number | null)[];
  if (lat1 == null || lon1 == null || lat2 == null || lon2 == null) throw new Error('GEO_DISTANCE got a null argument');
  for (const lat of [lat1, lat2])
    if (lat < -90 || lat > 90) throw new Error(`valid latitude values are in [-90,90] but was ${lat}`);
  for (const lon of [lon1, lon2])
    if (lon < -180 || lon > 180) throw new Error(`valid longitude values are in [-180,180] but was ${lon}`);
  const unit = args.length > 4 && args[4] != null ? String(args[4]).trim().toLowerCase() : '';
  let radius: number;
  if (['', 'km', 'kilometer', 'kilometers', 'kilometre', 'kilometres'].includes(unit)) radius = EARTH_RADIUS.KM;
  else if (['mi', 'mile', 'miles'].includes(unit)) radius = EARTH_RADIUS.MI;
  else throw new Error(`GEO_DISTANCE unit must be one of km, kilometers, mi, miles; got '${unit}'`);
  const deltaLat = toRadians(lat2 - lat1);
  const deltaLon = toRadians(lon2 - lon1);
  const a =
    Math.sin(deltaLat / 2) ** 2 + Math.cos(toRadians(lat1)) * Math.cos(toRadians(lat2)) * Math.sin(deltaLon / 2) ** 2;
  return 2 * radius * Math.asin(Math.sqrt(a));
}

export function resolveFunction(name: string, argTypes: ArgType[]): ResolvedFunction {
  const resolver = resolvers[name];
  if (!resolver) throw badStatement(`Can't find any functions with the name '${name}'`);
  return resolver(argTypes);
}

export const AGGREGATE_FUNCTIONS = new Set(['LATEST_BY_OFFSET', 'EARLIEST_BY_OFFSET', 'COUNT', 'SUM', 'MIN', 'MAX']);
