import { unsupported } from '../errors.js';
import type {
  ColumnDef,
  Expr,
  JoinClause,
  Position,
  PropertyValue,
  Query,
  SelectItem,
  SourceRef,
  Statement,
  StatementBody,
} from './ast.js';
import { SqlSyntaxError, tokenize, type Token } from './lexer.js';
import { Decimal } from './decimal.js';
import { exactLong } from './numbers.js';
import { BIGINT, BOOLEAN, DOUBLE, INTEGER, STRING, decimal, type SqlType } from './types.js';

/** Words that cannot be used as a source alias or a bare column name in the positions where they start a clause. */
const CLAUSE_WORDS = new Set([
  'FROM',
  'WHERE',
  'GROUP',
  'HAVING',
  'EMIT',
  'LIMIT',
  'JOIN',
  'INNER',
  'LEFT',
  'RIGHT',
  'FULL',
  'OUTER',
  'ON',
  'WITHIN',
  'WINDOW',
  'PARTITION',
  'AS',
  'AND',
  'OR',
  'NOT',
  'IS',
  'BETWEEN',
  'IN',
  'LIKE',
  'CASE',
  'WHEN',
  'THEN',
  'ELSE',
  'END',
  'SELECT',
  'GRACE',
  'CROSS',
]);

const TIME_UNITS: Record<string, number> = {
  MILLISECOND: 1,
  MILLISECONDS: 1,
  SECOND: 1000,
  SECONDS: 1000,
  MINUTE: 60_000,
  MINUTES: 60_000,
  HOUR: 3_600_000,
  HOURS: 3_600_000,
  DAY: 86_400_000,
  DAYS: 86_400_000,
};

/** Parses a request's text into statements; a syntax error names the line and column it was found at. */
export function parseStatements(text: string): Statement[] {
  return new Parser(text).statements();
}

/** Parses a single expression (tests and INSERT VALUES use it). */
export function parseExpression(text: string): Expr {
  const parser = new Parser(text);
  const expr = parser.expression();
  parser.expectEof();
  return expr;
}

class Parser {
  private readonly tokens: Token[];
  private index = 0;

  constructor(private readonly source: string) {
    this.tokens = tokenize(source);
  }

  statements(): Statement[] {
    const result: Statement[] = [];
    while (this.peek().type !== 'eof') {
      if (this.acceptSymbol(';')) continue;
      const start = this.peek().offset;
      const statement = this.statement();
      const semicolon = this.peek();
      if (!this.acceptSymbol(';')) this.fail(semicolon, `mismatched input '${semicolon.text}' expecting ';'`);
      result.push({ ...statement, text: this.source.slice(start, semicolon.end) } as Statement);
    }
    return result;
  }

  expectEof(): void {
    const token = this.peek();
    if (token.type !== 'eof') this.fail(token, `extraneous input '${token.text}' expecting <EOF>`);
  }

  // ---- statements ----

  private statement(): StatementBody {
    const first = this.peek();
    if (first.type !== 'word') this.fail(first, `mismatched input '${first.text}' expecting a statement`);
    switch (first.value) {
      case 'CREATE':
        return this.create();
      case 'DROP':
        return this.drop();
      case 'TERMINATE': {
        this.next();
        if (this.acceptWord('ALL')) return { kind: 'terminate', queryId: 'ALL' };
        return { kind: 'terminate', queryId: this.identifier('a query id') };
      }
      case 'LIST':
      case 'SHOW':
        return this.list();
      case 'DESCRIBE': {
        this.next();
        const next = this.peek();
        if (
          next.type === 'word' &&
          ['STREAMS', 'TABLES', 'FUNCTION', 'CONNECTOR'].includes(next.value) &&
          this.peek(1).type !== 'symbol'
        ) {
          throw unsupported(`DESCRIBE ${next.value}`);
        }
        const name = this.identifier('a stream or table name');
        return { kind: 'describe', name, extended: this.acceptWord('EXTENDED') };
      }
      case 'SELECT':
        return { kind: 'select', query: this.query() };
      case 'INSERT':
        return this.insert();
      case 'SET': {
        this.next();
        const name = this.stringLiteral('a property name');
        this.expectSymbol('=');
        return { kind: 'set', name, value: this.stringLiteral('a property value') };
      }
      case 'UNSET':
        this.next();
        return { kind: 'unset', name: this.stringLiteral('a property name') };
      case 'DEFINE': {
        this.next();
        const name = this.identifier('a variable name');
        this.expectSymbol('=');
        return { kind: 'define', name, value: this.stringLiteral('a variable value') };
      }
      case 'UNDEFINE':
        this.next();
        return { kind: 'undefine', name: this.identifier('a variable name') };
      case 'EXPLAIN': {
        this.next();
        // EXPLAIN of a query's id; EXPLAIN of a statement's text is not implemented.
        if (this.peek(1).type !== 'symbol' || this.peek(1).value !== ';') throw unsupported('EXPLAIN of a statement');
        return { kind: 'explain', queryId: this.identifier('a query id') };
      }
      case 'PRINT':
      case 'ALTER':
      case 'PAUSE':
      case 'RESUME':
      case 'ASSERT':
      case 'RUN':
        throw unsupported(`The ${first.value} statement`);
      default:
        return this.fail(first, `unknown statement '${first.text}'`);
    }
  }

