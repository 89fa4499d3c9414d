import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Context } from '../core/context.js';
import { UserError } from '../core/errors.js';
import { formatCell, jsonSafe } from '../core/sql-cells.js';
import { closest } from '../core/suggest.js';
import { oneOf, positiveInteger } from '../core/parse.js';
import type { KsqlClient, KsqlEntity, QueryInfo, SourceDescription, SourceInfo } from '../ksql-client/index.js';
import type { AppliedStatement } from '../ksql-client/templates.js';
import type { ScriptStep } from '../ksql-client/script.js';
import { defineCommand, type OptionValues, option } from './command.js';

const CONNECTION_OPTIONS = {
  url: option('--url <url>', 'ksqlDB REST endpoint', {
    configKey: 'ksqldbUrl',
    defaultNote: "ksqldbUrl from the config, else the target's ksqlDB",
  }),
  protocol: option('--protocol <protocol>', 'auto (HTTP/2 when the server accepts it), http2 or http1', {
    parse: oneOf('--protocol', ['auto', 'http2', 'http1'] as const),
    default: 'auto',
  }),
};

export interface KsqlRunResult {
  url: string;
  steps: ScriptStep[];
}

export interface KsqlApplyResult {
  url: string;
  created: string[];
  existing: string[];
  statements: AppliedStatement[];
}

export interface KsqlListResult {
  url: string;
  streams: SourceInfo[];
  tables: SourceInfo[];
  queries: QueryInfo[];
}

const applyCommand = defineCommand({
  name: 'apply',
  summary: "Create the demo's streams, tables and queries from templates/ksql (a re-run changes nothing)",
  description:
    'Runs templates/ksql/*.sql in order, each statement on its own so an error names its file and line. The ' +
    'statements use IF NOT EXISTS, and queries start from the earliest offset so data already in the topics counts.',
  options: {
    dir: option('--dir <dir>', 'apply the .sql files of this directory instead of the bundled templates/ksql'),
    ...CONNECTION_OPTIONS,
  },
  examples: [
    { command: 'marketplace ksql apply', description: 'apply the templates to the configured target' },
    { command: 'marketplace ksql apply --target local --json', description: 'machine-readable created/existing lists' },
  ],
  run: async (ctx, { options }): Promise<KsqlApplyResult> =>
    withClient(ctx, options, async (client, { applyTemplates }) => {
      const dir = options.dir === undefined ? undefined : resolve(ctx.cwd, options.dir);
      const result = await applyTemplates(client, {
        dir,
        onStatement: (step) => ctx.out.debug(`${step.file}:${step.line} ${step.outcome} ${step.name ?? ''}`),
      });
      return { url: client.url, ...result };
    }),
  render: (result, ctx) => {
    const { green, dim } = ctx.out.paint;
    for (const step of result.statements) {
      const what = step.name ? `${step.kind?.toLowerCase()} ${step.name}` : 'statement';
      const where = dim(`(${step.file}:${step.line})`);
      if (step.outcome === 'existing') ctx.out.info(`${dim('-')} ${what} already exists ${where}`);
      else
        ctx.out.info(
          `${green('✔')} ${what} ${step.outcome}${step.queryId ? ` by query ${step.queryId}` : ''} ${where}`,
        );
    }
    ctx.out.info(`${result.created.length} created, ${result.existing.length} already there (${result.url}).`);
  },
});

const listCommand = defineCommand({
  name: 'list',
  summary: 'List streams, tables and persistent queries with their status',
  options: CONNECTION_OPTIONS,
  examples: [
    { command: 'marketplace ksql list', description: "what exists on the target's ksqlDB" },
    { command: 'marketplace ksql list --json', description: 'the same as JSON' },
  ],
  run: async (ctx, { options }): Promise<KsqlListResult> =>
    withClient(ctx, options, async (client) => ({
      url: client.url,
      streams: await client.listStreams(),
      tables: await client.listTables(),
      queries: await client.listQueries(),
    })),
  render: (result, ctx) => {
    renderSources(ctx, 'Streams', result.streams);
    renderSources(ctx, 'Tables', result.tables);
    renderQueries(ctx, result.queries);
  },
});

