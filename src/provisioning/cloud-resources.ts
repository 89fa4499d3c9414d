import type { ConfluentCloud, Credentials, KafkaCluster } from '../confluent-api/index.js';
import { bootstrapServers, clusterRbacCrn, isConfluentApiError, restEndpoint } from '../confluent-api/index.js';
import type { WaitSettings } from '../confluent-api/waiters.js';
import type { Config } from '../core/config-schema.js';
import { OperationError } from '../core/errors.js';
import type { ResourceRecord } from '../core/state-store.js';
import { environmentTies, kafkaClusterTies, ksqlClusterTies, ownedAmong } from './cloud-ownership.js';
import { renderConnectorConfig } from './connector-templates.js';
import type { ResourceNames } from './names.js';
import { requireKnown, type Observed, type ProvisionEnvBase, type ResourceDef } from './resource.js';
import type { CreateIntent } from './state-recorder.js';
import { demoTopics } from './topics.js';

/** What the statements step needs from a ksqlDB client; provided by the command layer. */
export interface KsqlDeployer {
  /** Runs the templates (IF NOT EXISTS semantics); returns the objects created and those already there. */
  apply(): Promise<{ created: string[]; existing: string[] }>;
  /** True when every stream and table of the templates exists. */
  complete(): Promise<boolean>;
  /** Terminates the demo's persistent queries and drops its streams and tables. */
  remove(): Promise<void>;
  /** The demo's streams, tables and queries that still exist (for the check after a teardown). */
  leftovers(): Promise<string[]>;
}

export interface CloudEnv extends ProvisionEnvBase {
  cloud: ConfluentCloud;
  config: Config;
  names: ResourceNames;
  waits: WaitSettings;
  /** Creates begun before (see CreateIntent): written before each create of a resource whose name is not unique. */
  intents: { get(id: string): CreateIntent | undefined; record(id: string, intent: CreateIntent): Promise<void> };
  ksql(endpoint: string, credentials: Credentials): KsqlDeployer;
  /** MongoDB password for the Atlas sink; never stored. */
  mongoPassword?: string;
}

export const ENVIRONMENT = 'environment';
export const CLUSTER = 'kafka-cluster';
export const SERVICE_ACCOUNT = 'service-account';
export const CLUSTER_ROLE = 'cluster-role-binding';
export const KAFKA_KEY = 'kafka-api-key';
const KSQL_CLUSTER = 'ksqldb-cluster';
const KSQL_ROLE = 'ksqldb-role-binding';
const KSQL_KEY = 'ksqldb-api-key';
const STATEMENTS = 'ksql-statements';
const SINK = 'mongo-sink-connector';

const now = () => new Date().toISOString();
export const rec = (
  kind: string,
  id: string,
  name: string | undefined,
  attributes: Record<string, unknown> = {},
): ResourceRecord => ({
  kind,
  id,
  name,
  target: 'cloud',
  createdAt: now(),
  attributes,
});

/** Ignores "already gone": Confluent answers 404, or 403 for some deleted resources. */
export async function deleteIgnoringGone(remove: () => Promise<unknown>): Promise<void> {
  try {
    await remove();
  } catch (error) {
    if (isConfluentApiError(error) && error.isNotFound) return;
    throw error;
  }
}

export function envId(env: CloudEnv): string {
  return requireKnown(env, ENVIRONMENT).id;
}

/** What decides which same-named object is this deployment's (see cloud-ownership.ts). */
function ownership(env: CloudEnv, names: ResourceNames, node: string) {
  return {
    cloud: env.cloud,
    intent: env.intents.get(node),
    accountId: async () =>
      env.known(SERVICE_ACCOUNT)?.id ?? (await env.cloud.serviceAccounts.findByName(names.serviceAccount))?.id,
  };
}

/** Writes the intent, then creates: a lost answer is then recognised by the next run (see CreateIntent). */
async function createNamed<T>(
  env: CloudEnv,
  node: string,
  displayName: string,
  existing: { id: string }[],
  create: (existingIds: string[]) => Promise<T>,
): Promise<T> {
  const existingIds = existing.map((item) => item.id);
  await env.intents.record(node, { displayName, existingIds });
  return create(existingIds);
}

/**
 * The object unless its delete is running (an interrupted `down`): that one is going away whatever `up` does, so it
 * counts as absent and a new one is made.
 */