  private create(): Omit<Extract<Statement, { kind: 'create' }>, 'text'> {
    this.expectWord('CREATE');
    let orReplace = false;
    if (this.acceptWord('OR')) {
      this.expectWord('REPLACE');
      orReplace = true;
    }
    const kindToken = this.peek();
    if (kindToken.type === 'word' && kindToken.value === 'SOURCE') throw unsupported('CREATE SOURCE STREAM/TABLE');
    if (kindToken.type === 'word' && ['TYPE', 'CONNECTOR', 'FUNCTION'].includes(kindToken.value))
      throw unsupported(`CREATE ${kindToken.value}`);
    const sourceType = this.expectWord('STREAM', 'TABLE') as 'STREAM' | 'TABLE';
    let ifNotExists = false;
    if (this.acceptWord('IF')) {
      this.expectWord('NOT');
      this.expectWord('EXISTS');
      ifNotExists = true;
    }
    const name = this.identifier(`a ${sourceType.toLowerCase()} name`);
    let columns: ColumnDef[] | undefined;
    if (this.acceptSymbol('(')) {
      columns = [];
      do {
        columns.push(this.columnDef(sourceType));
      } while (this.acceptSymbol(','));
      this.expectSymbol(')');
    }
    const properties = this.peekWord('WITH') ? this.withProperties() : new Map<string, PropertyValue>();
    let query: Query | undefined;
    if (this.acceptWord('AS')) {
      if (columns) this.fail(this.previous(), 'a CREATE ... AS SELECT statement cannot declare columns');
      query = this.query();
    }
    return { kind: 'create', sourceType, name, orReplace, ifNotExists, columns, properties, query };
  }

  private columnDef(sourceType: 'STREAM' | 'TABLE'): ColumnDef {
    const name = this.identifier('a column name');
    const type = this.type();
    let key: ColumnDef['key'] = null;
    if (this.acceptWord('PRIMARY')) {
      this.expectWord('KEY');
      key = 'PRIMARY KEY';
    } else if (this.acceptWord('KEY')) {
      key = 'KEY';
    } else if (this.peekWord('HEADERS') || this.peekWord('HEADER')) {
      throw unsupported('HEADER columns');
    }
    if (sourceType === 'TABLE' && key === 'KEY') {
      this.fail(this.previous(), `Column \`${name}\` is a 'KEY' column: please use 'PRIMARY KEY' for tables.`);
    }
    if (sourceType === 'STREAM' && key === 'PRIMARY KEY') {
      this.fail(this.previous(), `Column \`${name}\` is a 'PRIMARY KEY' column: please use 'KEY' for streams.`);
    }
    return { name, type, key };
  }

