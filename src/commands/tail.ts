import type { Context } from '../core/context.js';
import { UserError } from '../core/errors.js';
import { oneOf, positiveInteger } from '../core/parse.js';
import { predicateProblem } from '../ksql-client/predicate.js';
import type { RowRenderer } from '../tail/render.js';
import type { TailRow } from '../tail/source.js';
import { defineCommand, flag, type OptionValues, option } from './command.js';
import { ENGINE_OPTION } from './engine-option.js';

export interface TailResult {
  source: string;
  via: 'ksqldb' | 'flink' | 'kafka';
  rowCount: number;
  /** With --json only: every row, so stdout holds one JSON document (without --json rows stream as they come). */
  rows?: TailRow[];
  statuses: Record<string, number>;
  interrupted: boolean;
}

const TAIL_OPTIONS = {
  fromBeginning: flag('--from-beginning', 'start from the earliest record (auto.offset.reset=earliest)'),
  limit: option('--limit <n>', 'stop after n rows', { parse: positiveInteger('--limit') }),
  where: option(
    '--where <predicate>',
    'a predicate on the columns, e.g. "CURRENT_STATUS = \'REJECTED\'" (one boolean expression)',
    {
      parse: wherePredicate,
    },
  ),
  format: option('--format <format>', 'table | jsonl | json', {
    parse: oneOf('--format', ['table', 'jsonl', 'json'] as const),
    defaultNote: 'table on a terminal, jsonl when piped',
  }),
  live: flag('--live', 'one line per key, updated in place (tables such as truck_tracker; terminal only)'),
  via: option(
    '--via <source>',
    'ksqldb (push query), flink (a Flink SELECT) or kafka (read the topic directly; no engine needed)',
    {
      parse: oneOf('--via', ['ksqldb', 'flink', 'kafka'] as const),
      defaultNote: 'the engine',
    },
  ),
  ...ENGINE_OPTION,
};

export const tailCommand = defineCommand({
  name: 'tail',
  summary: 'Show the rows of a stream, table or topic live (job_status, truck_tracker, …)',
  description:
    'Runs a ksqlDB push query (SELECT * FROM <name> EMIT CHANGES) and prints each row as it arrives; with ' +
    '--via kafka it reads the topic directly instead. Rows go to stdout: an aligned table on a terminal, one JSON ' +
    'object per line (jsonl) when piped; with --json, one JSON document of the rows and the summary at the end. ' +
    '--limit N stops after N rows; Ctrl-C stops too (exit 130). Either way the ' +
    'push query is closed on the server. If the connection to ksqlDB drops (e.g. the server restarts), tail ' +
    'reconnects once, trying for up to 30 s, and continues from the latest rows; a second drop, or a server that ' +
    'does not come back, ends it with an error (exit 1). With --engine flink it runs a Flink SELECT over the table ' +
    '(closed, and its job cancelled, when tail ends); an upsert table such as truck_tracker starts with its current rows.',
  args: [{ name: 'name', description: 'stream, table or topic, e.g. job_status or truck_tracker', required: true }],
  options: TAIL_OPTIONS,
  examples: [
    { command: 'marketplace tail job_status', description: 'live results of the join' },
    { command: 'marketplace tail job_status --from-beginning --limit 200 --format jsonl', description: 'for scripts' },
    {
      command: 'marketplace tail truck_tracker --live',
      description: 'one line per job, distance and ETA counting down',
    },
    { command: 'marketplace tail job_status --via kafka --from-beginning', description: 'straight from the topic' },
    { command: 'marketplace tail job_status --engine flink --target local', description: 'through a Flink SELECT' },
  ],
  run: async (ctx, { args, options }) => runTail(ctx, args[0]!, options),
  render: (result, ctx) => {
    const statuses = Object.entries(result.statuses).map(([s, n]) => `${s} ${n}`);
    const counts = statuses.length ? `: ${statuses.join(', ')}` : '';
    ctx.out.info(`${result.rowCount} rows from ${result.source} (${result.via})${counts}`);
  },
  exitCode: (result) => (result.interrupted ? 130 : 0),
});