function live<T extends { metadata: { deleted_at?: string } }>(found: T | undefined): T | undefined {
  return found && !found.metadata.deleted_at ? found : undefined;
}

/** Deletes are asynchronous: waits until the object is gone (or its parent is), reporting the phase meanwhile. */
function untilDeleted(env: CloudEnv, node: string): WaitSettings {
  return { ...env.waits, onProgress: (status) => env.progress(node, `deleting, still ${status}`) };
}

function kafkaCredentials(env: CloudEnv): Credentials {
  const key = requireKnown(env, KAFKA_KEY);
  const secret = key.secrets?.secret;
  if (!secret) {
    throw new OperationError(`the state file records Kafka API key ${key.id} without its secret`, {
      hint: 'Run `marketplace down` to remove the deployment, then `marketplace up` to make a new key.',
    });
  }
  return { key: key.id, secret };
}

export function kafkaRest(env: CloudEnv) {
  const cluster = requireKnown(env, CLUSTER);
  return env.cloud.kafka({
    restEndpoint: String(cluster.attributes?.restEndpoint),
    clusterId: cluster.id,
    credentials: kafkaCredentials(env),
  });
}

function clusterRecord(cluster: KafkaCluster): ResourceRecord {
  return rec('kafka-cluster', cluster.id, cluster.spec.display_name, {
    environmentId: cluster.spec.environment.id,
    phase: cluster.status.phase,
    bootstrap: bootstrapServers(cluster),
    restEndpoint: restEndpoint(cluster),
    rbacCrn: cluster.metadata.resource_name ? clusterRbacCrn(cluster) : undefined,
    cloud: cluster.spec.cloud,
    region: cluster.spec.region,
  });
}

/**
 * The demo on Confluent Cloud as a resource graph. The ksqlDB cluster starts as soon as the cluster and SA exist.
 * With the Flink engine (`streamProcessing` given) the ksqlDB part and the output topics are left out: the Flink
 * statements make their tables, and the sink waits for the nodes named there.
 */