  private type(): SqlType {
    const token = this.next();
    if (token.type !== 'word') this.fail(token, `mismatched input '${token.text}' expecting a type`);
    switch (token.value) {
      case 'VARCHAR':
      case 'STRING':
        return STRING;
      case 'INT':
      case 'INTEGER':
        return INTEGER;
      case 'BIGINT':
        return BIGINT;
      case 'DOUBLE':
        return DOUBLE;
      case 'BOOLEAN':
        return BOOLEAN;
      case 'DECIMAL': {
        this.expectSymbol('(');
        const precision = Number(this.expectType('integer').value);
        this.expectSymbol(',');
        const scale = Number(this.expectType('integer').value);
        this.expectSymbol(')');
        if (precision < 1 || scale > precision)
          this.fail(token, `DECIMAL precision must be >= 1 and scale <= precision`);
        return decimal(precision, scale);
      }
      case 'ARRAY': {
        this.expectSymbol('<');
        const item = this.type();
        this.expectSymbol('>');
        return { kind: 'ARRAY', item };
      }
      case 'MAP':
      case 'STRUCT':
      case 'TIMESTAMP':
      case 'DATE':
      case 'TIME':
      case 'BYTES':
        throw unsupported(`The ${token.value} type`);
      default:
        return this.fail(token, `unknown type '${token.text}'`);
    }
  }

  private withProperties(): Map<string, PropertyValue> {
    this.expectWord('WITH');
    this.expectSymbol('(');
    const properties = new Map<string, PropertyValue>();
    do {
      const nameToken = this.peek();
      const name = this.identifier('a property name');
      this.expectSymbol('=');
      const valueToken = this.next();
      let value: PropertyValue;
      if (valueToken.type === 'string') value = valueToken.value;
      else if (valueToken.type === 'integer' || valueToken.type === 'decimal') value = Number(valueToken.value);
      else if (valueToken.type === 'word' && (valueToken.value === 'TRUE' || valueToken.value === 'FALSE'))
        value = valueToken.value === 'TRUE';
      else return this.fail(valueToken, `mismatched input '${valueToken.text}' expecting a literal`);
      if (properties.has(name)) this.fail(nameToken, `Duplicate property: ${name}`);
      properties.set(name, value);
    } while (this.acceptSymbol(','));
    this.expectSymbol(')');
    return properties;
  }

  private drop(): Omit<Extract<Statement, { kind: 'drop' }>, 'text'> {
    this.expectWord('DROP');
    const kindToken = this.peek();
    if (kindToken.type === 'word' && ['TYPE', 'CONNECTOR'].includes(kindToken.value))
      throw unsupported(`DROP ${kindToken.value}`);
    const sourceType = this.expectWord('STREAM', 'TABLE') as 'STREAM' | 'TABLE';
    let ifExists = false;
    if (this.acceptWord('IF')) {
      this.expectWord('EXISTS');
      ifExists = true;
    }
    const name = this.identifier(`a ${sourceType.toLowerCase()} name`);
    let deleteTopic = false;
    if (this.acceptWord('DELETE')) {
      this.expectWord('TOPIC');
      deleteTopic = true;
    }
    return { kind: 'drop', sourceType, name, ifExists, deleteTopic };
  }

  private list(): Omit<Extract<Statement, { kind: 'list' }>, 'text'> {
    this.next();
    const token = this.next();
    const what = token.type === 'word' ? token.value : '';
    const known = ['STREAMS', 'TABLES', 'TOPICS', 'QUERIES', 'PROPERTIES', 'VARIABLES'];
    if (['FUNCTIONS', 'TYPES', 'CONNECTORS'].includes(what)) throw unsupported(`LIST ${what}`);
    if (what === 'ALL' && this.peekWord('TOPICS')) {
      this.next();
      return { kind: 'list', what: 'TOPICS', extended: this.acceptWord('EXTENDED') };
    }
    if (!known.includes(what))
      this.fail(
        token,
        `mismatched input '${token.text}' expecting {STREAMS, TABLES, TOPICS, QUERIES, PROPERTIES, VARIABLES}`,
      );
    return {
      kind: 'list',
      what: what as Extract<Statement, { kind: 'list' }>['what'],
      extended: this.acceptWord('EXTENDED'),
    };
  }

