import { EmulatorHttpError } from './http-error.js';
import { paginate } from './pagination.js';
import type { Call } from './router.js';
import type { DataPlaneModule, RunningEmulator } from './server.js';
import { shortId, type EmulatorState, type SchemaRegistryRecord, type SubjectRecord } from './state.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** Roles that allow each kind of subject access (Confluent's predefined roles for Schema Registry subjects). */
const READ_ROLES = ['ResourceOwner', 'DeveloperManage', 'DeveloperWrite', 'DeveloperRead'];
const WRITE_ROLES = ['ResourceOwner', 'DeveloperManage', 'DeveloperWrite'];
const DELETE_ROLES = ['ResourceOwner', 'DeveloperManage'];

/**
 * srcm/v3 (the Schema Registry clusters, on the control plane) and the Schema Registry data plane
 * (schema-registry-v1: subjects, versions, schemas). A governed environment gets its registry with its first Kafka
 * cluster, as on Confluent Cloud; the registry lives as long as the environment. Its endpoint is this emulator's
 * address: the data plane's paths (/subjects, /schemas, …) are its own, and the SR API key tells which registry a
 * call is for. Access to each subject follows the key owner's role bindings on the subject's CRN.
 */
export const schemaRegistryModule: DataPlaneModule = (emulator) => {
  const { router, state } = emulator;
  const provisionMs = emulator.durations.schemaRegistryMs;
  const url = (path: string) => `${emulator.url}${path}`;

  state.environmentGoneHooks.push((environmentId) => {
    const registry = state.schemaRegistries.get(environmentId);
    state.schemaRegistries.delete(environmentId);
    // Keys for the registry go with it, as a cluster's keys go with the cluster.
    if (registry)
      for (const key of [...state.apiKeys.values()]) if (key.resource?.id === registry.id) state.deleteApiKey(key.id);
  });
  state.keyResources.push((id) => {
    const registry = [...state.schemaRegistries.values()].find((r) => r.id === id);
    return (
      registry && {
        id: registry.id,
        kind: 'Cluster',
        apiVersion: 'srcm/v3',
        environmentId: registry.environmentId,
        related: url(`/srcm/v3/clusters/${registry.id}`),
        crn: registryCrn(state, registry),
      }
    );
  });

  emulator.resourceAuthenticators['schema-registry'] = ({ key, secret }, _params, now) => {
    const record = state.apiKeys.get(key);
    const registry = record?.resource && registryById(state, record.resource.id);
    if (!record || record.secret !== secret || !registry || now < record.usableAt)
      throw new EmulatorHttpError(401, 'unauthorized', 'Unauthorized', { kafkaErrorCode: 401 });
    return { kind: 'resource', key: record };
  };

  // ---- srcm/v3 ---------------------------------------------------------------------------------------------------
  const view = (registry: SchemaRegistryRecord, now: number) => ({
    api_version: 'srcm/v3',
    kind: 'Cluster',
    id: registry.id,
    metadata: {
      self: url(`/srcm/v3/clusters/${registry.id}`),
      resource_name: registryCrn(state, registry),
      created_at: iso(registry.createdAt),
      updated_at: iso(registry.createdAt),
    },
    spec: {
      display_name: 'Stream Governance Package',
      package: registry.package,
      http_endpoint: emulator.url,
      catalog_http_endpoint: emulator.url,
      cloud: registry.cloud,
      region: registry.region,
      environment: {
        id: registry.environmentId,
        related: url(`/org/v2/environments/${registry.environmentId}`),
        resource_name: state.environmentCrn(registry.environmentId),
      },
    },
    status: { phase: now >= registry.readyAt ? 'PROVISIONED' : 'PROVISIONING' },
  });
  const environmentOr403 = (id: string | null) => {
    if (!id || !state.liveEnvironment(id))
      throw new EmulatorHttpError(
        403,
        'forbidden_access',
        `Forbidden Access: environment ${id ?? ''} is not accessible`,
      );
    return id;
  };

  router.add({
    method: 'GET',
    template: '/srcm/v3/clusters',
    auth: 'cloud',
    handler: (call) => {
      const environmentId = environmentOr403(call.query.get('environment'));
      const registry = registryOf(state, environmentId, provisionMs);
      return {
        status: 200,
        body: {
          api_version: 'srcm/v3',
          kind: 'ClusterList',
          ...paginate(registry ? [view(registry, call.now)] : [], call.query, url('/srcm/v3/clusters'), {
            environment: environmentId,
          }),
        },
      };
    },
  });
  router.add({
    method: 'GET',
    template: '/srcm/v3/clusters/{id}',
    auth: 'cloud',
    handler: (call) => {
      const environmentId = environmentOr403(call.query.get('environment'));
      const registry = registryOf(state, environmentId, provisionMs);
      if (!registry || registry.id !== call.params['id'])
        throw new EmulatorHttpError(
          404,
          'resource_not_found',
          `Schema Registry cluster "${call.params['id']}" not found`,
        );
      return { status: 200, body: view(registry, call.now) };
    },
  });

  // ---- the Schema Registry data plane -----------------------------------------------------------------------------
  const registryOfCall = (call: Call): SchemaRegistryRecord => {
    const key = call.caller.kind === 'resource' ? call.caller.key : undefined;
    const registry = key?.resource && registryById(state, key.resource.id);
    if (!registry || call.now < registry.readyAt)
      throw new EmulatorHttpError(401, 'unauthorized', 'Unauthorized', { kafkaErrorCode: 401 });
    return registry;
  };
  const allowed = (call: Call, registry: SchemaRegistryRecord, subject: string, roles: string[]) =>
    call.caller.kind === 'resource' &&
    state.grants(
      call.caller.key.ownerId,
      roles,
      `${registryCrn(state, registry)}/subject=${subject}`,
      registry.environmentId,
      call.now,
    );
  const requireRole = (call: Call, registry: SchemaRegistryRecord, subject: string, roles: string[], op: string) => {
    if (!allowed(call, registry, subject, roles)) {
      const who = call.caller.kind === 'resource' ? `User:${call.caller.key.ownerId}` : 'the caller';
      throw new EmulatorHttpError(403, 'forbidden', `${who} is denied operation ${op} on Subject: ${subject}`, {
        kafkaErrorCode: 40301,
      });
    }
  };
  const subjectOr404 = (registry: SchemaRegistryRecord, name: string, withDeleted = false): SubjectRecord => {
    const subject = registry.subjects.get(name);
    if (!subject || (subject.softDeleted && !withDeleted))
      throw new EmulatorHttpError(404, 'not_found', `Subject '${name}' not found.`, { kafkaErrorCode: 40401 });
    return subject;
  };

  router.add({
    method: 'POST',
    template: '/subjects/{subject}/versions',
    auth: 'schema-registry',
    handler: (call) => {
      const registry = registryOfCall(call);
      const name = call.params['subject']!;
      requireRole(call, registry, name, WRITE_ROLES, 'Write');
      const input = (call.body ?? {}) as { schema?: string; schemaType?: string; references?: unknown[] };
      const schemaType = input.schemaType ?? 'AVRO';
      if (schemaType !== 'JSON') {
        throw new EmulatorHttpError(
          422,
          'invalid_schema',
          `This emulator registers JSON schemas only, not ${schemaType}`,
          { kafkaErrorCode: 42201 },
        );
      }
      const parsed = parseJsonSchema(input.schema);
      const canonical = canonicalJson(parsed);
      let subject = registry.subjects.get(name);
      const live = subject && !subject.softDeleted ? subject.versions : [];
      const same = live.find((version) => canonicalJson(JSON.parse(version.schema)) === canonical);
      if (same) return { status: 200, body: { id: same.id } };
      const latest = live.at(-1);
      if (latest) {
        const problem = backwardIncompatibility(JSON.parse(latest.schema) as JsonSchema, parsed);
        if (problem) {
          throw new EmulatorHttpError(
            409,
            'incompatible',
            `Schema being registered is incompatible with an earlier schema for subject "${name}", details: [${problem}]`,
            { kafkaErrorCode: 409 },
          );
        }
      }
      let id = registry.schemaIds.get(canonical);
      if (id === undefined) {
        id = 100_001 + registry.schemaIds.size;
        registry.schemaIds.set(canonical, id);
      }
      if (!subject) {
        subject = { name, versions: [], softDeleted: false };
        registry.subjects.set(name, subject);
      }
      subject.softDeleted = false;
      subject.versions.push({
        version: (subject.versions.at(-1)?.version ?? 0) + 1,
        id,
        schemaType,
        schema: String(input.schema),
      });
      return { status: 200, body: { id } };
    },
  });
  router.add({
    method: 'POST',
    template: '/subjects/{subject}',
    auth: 'schema-registry',
    handler: (call) => {
      const registry = registryOfCall(call);
      const name = call.params['subject']!;
      requireRole(call, registry, name, READ_ROLES, 'Read');
      const subject = subjectOr404(registry, name);
      const input = (call.body ?? {}) as { schema?: string };
      const canonical = canonicalJson(parseJsonSchema(input.schema));
      const found = subject.versions.find((version) => canonicalJson(JSON.parse(version.schema)) === canonical);
      if (!found) throw new EmulatorHttpError(404, 'not_found', 'Schema not found', { kafkaErrorCode: 40403 });
      return { status: 200, body: schemaView(name, found) };
    },
  });
  router.add({
    method: 'GET',
    template: '/subjects',
    auth: 'schema-registry',
    handler: (call) => {
      const registry = registryOfCall(call);
      const prefix = call.query.get('subjectPrefix') ?? '';
      const deleted = call.query.get('deleted') === 'true';
      const names = [...registry.subjects.values()]
        .filter((subject) => (deleted || !subject.softDeleted) && subject.name.startsWith(prefix))
        .filter((subject) => allowed(call, registry, subject.name, READ_ROLES))
        .map((subject) => subject.name)
        .sort();
      return { status: 200, body: names };
    },
  });
  router.add({
    method: 'GET',
    template: '/subjects/{subject}/versions',
    auth: 'schema-registry',
    handler: (call) => {
      const registry = registryOfCall(call);
      const name = call.params['subject']!;
      requireRole(call, registry, name, READ_ROLES, 'Read');
      const subject = subjectOr404(registry, name, call.query.get('deleted') === 'true');
      return { status: 200, body: subject.versions.map((version) => version.version) };
    },
  });
  router.add({
    method: 'GET',
    template: '/subjects/{subject}/versions/{version}',
    auth: 'schema-registry',
    handler: (call) => {
      const registry = registryOfCall(call);
      const name = call.params['subject']!;
      requireRole(call, registry, name, READ_ROLES, 'Read');
      const subject = subjectOr404(registry, name, call.query.get('deleted') === 'true');
      const wanted = call.params['version']!;
      if (wanted !== 'latest' && !/^[1-9][0-9]*$/.test(wanted)) {
        throw new EmulatorHttpError(
          422,
          'invalid_version',
          `The specified version '${wanted}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`,
          { kafkaErrorCode: 42202 },
        );
      }
      const found =
        wanted === 'latest' ? subject.versions.at(-1) : subject.versions.find((v) => v.version === Number(wanted));
      if (!found)
        throw new EmulatorHttpError(404, 'not_found', `Version ${wanted} not found.`, { kafkaErrorCode: 40402 });
      return { status: 200, body: schemaView(name, found) };
    },
  });
  router.add({
    method: 'DELETE',
    template: '/subjects/{subject}',
    auth: 'schema-registry',
    handler: (call) => {
      const registry = registryOfCall(call);
      const name = call.params['subject']!;
      requireRole(call, registry, name, DELETE_ROLES, 'Delete');
      const permanent = call.query.get('permanent') === 'true';
      const subject = subjectOr404(registry, name, permanent);
      const versions = subject.versions.map((version) => version.version);
      if (!permanent) {
        subject.softDeleted = true;
        return { status: 200, body: versions };
      }
      if (!subject.softDeleted) {
        throw new EmulatorHttpError(
          404,
          'not_soft_deleted',
          `Subject '${name}' was not deleted first before being permanently deleted`,
          { kafkaErrorCode: 40405 },
        );
      }
      registry.subjects.delete(name);
      return { status: 200, body: versions };
    },
  });
};