export function cloudResources(
  config: Config,
  names: ResourceNames,
  options: {
    sink: boolean;
    streamProcessing?: {
      sinkAfter: string[];
      /** input.data.format of the sink (how the engine writes job_status). */
      sinkFormat: string;
      /** `down` after an engine switch: the ksqlDB nodes the state still records stay in. */
      keepKsqlDb?: boolean;
    };
  },
): ResourceDef<CloudEnv>[] {
  const defs: ResourceDef<CloudEnv>[] = [
    {
      id: ENVIRONMENT,
      kind: 'environment',
      title: `environment ${names.environment}`,
      dependsOn: [],
      observe: async (env) => {
        const known = env.known(ENVIRONMENT);
        const found = known
          ? live(await env.cloud.environments.find(known.id))
          : await ownedAmong(
              'environment',
              names.environment,
              (await env.cloud.environments.listByName(names.environment)).filter(live),
              ownership(env, names, ENVIRONMENT),
              environmentTies(env.cloud),
            );
        return found && { record: rec('environment', found.id, found.display_name), ready: true };
      },
      create: async (env) => {
        const created = await createNamed(
          env,
          ENVIRONMENT,
          names.environment,
          await env.cloud.environments.listByName(names.environment),
          (existingIds) =>
            env.cloud.environments.create({
              displayName: names.environment,
              streamGovernance: 'ESSENTIALS',
              existingIds,
            }),
        );
        return rec('environment', created.id, created.display_name);
      },
      destroy: async (env, record) => {
        await deleteIgnoringGone(() => env.cloud.environments.delete(record.id));
        await env.cloud.waiters.waitForEnvironmentDeleted(
          env.cloud.environments,
          record.id,
          untilDeleted(env, ENVIRONMENT),
        );
      },
    },
    {
      id: CLUSTER,
      kind: 'kafka-cluster',
      title: `Kafka cluster ${names.kafkaCluster} (${config.clusterType}, ${config.cloud} ${config.region})`,
      dependsOn: [ENVIRONMENT],
      observe: async (env) => {
        const known = env.known(CLUSTER);
        const found = known
          ? live(await env.cloud.clusters.find(known.id, envId(env)))
          : await ownedAmong(
              'Kafka cluster',
              names.kafkaCluster,
              (await env.cloud.clusters.listByName(envId(env), names.kafkaCluster)).filter(live),
              ownership(env, names, CLUSTER),
              kafkaClusterTies(env.cloud, envId(env)),
            );
        return (
          found && {
            record: clusterRecord(found),
            ready: found.status.phase === 'PROVISIONED' && !!restEndpoint(found),
          }
        );
      },
      create: async (env) => {
        const created = await createNamed(
          env,
          CLUSTER,
          names.kafkaCluster,
          await env.cloud.clusters.listByName(envId(env), names.kafkaCluster),
          (existingIds) =>
            env.cloud.clusters.create({
              displayName: names.kafkaCluster,
              environmentId: envId(env),
              cloud: config.cloud,
              region: config.region,
              type: config.clusterType,
              existingIds,
            }),
        );
        return clusterRecord(created);
      },
      ready: async (env, record) => {
        const cluster = await env.cloud.waiters.waitForClusterProvisioned(env.cloud.clusters, record.id, envId(env), {
          ...env.waits,
          onProgress: (status) => env.progress(CLUSTER, status),
        });
        return clusterRecord(cluster);
      },
      destroy: async (env, record) => {
        const environmentId = String(record.attributes?.environmentId ?? envId(env));
        await deleteIgnoringGone(() => env.cloud.clusters.delete(record.id, environmentId));
        await env.cloud.waiters.waitForClusterDeleted(
          env.cloud.clusters,
          record.id,
          environmentId,
          untilDeleted(env, CLUSTER),
        );
      },
    },
    {
      id: SERVICE_ACCOUNT,
      kind: 'service-account',
      title: `service account ${names.serviceAccount}`,
      dependsOn: [],
      observe: async (env) => {
        const known = env.known(SERVICE_ACCOUNT);
        const found = known
          ? await env.cloud.serviceAccounts.find(known.id)
          : await env.cloud.serviceAccounts.findByName(names.serviceAccount);
        return found && { record: rec('service-account', found.id, found.display_name), ready: true };
      },
      create: async (env) => {
        const created = await env.cloud.serviceAccounts.create({
          displayName: names.serviceAccount,
          description: `marketplace demo (${names.prefix}): producers, ksqlDB and the MongoDB sink`,
        });
        return rec('service-account', created.id, created.display_name);
      },
      destroy: (env, record) => deleteIgnoringGone(() => env.cloud.serviceAccounts.delete(record.id)),
    },
    roleBinding(CLUSTER_ROLE, 'CloudClusterAdmin', [CLUSTER, SERVICE_ACCOUNT], (env) =>
      String(requireKnown(env, CLUSTER).attributes?.rbacCrn),
    ),
    apiKey({
      id: KAFKA_KEY,
      kind: 'kafka-api-key',
      displayName: names.kafkaApiKey,
      description: 'marketplace demo: producers and consumers',
      resourceOf: CLUSTER,
      dependsOn: [CLUSTER, SERVICE_ACCOUNT, CLUSTER_ROLE],
      attributes: (env) => ({ bootstrap: requireKnown(env, CLUSTER).attributes?.bootstrap }),
      ready: async (env, record) => {
        const kafka = kafkaRest(env);
        await env.cloud.waiters.waitForRoleBindingEffective(
          String(requireKnown(env, CLUSTER_ROLE).id),
          env.cloud.waiters.topicListAllowed(kafka),
          { ...env.waits, onProgress: (status) => env.progress(KAFKA_KEY, status) },
        );
        await env.cloud.waiters.waitForApiKeyUsable(kafka, record.id, {
          ...env.waits,
          onProgress: (status) => env.progress(KAFKA_KEY, status),
        });
        return {};
      },
    }),
    ...demoTopics().map(
      (topic): ResourceDef<CloudEnv> => ({
        id: `topic:${topic.name}`,
        kind: 'topic',
        title: `topic ${topic.name} (${topic.partitions} partition${topic.partitions === 1 ? '' : 's'})`,
        dependsOn: [KAFKA_KEY],
        observe: async (env) => {
          const found = await kafkaRest(env).findByName(topic.name);
          return (
            found && {
              record: rec('topic', topic.name, topic.name, { partitions: found.partitions_count }),
              ready: true,
            }
          );
        },
        create: async (env) => {
          await kafkaRest(env).createTopic(
            { name: topic.name, partitions: topic.partitions, configs: topic.configs },
            { signal: env.signal },
          );
          return rec('topic', topic.name, topic.name, { partitions: topic.partitions });
        },
        destroy: (env, record) => deleteIgnoringGone(() => kafkaRest(env).deleteTopic(record.id)),
      }),
    ),
    {
      id: KSQL_CLUSTER,
      kind: 'ksqldb-cluster',
      title: `ksqlDB cluster ${names.ksqlCluster} (${config.ksqlCsu} CSU)`,
      dependsOn: [CLUSTER, SERVICE_ACCOUNT],
      observe: async (env) => {
        const known = env.known(KSQL_CLUSTER);
        const found = known
          ? live(await env.cloud.ksqlClusters.find(known.id, envId(env)))
          : await ownedAmong(
              'ksqlDB cluster',
              names.ksqlCluster,
              (await env.cloud.ksqlClusters.listByName(envId(env), names.ksqlCluster)).filter(live),
              ownership(env, names, KSQL_CLUSTER),
              ksqlClusterTies,
            );
        return (
          found && {
            record: rec('ksqldb-cluster', found.id, found.spec.display_name, {
              environmentId: envId(env),
              phase: found.status.phase,
              endpoint: found.status.http_endpoint,
              crn: found.metadata.resource_name,
            }),
            ready: found.status.phase === 'PROVISIONED' && !!found.status.http_endpoint,
          }
        );
      },
      create: async (env) => {
        const created = await createNamed(
          env,
          KSQL_CLUSTER,
          names.ksqlCluster,
          await env.cloud.ksqlClusters.listByName(envId(env), names.ksqlCluster),
          (existingIds) =>
            env.cloud.ksqlClusters.create({
              displayName: names.ksqlCluster,
              environmentId: envId(env),
              kafkaClusterId: requireKnown(env, CLUSTER).id,
              credentialIdentityId: requireKnown(env, SERVICE_ACCOUNT).id,
              csu: config.ksqlCsu,
              existingIds,
            }),
        );
        return rec('ksqldb-cluster', created.id, created.spec.display_name, {
          environmentId: envId(env),
          phase: created.status?.phase,
          crn: created.metadata.resource_name,
        });
      },
      destroy: async (env, record) => {
        const environmentId = String(record.attributes?.environmentId ?? envId(env));
        await deleteIgnoringGone(() => env.cloud.ksqlClusters.delete(record.id, environmentId));
        await env.cloud.waiters.waitForKsqlClusterDeleted(
          env.cloud.ksqlClusters,
          record.id,
          environmentId,
          untilDeleted(env, KSQL_CLUSTER),
        );
      },
    },
    roleBinding(KSQL_ROLE, 'KsqlAdmin', [KSQL_CLUSTER, SERVICE_ACCOUNT], (env) =>
      String(requireKnown(env, KSQL_CLUSTER).attributes?.crn),
    ),
    apiKey({
      id: KSQL_KEY,
      kind: 'ksqldb-api-key',
      displayName: names.ksqlApiKey,
      description: 'marketplace demo: statements and push queries',
      resourceOf: KSQL_CLUSTER,
      dependsOn: [KSQL_CLUSTER, KSQL_ROLE],
      attributes: () => ({}),
      ready: async (env, record) => {
        const ready = await env.cloud.waiters.waitForKsqlClusterReady(
          env.cloud.http,
          env.cloud.ksqlClusters,
          requireKnown(env, KSQL_CLUSTER).id,
          envId(env),
          { key: record.id, secret: String(record.secrets?.secret) },
          { ...env.waits, onProgress: (status) => env.progress(KSQL_KEY, status) },
        );
        return { endpoint: ready.status.http_endpoint };
      },
    }),
    {
      id: STATEMENTS,
      kind: 'ksql-statements',
      title: 'ksqlDB streams, tables and queries (templates/ksql)',
      dependsOn: [KSQL_KEY, ...demoTopics().map((topic) => `topic:${topic.name}`)],
      observe: async (env) => {
        const deployer = ksqlDeployer(env);
        return (await deployer.complete())
          ? { record: rec('ksql-statements', 'templates', 'templates/ksql'), ready: true }
          : undefined;
      },
      create: async (env) => {
        const result = await ksqlDeployer(env).apply();
        return rec('ksql-statements', 'templates', 'templates/ksql', { created: result.created });
      },
      destroy: async (env) => {
        await ksqlDeployer(env).remove();
      },
    },
  ];
  const processing = options.streamProcessing;
  if (processing) {
    const ksqlOnly = new Set([KSQL_CLUSTER, KSQL_ROLE, KSQL_KEY, STATEMENTS]);
    const outputTopics = new Set(
      demoTopics()
        .filter((t) => t.role === 'output')
        .map((t) => `topic:${t.name}`),
    );
    const kept = defs.filter((def) => (processing.keepKsqlDb || !ksqlOnly.has(def.id)) && !outputTopics.has(def.id));
    const after = [...processing.sinkAfter, KAFKA_KEY, ...(processing.keepKsqlDb ? [STATEMENTS] : [])];
    if (options.sink) kept.push(mongoSink(config, names, after, processing.sinkFormat));
    return kept;
  }
  if (options.sink) defs.push(mongoSink(config, names, [STATEMENTS, KAFKA_KEY]));
  return defs;
}

