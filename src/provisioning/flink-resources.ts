import {
  isConfluentApiError,
  type ComputePool,
  type FlinkStatement,
  type FlinkStatements,
  type StatementInput,
} from '../confluent-api/index.js';
import { waitForComputePoolDeleted, waitForComputePoolProvisioned } from '../confluent-api/compute-pools.js';
import { waitForStatementDeleted, waitForStatementRunning } from '../confluent-api/flink-statements.js';
import type { Config } from '../core/config-schema.js';
import { OperationError } from '../core/errors.js';
import type { ResourceRecord } from '../core/state-store.js';
import { waitFor } from '../core/waiter.js';
import {
  loadCloudFlinkTemplates,
  mentionsTable,
  statementName,
  type CloudStatementTemplate,
} from '../engines/confluent-flink/templates.js';
import { INPUT_TOPICS } from '../producers/records.js';
import {
  apiKey,
  CLUSTER,
  CLUSTER_ROLE,
  deleteIgnoringGone,
  ENVIRONMENT,
  envId,
  rec,
  roleBinding,
  SERVICE_ACCOUNT,
  type CloudEnv,
} from './cloud-resources.js';
import type { ResourceNames } from './names.js';
import { requireKnown, type Observed, type ResourceDef } from './resource.js';
import { SCHEMA_REGISTRY_KEY, schemaRegistryOf, subjectNode, subjectRoleNode } from './schema-resources.js';

export const FLINK_REGION = 'flink-region';
export const COMPUTE_POOL = 'compute-pool';
export const FLINK_ROLE = 'flink-role-binding';
export const FLINK_KEY = 'flink-api-key';

/** The graph node of a template's statement. */
export function statementNode(template: Pick<CloudStatementTemplate, 'slug'>): string {
  return `flink-statement:${template.slug}`;
}

/** The tables the Flink statements write: CREATE TABLE makes them (topic and subjects) on Confluent Cloud. */
export function flinkOutputTables(): string[] {
  return loadCloudFlinkTemplates()
    .filter((template) => template.kind === 'table')
    .map((template) => template.table);
}

/** The statements' client: the region's endpoint, the environment, the service account's Flink key. */
export function flinkStatementsOf(env: CloudEnv): FlinkStatements {
  const region = requireKnown(env, FLINK_REGION);
  const key = requireKnown(env, FLINK_KEY);
  const secret = key.secrets?.secret;
  if (!secret) {
    throw new OperationError(`the state file records Flink API key ${key.id} without its secret`, {
      hint: 'Run `marketplace down` to remove the deployment, then `marketplace up` to make a new key.',
    });
  }
  return env.cloud.flinkStatements({
    endpoint: String(region.attributes?.endpoint),
    organizationId: String(region.attributes?.organizationId),
    environmentId: envId(env),
    credentials: { key: key.id, secret },
  });
}

/**
 * The demo on Confluent Cloud for Apache Flink: the region (its endpoint; nothing to create), a compute pool of
 * `flinkMaxCfu`, FlinkDeveloper for the service account on the environment (what running statements needs; their
 * topics are the cluster's, which the service account already administers, and their subjects are the
 * ResourceOwner bindings of schema-resources.ts), a Flink API key of the region owned by the service account, and
 * one statement per template of templates/flink-cloud, run as the service account. Statements are named from the
 * prefix, so a re-run finds them; one whose SQL changed, or that failed or was stopped, is replaced.
 */
export function flinkResources(config: Config, names: ResourceNames): ResourceDef<CloudEnv>[] {
  const templates = loadCloudFlinkTemplates();
  const tableNode = new Map(
    templates.filter((t) => t.kind === 'table').map((t) => [t.table, statementNode(t)] as const),
  );
  return [
    {
      id: FLINK_REGION,
      kind: 'flink-region',
      title: `Flink region ${config.cloud}.${config.region} (its endpoint)`,
      dependsOn: [],
      implicit: true,
      observe: async (env) => ({ record: await regionRecord(env), ready: true }),
      create: (env) => regionRecord(env),
      destroy: async () => undefined,
    },
    computePool(config, names),
    roleBinding(
      FLINK_ROLE,
      'FlinkDeveloper',
      [CLUSTER, SERVICE_ACCOUNT],
      (env) => environmentCrn(env),
      'the environment',
    ),
    flinkKey(names),
    ...templates.map((template) => statement(names, template, tableNode)),
  ];
}

async function regionRecord(env: CloudEnv): Promise<ResourceRecord> {
  const region = await env.cloud.flinkRegions.get(env.config.cloud, env.config.region);
  const [organization] = await env.cloud.organizations.list();
  if (!organization)
    throw new OperationError('the Cloud API key sees no organization', {
      hint: 'Use a Cloud API key of the organization (resource "Cloud resource management").',
    });
  return rec('flink-region', region.id, region.display_name, {
    endpoint: region.http_endpoint,
    organizationId: organization.id,
  });
}

