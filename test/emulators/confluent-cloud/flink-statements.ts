import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { lastingAdmin } from '../../../src/kafka/lasting-admin.js';
import type { ResultRow } from '../../../src/flink-client/gateway.js';
import { LocalFlink, LocalFlinkFailure, type RunningQuery } from './flink-backend.js';
import {
  createdTable,
  droppedTable,
  FlinkSqlError,
  inferredTable,
  mentions,
  parseCreateTable,
  statementKind,
  valueSchemaOf,
  type CatalogTable,
} from './flink-sql.js';
import { EmulatorHttpError } from './http-error.js';
import { paginate } from './pagination.js';
import type { Call } from './router.js';
import { latestSchema } from './schema-registry.js';
import type { DataPlaneModule, RunningEmulator } from './server.js';
import type { ClusterRecord, EnvironmentRecord, StatementRecord } from './state.js';

const BASE = '/sql/v1/organizations/{organization_id}/environments/{environment_id}';
const iso = (ms: number) => new Date(ms).toISOString();
const RESULT_PAGE_ROWS = 100;
const MAX_BUFFERED_ROWS = 100_000;
const OPS: Record<ResultRow['kind'], number> = { INSERT: 0, UPDATE_BEFORE: 1, UPDATE_AFTER: 2, DELETE: 3 };
const WRITE_SUBJECT = ['ResourceOwner', 'DeveloperManage', 'DeveloperWrite'];
const READ_SUBJECT = [...WRITE_SUBJECT, 'DeveloperRead'];

/** What runs a statement on the local Flink, while it runs. */
interface Runtime {
  starting?: Promise<void>;
  query?: RunningQuery;
  savepoint?: string;
  /** Set by a delete while the statement's job is being stopped: it stays DELETING until that has ended. */
  stopping?: Promise<void>;
  stopped?: boolean;
}

/**
 * sql/v1 Flink statements on the regional endpoint, run for real on the local Flink (flink-backend.ts).
 *
 * The regional endpoint (a region's http_endpoint) answers every call with a 307 to the "cell" that serves it, on
 * another port: a client must follow the redirect itself and keep its Authorization header, which HTTP clients drop
 * when the host changes (Confluent's CLI does this by hand for the same reason). The cell is this emulator's own
 * handler, so every exchange is validated against flink-gateway-v1 and recorded like the others, and faults apply.
 *
 * A statement is PENDING until statementStartMs has passed and its compute pool is PROVISIONED with a CFU to spare;
 * then CREATE TABLE and DROP TABLE end COMPLETED, an INSERT is RUNNING while its Flink job runs, and a SELECT is
 * RUNNING while its rows are read into its paged results (op codes, every value a string). What Flink or the access
 * checks refuse ends FAILED with the reason in the statement's exceptions. Deletes are asynchronous (DELETING for
 * statementDeleteMs, and until its job has stopped); stop and resume go through PUT, guarded by
 * metadata.resource_version.
 */
