import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, type CliRun } from '../../helpers/cli.js';
import { checkAndRecord } from '../../helpers/reliability.js';
import { stackEndpoints } from '../../helpers/stack.js';

// Hardening item 5, large inputs: a SQL script or config file of many megabytes is checked in one pass, so its
// error (file:line:column) comes promptly and a SIGTERM during the check still ends the process. When positions
// were recounted from the start of the text for every statement or key, these sizes took hours, so the tests'
// own timeouts are the bound; nothing here measures time.
const STATEMENTS = 160_000;
const CONFIG_ENTRIES = 120_000;

let cwd: string;
let env: NodeJS.ProcessEnv;
let sqlErrorLine: number;
let configError: { line: number; column: number };

/** Valid statements with a misspelt one near the end, indented by two spaces. */
function bigScript(): string {
  const lines: string[] = ['-- generated: many inserts, then a typo'];
  for (let i = 0; i < STATEMENTS; i++) {
    lines.push(`INSERT INTO large_input_probe (id, note) VALUES ('k${i}', 'é😀 it''s row ${i}; not the end');`);
  }
  lines.push('  SELEC * FROM large_input_probe EMIT CHANGES;', "INSERT INTO large_input_probe (id) VALUES ('last');");
  sqlErrorLine = lines.length - 1;
  return `${lines.join('\n')}\n`;
}

/** A config whose "$schema" value is large (it is not validated, so only the parser sees it), broken at the end. */
function bigConfig(): string {
  const lines = ['{', '  "prefix": "large-input",', '  "$schema": ['];
  for (let i = 0; i < CONFIG_ENTRIES; i++) {
    lines.push(`    {"id": ${i}, "weight": ${i}.5e1, "label": "naïve 😀 ${i}"},`);
  }
  lines.push('    {"id": -1}', '  ],');
  const last = '  "clusterType": "basic", "naïve 😀": ';
  lines.push(`${last}nope`, '}');
  configError = { line: lines.length - 1, column: [...last].length + 1 };
  return `${lines.join('\r\n')}\r\n`;
}

function exitOf(run: CliRun): string {
  return `exit ${run.code}${run.signal ? ` (killed by ${run.signal})` : ''}`;
}

function stderrLines(run: CliRun): string[] {
  return run.stderr.trim().split('\n');
}

beforeAll(() => {
  const stack = stackEndpoints();
  if (!stack.ksqldb) throw new Error('the ksqlDB dev server is not running in the local stack');
  cwd = mkdtempSync(join(tmpdir(), 'e2e-large-input-'));
  env = { MARKETPLACE_TARGET: 'local', MARKETPLACE_KSQLDB_URL: stack.ksqldb.url };
  writeFileSync(join(cwd, 'big.sql'), bigScript());
  writeFileSync(join(cwd, 'big.config.json'), bigConfig());
});

afterAll(() => {
  if (cwd) rmSync(cwd, { recursive: true, force: true });
});

describe('hardening 5: large inputs are checked in one pass', () => {
  it('ksql -f of a many-megabyte script names the misspelt statement near its end, before running any', async () => {
    const result = await runCli(['ksql', '-f', 'big.sql'], { cwd, env, timeoutMs: 150_000 });
    const lines = stderrLines(result);
    await checkAndRecord(
      {
        item: 5,
        scenario: `\`marketplace ksql -f big.sql\`: ${STATEMENTS} valid statements, then a misspelt one (line ${sqlErrorLine})`,
        expectation: 'exit 2 with one line big.sql:line:column naming it; nothing run',
        observed: `${exitOf(result)}, ${lines.length} line(s): ${lines[0]}`,
      },
      () => {
        expect(result.code, result.stderr).toBe(2);
        expect(lines).toHaveLength(1);
        const expected = `^✖ Error: big\\.sql:${sqlErrorLine}:3: unknown statement 'SELEC'; nothing was run — `;
        expect(lines[0]).toMatch(new RegExp(expected));
        expect(result.stdout).toBe('');
      },
    );
  }, 180_000);

  it('SIGTERM while a many-megabyte script is being checked ends the process with 130', async () => {
    const running = startCli(['--verbose', 'ksql', '-f', 'big.sql'], { cwd, env, timeoutMs: 150_000 });
    // The endpoint line is the last thing printed before the script is split and checked.
    await running.waitFor(/ksqlDB: /, { timeoutMs: 60_000 });
    running.kill('SIGTERM');
    const result = await running.done;
    const last = stderrLines(result).at(-1) ?? '';
    await checkAndRecord(
      {
        item: 5,
        scenario: `SIGTERM during the check of \`marketplace ksql -f big.sql\` (${STATEMENTS} statements)`,
        expectation: 'the process ends with exit 130 and says nothing was run',
        observed: `${exitOf(result)}; last line: ${last}`,
      },
      () => {
        expect(result.signal, 'not killed by the test timeout').toBeNull();
        expect(result.code, result.stderr.slice(-500)).toBe(130);
        expect(last).toMatch(/Interrupted before the first statement ran; nothing was run/);
        expect(result.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
      },
    );
  }, 180_000);

  it('a many-megabyte config file (CRLF, non-ASCII) reports its syntax error at line:column', async () => {
    const result = await runCli(['--config', 'big.config.json', 'plan'], { cwd, env, timeoutMs: 150_000 });
    const lines = stderrLines(result);
    const where = `big\\.config\\.json:${configError.line}:${configError.column}`;
    await checkAndRecord(
      {
        item: 5,
        scenario:
          `\`marketplace --config big.config.json plan\`: ${CONFIG_ENTRIES} entries, ` +
          `a bad value on line ${configError.line}`,
        expectation: `exit 2 with one line naming big.config.json:${configError.line}:${configError.column}`,
        observed: `${exitOf(result)}, ${lines.length} line(s): ${lines[0]?.slice(-200)}`,
      },
      () => {
        expect(result.code, result.stderr).toBe(2);
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(new RegExp(`${where}: not valid JSON \\(unexpected 'n' where a value was expected`));
        expect(lines[0]).toMatch(/ — Fix the JSON syntax/);
      },
    );
  }, 180_000);
});
