import { describe, expect, it } from 'vitest';
import { predicateProblem } from '../../src/ksql-client/predicate.js';

describe('a --where predicate is one boolean expression', () => {
  it('accepts predicates whose quotes hold what would otherwise be refused', () => {
    for (const ok of [
      "CURRENT_STATUS = 'REJECTED'",
      "CURRENT_STATUS = 'it''s; -- fine' AND (QUOTE > 3 OR `from` IS NULL)",
      "from_address LIKE '%x%' AND limits_ok = true",
      "((a = 1) AND (b = 'x)'))",
    ]) {
      expect(predicateProblem(ok), ok).toBeUndefined();
    }
  });

  it('refuses a second statement, comments, unbalanced parentheses and quotes, and other clauses', () => {
    const cases: [string, RegExp, number][] = [
      ['1=1; DROP STREAM job_status', /';' would end the query/, 4],
      ["x = 'a", /the ' opened here is never closed/, 5],
      ['x = `a', /the ` opened here is never closed/, 5],
      ['(a = 1', /the '\(' opened here is never closed/, 1],
      ['a = 1) OR (b = 2', /'\)' closes nothing/, 6],
      ['a = 1 -- rest', /a comment \(--\)/, 7],
      ['a = 1 /* rest */', /a comment \(\/\*\)/, 7],
      ['a = 1 EMIT CHANGES LIMIT 1', /EMIT would end the WHERE clause/, 7],
      ['a = 1 group by b', /GROUP would end the WHERE clause/, 7],
      ['   ', /it is empty/, 1],
    ];
    for (const [text, reason, column] of cases) {
      const problem = predicateProblem(text);
      expect(problem?.reason, text).toMatch(reason);
      expect(problem?.column, text).toBe(column);
    }
  });
});