/** The environment's CRN, from the Kafka cluster's (its role-binding CRN, less /cloud-cluster=…). */
function environmentCrn(env: CloudEnv): string {
  const clusterCrn = String(requireKnown(env, CLUSTER).attributes?.rbacCrn);
  return clusterCrn.replace(/\/cloud-cluster=[^/]+$/, '');
}

function poolRecord(pool: ComputePool): ResourceRecord {
  return rec('compute-pool', pool.id, pool.spec.display_name, {
    environmentId: pool.spec.environment.id,
    phase: pool.status.phase,
    maxCfu: pool.spec.max_cfu,
  });
}

function computePool(config: Config, names: ResourceNames): ResourceDef<CloudEnv> {
  return {
    id: COMPUTE_POOL,
    kind: 'compute-pool',
    title: `Flink compute pool ${names.computePool} (up to ${config.flinkMaxCfu} CFU, ${config.cloud} ${config.region})`,
    dependsOn: [ENVIRONMENT],
    observe: async (env): Promise<Observed | undefined> => {
      const known = env.known(COMPUTE_POOL);
      const found = known
        ? await env.cloud.computePools.find(known.id, envId(env))
        : await env.cloud.computePools.findByName(envId(env), names.computePool);
      if (!found || found.status.phase === 'DEPROVISIONING') return undefined;
      return {
        record: poolRecord(found),
        ready: found.status.phase === 'PROVISIONED',
        changes:
          found.spec.max_cfu === config.flinkMaxCfu ? [] : [`max_cfu ${found.spec.max_cfu} → ${config.flinkMaxCfu}`],
      };
    },
    create: async (env) =>
      poolRecord(
        await env.cloud.computePools.create({
          displayName: names.computePool,
          environmentId: envId(env),
          cloud: config.cloud,
          region: config.region,
          maxCfu: config.flinkMaxCfu,
        }),
      ),
    update: async (env, observed) =>
      poolRecord(await env.cloud.computePools.update(observed.record.id, envId(env), { maxCfu: config.flinkMaxCfu })),
    ready: async (env, record) =>
      poolRecord(
        await waitForComputePoolProvisioned(env.cloud.computePools, record.id, envId(env), {
          ...env.waits,
          onProgress: (status) => env.progress(COMPUTE_POOL, status),
        }),
      ),
    destroy: async (env, record) => {
      const environmentId = String(record.attributes?.environmentId ?? envId(env));
      // Statements outside the graph (a tail's SELECT) would hold the pool: they go first, as with the key.
      const withKey = !!env.known(FLINK_KEY)?.secrets?.secret && !!env.known(FLINK_REGION);
      if (withKey) await deleteLeftoverStatements(env, names);
      try {
        await deleteIgnoringGone(() => env.cloud.computePools.delete(record.id, environmentId));
      } catch (error) {
        const heldByStatements =
          isConfluentApiError(error) && [400, 409].includes(error.status) && /statement/i.test(error.message);
        if (!heldByStatements || withKey) throw error;
        // The state file was lost with the Flink key's secret (down --discover): nothing can delete the statements,
        // but deleting the environment takes the pool and its statements along.
        if (!env.kept?.has(ENVIRONMENT)) return;
        throw new OperationError(
          `compute pool ${record.id} still runs statements, and without the Flink key's secret (the state file is lost) they cannot be deleted`,
          {
            hint: 'Delete them in the Confluent Cloud console (or `confluent flink statement delete`), or run `marketplace down --discover` without --keep-environment, which deletes the environment with everything in it.',
          },
        );
      }
      await waitForComputePoolDeleted(env.cloud.computePools, record.id, environmentId, {
        ...env.waits,
        onProgress: (status) => env.progress(COMPUTE_POOL, status),
      });
    },
  };
}

/**
 * The service account's Flink API key for the region and environment. It is usable once the statements API accepts
 * it (401 until the key propagated) and lets its owner list statements (403 until FlinkDeveloper is effective),
 * twice in a row. Before it is deleted, every statement with the prefix is deleted (a `tail` killed before it could
 * delete its SELECT leaves one) and the list checked empty: without the key nothing could see them any more.
 */