  private insert(): Omit<Extract<Statement, { kind: 'insertValues' }>, 'text'> {
    this.expectWord('INSERT');
    this.expectWord('INTO');
    const target = this.identifier('a stream or table name');
    let columns: string[] | undefined;
    if (this.acceptSymbol('(')) {
      columns = [];
      do columns.push(this.identifier('a column name'));
      while (this.acceptSymbol(','));
      this.expectSymbol(')');
    }
    if (this.peekWord('SELECT')) throw unsupported('INSERT INTO ... SELECT');
    this.expectWord('VALUES');
    this.expectSymbol('(');
    const values: Expr[] = [];
    do values.push(this.expression());
    while (this.acceptSymbol(','));
    this.expectSymbol(')');
    return { kind: 'insertValues', target, columns, values };
  }

  // ---- queries ----

  private query(): Query {
    this.expectWord('SELECT');
    const select: SelectItem[] = [];
    do select.push(this.selectItem());
    while (this.acceptSymbol(','));
    this.expectWord('FROM');
    const from = this.sourceRef();
    let join: JoinClause | undefined;
    if (
      this.peekWord('JOIN') ||
      this.peekWord('INNER') ||
      this.peekWord('LEFT') ||
      this.peekWord('RIGHT') ||
      this.peekWord('FULL')
    ) {
      join = this.joinClause();
      if (
        this.peekWord('JOIN') ||
        this.peekWord('INNER') ||
        this.peekWord('LEFT') ||
        this.peekWord('FULL') ||
        this.peekWord('RIGHT')
      ) {
        throw unsupported('A query with more than one JOIN');
      }
    }
    if (this.peekWord('WINDOW')) throw unsupported('Windowed aggregation (WINDOW)');
    let where: Expr | undefined;
    if (this.acceptWord('WHERE')) where = this.expression();
    let groupBy: Expr[] | undefined;
    if (this.acceptWord('GROUP')) {
      this.expectWord('BY');
      groupBy = [];
      do groupBy.push(this.expression());
      while (this.acceptSymbol(','));
    }
    if (this.peekWord('PARTITION')) throw unsupported('PARTITION BY');
    if (this.peekWord('HAVING')) throw unsupported('HAVING');
    let emitChanges = false;
    if (this.acceptWord('EMIT')) {
      if (this.peekWord('FINAL')) throw unsupported('EMIT FINAL');
      this.expectWord('CHANGES');
      emitChanges = true;
    }
    let limit: number | undefined;
    if (this.acceptWord('LIMIT')) limit = Number(this.expectType('integer').value);
    return { select, from, join, where, groupBy, emitChanges, limit };
  }

  private selectItem(): SelectItem {
    if (this.acceptSymbol('*')) return { kind: 'star' };
    const token = this.peek();
    if ((token.type === 'word' || token.type === 'quoted') && this.peekSymbol('.', 1) && this.peekSymbol('*', 2)) {
      this.index += 3;
      return { kind: 'star', qualifier: token.value };
    }
    const expr = this.expression();
    let alias: string | undefined;
    if (this.acceptWord('AS')) alias = this.identifier('an alias');
    else if (this.isIdentifierStart()) alias = this.identifier('an alias');
    return { kind: 'expr', expr, alias };
  }

  private sourceRef(): SourceRef {
    const token = this.peek();
    const name = this.identifier('a stream or table name');
    let alias = name;
    if (this.acceptWord('AS')) alias = this.identifier('an alias');
    else if (this.isIdentifierStart()) alias = this.identifier('an alias');
    return { name, alias, pos: { line: token.line, column: token.column } };
  }

  private joinClause(): JoinClause {
    const start = this.peek();
    if (this.acceptWord('LEFT') || this.acceptWord('RIGHT') || this.acceptWord('FULL')) {
      throw unsupported(`${start.value} JOIN`);
    }
    this.acceptWord('INNER');
    this.expectWord('JOIN');
    const right = this.sourceRef();
    let within: JoinClause['within'];
    let graceMs: number | undefined;
    if (this.acceptWord('WITHIN')) {
      if (this.acceptSymbol('(')) {
        const beforeMs = this.duration();
        this.expectSymbol(',');
        const afterMs = this.duration();
        this.expectSymbol(')');
        within = { beforeMs, afterMs };
      } else {
        const size = this.duration();
        within = { beforeMs: size, afterMs: size };
      }
      if (this.acceptWord('GRACE')) {
        this.expectWord('PERIOD');
        graceMs = this.duration();
      }
    }
    this.expectWord('ON');
    const on = this.expression();
    return { type: 'INNER', right, within, graceMs, on };
  }