/** A ksqlDB identifier, a backquoted one, or a Kafka topic name (letters, digits, `.`, `_`, `-`; at most 249). */
const SOURCE_NAME = /^(?:[A-Za-z0-9._-]{1,249}|`[^`]+`)$/;

async function runTail(ctx: Context, name: string, options: OptionValues<typeof TAIL_OPTIONS>): Promise<TailResult> {
  const loaded = await ctx.loadConfig();
  const via = options.via ?? loaded.values.engine;
  const stdout = ctx.stdout;
  const json = ctx.globals.json;
  if (json && options.format !== undefined) {
    throw new UserError('--json prints one JSON document holding the rows, and --format streams them: give one', {
      hint: 'Use --json for one document, or --format jsonl for one JSON object per row.',
    });
  }
  const format = options.format ?? (stdout.isTTY ? 'table' : 'jsonl');
  if (options.live && (!stdout.isTTY || format !== 'table')) {
    throw new UserError('--live redraws the screen and needs a terminal with the table format', {
      hint: 'Drop --live when piping, or use --format jsonl to get every update as a line.',
    });
  }
  if (!SOURCE_NAME.test(name)) {
    throw new UserError(`"${name}" is not a stream, table or topic name`, {
      hint: 'Use letters, digits, _ (and . or - for a topic), or backquotes; e.g. `marketplace tail job_status`.',
    });
  }
  if (options.where && via === 'kafka') {
    throw new UserError('--where filters in the engine and cannot be used with --via kafka', {
      hint: 'Drop one of the two.',
    });
  }
  const { openTailSource } = await import('../tail/open.js');
  const { TailStats, jsonArrayRenderer, jsonlRenderer, liveRenderer, tableRenderer } = await import(
    '../tail/render.js'
  );
  const opened = await openTailSource(ctx, loaded, {
    name,
    via,
    where: options.where,
    fromBeginning: options.fromBeginning,
  });
  const stats = new TailStats();
  const palette = ctx.out.paint;
  const width = stdout.columns ?? 120;
  const collected: TailRow[] = [];
  const renderer: RowRenderer = json
    ? { row: (row) => collected.push(row), end: () => undefined }
    : format === 'jsonl'
      ? jsonlRenderer(stdout)
      : format === 'json'
        ? jsonArrayRenderer(stdout)
        : options.live
          ? liveRenderer(stdout, {
              columns: opened.source.columns,
              keyColumns: opened.source.keyColumns,
              width,
              palette,
              footer: () => stats.footer(),
            })
          : tableRenderer(stdout, { columns: [...opened.source.columns], width, height: stdout.rows ?? 40, palette });
  opened.source.onReconnecting = (reason, timeoutMs) =>
    ctx.out.warn(`${reason}; reconnecting (trying for up to ${Math.round(timeoutMs / 1000)} s)…`);
  opened.source.onReconnected = () =>
    ctx.out.warn(
      'reconnected to ksqlDB; continuing from the latest rows (rows written while disconnected are not shown)',
    );
  const footer =
    ctx.out.interactive && !options.live
      ? setInterval(() => ctx.out.writeErr(`\r\u001b[2K${stats.footer()}`), 1000)
      : undefined;
  const limit = options.limit;
  const onAbort = () => void opened.source.close();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const row of opened.source) {
      stats.count(row);
      renderer.row(row);
      if (limit !== undefined && stats.rows >= limit) break;
      if (ctx.signal.aborted) break;
    }
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    if (footer) clearInterval(footer);
    if (ctx.out.interactive && !options.live) ctx.out.writeErr('\r\u001b[2K');
    renderer.end();
    await opened.source.close();
    await opened.release();
  }
  return {
    source: opened.displayName,
    via,
    rowCount: stats.rows,
    ...(json ? { rows: collected } : {}),
    statuses: Object.fromEntries(stats.statuses),
    interrupted: ctx.signal.aborted && (limit === undefined || stats.rows < limit),
  };
}

/** --where is pasted into the push query, so it is checked to be one expression before anything is sent. */
function wherePredicate(value: string): string {
  const problem = predicateProblem(value);
  if (!problem) return value;
  const where = `column ${problem.column} of "${value}"`;
  throw new UserError(`--where must be one boolean expression; ${problem.reason} (${where})`, {
    hint: 'Example: --where "CURRENT_STATUS = \'REJECTED\'"',
  });
}