function schemaView(subject: string, version: SubjectRecord['versions'][number]) {
  return {
    subject,
    version: version.version,
    id: version.id,
    schemaType: version.schemaType,
    schema: version.schema,
  };
}

function registryById(state: EmulatorState, id: string): SchemaRegistryRecord | undefined {
  return [...state.schemaRegistries.values()].find((registry) => registry.id === id);
}

function registryCrn(state: EmulatorState, registry: SchemaRegistryRecord): string {
  return `${state.environmentCrn(registry.environmentId)}/schema-registry=${registry.id}`;
}

/**
 * The environment's registry: made (lazily, but timed from the moment it would have been) once a governed
 * environment has a Kafka cluster, gone with the environment.
 */
export function registryOf(
  state: EmulatorState,
  environmentId: string,
  provisionMs: number,
): SchemaRegistryRecord | undefined {
  const environment = state.liveEnvironment(environmentId);
  if (!environment) {
    state.schemaRegistries.delete(environmentId);
    return undefined;
  }
  const existing = state.schemaRegistries.get(environmentId);
  if (existing) return existing;
  const first = [...state.clusters.values()]
    .filter((cluster) => cluster.environmentId === environmentId)
    .sort((a, b) => a.createdAt - b.createdAt)[0];
  if (!first) return undefined;
  const registry: SchemaRegistryRecord = {
    id: `lsrc-${shortId(5)}`,
    environmentId,
    cloud: first.cloud,
    region: first.region,
    package: environment.package,
    createdAt: first.createdAt,
    readyAt: first.createdAt + provisionMs,
    subjects: new Map(),
    schemaIds: new Map(),
  };
  state.schemaRegistries.set(environmentId, registry);
  return registry;
}

