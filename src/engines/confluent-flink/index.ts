import { randomBytes } from 'node:crypto';
import {
  FlinkStatements,
  HttpCore,
  isConfluentApiError,
  SchemaRegistry,
  type FlinkStatement,
} from '../../confluent-api/index.js';
import { waitForStatementRunning } from '../../confluent-api/flink-statements.js';
import type { LoadedConfig } from '../../core/config.js';
import { OperationError, UserError } from '../../core/errors.js';
import { StateStore, type ResourceRecord } from '../../core/state-store.js';
import type { QueryFacts, SourceFacts } from '../../lineage/graph.js';
import { INPUT_TOPICS } from '../../producers/records.js';
import type { TailRow } from '../../tail/source.js';
import type { EngineContext, EngineJob, StreamEngine } from '../engine.js';
import { statementRowSource, typed } from './tail.js';
import {
  isUpsertTable,
  keyOfTable,
  loadCloudFlinkTemplates,
  mentionsTable,
  statementName,
  type CloudStatementTemplate,
} from './templates.js';

const UP_HINT = 'Run `marketplace up --engine flink` to provision the compute pool, the Flink key and the statements.';

/**
 * Confluent Cloud for Apache Flink, as `up --engine flink` provisioned it (the state file holds the region's endpoint,
 * the compute pool and the service account's Flink key): what runs is the demo's statements, tail runs a SELECT
 * statement and reads its paged results, lineage draws the statements over the tables. Provisioning itself is the
 * resource graph's (src/provisioning/flink-resources.ts), one node per statement.
 */
