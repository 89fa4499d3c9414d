import {
  isConfluentApiError,
  schemaRegistryEndpoint,
  type SchemaRegistry,
  type SchemaRegistryCluster,
} from '../confluent-api/index.js';
import { waitForSchemaRegistry } from '../confluent-api/schema-registry-clusters.js';
import { OperationError } from '../core/errors.js';
import type { ResourceRecord } from '../core/state-store.js';
import { waitFor } from '../core/waiter.js';
import { loadContracts } from '../producers/contracts.js';
import { INPUT_TOPICS, type InputTopic } from '../producers/records.js';
import {
  apiKey,
  CLUSTER,
  deleteIgnoringGone,
  ENVIRONMENT,
  envId,
  rec,
  roleBinding,
  SERVICE_ACCOUNT,
  type CloudEnv,
} from './cloud-resources.js';
import type { ResourceNames } from './names.js';
import { requireKnown, type ResourceDef } from './resource.js';

export const SCHEMA_REGISTRY = 'schema-registry';
export const SCHEMA_REGISTRY_KEY = 'schema-registry-api-key';

/** The graph node that registers `topic`'s value contract. */
export function subjectNode(topic: string): string {
  return `subject:${topic}-value`;
}

/** The graph node of the service account's role on `topic`'s subjects. */
export function subjectRoleNode(topic: string): string {
  return `subject-role:${topic}`;
}

function registryRecord(cluster: SchemaRegistryCluster): ResourceRecord {
  return rec('schema-registry', cluster.id, cluster.spec.display_name ?? cluster.id, {
    environmentId: cluster.spec.environment?.id,
    phase: cluster.status.phase,
    endpoint: schemaRegistryEndpoint(cluster),
    crn: cluster.metadata.resource_name,
  });
}

/** The registry's data plane with the service account's SR key. */
export function schemaRegistryOf(env: CloudEnv): SchemaRegistry {
  const key = requireKnown(env, SCHEMA_REGISTRY_KEY);
  const secret = key.secrets?.secret;
  if (!secret) {
    throw new OperationError(`the state file records Schema Registry API key ${key.id} without its secret`, {
      hint: 'Run `marketplace down` to remove the deployment, then `marketplace up` to make a new key.',
    });
  }
  const registry = requireKnown(env, SCHEMA_REGISTRY);
  return env.cloud.schemaRegistry({
    endpoint: String(registry.attributes?.endpoint),
    credentials: { key: key.id, secret },
  });
}

/**
 * The data contracts on Confluent Cloud: the environment's Schema Registry (it comes with the first Kafka cluster;
 * nothing creates it), an SR API key owned by the service account, ResourceOwner for the service account on each
 * demo topic's subjects, and the input topics' value schemas (templates/schemas) as `<topic>-value`.
 * `outputTopics`: tables something else registers schemas for (Flink's CREATE TABLE, run as the service account),
 * which get the role only.
 */