  private duration(): number {
    const amount = Number(this.expectType('integer').value);
    const unitToken = this.next();
    const factor = unitToken.type === 'word' ? TIME_UNITS[unitToken.value] : undefined;
    if (factor === undefined)
      this.fail(
        unitToken,
        `mismatched input '${unitToken.text}' expecting a time unit (MILLISECONDS, SECONDS, MINUTES, HOURS, DAYS)`,
      );
    return amount * factor!;
  }

  // ---- expressions ----

  expression(): Expr {
    return this.or();
  }

  private or(): Expr {
    let left = this.and();
    while (this.peekWord('OR')) {
      const pos = this.position(this.next());
      left = { kind: 'logical', op: 'OR', left, right: this.and(), pos };
    }
    return left;
  }

  private and(): Expr {
    let left = this.not();
    while (this.peekWord('AND')) {
      const pos = this.position(this.next());
      left = { kind: 'logical', op: 'AND', left, right: this.not(), pos };
    }
    return left;
  }

  private not(): Expr {
    if (this.peekWord('NOT')) {
      const pos = this.position(this.next());
      return { kind: 'not', operand: this.not(), pos };
    }
    return this.predicate();
  }

  private predicate(): Expr {
    const left = this.additive();
    const token = this.peek();
    if (token.type === 'symbol' && ['=', '<>', '!=', '<', '<=', '>', '>='].includes(token.value)) {
      this.next();
      const op = (token.value === '!=' ? '<>' : token.value) as Extract<Expr, { kind: 'compare' }>['op'];
      return { kind: 'compare', op, left, right: this.additive(), pos: this.position(token) };
    }
    if (this.acceptWord('IS')) {
      const negated = this.acceptWord('NOT');
      if (this.acceptWord('DISTINCT')) {
        this.expectWord('FROM');
        const op = negated ? 'IS NOT DISTINCT FROM' : 'IS DISTINCT FROM';
        return { kind: 'compare', op, left, right: this.additive(), pos: this.position(token) };
      }
      this.expectWord('NULL');
      return { kind: 'isNull', operand: left, negated, pos: this.position(token) };
    }
    const negated =
      this.peekWord('NOT') && (this.peekWord('BETWEEN', 1) || this.peekWord('IN', 1) || this.peekWord('LIKE', 1));
    if (negated) this.next();
    if (this.acceptWord('BETWEEN')) {
      const low = this.additive();
      this.expectWord('AND');
      return { kind: 'between', operand: left, low, high: this.additive(), negated, pos: this.position(token) };
    }
    if (this.acceptWord('IN')) {
      this.expectSymbol('(');
      const list: Expr[] = [];
      do list.push(this.expression());
      while (this.acceptSymbol(','));
      this.expectSymbol(')');
      return { kind: 'in', operand: left, list, negated, pos: this.position(token) };
    }
    if (this.acceptWord('LIKE')) {
      return { kind: 'like', operand: left, pattern: this.additive(), negated, pos: this.position(token) };
    }
    return left;
  }

  private additive(): Expr {
    let left = this.multiplicative();
    for (;;) {
      const token = this.peek();
      if (token.type !== 'symbol' || !['+', '-', '||'].includes(token.value)) return left;
      this.next();
      left = {
        kind: 'binary',
        op: token.value as '+' | '-' | '||',
        left,
        right: this.multiplicative(),
        pos: this.position(token),
      };
    }
  }

  private multiplicative(): Expr {
    let left = this.unary();
    for (;;) {
      const token = this.peek();
      if (token.type !== 'symbol' || !['*', '/', '%'].includes(token.value)) return left;
      this.next();
      left = {
        kind: 'binary',
        op: token.value as '*' | '/' | '%',
        left,
        right: this.unary(),
        pos: this.position(token),
      };
    }
  }

