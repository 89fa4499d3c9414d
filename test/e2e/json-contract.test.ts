import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../helpers/cli.js';
import type { TailResult } from '../../src/commands/tail.js';
import { checkAndRecord } from '../helpers/reliability.js';
import { localTargetEnv, stackEndpoints } from '../helpers/stack.js';

/**
 * The output contract (README, Commands): `--json` puts exactly one JSON document on stdout, whether the command
 * succeeds or fails; `--format jsonl` puts one JSON object per row on stdout and nothing else. Every command runs
 * here through the real CLI against the local stack, in an order that gives each a state it can work in.
 */
const prefix = 'json-contract';
const database = `json_contract_${randomBytes(3).toString('hex')}`;
let cwd: string;
let env: NodeJS.ProcessEnv;

const cli = (args: string[], timeoutMs = 180_000): Promise<CliRun> => runCli(args, { cwd, env, timeoutMs });

interface Case {
  args: string[];
  /** The exit code this state gives; a failure must still be one JSON document, the error. */
  exit: number;
}

/** Success and failure cases, in the order they run: each leaves the state the next one needs. */
const CASES: Case[] = [
  { args: ['doctor'], exit: 0 },
  { args: ['plan'], exit: 0 },
  { args: ['status'], exit: 1 },
  { args: ['up'], exit: 0 },
  { args: ['status'], exit: 0 },
  { args: ['produce', '--count', '20', '--seed', '3'], exit: 0 },
  { args: ['tail', 'job_status', '--from-beginning', '--limit', '3'], exit: 0 },
  { args: ['tail', 'job_status', '--via', 'kafka', '--from-beginning', '--limit', '3'], exit: 0 },
  { args: ['tail', 'job_status', '--limit', '1', '--format', 'jsonl'], exit: 2 },
  { args: ['tail', 'no_such_stream', '--limit', '1'], exit: 2 },
  { args: ['lineage'], exit: 0 },
  { args: ['lineage', '--format', 'mermaid'], exit: 0 },
  { args: ['ksql', 'SHOW STREAMS;'], exit: 0 },
  {
    args: ['ksql', "SET 'auto.offset.reset' = 'earliest'; SELECT * FROM job_status EMIT CHANGES;", '--max-rows', '2'],
    exit: 0,
  },
  { args: ['ksql', 'SELEC nothing;'], exit: 2 },
  { args: ['ksql', 'apply'], exit: 0 },
  { args: ['ksql', 'list'], exit: 0 },
  { args: ['sink', 'mongo'], exit: 0 },
  { args: ['sink', 'status'], exit: 0 },
  { args: ['sink', 'verify', '--wait', '60s'], exit: 0 },
  { args: ['sink'], exit: 2 },
  { args: ['sink', 'verfy'], exit: 2 },
  { args: ['local', 'status'], exit: 0 },
  { args: ['local', 'start'], exit: 0 },
  { args: ['local', 'install'], exit: 0 },
  { args: ['local', 'logs', 'kafka', '-n', '3'], exit: 0 },
  { args: ['local', 'logs', 'kafka', '--follow'], exit: 2 },
  { args: ['local', 'stop', 'kafak'], exit: 2 },
  { args: ['local', 'reset'], exit: 2 },
  { args: ['down', '--yes'], exit: 0 },
  { args: ['demo', '--duration', '3s'], exit: 0 },
  { args: ['init', '--yes', '--prefix', 'json-contract-init'], exit: 0 },
  { args: ['init', '--yes'], exit: 2 },
  { args: ['upp'], exit: 2 },
  { args: [], exit: 2 },
];

beforeAll(async () => {
  const stack = stackEndpoints();
  cwd = await mkdtemp(join(tmpdir(), 'marketplace-json-contract-'));
  const stackSettings = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => name === 'MARKETPLACE_HOME' || name.startsWith('MARKETPLACE_LOCAL_'),
    ),
  );
  env = { ...stackSettings, ...localTargetEnv(stack, { prefix, database }) };
  await cli(['down', '--yes', '--discover']);
});

afterAll(async () => {
  await cli(['down', '--yes', '--discover']);
});

describe('--json is one JSON document on stdout, for every command', () => {
  for (const { args, exit } of CASES) {
    const command = ['marketplace', ...args, '--json'].join(' ');
    it(command, async () => {
      const run = await cli([...args, '--json'], 170_000);
      let parsed: unknown;
      let parseError = '';
      try {
        parsed = JSON.parse(run.stdout);
      } catch (error) {
        parseError = (error as Error).message;
      }
      await checkAndRecord(
        {
          item: 5,
          scenario: `--json contract: \`${command}\``,
          expectation: `exit ${exit}; stdout is exactly one JSON document${exit === 0 ? '' : ' (the error)'}`,
          observed:
            `exit ${run.code}; stdout ${run.stdout.length} bytes, ` +
            (parseError ? `not one JSON value: ${parseError}` : 'one JSON value'),
        },
        () => {
          expect(run.code, run.stderr).toBe(exit);
          expect(parseError, run.stdout.slice(0, 500)).toBe('');
          expect(typeof parsed === 'object' && parsed !== null, 'a JSON object').toBe(true);
          const error = (parsed as { error?: { exitCode?: number } }).error;
          // A failed check (status, sink verify) is a result with its own exit code; anything else is the error.
          if (exit === 0) expect(error).toBeUndefined();
          else if (error) expect(error.exitCode).toBe(exit);
        },
      );
    });
  }

  it('tail --json holds the rows and the summary in one document', async () => {
    await cli(['up', '--json']);
    await cli(['produce', '--count', '5', '--seed', '4', '--json']);
    const run = await cli(['tail', 'job_status', '--from-beginning', '--limit', '4', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as TailResult;
    expect(result.source).toBe('job_status');
    expect(result.rowCount).toBe(4);
    expect(result.rows).toHaveLength(4);
    for (const row of result.rows ?? []) expect(row.CURRENT_STATUS).toMatch(/^(ACCEPTED|REJECTED)$/);
  });

  it('tail --format jsonl prints one JSON object per row and nothing else on stdout', async () => {
    const run = await cli(['tail', 'job_status', '--from-beginning', '--limit', '4', '--format', 'jsonl']);
    await checkAndRecord(
      {
        item: 5,
        scenario: '--format jsonl contract: `marketplace tail job_status --from-beginning --limit 4 --format jsonl`',
        expectation: 'exit 0; stdout is 4 lines, each one JSON object (a row), nothing else',
        observed: `exit ${run.code}; ${run.stdout.split('\n').filter(Boolean).length} line(s) on stdout`,
      },
      () => {
        expect(run.code, run.stderr).toBe(0);
        expect(run.stdout.endsWith('\n')).toBe(true);
        const lines = run.stdout.slice(0, -1).split('\n');
        expect(lines).toHaveLength(4);
        for (const line of lines) {
          const status = expect.stringMatching(/^(ACCEPTED|REJECTED)$/);
          expect(JSON.parse(line)).toEqual(expect.objectContaining({ CURRENT_STATUS: status }));
        }
      },
    );
  });
});