export const ksqlCommand = defineCommand({
  name: 'ksql',
  summary: "Run ksqlDB statements and queries against the target's ksqlDB; apply or list the demo's",
  description:
    'Runs each statement in turn: SELECT goes to /query-stream (rows are printed as they arrive), everything else to ' +
    '/ksql. DEFINE and SET apply to the statements after them. A push query runs until its LIMIT, --max-rows, or Ctrl-C.',
  args: [{ name: 'statement', description: 'SQL to run, e.g. "SHOW STREAMS;" (or use --file)' }],
  options: {
    file: option('-f, --file <file>', 'run the statements in a .sql file'),
    maxRows: option('--max-rows <n>', 'stop each query after n rows (a push query is closed on the server)', {
      parse: positiveInteger('--max-rows'),
    }),
    ...CONNECTION_OPTIONS,
  },
  examples: [
    { command: 'marketplace ksql "SHOW STREAMS;"', description: 'list streams' },
    {
      command: 'marketplace ksql "SELECT * FROM job_status EMIT CHANGES;" --max-rows 10',
      description: 'read 10 rows of a push query',
    },
    { command: 'marketplace ksql -f queries.sql --json', description: 'run a file, results as JSON' },
    { command: 'marketplace ksql apply', description: "create the demo's streams and tables" },
    { command: 'marketplace ksql list', description: 'streams, tables and queries with status' },
  ],
  subcommands: [applyCommand, listCommand],
  run: async (ctx, { args, options }): Promise<KsqlRunResult> => {
    const file = options.file;
    const inline = args[0];
    if ((file === undefined) === (inline === undefined)) {
      throw new UserError(file ? 'give either a statement or --file, not both' : 'no statement given', {
        hint: 'Example: marketplace ksql "SHOW STREAMS;" or marketplace ksql -f statements.sql',
      });
    }
    if (inline !== undefined) rejectSubcommandTypo(inline);
    const sql = file !== undefined ? await readSqlFile(ctx, file) : inline!;
    return withClient(ctx, options, async (client, { runScript }) => {
      const streamRows = !ctx.globals.json;
      const steps = await runScript(client, sql, {
        file,
        maxRows: options.maxRows,
        collectRows: ctx.globals.json,
        signal: ctx.signal,
        onQueryStart: (query) => {
          if (streamRows) ctx.out.data(`${query.columnNames.join('\t')}\n`);
        },
        onRow: (row) => {
          if (streamRows) ctx.out.data(`${row.values.map(formatCell).join('\t')}\n`);
        },
      });
      return { url: client.url, steps: steps.map(jsonSafeStep) };
    });
  },
  render: (result, ctx) => {
    for (const step of result.steps) renderStep(ctx, step);
  },
});

type ClientModule = typeof import('../ksql-client/index.js') & typeof import('../ksql-client/script.js');

/** Resolves the endpoint and key of the target, opens a client, and always closes it. */
async function withClient<T>(
  ctx: Context,
  options: OptionValues<typeof CONNECTION_OPTIONS>,
  use: (client: KsqlClient, module: ClientModule) => Promise<T>,
): Promise<T> {
  const module: ClientModule = {
    ...(await import('../ksql-client/index.js')),
    ...(await import('../ksql-client/script.js')),
  };
  const loaded = await ctx.loadConfig();
  const target = await module.resolveKsqlTarget(loaded);
  const client = new module.KsqlClient({
    ...module.ksqlClientOptions(target, ctx, loaded),
    protocol: options.protocol,
  });
  ctx.out.debug(`ksqlDB: ${client.url} (${target.source})`);
  try {
    return await use(client, module);
  } finally {
    client.close();
  }
}

const SUBCOMMANDS = ['apply', 'list'];

/** One bare word close to a sub-command (`ksql aply`) is a typo of it, not SQL to send to the server. */
function rejectSubcommandTypo(inline: string): void {
  const word = inline.trim();
  if (!/^[A-Za-z][A-Za-z-]*$/.test(word)) return;
  const near = closest(word, SUBCOMMANDS);
  if (near === undefined) return;
  throw new UserError(`unknown command '${word}' (did you mean ${near}?)`, {
    hint: `Run \`marketplace ksql ${near}\`, or end a statement with ";" (e.g. "SHOW STREAMS;")`,
  });
}

async function readSqlFile(ctx: Context, file: string): Promise<string> {
  try {
    const text = await readFile(resolve(ctx.cwd, file), 'utf8');
    // An editor's byte order mark is not part of the first statement (and columns are counted without it).
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(`cannot read ${file}${code === 'ENOENT' ? ': no such file' : code ? ` (${code})` : ''}`, {
      hint: 'Give the path of a .sql file, relative to the current directory.',
    });
  }
}

// ---- rendering ------------------------------------------------------------------------------------------------

