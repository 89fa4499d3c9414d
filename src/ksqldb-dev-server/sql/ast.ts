import type { SqlType } from './types.js';

export interface Position {
  line: number;
  column: number;
}

export type ComparisonOp = '=' | '<>' | '<' | '<=' | '>' | '>=' | 'IS DISTINCT FROM' | 'IS NOT DISTINCT FROM';

export type Expr =
  | { kind: 'literal'; type: SqlType | null; value: unknown; text: string; pos: Position }
  | { kind: 'column'; qualifier?: string; name: string; pos: Position }
  | { kind: 'binary'; op: '+' | '-' | '*' | '/' | '%' | '||'; left: Expr; right: Expr; pos: Position }
  | { kind: 'compare'; op: ComparisonOp; left: Expr; right: Expr; pos: Position }
  | { kind: 'logical'; op: 'AND' | 'OR'; left: Expr; right: Expr; pos: Position }
  | { kind: 'not'; operand: Expr; pos: Position }
  | { kind: 'negate'; operand: Expr; pos: Position }
  | { kind: 'isNull'; operand: Expr; negated: boolean; pos: Position }
  | { kind: 'between'; operand: Expr; low: Expr; high: Expr; negated: boolean; pos: Position }
  | { kind: 'in'; operand: Expr; list: Expr[]; negated: boolean; pos: Position }
  | { kind: 'like'; operand: Expr; pattern: Expr; negated: boolean; pos: Position }
  | { kind: 'case'; operand?: Expr; whens: { when: Expr; then: Expr }[]; otherwise?: Expr; pos: Position }
  | { kind: 'cast'; operand: Expr; target: SqlType; pos: Position }
  | { kind: 'call'; name: string; args: Expr[]; star: boolean; pos: Position };

export type SelectItem = { kind: 'star'; qualifier?: string } | { kind: 'expr'; expr: Expr; alias?: string };

export interface SourceRef {
  name: string;
  alias: string;
  pos: Position;
}

export interface JoinClause {
  type: 'INNER';
  right: SourceRef;
  within?: { beforeMs: number; afterMs: number };
  graceMs?: number;
  on: Expr;
}

export interface Query {
  select: SelectItem[];
  from: SourceRef;
  join?: JoinClause;
  where?: Expr;
  groupBy?: Expr[];
  emitChanges: boolean;
  limit?: number;
}

export interface ColumnDef {
  name: string;
  type: SqlType;
  key: 'KEY' | 'PRIMARY KEY' | null;
}

export type PropertyValue = string | number | boolean;

interface Base {
  /** The statement's text including its terminating ';'. */
  text: string;
}

export type Statement = Base &
  (
    | {
        kind: 'create';
        sourceType: 'STREAM' | 'TABLE';
        name: string;
        orReplace: boolean;
        ifNotExists: boolean;
        columns?: ColumnDef[];
        properties: Map<string, PropertyValue>;
        query?: Query;
      }
    | { kind: 'drop'; sourceType: 'STREAM' | 'TABLE'; name: string; ifExists: boolean; deleteTopic: boolean }
    | { kind: 'terminate'; queryId: string | 'ALL' }
    | {
        kind: 'list';
        what: 'STREAMS' | 'TABLES' | 'TOPICS' | 'QUERIES' | 'PROPERTIES' | 'VARIABLES';
        extended: boolean;
      }
    | { kind: 'describe'; name: string; extended: boolean }
    | { kind: 'explain'; queryId: string }
    | { kind: 'select'; query: Query }
    | { kind: 'insertValues'; target: string; columns?: string[]; values: Expr[] }
    | { kind: 'set'; name: string; value: string }
    | { kind: 'unset'; name: string }
    | { kind: 'define'; name: string; value: string }
    | { kind: 'undefine'; name: string }
  );

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type StatementBody = DistributiveOmit<Statement, 'text'>;