/**
 * An API key owned by the service account for one resource (Kafka cluster or ksqlDB cluster). Its secret exists only
 * in the create response and our state: without it the key is useless, so a key found by name without a secret is
 * deleted and made again.
 */
export function apiKey(spec: {
  id: string;
  kind: string;
  /** What the key is for, in its title: "Kafka", "ksqlDB", "Schema Registry". */
  label?: string;
  displayName: string;
  description: string;
  /** The graph node of the resource the key is for. */
  resourceOf: string;
  /** The key's resource id when it is not that node's id (a Flink region: `<cloud>.<region>`). */
  resourceId?: (env: CloudEnv) => string;
  dependsOn: string[];
  attributes: (env: CloudEnv) => Record<string, unknown>;
  /** Waits until the key works; returns attributes learned on the way. */
  ready: (env: CloudEnv, record: ResourceRecord) => Promise<Record<string, unknown>>;
}): ResourceDef<CloudEnv> {
  return {
    id: spec.id,
    kind: spec.kind,
    title: `${spec.label ?? (spec.kind === 'kafka-api-key' ? 'Kafka' : 'ksqlDB')} API key ${spec.displayName}`,
    dependsOn: spec.dependsOn,
    observe: async (env) => {
      const known = env.known(spec.id);
      if (!known?.secrets?.secret) return undefined;
      const found = await env.cloud.apiKeys.find(known.id);
      return found && { record: known, ready: known.attributes?.usable === true };
    },
    create: async (env) => {
      const resource = requireKnown(env, spec.resourceOf);
      const owner = requireKnown(env, SERVICE_ACCOUNT).id;
      const orphan = await env.cloud.apiKeys.findByName(spec.displayName, {
        ownerId: owner,
        resourceId: spec.resourceId?.(env) ?? resource.id,
      });
      if (orphan) await deleteIgnoringGone(() => env.cloud.apiKeys.delete(orphan.id));
      const created = await env.cloud.apiKeys.create({
        ownerId: owner,
        resourceId: spec.resourceId?.(env) ?? resource.id,
        ...(spec.resourceId ? { flinkEnvironmentId: envId(env) } : {}),
        displayName: spec.displayName,
        description: spec.description,
      });
      return {
        ...rec(spec.kind, created.credentials.key, spec.displayName, {
          ...spec.attributes(env),
          clusterId: resource.id,
          usable: false,
        }),
        secrets: { secret: created.credentials.secret },
      };
    },
    ready: async (env, record) => ({
      ...record,
      attributes: { ...record.attributes, ...(await spec.ready(env, record)), usable: true },
    }),
    destroy: (env, record) => deleteIgnoringGone(() => env.cloud.apiKeys.delete(record.id)),
  };
}