function renderStep(ctx: Context, step: ScriptStep): void {
  const { green, dim } = ctx.out.paint;
  if (step.note) ctx.out.info(`${green('✔')} ${step.note}`);
  if (step.query) {
    const q = step.query;
    const how =
      q.endedBy === 'max-rows' ? ', stopped at --max-rows' : q.endedBy === 'interrupted' ? ', interrupted' : '';
    ctx.out.info(dim(`${q.rowCount} row(s)${q.queryId ? ` from ${q.queryId}` : ''}${how}`));
  }
  for (const entity of step.entities ?? []) renderEntity(ctx, entity);
}

function renderEntity(ctx: Context, entity: KsqlEntity): void {
  const { green, dim } = ctx.out.paint;
  for (const warning of (entity.warnings ?? []) as { message: string }[]) ctx.out.warn(warning.message);
  switch (entity['@type']) {
    case 'currentStatus': {
      const status = (entity as { commandStatus: { message: string; queryId?: string | null } }).commandStatus;
      ctx.out.info(
        `${green('✔')} ${status.message}${status.queryId && !status.message.includes(status.queryId) ? ` (query ${status.queryId})` : ''}`,
      );
      return;
    }
    case 'streams':
      renderSources(ctx, 'Streams', (entity as { streams: SourceInfo[] }).streams);
      return;
    case 'tables':
      renderSources(ctx, 'Tables', (entity as { tables: SourceInfo[] }).tables);
      return;
    case 'queries':
      renderQueries(ctx, (entity as { queries: QueryInfo[] }).queries);
      return;
    case 'kafka_topics': {
      const topics = (entity as { topics: { name: string; replicaInfo: number[] }[] }).topics;
      ctx.out.table(
        ['Topic', 'Partitions', 'Replicas'],
        topics.map((t) => [t.name, String(t.replicaInfo.length), String(Math.max(0, ...t.replicaInfo))]),
      );
      return;
    }
    case 'sourceDescription': {
      const d = (entity as { sourceDescription: SourceDescription }).sourceDescription;
      ctx.out.info(`${d.type} ${d.name}  topic ${d.topic}  key ${d.keyFormat}  value ${d.valueFormat}`);
      ctx.out.table(
        ['Column', 'Type', ''],
        d.fields.map((f) => [
          f.name,
          f.schema.type,
          f.type === 'KEY' ? (d.type === 'TABLE' ? 'PRIMARY KEY' : 'KEY') : (f.type ?? ''),
        ]),
      );
      for (const q of [...(d.readQueries ?? []), ...(d.writeQueries ?? [])]) ctx.out.info(dim(`query ${q.id}`));
      return;
    }
    case 'properties': {
      const props = (entity as { properties: { name: string; value: string }[] }).properties;
      ctx.out.table(
        ['Property', 'Value'],
        props.map((p) => [p.name, String(p.value)]),
      );
      return;
    }
    case 'warning_entity':
      ctx.out.warn((entity as { message: string }).message);
      return;
    case 'terminate_query': {
      const t = entity as { queryId: string; wasTerminated: boolean };
      ctx.out.info(
        `${t.wasTerminated ? green('✔') : '-'} query ${t.queryId} ${t.wasTerminated ? 'terminated' : 'was not running'}`,
      );
      return;
    }
    case 'empty':
      ctx.out.info(`${green('✔')} done`);
      return;
    default:
      ctx.out.info(JSON.stringify(entity, null, 2));
  }
}

function renderSources(ctx: Context, title: string, sources: SourceInfo[]): void {
  if (sources.length === 0) {
    ctx.out.info(ctx.out.paint.dim(`No ${title.toLowerCase()}.`));
    return;
  }
  ctx.out.table(
    [title.replace(/s$/, ''), 'Topic', 'Key format', 'Value format', 'Windowed'],
    sources.map((s) => [s.name, s.topic, s.keyFormat ?? '', s.valueFormat ?? '', s.isWindowed ? 'yes' : 'no']),
  );
}

function renderQueries(ctx: Context, queries: QueryInfo[]): void {
  if (queries.length === 0) {
    ctx.out.info(ctx.out.paint.dim('No queries.'));
    return;
  }
  ctx.out.table(
    ['Query', 'Type', 'Status', 'Sinks'],
    queries.map((q) => [q.id, q.queryType ?? '', queryStatus(q), (q.sinks ?? []).join(', ')]),
  );
}

function queryStatus(query: QueryInfo): string {
  if (query.state) return query.state;
  const counts = Object.entries(query.statusCount ?? {});
  return counts.length === 0
    ? ''
    : counts.map(([state, n]) => (counts.length === 1 ? state : `${state}:${n}`)).join(' ');
}

function jsonSafeStep(step: ScriptStep): ScriptStep {
  return step.query
    ? { ...step, query: { ...step.query, rows: step.query.rows.map((row) => row.map(jsonSafe)) } }
    : step;
}