function flinkKey(names: ResourceNames): ResourceDef<CloudEnv> {
  const key = apiKey({
    id: FLINK_KEY,
    kind: 'flink-api-key',
    label: 'Flink',
    displayName: names.flinkApiKey,
    description: 'marketplace demo: Flink statements',
    resourceOf: FLINK_REGION,
    resourceId: (env) => requireKnown(env, FLINK_REGION).id,
    dependsOn: [FLINK_REGION, ENVIRONMENT, SERVICE_ACCOUNT, FLINK_ROLE],
    attributes: () => ({}),
    ready: async (env) => {
      const statements = flinkStatementsOf(env);
      let accepted = 0;
      await waitFor(
        async () => {
          try {
            await statements.list();
            accepted++;
          } catch (error) {
            if (!isConfluentApiError(error) || ![401, 403].includes(error.status)) throw error;
            accepted = 0;
            return {
              done: false,
              status:
                error.status === 401
                  ? 'the key is not valid yet (HTTP 401)'
                  : 'FlinkDeveloper is not effective yet (HTTP 403)',
            };
          }
          return accepted >= 2 ? { done: true, value: undefined } : { done: false, status: 'accepted once' };
        },
        {
          what: `Flink API key ${names.flinkApiKey} to become usable`,
          timeoutMs: 20 * 60_000,
          initialDelayMs: 5_000,
          maxDelayMs: 30_000,
          clock: env.waits.clock,
          signal: env.waits.signal,
          onProgress: (status) => env.progress(FLINK_KEY, status),
        },
      );
      return {};
    },
  });
  return {
    ...key,
    destroy: async (env, record) => {
      if (record.secrets?.secret && env.known(FLINK_REGION)) await deleteLeftoverStatements(env, names);
      await key.destroy(env, record);
    },
  };
}

/** What a statement of the templates is: its SQL, the catalog (environment) and database (cluster), pool, principal. */
function desiredInput(names: ResourceNames, template: CloudStatementTemplate, env: CloudEnv): StatementInput {
  return {
    name: statementName(names.prefix, template),
    statement: template.sql,
    properties: {
      'sql.current-catalog': String(requireKnown(env, ENVIRONMENT).name ?? names.environment),
      'sql.current-database': String(requireKnown(env, CLUSTER).name ?? names.kafkaCluster),
    },
    computePoolId: requireKnown(env, COMPUTE_POOL).id,
    principal: requireKnown(env, SERVICE_ACCOUNT).id,
  };
}

/** Why a statement that exists is not the one the template describes (each calls for a replacement). */
function differences(found: FlinkStatement, desired: StatementInput): string[] {
  const changes: string[] = [];
  if (found.spec.statement.trim() !== desired.statement.trim()) changes.push('its SQL changed');
  for (const [key, value] of Object.entries(desired.properties))
    if (found.spec.properties?.[key] !== value)
      changes.push(`${key} ${found.spec.properties?.[key] ?? '(unset)'} → ${value}`);
  if (found.spec.compute_pool_id !== desired.computePoolId)
    changes.push(`compute pool ${found.spec.compute_pool_id ?? '(none)'} → ${desired.computePoolId}`);
  if (found.spec.principal !== desired.principal)
    changes.push(`principal ${found.spec.principal} → ${desired.principal}`);
  const phase = found.status.phase;
  if (['FAILED', 'FAILING', 'STOPPED', 'STOPPING'].includes(phase)) changes.push(`it is ${phase}`);
  return changes;
}

function statementRecord(found: FlinkStatement, template: CloudStatementTemplate): ResourceRecord {
  return rec('flink-statement', found.name, found.name, {
    template: template.file,
    table: template.table,
    kind: template.kind,
    phase: found.status.phase,
    computePoolId: found.spec.compute_pool_id,
  });
}

