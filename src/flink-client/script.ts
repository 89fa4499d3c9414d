import { splitStatements, stripLeadingComments, type SqlStatement } from '../core/sql-split.js';

/**
 * Splits Flink SQL into the statements the gateway takes one at a time. A statement set (`EXECUTE STATEMENT SET
 * BEGIN … END;` or `BEGIN STATEMENT SET; … END;`) is one statement however many INSERTs it holds.
 */
export function splitFlinkScript(sql: string): SqlStatement[] {
  const statements: SqlStatement[] = [];
  let open: SqlStatement | undefined;
  for (const statement of splitStatements(sql)) {
    const body = stripLeadingComments(statement.text);
    if (open) {
      open = { ...open, text: sql.slice(open.offset, statement.offset + statement.text.length) };
      if (/^END\s*;?\s*$/i.test(body)) {
        statements.push(open);
        open = undefined;
      }
      continue;
    }
    if (/^(?:EXECUTE\s+STATEMENT\s+SET\s+BEGIN\b|BEGIN\s+STATEMENT\s+SET\s*;?\s*$)/i.test(body)) {
      open = statement;
      continue;
    }
    statements.push(statement);
  }
  if (open) statements.push(open);
  return statements;
}