function ksqlDeployer(env: CloudEnv): KsqlDeployer {
  const key = requireKnown(env, KSQL_KEY);
  const endpoint = key.attributes?.endpoint ?? requireKnown(env, KSQL_CLUSTER).attributes?.endpoint;
  return env.ksql(String(endpoint), { key: key.id, secret: String(key.secrets?.secret) });
}

export function roleBinding(
  id: string,
  roleName: string,
  dependsOn: string[],
  crnOf: (env: CloudEnv) => string,
  /** What it is on, for its title when the role alone does not tell ("subject order_placed-value"). */
  scope?: string,
): ResourceDef<CloudEnv> {
  const input = (env: CloudEnv) => ({
    principal: `User:${requireKnown(env, SERVICE_ACCOUNT).id}`,
    roleName,
    crnPattern: crnOf(env),
  });
  return {
    id,
    kind: 'role-binding',
    title: `role binding ${roleName}${scope ? ` on ${scope}` : ''} for the service account`,
    dependsOn,
    observe: async (env) => {
      const known = env.known(id);
      const found = known
        ? await env.cloud.roleBindings.find(known.id)
        : await env.cloud.roleBindings.findByName(input(env));
      return (
        found && {
          record: rec('role-binding', found.id, `${roleName}:${found.principal}`, { crn: found.crn_pattern }),
          ready: true,
        }
      );
    },
    create: async (env) => {
      const created = await env.cloud.roleBindings.create(input(env));
      return rec('role-binding', created.id, `${roleName}:${created.principal}`, { crn: created.crn_pattern });
    },
    destroy: (env, record) => deleteIgnoringGone(() => env.cloud.roleBindings.delete(record.id)),
  };
}