/** The schema a subject's latest live version holds, parsed; undefined when there is none. */
export function latestSchema(
  emulator: RunningEmulator,
  environmentId: string,
  subject: string,
): JsonSchema | undefined {
  const found = emulator.state.schemaRegistries.get(environmentId)?.subjects.get(subject);
  const latest = found && !found.softDeleted ? found.versions.at(-1) : undefined;
  return latest ? (JSON.parse(latest.schema) as JsonSchema) : undefined;
}

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  [keyword: string]: unknown;
}

function parseJsonSchema(text: unknown): JsonSchema {
  let parsed: unknown;
  try {
    parsed = JSON.parse(String(text));
  } catch (error) {
    throw new EmulatorHttpError(422, 'invalid_schema', `Invalid schema: ${(error as Error).message}`, {
      kafkaErrorCode: 42201,
    });
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new EmulatorHttpError(422, 'invalid_schema', 'Invalid schema: a JSON schema is an object', {
      kafkaErrorCode: 42201,
    });
  return parsed as JsonSchema;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

/**
 * Why a consumer using `next` could not read what was written with `previous` (BACKWARD, the registry's default),
 * for the rules that matter to flat object schemas: a newly required property, a property whose type changed, and
 * a closed content model that drops a property the old data has. undefined when compatible.
 */
function backwardIncompatibility(previous: JsonSchema, next: JsonSchema): string | undefined {
  const before = previous.properties ?? {};
  const after = next.properties ?? {};
  for (const name of next.required ?? []) {
    if (!(previous.required ?? []).includes(name))
      return `{errorType:'REQUIRED_PROPERTY_ADDED', description:'${name}'}`;
  }
  for (const [name, property] of Object.entries(after)) {
    const old = before[name];
    if (
      old &&
      old.type !== undefined &&
      property.type !== undefined &&
      canonicalJson(old.type) !== canonicalJson(property.type)
    )
      return `{errorType:'TYPE_CHANGED', description:'${name}'}`;
  }
  if (next.additionalProperties === false) {
    for (const name of Object.keys(before))
      if (!(name in after)) return `{errorType:'PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL', description:'${name}'}`;
  }
  return undefined;
}
