export type SqlType =
  | { kind: 'BOOLEAN' }
  | { kind: 'INTEGER' }
  | { kind: 'BIGINT' }
  | { kind: 'DOUBLE' }
  | { kind: 'STRING' }
  | { kind: 'DECIMAL'; precision: number; scale: number }
  | { kind: 'ARRAY'; item: SqlType };

export const BOOLEAN: SqlType = { kind: 'BOOLEAN' };
export const INTEGER: SqlType = { kind: 'INTEGER' };
export const BIGINT: SqlType = { kind: 'BIGINT' };
export const DOUBLE: SqlType = { kind: 'DOUBLE' };
export const STRING: SqlType = { kind: 'STRING' };

export function decimal(precision: number, scale: number): SqlType {
  return { kind: 'DECIMAL', precision: Math.min(Math.max(precision, 1), 38), scale: Math.min(scale, 38) };
}

/** The type name as ksqlDB writes it in query headers and DESCRIBE output. */
export function formatType(type: SqlType): string {
  switch (type.kind) {
    case 'DECIMAL':
      return `DECIMAL(${type.precision}, ${type.scale})`;
    case 'ARRAY':
      return `ARRAY<${formatType(type.item)}>`;
    default:
      return type.kind;
  }
}

/** The base type's name, as ksqlDB's messages name a type without its parameters (DECIMAL, ARRAY). */
export function baseTypeName(type: SqlType | null): string {
  return type ? type.kind : 'NULL';
}

/** Whether values of the type hold a DECIMAL anywhere (JSON for them is parsed digit-exact). */
export function containsDecimal(type: SqlType): boolean {
  return type.kind === 'DECIMAL' || (type.kind === 'ARRAY' && containsDecimal(type.item));
}

/** The `schema` object of a DESCRIBE field. */
export function schemaOf(type: SqlType): Record<string, unknown> {
  switch (type.kind) {
    case 'DECIMAL':
      return {
        type: 'DECIMAL',
        fields: null,
        memberSchema: null,
        parameters: { precision: type.precision, scale: type.scale },
      };
    case 'ARRAY':
      return { type: 'ARRAY', fields: null, memberSchema: schemaOf(type.item) };
    default:
      return { type: type.kind, fields: null, memberSchema: null };
  }
}

export function isNumeric(type: SqlType): boolean {
  return type.kind === 'INTEGER' || type.kind === 'BIGINT' || type.kind === 'DOUBLE' || type.kind === 'DECIMAL';
}

export function sameType(a: SqlType, b: SqlType): boolean {
  return formatType(a) === formatType(b);
}

/** INTEGER and BIGINT take part in DECIMAL arithmetic as DECIMAL(10, 0) and DECIMAL(19, 0). */
export function asDecimal(type: SqlType): { precision: number; scale: number } {
  if (type.kind === 'DECIMAL') return type;
  if (type.kind === 'INTEGER') return { precision: 10, scale: 0 };
  return { precision: 19, scale: 0 };
}

/** The widest of numeric types under ksqlDB's implicit widening INTEGER → BIGINT → DECIMAL → DOUBLE. */
export function widerNumeric(a: SqlType, b: SqlType): SqlType {
  if (a.kind === 'DOUBLE' || b.kind === 'DOUBLE') return DOUBLE;
  if (a.kind === 'DECIMAL' || b.kind === 'DECIMAL') {
    const da = asDecimal(a);
    const db = asDecimal(b);
    const scale = Math.max(da.scale, db.scale);
    return decimal(Math.max(da.precision - da.scale, db.precision - db.scale) + scale, scale);
  }
  if (a.kind === 'BIGINT' || b.kind === 'BIGINT') return BIGINT;
  return INTEGER;
}
