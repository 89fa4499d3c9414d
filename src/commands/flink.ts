import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Context } from '../core/context.js';
import { UserError } from '../core/errors.js';
import { formatCell, jsonSafe } from '../core/sql-cells.js';
import { positiveInteger } from '../core/parse.js';
import { defineCommand, flag, option } from './command.js';

/** What one statement of the script did. */
export interface FlinkStepResult {
  statement: string;
  /** Where it starts: file:line, or line N of the inline text. */
  line: number;
  columns: string[];
  /** Rows as the gateway gave them (with --json; without, they were printed as they came). */
  rows: { kind: string; fields: unknown[] }[];
  rowCount: number;
  /** The job a statement submitted (an INSERT's, or a SELECT's while it ran). */
  jobId?: string;
  /** How a query's rows ended: its result ended, --max-rows was reached, or Ctrl-C. */
  endedBy: 'end' | 'max-rows' | 'interrupted';
}

export interface FlinkRunResult {
  gateway: string;
  steps: FlinkStepResult[];
}

export const flinkCommand = defineCommand({
  name: 'flink',
  summary: 'Run Flink SQL statements and queries on the Flink SQL Gateway (the local stack or flinkGatewayUrl)',
  description:
    'Runs each statement in turn in one gateway session: DDL, SET, SHOW, DESCRIBE, INSERT (submitted as a job that ' +
    'keeps running; its id is printed) and SELECT, whose rows are printed as they arrive until the query ends, ' +
    "--max-rows, or Ctrl-C (the query's job is cancelled then). On the local target the session starts with the " +
    "demo's tables of templates/flink, so `SELECT * FROM job_status` works as it is. A refused statement is reported " +
    "with its file, line and column and Flink's reason, and stops the script.",
  args: [{ name: 'statement', description: 'Flink SQL to run, e.g. "SHOW TABLES;" (or use --file)' }],
  options: {
    file: option('-f, --file <file>', 'run the statements in a .sql file'),
    maxRows: option('--max-rows <n>', 'stop each query after n rows (its job is cancelled)', {
      parse: positiveInteger('--max-rows'),
    }),
    bare: flag('--bare', "start the session with an empty catalog, without the demo's tables"),
    url: option('--url <url>', 'Flink SQL Gateway REST endpoint', {
      configKey: 'flinkGatewayUrl',
      defaultNote: 'flinkGatewayUrl from the config, else the local stack',
    }),
  },
  examples: [
    { command: 'marketplace flink "SHOW TABLES;" --target local', description: "the demo's tables" },
    {
      command: 'marketplace flink "SELECT * FROM job_status;" --max-rows 10 --target local',
      description: 'read 10 rows, then cancel the query',
    },
    { command: 'marketplace flink -f queries.sql --json', description: 'run a file, results as JSON' },
  ],
  run: async (ctx, { args, options }): Promise<FlinkRunResult> => {
    const file = options.file;
    const inline = args[0];
    if ((file === undefined) === (inline === undefined)) {
      throw new UserError(file ? 'give either a statement or --file, not both' : 'no statement given', {
        hint: 'Example: marketplace flink "SHOW TABLES;" or marketplace flink -f statements.sql',
      });
    }
    const sql = file !== undefined ? await readSqlFile(ctx, file) : inline!;
    return runScript(ctx, sql, { file, maxRows: options.maxRows, bare: options.bare });
  },
  render: (result, ctx) => {
    const { green, dim } = ctx.out.paint;
    for (const step of result.steps) {
      const first = step.statement.replace(/\s+/g, ' ').trim().slice(0, 60);
      if (step.jobId && step.columns.length === 1 && step.columns[0] === 'job id') {
        ctx.out.info(`${green('✔')} ${first}: job ${step.jobId} runs`);
      } else if (step.columns.length === 1 && step.columns[0] === 'result' && step.rowCount <= 1) {
        ctx.out.info(`${green('✔')} ${first}`);
      } else {
        const how =
          step.endedBy === 'max-rows'
            ? ', stopped at --max-rows'
            : step.endedBy === 'interrupted'
              ? ', interrupted'
              : '';
        ctx.out.info(dim(`${step.rowCount} row(s)${step.jobId ? ` from job ${step.jobId}` : ''}${how}`));
      }
    }
  },
});