  private unary(): Expr {
    const token = this.peek();
    if (this.acceptSymbol('-')) {
      // A minus right before a number is part of the literal, as in ksqlDB's grammar (`MINUS? INTEGER_VALUE`): the
      // range of a BIGINT literal reaches -2^63.
      const next = this.peek();
      if (next.type === 'integer' || next.type === 'decimal' || next.type === 'double') {
        this.next();
        return numberLiteral(next, '-', this.position(token), (detail) => this.fail(token, detail));
      }
      return { kind: 'negate', operand: this.unary(), pos: this.position(token) };
    }
    if (this.acceptSymbol('+')) return this.unary();
    const primary = this.primary();
    const after = this.peek();
    if (after.type === 'symbol' && (after.value === '[' || after.value === '->'))
      throw unsupported(`The '${after.value}' operator`);
    return primary;
  }

  private primary(): Expr {
    const token = this.peek();
    const pos = this.position(token);
    switch (token.type) {
      case 'string':
        this.next();
        return literal(token.text, STRING, token.value, pos);
      case 'integer':
      case 'decimal':
      case 'double':
        this.next();
        return numberLiteral(token, '', pos, (detail) => this.fail(token, detail));
      case 'symbol':
        if (this.acceptSymbol('(')) {
          const inner = this.expression();
          this.expectSymbol(')');
          return inner;
        }
        return this.fail(token, `mismatched input '${token.text}' expecting an expression`);
      case 'quoted':
        return this.columnOrCall();
      case 'word':
        break;
      default:
        return this.fail(token, `mismatched input '${token.text}' expecting an expression`);
    }
    switch (token.value) {
      case 'TRUE':
      case 'FALSE':
        this.next();
        return literal(token.text, BOOLEAN, token.value === 'TRUE', pos);
      case 'NULL':
        this.next();
        return literal(token.text, null, null, pos);
      case 'CASE':
        return this.caseExpression();
      case 'CAST': {
        this.next();
        this.expectSymbol('(');
        const operand = this.expression();
        this.expectWord('AS');
        const target = this.type();
        this.expectSymbol(')');
        return { kind: 'cast', operand, target, pos };
      }
      case 'INTERVAL':
      case 'STRUCT':
      case 'ARRAY':
      case 'MAP':
        if (this.peekSymbol('(', 1) || this.peekSymbol('[', 1)) throw unsupported(`${token.value} constructors`);
        break;
      default:
        if (CLAUSE_WORDS.has(token.value)) this.fail(token, `mismatched input '${token.text}' expecting an expression`);
    }
    return this.columnOrCall();
  }

  private columnOrCall(): Expr {
    const token = this.next();
    const pos = this.position(token);
    if (this.acceptSymbol('(')) {
      if (token.type !== 'word') this.fail(token, `mismatched input '${token.text}' expecting a function name`);
      if (this.acceptSymbol('*')) {
        this.expectSymbol(')');
        return { kind: 'call', name: token.value, args: [], star: true, pos };
      }
      if (this.peekWord('DISTINCT')) throw unsupported('DISTINCT in function calls');
      const args: Expr[] = [];
      if (!this.acceptSymbol(')')) {
        do args.push(this.expression());
        while (this.acceptSymbol(','));
        this.expectSymbol(')');
      }
      return { kind: 'call', name: token.value, args, star: false, pos };
    }
    if (this.acceptSymbol('.')) {
      const name = this.identifier('a column name');
      return { kind: 'column', qualifier: token.value, name, pos };
    }
    return { kind: 'column', name: token.value, pos };
  }

  private caseExpression(): Expr {
    const pos = this.position(this.next());
    const operand = this.peekWord('WHEN') ? undefined : this.expression();
    const whens: { when: Expr; then: Expr }[] = [];
    while (this.acceptWord('WHEN')) {
      const when = this.expression();
      this.expectWord('THEN');
      whens.push({ when, then: this.expression() });
    }
    if (whens.length === 0) this.fail(this.peek(), `mismatched input '${this.peek().text}' expecting WHEN`);
    const otherwise = this.acceptWord('ELSE') ? this.expression() : undefined;
    this.expectWord('END');
    return { kind: 'case', operand, whens, otherwise, pos };
  }

