import { badStatement } from '../errors.js';
import { roundToScale } from './numbers.js';
import { BIGINT, DOUBLE, INTEGER, STRING, formatType, isNumeric, widerNumeric, type SqlType } from './types.js';

export interface ResolvedFunction {
  returnType: SqlType;
  /** Throws on a runtime error; the caller turns that into NULL as ksqlDB does. */
  invoke(args: unknown[]): unknown;
}

type ArgType = SqlType | null;
type Resolver = (argTypes: ArgType[]) => ResolvedFunction;

const EARTH_RADIUS = { KM: 6371, MI: 3959 } as const;

function signatureError(name: string, argTypes: ArgType[]): never {
  throw badStatement(
    `Function '${name}' does not accept parameters (${argTypes.map((t) => (t ? formatType(t) : 'NULL')).join(', ')}).`,
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
    if (argTypes.length === 1) {
      if (type.kind === 'DECIMAL') {
        return {
          returnType: { kind: 'DECIMAL', precision: Math.max(type.precision - type.scale + 1, 1), scale: 0 },
          invoke: ([v]) => (v == null ? null : roundToScale(v as number, 0, 'halfCeiling')),
        };
      }
      return { returnType: BIGINT, invoke: ([v]) => (v == null ? null : Math.round(v as number)) };
    }
    const returnType = type.kind === 'DECIMAL' ? type : type.kind === 'DOUBLE' ? DOUBLE : BIGINT;
    return {
      returnType,
      invoke: ([v, places]) => {
        if (v == null || places == null) return null;
        if (returnType.kind === 'BIGINT') return roundToScale(v as number, places as number, 'halfCeiling');
        return roundToScale(v as number, places as number, 'halfCeiling');
      },
    };
  },
  ABS: (argTypes) => {
    numericArgs('ABS', argTypes, [1]);
    return { returnType: argTypes[0] ?? DOUBLE, invoke: ([v]) => (v == null ? null : Math.abs(v as number)) };
  },
  FLOOR: (argTypes) => {
    numericArgs('FLOOR', argTypes, [1]);
    return { returnType: argTypes[0] ?? DOUBLE, invoke: ([v]) => (v == null ? null : Math.floor(v as number)) };
  },
  CEIL: (argTypes) => {
    numericArgs('CEIL', argTypes, [1]);
    return { returnType: argTypes[0] ?? DOUBLE, invoke: ([v]) => (v == null ? null : Math.ceil(v as number)) };
  },
  SQRT: (argTypes) => {
    numericArgs('SQRT', argTypes, [1]);
    return { returnType: DOUBLE, invoke: ([v]) => (v == null ? null : Math.sqrt(v as number)) };
  },
  GREATEST: (argTypes) => extremum('GREATEST', argTypes, 1),
  LEAST: (argTypes) => extremum('LEAST', argTypes, -1),
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

function extremum(name: string, argTypes: ArgType[], sign: 1 | -1): ResolvedFunction {
  if (argTypes.length < 1) signatureError(name, argTypes);
  const known = argTypes.filter((t): t is SqlType => t !== null);
  let returnType: SqlType = known[0] ?? DOUBLE;
  if (known.every(isNumeric)) returnType = known.reduce(widerNumeric, known[0] ?? INTEGER);
  else if (!known.every((t) => t.kind === 'STRING')) signatureError(name, argTypes);
  return {
    returnType,
    invoke: (args) => {
      let best: unknown = null;
      for (const arg of args) {
        if (arg == null) continue;
        if (best === null || (sign > 0 ? (arg as number) > (best as number) : (arg as number) < (best as number)))
          best = arg;
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