async function runScript(
  ctx: Context,
  sql: string,
  options: { file?: string; maxRows?: number; bare: boolean },
): Promise<FlinkRunResult> {
  const loaded = await ctx.loadConfig();
  const { configuredEndpoints } = await import('../core/endpoints.js');
  const { FlinkGateway, FlinkStatementError, splitFlinkScript } = await import('../flink-client/index.js');
  const { fileLocation, SqlSplitError } = await import('../core/sql-split.js');
  const endpoints = configuredEndpoints(loaded.values);
  if (!endpoints.flinkGatewayUrl) {
    throw new UserError('no Flink SQL Gateway to talk to', {
      hint: 'Use --target local (the local stack runs one with `marketplace local start --with flink`), or set flinkGatewayUrl.',
    });
  }
  const where = (line: number, column?: number) =>
    `${options.file ?? 'statement'}:${line}${column === undefined ? '' : `:${column}`}`;
  let statements: ReturnType<typeof splitFlinkScript>;
  try {
    statements = splitFlinkScript(sql);
  } catch (error) {
    if (!(error instanceof SqlSplitError)) throw error;
    throw new UserError(`${where(error.line, error.column)}: ${error.message}`, {
      hint: 'Close the quote or comment.',
    });
  }
  const gateway = new FlinkGateway({
    url: endpoints.flinkGatewayUrl,
    timeoutMs: loaded.values.requestTimeout,
    signal: ctx.signal,
    clock: ctx.clock,
  });
  ctx.out.debug(`Flink SQL Gateway: ${gateway.url}`);
  const steps: FlinkStepResult[] = [];
  await gateway.withSession({ name: 'marketplace-flink' }, async (session) => {
    if (!options.bare && loaded.values.target === 'local' && endpoints.bootstrapServers) {
      const { loadFlinkTemplates } = await import('../engines/flink/templates.js');
      const templates = await loadFlinkTemplates({ bootstrapServers: endpoints.bootstrapServers });
      for (const table of templates.tables) await session.execute(table.ddl, { signal: ctx.signal });
    }
    for (const statement of statements) {
      if (ctx.signal.aborted) break;
      const operation = await session.submit(statement.text, { signal: ctx.signal });
      const stop = new AbortController();
      const onAbort = () => stop.abort();
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      const rows: FlinkStepResult['rows'] = [];
      let rowCount = 0;
      let endedBy: FlinkStepResult['endedBy'] = 'end';
      let headerShown = false;
      try {
        for await (const row of operation.rows(stop.signal)) {
          if (!ctx.globals.json && !isStatusResult(operation.columns.map((c) => c.name))) {
            if (!headerShown) ctx.out.data(`${operation.columns.map((c) => c.name).join('\t')}\n`);
            headerShown = true;
            ctx.out.data(`${row.kind === 'INSERT' ? '' : `${row.kind}\t`}${row.fields.map(formatCell).join('\t')}\n`);
          }
          if (ctx.globals.json) rows.push({ kind: row.kind, fields: row.fields.map(jsonSafe) });
          rowCount++;
          if (options.maxRows !== undefined && rowCount >= options.maxRows) {
            endedBy = 'max-rows';
            break;
          }
        }
        if (ctx.signal.aborted) endedBy = 'interrupted';
      } catch (error) {
        if (error instanceof FlinkStatementError) {
          const at = error.rootCause.position ? fileLocation(statement, error.rootCause.position) : statement;
          throw new UserError(`${where(at.line, at.column)}: ${error.message}`, { hint: error.hint, cause: error });
        }
        throw error;
      } finally {
        ctx.signal.removeEventListener('abort', onAbort);
        // Closing a query's operation cancels its job; an INSERT's job runs on.
        await operation.close().catch(() => undefined);
      }
      steps.push({
        statement: statement.text,
        line: statement.line,
        columns: operation.columns.map((c) => c.name),
        rows,
        rowCount,
        ...(operation.jobId ? { jobId: operation.jobId } : {}),
        endedBy,
      });
    }
  });
  return { gateway: gateway.url, steps };
}

/** DDL and SET answer with one "result: OK" row, and an INSERT with its job id: said on stderr, not printed as rows. */
function isStatusResult(columns: string[]): boolean {
  return columns.length === 1 && (columns[0] === 'result' || columns[0] === 'job id');
}

async function readSqlFile(ctx: Context, file: string): Promise<string> {
  try {
    const text = await readFile(resolve(ctx.cwd, file), 'utf8');
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(`cannot read ${file}${code === 'ENOENT' ? ': no such file' : code ? ` (${code})` : ''}`, {
      hint: 'Give the path of a .sql file, relative to the current directory.',
    });
  }
}