  // ---- token helpers ----

  private peek(ahead = 0): Token {
    return this.tokens[Math.min(this.index + ahead, this.tokens.length - 1)]!;
  }

  private previous(): Token {
    return this.tokens[Math.max(this.index - 1, 0)]!;
  }

  private next(): Token {
    const token = this.peek();
    if (token.type !== 'eof') this.index++;
    return token;
  }

  private position(token: Token): Position {
    return { line: token.line, column: token.column };
  }

  private peekWord(word: string, ahead = 0): boolean {
    const token = this.peek(ahead);
    return token.type === 'word' && token.value === word;
  }

  private peekSymbol(symbol: string, ahead = 0): boolean {
    const token = this.peek(ahead);
    return token.type === 'symbol' && token.value === symbol;
  }

  private acceptWord(word: string): boolean {
    if (!this.peekWord(word)) return false;
    this.index++;
    return true;
  }

  private acceptSymbol(symbol: string): boolean {
    if (!this.peekSymbol(symbol)) return false;
    this.index++;
    return true;
  }

  private expectWord(...words: string[]): string {
    const token = this.next();
    if (token.type !== 'word' || !words.includes(token.value)) {
      this.fail(
        token,
        `mismatched input '${token.text}' expecting ${words.length === 1 ? words[0] : `{${words.join(', ')}}`}`,
      );
    }
    return token.value;
  }

  private expectSymbol(symbol: string): void {
    const token = this.next();
    if (token.type !== 'symbol' || token.value !== symbol)
      this.fail(token, `mismatched input '${token.text}' expecting '${symbol}'`);
  }

  private expectType(type: Token['type']): Token {
    const token = this.next();
    if (token.type !== type)
      this.fail(token, `mismatched input '${token.text}' expecting ${type === 'integer' ? 'an integer' : type}`);
    return token;
  }

  private stringLiteral(what: string): string {
    const token = this.next();
    if (token.type !== 'string')
      this.fail(token, `mismatched input '${token.text}' expecting ${what} in single quotes`);
    return token.value;
  }

  private isIdentifierStart(): boolean {
    const token = this.peek();
    return (
      token.type === 'quoted' || (token.type === 'word' && !CLAUSE_WORDS.has(token.value) && token.value !== 'EMIT')
    );
  }

  private identifier(what: string): string {
    const token = this.next();
    if (token.type === 'quoted') return token.value;
    if (token.type !== 'word' || CLAUSE_WORDS.has(token.value))
      this.fail(token, `mismatched input '${token.text}' expecting ${what}`);
    return token.value;
  }

  private fail(token: Token, detail: string): never {
    throw new SqlSyntaxError(token.line, token.column, detail);
  }
}

function literal(text: string, type: SqlType | null, value: unknown, pos: Position): Expr {
  return { kind: 'literal', type, value, text, pos };
}

const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

/** A numeric literal (with the sign written before it), typed and range-checked as ksqlDB's ParserUtil does. */
function numberLiteral(token: Token, sign: '' | '-', pos: Position, fail: (detail: string) => never): Expr {
  const text = sign + token.value;
  if (token.type === 'integer') {
    const value = BigInt(text);
    if (value < LONG_MIN || value > LONG_MAX) fail(`Invalid numeric literal: ${text}`);
    const int = value >= -2_147_483_648n && value <= 2_147_483_647n;
    return literal(text, int ? INTEGER : BIGINT, exactLong(value), pos);
  }
  if (token.type === 'decimal') return literal(text, decimalLiteralType(token.value), Decimal.parse(text), pos);
  const value = Number(text);
  if (!Number.isFinite(value)) fail(`Number overflows DOUBLE: ${text}`);
  return literal(text, DOUBLE, value, pos);
}

/** ksqlDB types `0.5` as DECIMAL(2, 1): precision counts digits but is always greater than the scale. */
function decimalLiteralType(text: string): SqlType {
  const [whole = '', fraction = ''] = text.split('.');
  const scale = fraction.length;
  const digits = (whole + fraction).replace(/^0+/, '');
  const precision = Math.max(digits.length, 1);
  return decimal(precision <= scale ? scale + 1 : precision, scale);
}