export const flinkStatementsModule: DataPlaneModule = async (emulator, options) => {
  const { router, state } = emulator;
  const local = options.flink && options.kafka ? new LocalFlink(options.flink, options.kafka.plaintext) : undefined;
  const runtimes = new Map<string, Runtime>();
  /** Tables CREATE TABLE made, by `<environment id>/<cluster id>`. */
  const catalogs = new Map<string, Map<string, CatalogTable>>();
  let admin: Admin | undefined;
  const kafkaAdmin = async (): Promise<Admin> => {
    if (!options.kafka) throw new LocalFlinkFailure('the emulator has no Kafka backend', 'TableException');
    if (!admin) {
      const created = lastingAdmin(
        new Kafka({
          clientId: 'confluent-cloud-emulator-flink',
          brokers: [options.kafka.plaintext],
          logLevel: logLevel.NOTHING,
        }),
      );
      await created.connect();
      admin = created;
    }
    return admin;
  };

  // The regional endpoint redirects to the cell, which is the emulator's own handler on another port.
  const cell = createServer(emulator.requestListener);
  const front = createServer((req, res) => {
    res.writeHead(307, { Location: `${cellUrl}${req.url ?? '/'}`, 'Content-Length': '0' }).end();
  });
  const listen = (server: Server) =>
    new Promise<string>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
    });
  const cellUrl = await listen(cell);
  emulator.flinkEndpoint = await listen(front);

  emulator.resourceAuthenticators['flink-region'] = ({ key, secret }, params, now) => {
    const record = state.apiKeys.get(key);
    if (
      !record ||
      record.secret !== secret ||
      record.resource?.kind !== 'Region' ||
      record.resource.environmentId !== params['environment_id'] ||
      now < record.usableAt
    )
      throw new EmulatorHttpError(401, 'user_unauthenticated', 'Valid authentication credentials must be provided', {
        headers: { 'WWW-Authenticate': 'Basic error="invalid_key", error_description="The API Key is invalid"' },
      });
    return { kind: 'resource', key: record };
  };

  const dropEnvironment = (environmentId: string) => {
    for (const [id, statement] of [...state.statements]) {
      if (statement.environmentId !== environmentId) continue;
      state.statements.delete(id);
      void stopRunning(statement).catch((error: unknown) =>
        emulator.internalErrors.push(`stopping statement ${statement.name}: ${String(error)}`),
      );
    }
    for (const key of [...catalogs.keys()]) {
      if (!key.startsWith(`${environmentId}/`)) continue;
      const tables = [...catalogs.get(key)!.values()];
      catalogs.delete(key);
      void deleteTopics(tables.map((table) => table.topic)).catch((error: unknown) =>
        emulator.internalErrors.push(`deleting the topics of ${key}'s tables: ${String(error)}`),
      );
    }
  };
  state.environmentGoneHooks.push(dropEnvironment);
  emulator.clusterDeletedHooks.push(async (cluster) => {
    const key = `${cluster.environmentId}/${cluster.id}`;
    const tables = [...(catalogs.get(key)?.values() ?? [])];
    catalogs.delete(key);
    await deleteTopics(tables.map((table) => table.topic));
  });

  const url = (path: string) => `${emulator.flinkEndpoint}${path}`;
  const statementPath = (s: StatementRecord) =>
    `/sql/v1/organizations/${s.organizationId}/environments/${s.environmentId}/statements/${s.name}`;

  // ---- access ------------------------------------------------------------------------------------------------------
  const scope = (call: Call): EnvironmentRecord => {
    if (call.params['organization_id'] !== state.organizationId)
      throw new EmulatorHttpError(
        404,
        'resource_not_found',
        `Organization ${call.params['organization_id']} not found`,
      );
    const environment = state.liveEnvironment(call.params['environment_id']!);
    if (!environment)
      throw new EmulatorHttpError(404, 'resource_not_found', `Environment ${call.params['environment_id']} not found`);
    const owner = call.caller.kind === 'resource' ? call.caller.key.ownerId : '';
    const envCrn = state.environmentCrn(environment.id);
    if (!state.grants(owner, ['FlinkDeveloper', 'FlinkAdmin'], envCrn, environment.id, call.now))
      throw new EmulatorHttpError(
        403,
        'forbidden_access',
        `User:${owner} is not authorized to use Flink in environment ${environment.id} (needs FlinkDeveloper)`,
      );
    return environment;
  };
  const statementOr404 = async (call: Call, name: string): Promise<StatementRecord> => {
    const statement = state.statements.get(`${call.params['environment_id']}/${name}`);
    if (!statement || !(await advance(statement, call.now)))
      throw new EmulatorHttpError(404, 'resource_not_found', `Statement "${name}" not found`);
    return statement;
  };

  // ---- views -------------------------------------------------------------------------------------------------------
  const view = (s: StatementRecord) => ({
    api_version: 'sql/v1',
    kind: 'Statement',
    metadata: {
      self: url(statementPath(s)),
      created_at: iso(s.createdAt),
      updated_at: iso(s.updatedAt),
      uid: s.uid,
      resource_version: String(s.resourceVersion),
      resource_name: `${state.environmentCrn(s.environmentId)}/statement=${s.name}`,
      labels: s.labels,
    },
    name: s.name,
    organization_id: s.organizationId,
    environment_id: s.environmentId,
    spec: {
      statement: s.statement,
      properties: s.properties,
      ...(s.computePoolId ? { compute_pool_id: s.computePoolId } : {}),
      principal: s.principal,
      stopped: s.stopped,
    },
    status: {
      phase: s.phase,
      detail: s.detail,
      traits: {
        sql_kind: s.kind === 'INSERT_INTO' ? 'INSERT_INTO' : s.kind,
        is_bounded: s.kind !== 'INSERT_INTO' && s.kind !== 'SELECT',
        is_append_only: true,
        schema: { columns: s.columns.map((c) => ({ name: c.name, type: { type: c.type, nullable: c.nullable } })) },
      },
      network_kind: 'PUBLIC',
      identity: `${state.orgCrn()}/${s.principal.startsWith('sa-') ? 'service-account' : 'user'}=${s.principal}`,
      ...(s.endedAt ? { end_time: iso(s.endedAt) } : {}),
    },
  });

  // ---- lifecycle ---------------------------------------------------------------------------------------------------
  const touch = (s: StatementRecord, phase: string, detail: string) => {
    if (s.phase === phase && s.detail === detail) return;
    s.phase = phase;
    s.detail = detail;
    s.resourceVersion++;
    s.updatedAt = Date.now();
    if (['COMPLETED', 'FAILED', 'STOPPED'].includes(phase)) s.endedAt ??= Date.now();
  };
  const fail = (s: StatementRecord, name: string, message: string) => {
    s.exceptions.unshift({ name, message, timestamp: iso(Date.now()) });
    s.exceptions.splice(10);
    touch(s, 'FAILED', message);
  };

  /** Brings a statement up to date; false when it is gone. */
  const advance = async (s: StatementRecord, now: number): Promise<boolean> => {
    const id = `${s.environmentId}/${s.name}`;
    if (s.goneAt !== undefined) {
      const stopping = runtimes.get(id);
      if (now < s.goneAt || (stopping?.stopping && !stopping.stopped)) return true;
      state.statements.delete(id);
      runtimes.delete(id);
      return false;
    }
    const runtime = runtimes.get(id) ?? {};
    runtimes.set(id, runtime);
    if (s.phase === 'PENDING' && !s.stopped && !runtime.starting && now >= s.startAt) {
      const pool = s.computePoolId ? state.computePools.get(s.computePoolId) : undefined;
      const running = [...state.statements.values()].filter(
        (other) => other.computePoolId === s.computePoolId && other.phase === 'RUNNING' && other.goneAt === undefined,
      ).length;
      if (!pool || pool.goneAt !== undefined) touch(s, 'PENDING', `Compute pool ${s.computePoolId} is not available`);
      else if (now < pool.readyAt) touch(s, 'PENDING', `Waiting for compute pool ${pool.id} to be provisioned`);
      else if (s.kind !== 'CREATE_TABLE' && s.kind !== 'DROP_TABLE' && running >= pool.maxCfu)
        touch(s, 'PENDING', `Compute pool ${pool.id} is at its maximum of ${pool.maxCfu} CFU`);
      else if (!local) touch(s, 'PENDING', 'Waiting for resources (the emulator has no Flink backend)');
      else {
        runtime.starting = start(s, runtime)
          .catch((error: unknown) => {
            if (error instanceof LocalFlinkFailure) fail(s, error.exception, error.message);
            else if (error instanceof FlinkSqlError) fail(s, error.exception, error.message);
            else {
              emulator.internalErrors.push(`running statement ${s.name}: ${String(error)}`);
              fail(s, 'InternalError', String(error));
            }
          })
          .finally(() => {
            runtime.starting = undefined;
          });
        // DDL is quick: answer with its outcome when it is there within a moment, as the real service tends to.
        await Promise.race([runtime.starting, new Promise((resolve) => setTimeout(resolve, 50))]);
      }
    }
    if (s.kind === 'INSERT_INTO' && s.jobId && local && (s.phase === 'RUNNING' || s.phase === 'DEGRADED')) {
      const job = await local.jobState(s.jobId);
      if (job.state === 'RUNNING') touch(s, 'RUNNING', '');
      else if (job.state === 'RESTARTING' || job.state === 'FAILING') {
        if (job.exception && s.exceptions[0]?.message !== job.exception) fail(s, 'FlinkJobException', job.exception);
        touch(s, 'DEGRADED', job.exception ?? 'The job is restarting');
      } else if (job.state === 'FAILED') fail(s, 'FlinkJobException', job.exception ?? 'The job failed');
      else if (job.state === 'FINISHED') touch(s, 'COMPLETED', '');
      else if (job.state === 'CANCELED' || job.state === 'UNKNOWN') touch(s, 'FAILED', 'The job was cancelled');
    }
    return true;
  };

  const start = async (s: StatementRecord, runtime: Runtime): Promise<void> => {
    const { environment, cluster } = resolveCatalog(s);
    const catalogKey = `${environment.id}/${cluster.id}`;
    const tables = catalogOf(environment.id, catalogKey);
    const principal = s.principal;
    const now = Date.now();
    if (!state.canAdministerCluster(principal, cluster, now)) {
      throw new LocalFlinkFailure(
        `User:${principal} is not authorized to access the topics of Kafka cluster ${cluster.id} (database ${cluster.displayName}): ` +
          'grant the statement principal access to the topics, e.g. CloudClusterAdmin on the cluster',
        'TopicAuthorizationException',
      );
    }
    const registry = state.schemaRegistries.get(environment.id);
    const subjectCrn = (subject: string) =>
      `${state.environmentCrn(environment.id)}/schema-registry=${registry?.id ?? ''}/subject=${subject}`;
    const mayRead = (table: CatalogTable) =>
      state.grants(principal, READ_SUBJECT, subjectCrn(`${table.name}-value`), environment.id, now);
    switch (s.kind) {
      case 'CREATE_TABLE': {
        const parsed = parseCreateTable(s.statement);
        if (tables.some((table) => table.name === parsed.name)) {
          if (parsed.ifNotExists) return touch(s, 'COMPLETED', `Table '${parsed.name}' already exists.`);
          throw new FlinkSqlError(
            `Table (or view) ${parsed.name} already exists in Catalog ${environment.displayName}.`,
            'TableAlreadyExistException',
          );
        }
        const table = createdTable(parsed);
        if (
          !registry ||
          !state.grants(principal, WRITE_SUBJECT, subjectCrn(`${table.name}-value`), environment.id, now)
        )
          throw new LocalFlinkFailure(
            `User:${principal} is not authorized to register the schema of ${table.name} (subject ${table.name}-value): grant it ResourceOwner on the subject`,
            'SchemaRegistryAuthorizationException',
          );
        await local!.validateTable(tables, table);
        const existing = new Set(await (await kafkaAdmin()).listTopics());
        if (existing.has(table.topic))
          throw new FlinkSqlError(`Topic ${table.topic} already exists but is not a table of this database.`);
        await (await kafkaAdmin()).createTopics({
          waitForLeaders: true,
          topics: [{ topic: table.topic, numPartitions: table.partitions, replicationFactor: 1 }],
        });
        registerSchema(environment.id, `${table.name}-value`, valueSchemaOf(table));
        catalogs.get(catalogKey)!.set(table.name, table);
        return touch(s, 'COMPLETED', `Table '${table.name}' created.`);
      }
      case 'DROP_TABLE': {
        const dropped = droppedTable(s.statement);
        const table = tables.find((t) => t.name === dropped.name);
        if (!table) {
          if (dropped.ifExists) return touch(s, 'COMPLETED', `Table '${dropped.name}' does not exist.`);
          throw new FlinkSqlError(`Table with identifier '${dropped.name}' does not exist.`, 'TableNotExistException');
        }
        // Confluent Cloud deletes the topic and every version of its subjects with the table.
        await deleteTopics([table.topic]);
        for (const suffix of ['-value', '-key']) registry?.subjects.delete(`${table.name}${suffix}`);
        catalogs.get(catalogKey)!.delete(table.name);
        return touch(s, 'COMPLETED', `Table '${table.name}' dropped.`);
      }
      case 'INSERT_INTO':
      case 'SELECT': {
        for (const table of tables.filter((t) => !t.created && mentions(s.statement, t.name)))
          if (!mayRead(table))
            throw new LocalFlinkFailure(
              `User:${principal} is not authorized to read subject ${table.name}-value: grant it a role on the subject`,
              'SchemaRegistryAuthorizationException',
            );
        if (s.kind === 'INSERT_INTO') {
          s.jobId = await local!.insert(s.name, tables, s.statement, runtime.savepoint);
          runtime.savepoint = undefined;
          return touch(s, 'RUNNING', '');
        }
        // Confluent Cloud leaves its system column out of SELECT *: it shows only when named.
        const hidden = (name: string) => name === '$rowtime' && !s.statement.includes('$rowtime');
        runtime.query = await local!.select(
          s.name,
          tables,
          s.statement,
          (row, columns) => {
            if (s.rows.length >= MAX_BUFFERED_ROWS) return;
            const values = row.fields.filter((_, i) => !hidden(columns[i] ?? ''));
            s.rows.push({ op: OPS[row.kind], row: values.map(asText) });
          },
          (error) => {
            if (s.goneAt !== undefined || s.stopped) return;
            if (error) fail(s, 'FlinkJobException', error.message);
            else touch(s, 'COMPLETED', '');
          },
          // Confluent's property for where tables are read from; earliest unless it says otherwise.
          s.properties['sql.tables.scan.startup.mode'],
        );
        s.columns = runtime.query.columns.filter((column) => !hidden(column.name));
        return touch(s, 'RUNNING', '');
      }
      default:
        throw new FlinkSqlError(
          'The emulator runs CREATE TABLE, DROP TABLE, INSERT INTO and SELECT statements only',
          'UnsupportedOperationException',
        );
    }
  };

  const stopRunning = async (s: StatementRecord, withSavepoint = false): Promise<void> => {
    const runtime = runtimes.get(`${s.environmentId}/${s.name}`);
    await runtime?.starting;
    if (runtime?.query) {
      await runtime.query.stop();
      runtime.query = undefined;
    }
    if (s.jobId && local) {
      const jobId = s.jobId;
      s.jobId = undefined;
      if (withSavepoint && runtime) {
        runtime.savepoint = await local.jobs.stopWithSavepoint(jobId).catch(() => undefined);
        if (!runtime.savepoint) await local.cancel(jobId);
      } else await local.cancel(jobId);
      await local.jobs.waitEnded(jobId).catch(() => undefined);
    }
  };

  /** The environment and Kafka cluster (catalog and database) a statement's properties name. */
  const resolveCatalog = (s: StatementRecord): { environment: EnvironmentRecord; cluster: ClusterRecord } => {
    const catalog = s.properties['sql.current-catalog'];
    const database = s.properties['sql.current-database'];
    const environment = state.liveEnvironment(s.environmentId)!;
    if (!catalog || !database)
      throw new FlinkSqlError(
        'A table name must be qualified with its catalog and database unless sql.current-catalog and sql.current-database are set',
        'ValidationException',
      );
    if (catalog !== environment.displayName && catalog !== environment.id)
      throw new FlinkSqlError(`Catalog '${catalog}' does not exist.`, 'CatalogNotExistException');
    const cluster = [...state.clusters.values()].find(
      (c) => c.environmentId === environment.id && (c.displayName === database || c.id === database),
    );
    if (!cluster)
      throw new FlinkSqlError(
        `Database '${database}' does not exist in Catalog '${catalog}'.`,
        'DatabaseNotExistException',
      );
    return { environment, cluster };
  };

  /** The tables of one database: those CREATE TABLE made, and one per topic with a value subject (inferred). */
  const catalogOf = (environmentId: string, key: string): CatalogTable[] => {
    let created = catalogs.get(key);
    if (!created) {
      created = new Map();
      catalogs.set(key, created);
    }
    const inferred: CatalogTable[] = [];
    for (const subject of state.schemaRegistries.get(environmentId)?.subjects.keys() ?? []) {
      const topic = subject.replace(/-value$/, '');
      if (topic === subject || created.has(topic)) continue;
      const schema = latestSchema(emulator, environmentId, subject);
      if (schema) inferred.push(inferredTable(topic, schema, 6));
    }
    return [...inferred, ...created.values()];
  };

  const registerSchema = (environmentId: string, subject: string, schema: string) => {
    const registry = state.schemaRegistries.get(environmentId);
    if (!registry) return;
    let id = registry.schemaIds.get(schema);
    if (id === undefined) {
      id = 100_001 + registry.schemaIds.size;
      registry.schemaIds.set(schema, id);
    }
    registry.subjects.set(subject, {
      name: subject,
      versions: [{ version: 1, id, schemaType: 'JSON', schema }],
      softDeleted: false,
    });
  };

  const deleteTopics = async (topics: string[]) => {
    if (topics.length === 0 || !options.kafka) return;
    const kafka = await kafkaAdmin();
    const existing = new Set(await kafka.listTopics());
    const present = topics.filter((topic) => existing.has(topic));
    if (present.length > 0) await kafka.deleteTopics({ topics: present });
  };

  // ---- routes ------------------------------------------------------------------------------------------------------
  router.add({
    method: 'GET',
    template: `${BASE}/statements`,
    auth: 'flink-region',
    handler: async (call) => {
      const environment = scope(call);
      const pool = call.query.get('spec.compute_pool_id') ?? undefined;
      const statements: StatementRecord[] = [];
      for (const s of [...state.statements.values()]) {
        if (s.environmentId !== environment.id || (pool && s.computePoolId !== pool)) continue;
        if (await advance(s, call.now)) statements.push(s);
      }
      const path = `/sql/v1/organizations/${state.organizationId}/environments/${environment.id}/statements`;
      const page = paginate(statements.sort((a, b) => a.createdAt - b.createdAt).map(view), call.query, url(path), {
        'spec.compute_pool_id': pool,
      });
      return {
        status: 200,
        body: {
          api_version: 'sql/v1',
          kind: 'StatementList',
          metadata: { self: url(path), ...(page.metadata.next ? { next: page.metadata.next } : {}) },
          data: page.data,
        },
      };
    },
  });

  router.add({
    method: 'POST',
    template: `${BASE}/statements`,
    auth: 'flink-region',
    handler: (call) => {
      const environment = scope(call);
      const input = (call.body ?? {}) as {
        name?: string;
        metadata?: { labels?: Record<string, string> };
        spec?: {
          statement?: string;
          properties?: Record<string, string>;
          compute_pool_id?: string;
          principal?: string;
          stopped?: boolean;
        };
      };
      const name = String(input.name ?? '');
      if (!name || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(name) || name.length > 100)
        throw new EmulatorHttpError(422, 'invalid_input', 'name must be a valid statement name', { pointer: '/name' });
      const spec = input.spec ?? {};
      if (!spec.statement)
        throw new EmulatorHttpError(422, 'invalid_input', 'spec.statement is required', { pointer: '/spec/statement' });
      const id = `${environment.id}/${name}`;
      const existing = state.statements.get(id);
      if (existing && existing.goneAt === undefined)
        throw new EmulatorHttpError(
          409,
          'already_exists',
          `Statement name "${name}" already exists in environment ${environment.id}`,
          { pointer: '/name' },
        );
      if (existing) throw new EmulatorHttpError(409, 'already_exists', `Statement "${name}" is still being deleted`);
      const poolId = spec.compute_pool_id;
      if (!poolId)
        throw new EmulatorHttpError(
          400,
          'bad_request',
          `spec.compute_pool_id is required: environment ${environment.id} has no default compute pool`,
          { pointer: '/spec/compute_pool_id' },
        );
      const pool = state.computePools.get(poolId);
      if (!pool || pool.environmentId !== environment.id || pool.goneAt !== undefined)
        throw new EmulatorHttpError(400, 'bad_request', `Compute pool ${poolId} not found in ${environment.id}`, {
          pointer: '/spec/compute_pool_id',
        });
      const owner = call.caller.kind === 'resource' ? call.caller.key.ownerId : state.adminUserId;
      const principal = spec.principal ?? owner;
      if (principal !== state.adminUserId && !state.serviceAccounts.has(principal))
        throw new EmulatorHttpError(400, 'bad_request', `Principal ${principal} does not exist`, {
          pointer: '/spec/principal',
        });
      if (
        principal !== owner &&
        !state.grants(owner, ['Assigner'], `${state.orgCrn()}/service-account=${principal}`, environment.id, call.now)
      )
        throw new EmulatorHttpError(
          403,
          'forbidden_access',
          `User:${owner} may not run statements as ${principal} (needs Assigner on it)`,
          { pointer: '/spec/principal' },
        );
      const statement: StatementRecord = {
        name,
        organizationId: state.organizationId,
        environmentId: environment.id,
        uid: randomUUID(),
        statement: spec.statement,
        properties: spec.properties ?? {},
        computePoolId: poolId,
        principal,
        stopped: spec.stopped === true,
        labels: input.metadata?.labels ?? {},
        kind: statementKind(spec.statement),
        phase: spec.stopped ? 'STOPPED' : 'PENDING',
        detail: '',
        resourceVersion: 1,
        createdAt: call.now,
        updatedAt: call.now,
        startAt: call.now + emulator.durations.statementStartMs,
        exceptions: [],
        columns: [],
        rows: [],
      };
      state.statements.set(id, statement);
      return { status: 201, body: view(statement) };
    },
  });

  router.add({
    method: 'GET',
    template: `${BASE}/statements/{statement_name}`,
    auth: 'flink-region',
    handler: async (call) => {
      scope(call);
      return { status: 200, body: view(await statementOr404(call, call.params['statement_name']!)) };
    },
  });

  router.add({
    method: 'PUT',
    template: `${BASE}/statements/{statement_name}`,
    auth: 'flink-region',
    handler: async (call) => {
      scope(call);
      const s = await statementOr404(call, call.params['statement_name']!);
      const input = (call.body ?? {}) as {
        metadata?: { resource_version?: string };
        spec?: { statement?: string; stopped?: boolean; compute_pool_id?: string; principal?: string };
      };
      if (input.metadata?.resource_version !== String(s.resourceVersion))
        throw new EmulatorHttpError(
          409,
          'conflict',
          `Statement ${s.name} changed since it was read (resource_version ${String(input.metadata?.resource_version)}, now ${s.resourceVersion}): read it again and retry`,
        );
      if (s.goneAt !== undefined) throw new EmulatorHttpError(409, 'conflict', `Statement ${s.name} is being deleted`);
      const spec = input.spec ?? {};
      if (spec.statement !== undefined && spec.statement !== s.statement)
        throw new EmulatorHttpError(400, 'bad_request', 'spec.statement cannot be changed', {
          pointer: '/spec/statement',
        });
      if (spec.stopped === true && !s.stopped) {
        s.stopped = true;
        touch(s, 'STOPPING', '');
        void stopRunning(s, true)
          .then(() => touch(s, 'STOPPED', ''))
          .catch((error: unknown) => fail(s, 'StopException', String(error)));
      } else if (spec.stopped === false && s.stopped) {
        s.stopped = false;
        s.startAt = call.now;
        if (spec.compute_pool_id) s.computePoolId = spec.compute_pool_id;
        touch(s, 'PENDING', '');
      } else {
        s.resourceVersion++;
      }
      s.updatedAt = call.now;
      return { status: 202, body: view(s) };
    },
  });

  router.add({
    method: 'DELETE',
    template: `${BASE}/statements/{statement_name}`,
    auth: 'flink-region',
    handler: async (call) => {
      scope(call);
      const s = await statementOr404(call, call.params['statement_name']!);
      if (s.goneAt === undefined) {
        s.goneAt = call.now + emulator.durations.statementDeleteMs;
        touch(s, 'DELETING', '');
        const id = `${s.environmentId}/${s.name}`;
        const runtime = runtimes.get(id) ?? {};
        runtimes.set(id, runtime);
        runtime.stopping = stopRunning(s)
          .catch((error: unknown) => {
            emulator.internalErrors.push(`stopping statement ${s.name}: ${String(error)}`);
          })
          .finally(() => {
            runtime.stopped = true;
          });
      }
      return { status: 202 };
    },
  });

  router.add({
    method: 'GET',
    template: `${BASE}/statements/{name}/results`,
    auth: 'flink-region',
    handler: async (call) => {
      scope(call);
      const s = await statementOr404(call, call.params['name']!);
      const token = call.query.get('page_token');
      let offset = 0;
      if (token) {
        const decoded = /^r([0-9]+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
        if (!decoded)
          throw new EmulatorHttpError(400, 'invalid_page_token', 'The page token is not valid', {
            parameter: 'page_token',
          });
        offset = Number(decoded[1]);
      }
      const rows = s.rows.slice(offset, offset + RESULT_PAGE_ROWS);
      const end = offset + rows.length;
      // An unbounded result always has a next page (maybe empty for now); a bounded one ends with its last row.
      const more = end < s.rows.length || (s.kind === 'SELECT' && ['PENDING', 'RUNNING'].includes(s.phase));
      const path = `${statementPath(s)}/results`;
      return {
        status: 200,
        body: {
          api_version: 'sql/v1',
          kind: 'StatementResult',
          metadata: {
            self: url(token ? `${path}?page_token=${token}` : path),
            next: more ? url(`${path}?page_token=${Buffer.from(`r${end}`).toString('base64url')}`) : '',
            created_at: iso(s.createdAt),
          },
          results: { data: rows },
        },
      };
    },
  });

  router.add({
    method: 'GET',
    template: `${BASE}/statements/{statement_name}/exceptions`,
    auth: 'flink-region',
    handler: async (call) => {
      scope(call);
      const s = await statementOr404(call, call.params['statement_name']!);
      return {
        status: 200,
        body: {
          api_version: 'sql/v1',
          kind: 'StatementExceptionList',
          metadata: { self: url(`${statementPath(s)}/exceptions`) },
          data: s.exceptions.map((e) => ({ kind: 'StatementException', ...e })),
        },
      };
    },
  });

  return async () => {
    for (const s of state.statements.values()) await stopRunning(s).catch(() => undefined);
    await local?.close();
    await admin?.disconnect().catch(() => undefined);
    for (const server of [front, cell]) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  };
};

function asText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** For tests and the harness: the statements and tables the emulator holds. */
export function statementInventory(emulator: RunningEmulator): { name: string; phase: string }[] {
  return [...emulator.state.statements.values()]
    .filter((s) => s.goneAt === undefined || Date.now() < s.goneAt)
    .map((s) => ({ name: s.name, phase: s.phase }));
}