function statement(
  names: ResourceNames,
  template: CloudStatementTemplate,
  tableNode: Map<string, string>,
): ResourceDef<CloudEnv> {
  const id = statementNode(template);
  const name = statementName(names.prefix, template);
  // The service account reads and writes the cluster's topics through its CloudClusterAdmin binding: a statement
  // comes after it and goes before it (down's DROP TABLE runs as the service account too).
  const dependsOn = [FLINK_KEY, COMPUTE_POOL, CLUSTER_ROLE];
  if (template.kind === 'table') dependsOn.push(subjectRoleNode(template.table), SCHEMA_REGISTRY_KEY);
  else {
    const created = tableNode.get(template.table);
    if (created) dependsOn.push(created);
    for (const topic of INPUT_TOPICS)
      if (mentionsTable(template.sql, topic)) dependsOn.push(subjectNode(topic), `topic:${topic}`);
  }
  const waits = (env: CloudEnv) => ({ ...env.waits, onProgress: (status: string) => env.progress(id, status) });
  const start = async (env: CloudEnv) => {
    // CREATE TABLE registers the table's subject as the service account: its role there must be in effect first.
    if (template.kind === 'table') await waitForSubjectRole(env, `${template.table}-value`, id);
    const statements = flinkStatementsOf(env);
    return statementRecord(await statements.create(desiredInput(names, template, env)), template);
  };
  const remove = async (env: CloudEnv) => {
    const statements = flinkStatementsOf(env);
    await deleteIgnoringGone(() => statements.delete(name));
    await waitForStatementDeleted(statements, name, waits(env));
  };
  return {
    id,
    kind: 'flink-statement',
    title: `Flink statement ${name} (templates/flink-cloud/${template.file})`,
    dependsOn,
    observe: async (env): Promise<Observed | undefined> => {
      const found = await flinkStatementsOf(env).find(name);
      if (!found || found.status.phase === 'DELETING') return undefined;
      return {
        record: statementRecord(found, template),
        ready: ['RUNNING', 'COMPLETED', 'DEGRADED'].includes(found.status.phase),
        changes: differences(found, desiredInput(names, template, env)),
      };
    },
    create: start,
    // A statement's SQL cannot change: the old one goes (its job stops) and the new one starts under the same name.
    update: async (env) => {
      await remove(env);
      const created = await start(env);
      return statementRecord(await waitForStatementRunning(flinkStatementsOf(env), created.id, waits(env)), template);
    },
    ready: async (env, record) =>
      statementRecord(await waitForStatementRunning(flinkStatementsOf(env), record.id, waits(env)), template),
    destroy: async (env) => {
      await remove(env);
      // Deleting CREATE TABLE leaves the table: dropping it deletes its topic and subjects, as `down` promises.
      if (template.kind === 'table') await dropTable(env, template, names);
    },
  };
}

async function dropTable(env: CloudEnv, template: CloudStatementTemplate, names: ResourceNames): Promise<void> {
  const statements = flinkStatementsOf(env);
  const name = `${statementName(names.prefix, template)}-drop`;
  const waits = { ...env.waits, onProgress: (status: string) => env.progress(statementNode(template), status) };
  const existing = await statements.find(name);
  if (existing) {
    await deleteIgnoringGone(() => statements.delete(name));
    await waitForStatementDeleted(statements, name, waits);
  }
  await statements.create({
    ...desiredInput(names, template, env),
    name,
    statement: `DROP TABLE IF EXISTS \`${template.table}\``,
  });
  await waitForStatementRunning(statements, name, waits);
  await deleteIgnoringGone(() => statements.delete(name));
  await waitForStatementDeleted(statements, name, waits);
}

/** Deletes every statement with the prefix still there, waits until they are gone, and checks that none is left. */
async function deleteLeftoverStatements(env: CloudEnv, names: ResourceNames): Promise<void> {
  const statements = flinkStatementsOf(env);
  const prefixed = async () =>
    (
      await statements.list().catch((error: unknown) => {
        // A key that no longer works cannot list anything; it is deleted regardless.
        if (isConfluentApiError(error) && [401, 403].includes(error.status)) return [];
        throw error;
      })
    ).filter((s) => s.name.startsWith(`${names.prefix}-`));
  for (const leftover of await prefixed()) {
    if (leftover.status.phase !== 'DELETING') await deleteIgnoringGone(() => statements.delete(leftover.name));
    await waitForStatementDeleted(statements, leftover.name, {
      ...env.waits,
      onProgress: (status) => env.progress(FLINK_KEY, `deleting statement ${leftover.name}: ${status}`),
    });
  }
  const left = (await prefixed()).map((s) => s.name);
  if (left.length > 0) {
    throw new OperationError(`Flink statements with the prefix are still there: ${left.join(', ')}`, {
      hint: 'Run `marketplace down` again: it deletes them before the Flink key.',
    });
  }
}

/**
 * Until the service account's role on a subject has taken effect, which nothing reports: the registry answers a read
 * of the subject with 403 until then, and with the subject (or 404, none yet) after.
 */
function waitForSubjectRole(env: CloudEnv, subject: string, node: string): Promise<void> {
  const registry = schemaRegistryOf(env);
  return waitFor(
    async () => {
      try {
        await registry.findLatest(subject);
        return { done: true, value: undefined };
      } catch (error) {
        if (isConfluentApiError(error) && error.status === 403)
          return { done: false, status: `the role on subject ${subject} is not effective yet (HTTP 403)` };
        throw error;
      }
    },
    {
      what: `the service account's role on subject ${subject} to take effect`,
      timeoutMs: 10 * 60_000,
      initialDelayMs: 5_000,
      maxDelayMs: 30_000,
      clock: env.waits.clock,
      signal: env.waits.signal,
      onProgress: (status) => env.progress(node, status),
    },
  );
}