function sinkConfig(config: Config, names: ResourceNames, env: CloudEnv, format?: string): Record<string, string> {
  const rendered = renderConnectorConfig('mongodb-atlas-sink', {
    name: names.sinkConnector,
    kafkaApiKey: kafkaCredentials(env).key,
    kafkaApiSecret: kafkaCredentials(env).secret,
    mongoHost: String(config.mongoHost),
    mongoUser: String(config.mongoUser ?? ''),
    mongoPassword: env.mongoPassword ?? '',
    mongoDatabase: config.mongoDatabase,
    mongoCollection: config.mongoCollection,
  });
  return format ? { ...rendered, 'input.data.format': format } : rendered;
}

/** The settings of the sink that, when they differ from the configuration, are updated in place. */
const COMPARED_SINK_KEYS = [
  'connection.host',
  'connection.user',
  'database',
  'collection',
  'topics',
  'input.data.format',
] as const;

function mongoSink(config: Config, names: ResourceNames, dependsOn: string[], format?: string): ResourceDef<CloudEnv> {
  const connectors = (env: CloudEnv) => env.cloud.connectors(envId(env), requireKnown(env, CLUSTER).id);
  const record = (attributes: Record<string, unknown>) =>
    rec('connector', names.sinkConnector, names.sinkConnector, attributes);
  return {
    id: SINK,
    kind: 'connector',
    title: `MongoDB Atlas sink ${names.sinkConnector} → ${config.mongoDatabase}.${config.mongoCollection}`,
    dependsOn,
    observe: async (env): Promise<Observed | undefined> => {
      const found = await connectors(env).findByName(names.sinkConnector);
      if (!found) return undefined;
      const desired = sinkConfig(config, names, env, format);
      const changes = COMPARED_SINK_KEYS.filter((key) => found.config[key] !== desired[key]).map(
        (key) => `${key} ${found.config[key] ?? '(unset)'} → ${desired[key]}`,
      );
      const status = await connectors(env).status(names.sinkConnector);
      return {
        record: record(Object.fromEntries(COMPARED_SINK_KEYS.map((key) => [key, found.config[key]]))),
        ready: status.connector.state === 'RUNNING',
        changes,
      };
    },
    create: async (env) => {
      const desired = sinkConfig(config, names, env, format);
      await connectors(env).create(names.sinkConnector, desired);
      return record(Object.fromEntries(COMPARED_SINK_KEYS.map((key) => [key, desired[key]])));
    },
    update: async (env) => {
      const desired = sinkConfig(config, names, env, format);
      await connectors(env).updateConfig(names.sinkConnector, desired);
      return record(Object.fromEntries(COMPARED_SINK_KEYS.map((key) => [key, desired[key]])));
    },
    ready: async (env, current) => {
      await env.cloud.waiters.waitForConnectorRunning(connectors(env), names.sinkConnector, {
        ...env.waits,
        onProgress: (status) => env.progress(SINK, status),
      });
      return current;
    },
    destroy: (env) => deleteIgnoringGone(() => connectors(env).delete(names.sinkConnector)),
  };
}