export function schemaRegistryResources(
  names: ResourceNames,
  outputTopics: readonly string[] = [],
): ResourceDef<CloudEnv>[] {
  const contracts = loadContracts();
  const crnOf = (env: CloudEnv) => String(requireKnown(env, SCHEMA_REGISTRY).attributes?.crn);
  return [
    {
      id: SCHEMA_REGISTRY,
      kind: 'schema-registry',
      title: 'Schema Registry of the environment (Stream Governance Essentials)',
      dependsOn: [ENVIRONMENT, CLUSTER],
      implicit: true,
      observe: async (env) => {
        const found = await env.cloud.schemaRegistryClusters.ofEnvironment(envId(env));
        return (
          found && {
            record: registryRecord(found),
            ready: found.status.phase === 'PROVISIONED' && !!schemaRegistryEndpoint(found),
          }
        );
      },
      // Nothing to create: Confluent Cloud makes the registry with the environment's first Kafka cluster.
      create: async (env) =>
        registryRecord(
          await waitForSchemaRegistry(env.cloud.schemaRegistryClusters, envId(env), {
            ...env.waits,
            listed: true,
            onProgress: (status) => env.progress(SCHEMA_REGISTRY, status),
          }),
        ),
      ready: async (env) =>
        registryRecord(
          await waitForSchemaRegistry(env.cloud.schemaRegistryClusters, envId(env), {
            ...env.waits,
            onProgress: (status) => env.progress(SCHEMA_REGISTRY, status),
          }),
        ),
      // It belongs to the environment and goes with it.
      destroy: async () => undefined,
    },
    apiKey({
      id: SCHEMA_REGISTRY_KEY,
      kind: 'schema-registry-api-key',
      label: 'Schema Registry',
      displayName: names.schemaRegistryApiKey,
      description: 'marketplace demo: data contracts of the topics',
      resourceOf: SCHEMA_REGISTRY,
      dependsOn: [SCHEMA_REGISTRY, SERVICE_ACCOUNT],
      attributes: () => ({}),
      ready: async (env) => {
        await schemaRegistryOf(env).waitUntilUsable({
          ...env.waits,
          onProgress: (status) => env.progress(SCHEMA_REGISTRY_KEY, status),
        });
        return {};
      },
    }),
    ...INPUT_TOPICS.map((topic) =>
      roleBinding(
        subjectRoleNode(topic),
        'ResourceOwner',
        [SCHEMA_REGISTRY, SERVICE_ACCOUNT],
        (env) => `${crnOf(env)}/subject=${topic}-value`,
        `subject ${topic}-value`,
      ),
    ),
    ...outputTopics.map((topic) =>
      roleBinding(
        subjectRoleNode(topic),
        'ResourceOwner',
        [SCHEMA_REGISTRY, SERVICE_ACCOUNT],
        (env) => `${crnOf(env)}/subject=${topic}-*`,
        `subjects ${topic}-*`,
      ),
    ),
    ...INPUT_TOPICS.map((topic) => subject(topic, contracts[topic])),
  ];
}

/** One input topic's value contract, registered as `<topic>-value`; a changed template registers a new version. */
function subject(topic: InputTopic, contract: unknown): ResourceDef<CloudEnv> {
  const name = `${topic}-value`;
  const schema = JSON.stringify(contract);
  const record = (id: number, version?: number) =>
    rec('subject', name, name, { schemaId: id, ...(version === undefined ? {} : { version }) });
  return {
    id: subjectNode(topic),
    kind: 'subject',
    title: `data contract ${name} (templates/schemas/${topic}.json)`,
    dependsOn: [SCHEMA_REGISTRY_KEY, subjectRoleNode(topic)],
    observe: async (env) => {
      const latest = await schemaRegistryOf(env).findLatest(name);
      if (!latest) return undefined;
      const same = canonical(JSON.parse(latest.schema)) === canonical(contract);
      return {
        record: record(latest.id, latest.version),
        ready: true,
        changes: same
          ? []
          : [`schema differs from templates/schemas/${topic}.json (registry has version ${latest.version})`],
      };
    },
    create: async (env) => record(await registerOnceAllowed(env, name, schema)),
    update: async (env) => record(await registerOnceAllowed(env, name, schema)),
    destroy: (env) => deleteIgnoringGone(() => schemaRegistryOf(env).deleteSubject(name)),
  };
}

/**
 * Registers the schema as soon as the service account's role on the subject has taken effect: until then the
 * registry answers 403, which is waited through (nothing reports when a role binding becomes effective).
 */
function registerOnceAllowed(env: CloudEnv, subject: string, schema: string): Promise<number> {
  const registry = schemaRegistryOf(env);
  return waitFor(
    async () => {
      try {
        return { done: true, value: await registry.register(subject, schema, 'JSON') };
      } catch (error) {
        if (isConfluentApiError(error) && error.status === 403)
          return { done: false, status: `the role on ${subject} is not effective yet (HTTP 403)` };
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
      onProgress: (status) => env.progress(subjectNode(subject.replace(/-value$/, '')), status),
    },
  );
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}