export async function confluentFlinkEngine(options: {
  loaded: LoadedConfig;
  ctx: EngineContext;
}): Promise<StreamEngine> {
  const config = options.loaded.values;
  const records = (await new StateStore(options.loaded.dir).read()).resources;
  const need = (id: string): ResourceRecord => {
    const record = records[id];
    if (!record) throw new UserError(`no ${id} of Confluent Cloud Flink in .marketplace/state.json`, { hint: UP_HINT });
    return record;
  };
  const region = need('flink-region');
  const key = need('flink-api-key');
  const secret = key.secrets?.secret;
  if (!secret)
    throw new UserError(`Flink API key ${key.id} has no secret in .marketplace/state.json`, { hint: UP_HINT });
  const { clock, signal } = options.ctx;
  const http = new HttpCore({
    baseUrl: config.cloudApiUrl,
    cloudCredentials: { key: key.id, secret },
    clock,
    secrets: options.ctx.secrets,
    timeoutMs: config.requestTimeout,
    signal,
  });
  const statements = new FlinkStatements(http, {
    endpoint: String(region.attributes?.endpoint),
    organizationId: String(region.attributes?.organizationId),
    environmentId: need('environment').id,
    credentials: { key: key.id, secret },
  });
  const templates = loadCloudFlinkTemplates();
  const prefix = config.prefix;
  const created = templates.filter((t) => t.kind === 'table');
  const tables = [...INPUT_TOPICS, ...created.map((t) => t.table)];
  const demoStatements = async () =>
    (await statements.list()).filter((s) => templates.some((t) => statementName(prefix, t) === s.name));
  const inserts = async () => {
    const found = await demoStatements();
    return templates
      .filter((t) => t.kind === 'insert')
      .map((t) => ({ template: t, statement: found.find((s) => s.name === statementName(prefix, t)) }))
      .filter((pair): pair is { template: CloudStatementTemplate; statement: FlinkStatement } => !!pair.statement);
  };
  const tableNamed = (name: string) => {
    const table = tables.find((t) => t.toLowerCase() === name.toLowerCase());
    if (!table)
      throw new UserError(`no table named ${name}; known: ${tables.join(', ')}`, {
        hint: 'On Confluent Cloud every demo topic is a table; check the name.',
      });
    return table;
  };
  /**
   * Each table's value subject and its latest version, read live with the SR key `up` made; none without one (a
   * deployment from before data contracts, or a registry that cannot answer: lineage is still worth drawing).
   */
  const dataContracts = async (topics: string[]): Promise<Map<string, string>> => {
    const found = new Map<string, string>();
    const registry = records['schema-registry'];
    const srKey = records['schema-registry-api-key'];
    if (!registry?.attributes?.endpoint || !srKey?.secrets?.secret) return found;
    const schemas = new SchemaRegistry(http, {
      endpoint: String(registry.attributes.endpoint),
      credentials: { key: srKey.id, secret: srKey.secrets.secret },
    });
    for (const topic of topics) {
      const latest = await schemas.findLatest(`${topic}-value`).catch((error: unknown) => {
        if (signal.aborted || !isConfluentApiError(error)) throw error;
        return undefined;
      });
      if (latest) found.set(topic, `${latest.subject} v${latest.version}`);
    }
    return found;
  };
  const select = async (sql: string, fromBeginning: boolean) => {
    const name = `${prefix}-tail-${randomBytes(4).toString('hex')}`;
    await statements.create({
      name,
      statement: sql,
      properties: {
        'sql.current-catalog': need('environment').name ?? need('environment').id,
        'sql.current-database': need('kafka-cluster').name ?? need('kafka-cluster').id,
        'sql.tables.scan.startup.mode': fromBeginning ? 'earliest-offset' : 'latest-offset',
      },
      computePoolId: need('compute-pool').id,
      principal: need('service-account').id,
    });
    return name;
  };

  return {
    name: 'flink',
    label: 'Confluent Cloud for Apache Flink',
    jobNoun: 'statement',
    resourceId: 'flink-statements',
    resourceTitle: 'Flink statements (templates/flink-cloud)',
    endpoints: () => ({ 'flink endpoint': String(region.attributes?.endpoint) }),
    // The region's endpoint comes from the Flink region Confluent lists, not from a setting.
    endpointKeys: ['cloudApiUrl'],
    requireReachable: async () => {
      await statements.list();
    },
    inspect: async () => {
      const found = await demoStatements();
      const ready = templates.every((t) =>
        found.some((s) => s.name === statementName(prefix, t) && ['RUNNING', 'COMPLETED'].includes(s.status.phase)),
      );
      return { present: found.length > 0, ready, changes: [], attributes: {} };
    },
    apply: async () => {
      throw new OperationError('on Confluent Cloud the statements are part of the resource graph', { hint: UP_HINT });
    },
    remove: async () => {
      throw new OperationError('on Confluent Cloud the statements are part of the resource graph', {
        hint: 'Run `marketplace down`.',
      });
    },
    leftovers: async () =>
      (await statements.list()).filter((s) => s.name.startsWith(`${prefix}-`)).map((s) => `Flink statement ${s.name}`),
    jobs: async () =>
      (await inserts()).map(
        ({ template, statement }): EngineJob => ({
          id: statement.name,
          name: template.table,
          state: statement.status.phase,
          sources: INPUT_TOPICS.filter((topic) => mentionsTable(template.sql, topic)),
          sinks: [template.table],
          ...(statement.status.detail ? { detail: statement.status.detail } : {}),
        }),
      ),
    lineage: async () => {
      const running = await inserts();
      const sources: SourceFacts[] = tables.map((table) => {
        const template = created.find((t) => t.table === table);
        return {
          name: table,
          type: template && isUpsertTable(template) ? 'TABLE' : 'STREAM',
          topic: table,
          readQueries: running
            .filter(({ template: t }) => mentionsTable(t.sql, table) && t.table !== table)
            .map(({ statement }) => statement.name),
          writeQueries: running.filter(({ template: t }) => t.table === table).map(({ statement }) => statement.name),
        };
      });
      const contracts = await dataContracts(tables);
      for (const source of sources) {
        const contract = contracts.get(source.topic);
        if (contract) source.contract = contract;
      }
      const queries: QueryFacts[] = running.map(({ template, statement }) => ({
        id: statement.name,
        state: statement.status.phase,
        sinks: [template.table],
        sinkTopics: [template.table],
      }));
      return { sources, queries };
    },
    tail: async (request) => {
      const table = tableNamed(request.name);
      const where = request.where ? ` WHERE ${request.where}` : '';
      const name = await select(`SELECT * FROM \`${table}\`${where}`, request.fromBeginning);
      const template = created.find((t) => t.table === table);
      const keyColumn = template ? keyOfTable(template)?.name : undefined;
      try {
        const source = await statementRowSource({
          statements,
          name,
          keyColumns: keyColumn ? [keyColumn] : [],
          clock,
        });
        return { source, displayName: table, release: async () => source.close() };
      } catch (error) {
        await statements.delete(name).catch(() => undefined);
        throw error;
      }
    },
    topicKey: async (topic) => {
      const template = created.find((t) => t.table === topic);
      return template ? keyOfTable(template) : undefined;
    },
    tableRows: async (name, signal) => {
      const table = tableNamed(name);
      const template = created.find((t) => t.table === table);
      const keyColumn = template ? keyOfTable(template)?.name : undefined;
      const statementId = await select(`SELECT * FROM \`${table}\``, true);
      try {
        const started = await waitForStatementRunning(statements, statementId, { clock, signal });
        const columns = started.status.traits?.schema?.columns ?? [];
        const keyIndex = columns.findIndex((column) => column.name === keyColumn);
        // The changelog applied row by row: the current rows are there once a page comes back with nothing new.
        const current = new Map<string, TailRow>();
        let token: string | undefined;
        let pages = 0;
        for (;;) {
          signal?.throwIfAborted();
          const page = await statements.results(statementId, token);
          pages++;
          for (const [index, row] of page.rows.entries()) {
            const key = keyIndex >= 0 ? String(row.row[keyIndex]) : `${pages}/${index}`;
            if (row.op === 1 || row.op === 3) current.delete(key);
            else current.set(key, Object.fromEntries(columns.map((c, i) => [c.name, typed(row.row[i], c.type.type)])));
          }
          if (page.next === undefined || (page.rows.length === 0 && pages > 1)) break;
          token = page.next;
          if (page.rows.length === 0) await clock.sleep(1_000, signal);
        }
        return [...current.values()];
      } finally {
        await statements.delete(statementId).catch(() => undefined);
      }
    },
    close: async () => undefined,
  };
}
