import { CLOUD_REGIONS } from '../../../src/core/regions.js';
import { EmulatorHttpError } from './http-error.js';
import { paginate } from './pagination.js';
import type { Call, Router } from './router.js';
import {
  apiKeyId,
  apiKeySecret,
  shortId,
  type ApiKeyRecord,
  type ClusterRecord,
  type EmulatorState,
  type EnvironmentRecord,
  type KsqlClusterRecord,
  type PhaseDurations,
  type RoleBindingRecord,
  type ServiceAccountRecord,
} from './state.js';

export interface ControlPlaneDeps {
  state: EmulatorState;
  publicUrl: () => string;
  /** Phase durations already multiplied by the time scale. */
  durations: PhaseDurations;
  /** The Kafka bootstrap the clusters advertise (the local SASL_SSL listener). */
  kafkaBootstrap: () => string;
  /** Next broker PLAIN user for a new Kafka API key; undefined = mint a random key (no broker behind it). */
  takeKafkaUser: () => { username: string; password: string } | undefined;
  /** Secrets the recorder must mask. */
  onSecret: (secret: string) => void;
  /** A ksqlDB cluster was created: its endpoint is published at once, so reserve it (returns the URL). */
  onKsqlClusterCreated: (cluster: KsqlClusterRecord) => Promise<string>;
  /** A ksqlDB cluster's provisioning time is up: start its server, then set `servingSince` (at once without one). */
  onKsqlClusterReady: (cluster: KsqlClusterRecord) => void;
  /** A ksqlDB cluster is gone: stop what serves its endpoint. */
  onKsqlClusterGone: (cluster: KsqlClusterRecord) => Promise<void>;
  /** A Kafka cluster is gone: its topics and connectors go with it (the data-plane modules do that). */
  onClusterDeleted?: (cluster: ClusterRecord) => Promise<void>;
}

/** What the server calls before each request: deletes whose time has come are finished. */
export interface ControlPlane {
  finishDueDeletes(now: number): Promise<void>;
}

const iso = (ms: number) => new Date(ms).toISOString();
const PREDEFINED_ROLES = new Set([
  'OrganizationAdmin',
  'EnvironmentAdmin',
  'CloudClusterAdmin',
  'AccountAdmin',
  'ResourceOwner',
  'DeveloperRead',
  'DeveloperWrite',
  'DeveloperManage',
  'KsqlAdmin',
  'MetricsViewer',
  'DataDiscovery',
  'NetworkAdmin',
  'FlinkDeveloper',
  'Operator',
  'BillingAdmin',
  'ConnectManager',
  'DataSteward',
  'FlinkAdmin',
]);

export function registerControlPlane(router: Router, deps: ControlPlaneDeps): ControlPlane {
  const { state } = deps;
  const url = (path: string) => `${deps.publicUrl()}${path}`;
  const body = (call: Call) => (call.body ?? {}) as Record<string, any>;

  // ---- views -------------------------------------------------------------------------------------------------
  const envView = (env: EnvironmentRecord) => ({
    api_version: 'org/v2',
    kind: 'Environment',
    id: env.id,
    metadata: {
      self: url(`/org/v2/environments/${env.id}`),
      resource_name: state.environmentCrn(env.id),
      created_at: iso(env.createdAt),
      updated_at: iso(env.updatedAt),
      ...deletedAt(env.deletion),
    },
    display_name: env.displayName,
    stream_governance_config: { package: env.package },
  });
  const envRef = (environmentId: string) => ({
    id: environmentId,
    related: url(`/org/v2/environments/${environmentId}`),
    resource_name: state.environmentCrn(environmentId),
  });
  const clusterView = (cluster: ClusterRecord, now: number) => {
    const provisioned = now >= cluster.readyAt;
    const phase = cluster.deletion ? 'DEPROVISIONING' : provisioned ? 'PROVISIONED' : 'PROVISIONING';
    const restUrl = deps.publicUrl();
    const bootstrap = `SASL_SSL://${deps.kafkaBootstrap()}`;
    return {
      api_version: 'cmk/v2',
      kind: 'Cluster',
      id: cluster.id,
      metadata: {
        self: url(`/cmk/v2/clusters/${cluster.id}`),
        resource_name: `${state.clusterRbacCrn(cluster)}/kafka=${cluster.id}`,
        created_at: iso(cluster.createdAt),
        updated_at: iso(cluster.createdAt),
        ...deletedAt(cluster.deletion),
      },
      spec: {
        display_name: cluster.displayName,
        availability: cluster.availability,
        cloud: cluster.cloud,
        region: cluster.region,
        config: cluster.config,
        kafka_bootstrap_endpoint: bootstrap,
        http_endpoint: restUrl,
        api_endpoint: `https://pkac-${cluster.id.slice(4)}.${cluster.region}.${cluster.cloud.toLowerCase()}.confluent.cloud`,
        endpoints: {
          PUBLIC: { kafka_bootstrap_endpoint: bootstrap, http_endpoint: restUrl, connection_type: 'PUBLIC' },
        },
        environment: envRef(cluster.environmentId),
      },
      status: { phase },
    };
  };
  const saView = (sa: ServiceAccountRecord) => ({
    api_version: 'iam/v2',
    kind: 'ServiceAccount',
    id: sa.id,
    metadata: {
      self: url(`/iam/v2/service-accounts/${sa.id}`),
      resource_name: `${state.orgCrn()}/service-account=${sa.id}`,
      created_at: iso(sa.createdAt),
      updated_at: iso(sa.createdAt),
    },
    display_name: sa.displayName,
    description: sa.description,
  });
  const ownerRef = (ownerId: string) =>
    ownerId.startsWith('sa-')
      ? {
          id: ownerId,
          related: url(`/iam/v2/service-accounts/${ownerId}`),
          resource_name: `${state.orgCrn()}/service-account=${ownerId}`,
          api_version: 'iam/v2',
          kind: 'ServiceAccount',
        }
      : {
          id: ownerId,
          related: url(`/iam/v2/users/${ownerId}`),
          resource_name: `${state.orgCrn()}/user=${ownerId}`,
          api_version: 'iam/v2',
          kind: 'User',
        };
  const keyView = (key: ApiKeyRecord, withSecret: boolean) => ({
    api_version: 'iam/v2',
    kind: 'ApiKey',
    id: key.id,
    metadata: {
      self: url(`/iam/v2/api-keys/${key.id}`),
      resource_name: `${state.orgCrn()}/cloud-api-key=${key.id}`,
      created_at: iso(key.createdAt),
      updated_at: iso(key.createdAt),
    },
    spec: {
      ...(withSecret ? { secret: key.secret } : {}),
      display_name: key.displayName,
      description: key.description,
      owner: ownerRef(key.ownerId),
      resource: key.resource
        ? {
            id: key.resource.id,
            ...(key.resource.environmentId ? { environment: key.resource.environmentId } : {}),
            related:
              state.keyResource(key.resource.id, key.resource.environmentId)?.related ??
              url(
                key.resource.id.startsWith('lkc-')
                  ? `/cmk/v2/clusters/${key.resource.id}`
                  : `/ksqldbcm/v2/clusters/${key.resource.id}`,
              ),
            resource_name:
              state.keyResource(key.resource.id, key.resource.environmentId)?.crn ?? resourceCrn(key.resource.id),
            api_version: key.resource.apiVersion,
            kind: key.resource.kind,
          }
        : null,
    },
  });
  const resourceCrn = (id: string) => {
    const cluster = state.clusters.get(id);
    if (cluster) return `${state.clusterRbacCrn(cluster)}/kafka=${cluster.id}`;
    const ksql = state.ksqlClusters.get(id);
    if (ksql) return ksqlCrn(ksql);
    return `${state.orgCrn()}/resource=${id}`;
  };
  const rbView = (rb: RoleBindingRecord) => ({
    api_version: 'iam/v2',
    kind: 'RoleBinding',
    id: rb.id,
    metadata: {
      self: url(`/iam/v2/role-bindings/${rb.id}`),
      created_at: iso(rb.createdAt),
      updated_at: iso(rb.createdAt),
    },
    principal: rb.principal,
    role_name: rb.roleName,
    crn_pattern: rb.crnPattern,
  });
  const ksqlCrn = (k: KsqlClusterRecord) => state.ksqlCrn(k);
  const ksqlView = (k: KsqlClusterRecord, now: number) => {
    if (now >= k.readyAt && !k.deletion) deps.onKsqlClusterReady(k);
    const provisioned = now >= k.readyAt && k.servingSince !== undefined;
    return {
      api_version: 'ksqldbcm/v2',
      kind: 'Cluster',
      id: k.id,
      metadata: {
        self: url(`/ksqldbcm/v2/clusters/${k.id}`),
        resource_name: ksqlCrn(k),
        created_at: iso(k.createdAt),
        updated_at: iso(k.createdAt),
        ...deletedAt(k.deletion),
      },
      spec: {
        display_name: k.displayName,
        use_detailed_processing_log: k.detailedProcessingLog,
        csu: k.csu,
        kafka_cluster: {
          id: k.kafkaClusterId,
          environment: k.environmentId,
          related: url(`/cmk/v2/clusters/${k.kafkaClusterId}`),
          resource_name: resourceCrn(k.kafkaClusterId),
        },
        credential_identity: ownerRef(k.credentialIdentityId),
        environment: envRef(k.environmentId),
      },
      status: {
        // Confluent publishes the endpoint while the cluster is still PROVISIONING; it serves ksqlDB only later.
        http_endpoint: k.endpoint,
        phase: k.deletion ? 'DEPROVISIONING' : provisioned ? 'PROVISIONED' : 'PROVISIONING',
        is_paused: false,
        storage: k.csu * 125,
        topic_prefix: k.topicPrefix,
      },
    };
  };
  const list = (
    call: Call,
    path: string,
    apiVersion: string,
    kind: string,
    items: unknown[],
    filters: Record<string, string | string[] | undefined> = {},
  ) => ({
    status: 200,
    body: { api_version: apiVersion, kind, ...paginate(items, call.query, url(path), filters) },
  });

  // ---- lookups that answer like Confluent ----------------------------------------------------------------------
  // Confluent answers 403 for a parent environment that does not exist or was deleted, and for a cluster, ksqlDB
  // cluster or API key that was deleted; an environment read by its own id answers 404 once it is gone.
  const environmentOr403 = (id: string | null | undefined, pointer?: string): EnvironmentRecord => {
    const env = id ? state.liveEnvironment(id) : undefined;
    if (!env)
      throw new EmulatorHttpError(
        403,
        'forbidden_access',
        `Forbidden Access: environment ${id ?? ''} is not accessible`,
        { pointer },
      );
    return env;
  };
  const environmentOr404 = (id: string): EnvironmentRecord => {
    if (state.gone.get(id) === 'environment')
      throw new EmulatorHttpError(404, 'resource_not_found', 'Resource Not Found', { gateway: true });
    return environmentOr403(id);
  };
  const forbiddenAccess = () => new EmulatorHttpError(403, 'forbidden_access', 'Forbidden Access', { gateway: true });
  const clusterOr404 = (id: string, environmentId: string | null): ClusterRecord => {
    environmentOr403(environmentId, undefined);
    if (state.gone.get(id) === 'cluster') throw forbiddenAccess();
    const cluster = state.clusters.get(id);
    if (!cluster || cluster.environmentId !== environmentId)
      throw new EmulatorHttpError(404, 'resource_not_found', `Kafka cluster "${id}" not found`);
    return cluster;
  };

  // ---- org/v2 ----------------------------------------------------------------------------------------------------
  const orgView = () => ({
    api_version: 'org/v2',
    kind: 'Organization',
    id: state.organizationId,
    metadata: {
      self: url(`/org/v2/organizations/${state.organizationId}`),
      resource_name: state.orgCrn(),
      created_at: iso(0),
      updated_at: iso(0),
    },
    display_name: state.organizationName,
    jit_enabled: false,
  });
  router.add({
    method: 'GET',
    template: '/org/v2/organizations',
    auth: 'cloud',
    handler: (call) => list(call, '/org/v2/organizations', 'org/v2', 'OrganizationList', [orgView()]),
  });
  router.add({
    method: 'GET',
    template: '/org/v2/organizations/{id}',
    auth: 'cloud',
    handler: (call) => {
      if (call.params['id'] !== state.organizationId)
        throw new EmulatorHttpError(403, 'forbidden_access', 'Forbidden Access');
      return { status: 200, body: orgView() };
    },
  });

  router.add({
    method: 'GET',
    template: '/org/v2/environments',
    auth: 'cloud',
    handler: (call) => {
      const envs = [...state.environments.values()].map(envView);
      return list(call, '/org/v2/environments', 'org/v2', 'EnvironmentList', envs);
    },
  });
  router.add({
    method: 'POST',
    template: '/org/v2/environments',
    auth: 'cloud',
    handler: (call) => {
      const input = body(call);
      const name = String(input['display_name'] ?? '');
      if (!/^[A-Za-z0-9](?:[A-Za-z0-9 _-]{0,62}[A-Za-z0-9])?$/.test(name)) {
        throw new EmulatorHttpError(
          422,
          'invalid_input',
          'display_name must start and end with a letter or digit and contain only letters, digits, spaces, - and _ (at most 64)',
          { pointer: '/display_name' },
        );
      }
      // Display names are not unique on Confluent Cloud (only service accounts' are).
      const pkg = input['stream_governance_config']?.['package'] ?? 'ESSENTIALS';
      if (!['ESSENTIALS', 'ADVANCED'].includes(pkg)) {
        throw new EmulatorHttpError(
          422,
          'invalid_input',
          `stream_governance_config.package must be ESSENTIALS or ADVANCED, not ${pkg}`,
          { pointer: '/stream_governance_config/package' },
        );
      }
      const env: EnvironmentRecord = {
        id: `env-${shortId(5)}`,
        displayName: name,
        package: pkg,
        createdAt: call.now,
        updatedAt: call.now,
      };
      state.environments.set(env.id, env);
      return { status: 201, body: envView(env), headers: { Location: url(`/org/v2/environments/${env.id}`) } };
    },
  });
  router.add({
    method: 'GET',
    template: '/org/v2/environments/{id}',
    auth: 'cloud',
    handler: (call) => ({ status: 200, body: envView(environmentOr404(call.params['id']!)) }),
  });
  router.add({
    method: 'PATCH',
    template: '/org/v2/environments/{id}',
    auth: 'cloud',
    handler: (call) => {
      const env = environmentOr404(call.params['id']!);
      const input = body(call);
      if (typeof input['display_name'] === 'string') env.displayName = input['display_name'];
      const pkg = input['stream_governance_config']?.['package'];
      if (pkg !== undefined) {
        if (env.package === 'ADVANCED' && pkg === 'ESSENTIALS') {
          throw new EmulatorHttpError(422, 'invalid_input', 'Stream Governance package cannot be downgraded', {
            pointer: '/stream_governance_config/package',
          });
        }
        env.package = pkg;
      }
      env.updatedAt = call.now;
      return { status: 200, body: envView(env) };
    },
  });
  router.add({
    method: 'DELETE',
    template: '/org/v2/environments/{id}',
    auth: 'cloud',
    handler: async (call) => {
      const env = environmentOr404(call.params['id']!);
      // Deleting an environment deletes everything in it; all of it stays visible until the delete has finished.
      env.deletion ??= { requestedAt: call.now, goneAt: call.now + deps.durations.environmentDeleteMs };
      const { goneAt } = env.deletion;
      for (const child of [...state.clusters.values(), ...state.ksqlClusters.values()]) {
        if (child.environmentId !== env.id) continue;
        child.deletion ??= { requestedAt: call.now, goneAt };
        child.deletion.goneAt = Math.min(child.deletion.goneAt, goneAt);
      }
      await finishDueDeletes(call.now);
      return { status: 204 };
    },
  });

  // ---- asynchronous deletes ------------------------------------------------------------------------------------------
  const finishing = new Set<string>();
  const clusterGone = async (cluster: ClusterRecord) => {
    await deps.onClusterDeleted?.(cluster);
    state.clusters.delete(cluster.id);
    state.gone.set(cluster.id, 'cluster');
    for (const key of [...state.apiKeys.values()]) if (key.resource?.id === cluster.id) state.deleteApiKey(key.id);
    for (const [name, connector] of [...state.connectors.entries()])
      if (connector.clusterId === cluster.id) state.connectors.delete(name);
  };
  const ksqlClusterGone = async (k: KsqlClusterRecord) => {
    state.ksqlClusters.delete(k.id);
    state.gone.set(k.id, 'ksql-cluster');
    for (const key of [...state.apiKeys.values()]) if (key.resource?.id === k.id) state.deleteApiKey(key.id);
    await deps.onKsqlClusterGone(k);
  };
  /** Ends every delete whose time has come: ksqlDB clusters, then Kafka clusters, then environments. */
  async function finishDueDeletes(now: number): Promise<void> {
    const due = <T extends { id: string; deletion?: { goneAt: number } }>(items: Iterable<T>) =>
      [...items].filter((item) => item.deletion && item.deletion.goneAt <= now && !finishing.has(item.id));
    const finish = async <T extends { id: string }>(items: T[], gone: (item: T) => Promise<void>) => {
      for (const item of items) finishing.add(item.id);
      try {
        for (const item of items) await gone(item);
      } finally {
        for (const item of items) finishing.delete(item.id);
      }
    };
    await finish(due(state.ksqlClusters.values()), ksqlClusterGone);
    await finish(due(state.clusters.values()), clusterGone);
    await finish(due(state.environments.values()), async (env) => {
      state.environments.delete(env.id);
      state.gone.set(env.id, 'environment');
      // What other modules keep in the environment (its Schema Registry, compute pools, statements) goes with it.
      for (const hook of state.environmentGoneHooks) hook(env.id);
    });
  }

  // ---- cmk/v2 ----------------------------------------------------------------------------------------------------
  router.add({
    method: 'GET',
    template: '/cmk/v2/clusters',
    auth: 'cloud',
    handler: (call) => {
      const environmentId = call.query.get('environment');
      environmentOr403(environmentId, undefined);
      const clusters = [...state.clusters.values()]
        .filter((c) => c.environmentId === environmentId)
        .map((c) => clusterView(c, call.now));
      return list(call, '/cmk/v2/clusters', 'cmk/v2', 'ClusterList', clusters, {
        environment: environmentId ?? undefined,
      });
    },
  });
  router.add({
    method: 'POST',
    template: '/cmk/v2/clusters',
    auth: 'cloud',
    handler: (call) => {
      const spec = (body(call)['spec'] ?? {}) as Record<string, any>;
      const env = environmentOr403(spec['environment']?.['id'], '/spec/environment/id');
      const cloud = String(spec['cloud']);
      const region = String(spec['region']);
      const regions = (CLOUD_REGIONS as Record<string, readonly string[]>)[cloud.toLowerCase()];
      if (!regions?.includes(region)) {
        throw new EmulatorHttpError(
          400,
          'bad_request',
          'Unable to schedule given the cloud and/or region in request is invalid or unavailable',
          { pointer: '/spec/region' },
        );
      }
      const kind = spec['config']?.['kind'];
      const availability = String(spec['availability']);
      if (!['SINGLE_ZONE', 'MULTI_ZONE', 'LOW', 'HIGH'].includes(availability)) {
        throw new EmulatorHttpError(422, 'invalid_input', `availability must be SINGLE_ZONE, MULTI_ZONE, LOW or HIGH`, {
          pointer: '/spec/availability',
        });
      }
      if (kind === 'Basic' && !['SINGLE_ZONE', 'LOW'].includes(availability)) {
        throw new EmulatorHttpError(
          422,
          'invalid_input',
          'Basic clusters are single-zone only: availability must be SINGLE_ZONE (or LOW)',
          { pointer: '/spec/availability' },
        );
      }
      if ((kind === 'Enterprise' || kind === 'Freight') && !['MULTI_ZONE', 'HIGH'].includes(availability)) {
        throw new EmulatorHttpError(
          422,
          'invalid_input',
          'Durability must be HIGH for an Enterprise or Freight cluster',
          { pointer: '/spec/availability' },
        );
      }
      const cluster: ClusterRecord = {
        id: `lkc-${shortId(5)}`,
        environmentId: env.id,
        displayName: String(spec['display_name']),
        availability,
        cloud,
        region,
        config: spec['config'],
        createdAt: call.now,
        readyAt: call.now + deps.durations.clusterMs,
      };
      state.clusters.set(cluster.id, cluster);
      return {
        status: 202,
        body: clusterView(cluster, call.now),
        headers: { Location: url(`/cmk/v2/clusters/${cluster.id}?environment=${env.id}`) },
      };
    },
  });
  router.add({
    method: 'GET',
    template: '/cmk/v2/clusters/{id}',
    auth: 'cloud',
    handler: (call) => ({
      status: 200,
      body: clusterView(clusterOr404(call.params['id']!, call.query.get('environment')), call.now),
    }),
  });
  router.add({
    method: 'DELETE',
    template: '/cmk/v2/clusters/{id}',
    auth: 'cloud',
    handler: async (call) => {
      const cluster = clusterOr404(call.params['id']!, call.query.get('environment'));
      if ([...state.ksqlClusters.values()].some((k) => k.kafkaClusterId === cluster.id)) {
        throw new EmulatorHttpError(
          409,
          'resource_conflict',
          `Cannot delete Kafka cluster ${cluster.id}: delete its ksqlDB clusters first`,
        );
      }
      cluster.deletion ??= { requestedAt: call.now, goneAt: call.now + deps.durations.clusterDeleteMs };
      await finishDueDeletes(call.now);
      return { status: 204 };
    },
  });

  // ---- iam/v2 service accounts -------------------------------------------------------------------------------------
  const saOr404 = (id: string) => {
    const sa = state.serviceAccounts.get(id);
    if (!sa) throw new EmulatorHttpError(404, 'resource_not_found', `Service account "${id}" not found`);
    return sa;
  };
  router.add({
    method: 'GET',
    template: '/iam/v2/service-accounts',
    auth: 'cloud',
    handler: (call) => {
      const names = call.query.getAll('display_name').flatMap((v) => v.split(','));
      const accounts = [...state.serviceAccounts.values()]
        .filter((sa) => names.length === 0 || names.includes(sa.displayName))
        .map(saView);
      return list(call, '/iam/v2/service-accounts', 'iam/v2', 'ServiceAccountList', accounts, {
        display_name: names.length ? names : undefined,
      });
    },
  });
  router.add({
    method: 'POST',
    template: '/iam/v2/service-accounts',
    auth: 'cloud',
    handler: (call) => {
      const input = body(call);
      const name = String(input['display_name'] ?? '');
      if (name.length < 1 || name.length > 64)
        throw new EmulatorHttpError(422, 'invalid_input', 'display_name must be 1 to 64 characters', {
          pointer: '/display_name',
        });
      if ([...state.serviceAccounts.values()].some((sa) => sa.displayName === name)) {
        throw new EmulatorHttpError(409, 'resource_already_exists', 'Service name is already in use.', {
          pointer: '/display_name',
        });
      }
      const sa: ServiceAccountRecord = {
        id: `sa-${shortId(6)}`,
        displayName: name,
        description: String(input['description'] ?? ''),
        createdAt: call.now,
      };
      state.serviceAccounts.set(sa.id, sa);
      return { status: 201, body: saView(sa), headers: { Location: url(`/iam/v2/service-accounts/${sa.id}`) } };
    },
  });
  router.add({
    method: 'GET',
    template: '/iam/v2/service-accounts/{id}',
    auth: 'cloud',
    handler: (call) => ({ status: 200, body: saView(saOr404(call.params['id']!)) }),
  });
  router.add({
    method: 'DELETE',
    template: '/iam/v2/service-accounts/{id}',
    auth: 'cloud',
    handler: (call) => {
      state.deleteServiceAccount(saOr404(call.params['id']!).id);
      return { status: 204 };
    },
  });

  // ---- iam/v2 api keys -----------------------------------------------------------------------------------------------
  const keyOr404 = (id: string) => {
    const key = state.apiKeys.get(id);
    if (key) return key;
    if (state.gone.get(id) === 'api-key') throw forbiddenAccess();
    throw new EmulatorHttpError(404, 'resource_not_found', `API key "${id}" not found`);
  };
  router.add({
    method: 'GET',
    template: '/iam/v2/api-keys',
    auth: 'cloud',
    handler: (call) => {
      const owner = call.query.get('spec.owner') ?? undefined;
      const resource = call.query.get('spec.resource') ?? undefined;
      const keys = [...state.apiKeys.values()]
        .filter((k) => (!owner || k.ownerId === owner) && (!resource || (k.resource?.id ?? 'cloud') === resource))
        .map((k) => keyView(k, false));
      return list(call, '/iam/v2/api-keys', 'iam/v2', 'ApiKeyList', keys, {
        'spec.owner': owner,
        'spec.resource': resource,
      });
    },
  });
  router.add({
    method: 'POST',
    template: '/iam/v2/api-keys',
    auth: 'cloud',
    handler: (call) => {
      const spec = (body(call)['spec'] ?? {}) as Record<string, any>;
      const ownerId = String(spec['owner']?.['id'] ?? '');
      if (ownerId !== state.adminUserId && !state.serviceAccounts.has(ownerId)) {
        throw new EmulatorHttpError(404, 'resource_not_found', `Owner "${ownerId}" not found`, {
          pointer: '/spec/owner/id',
        });
      }
      const resourceId: string | undefined = spec['resource']?.['id'];
      let resource: ApiKeyRecord['resource'];
      let key = apiKeyId();
      let secret = apiKeySecret();
      if (resourceId && resourceId !== 'cloud') {
        const cluster = state.clusters.get(resourceId);
        const ksql = state.ksqlClusters.get(resourceId);
        if (cluster) {
          resource = { id: cluster.id, kind: 'Cluster', apiVersion: 'cmk/v2', environmentId: cluster.environmentId };
          const user = deps.takeKafkaUser();
          if (user) {
            key = user.username;
            secret = user.password;
          }
        } else if (ksql) {
          resource = { id: ksql.id, kind: 'Cluster', apiVersion: 'ksqldbcm/v2', environmentId: ksql.environmentId };
        } else if (state.keyResource(resourceId, spec['resource']?.['environment'])) {
          const other = state.keyResource(resourceId, spec['resource']?.['environment'])!;
          resource = {
            id: other.id,
            kind: other.kind,
            apiVersion: other.apiVersion,
            environmentId: other.environmentId,
          };
        } else {
          throw new EmulatorHttpError(404, 'resource_not_found', `Resource "${resourceId}" not found`, {
            pointer: '/spec/resource/id',
          });
        }
      }
      const record: ApiKeyRecord = {
        id: key,
        secret,
        displayName: String(spec['display_name'] ?? ''),
        description: String(spec['description'] ?? ''),
        ownerId,
        resource,
        createdAt: call.now,
        usableAt: call.now + deps.durations.apiKeyMs,
      };
      deps.onSecret(secret);
      // Kafka keys are the broker's users, so a deleted key's id comes back with a new key.
      state.gone.delete(record.id);
      state.apiKeys.set(record.id, record);
      return { status: 202, body: keyView(record, true), headers: { Location: url(`/iam/v2/api-keys/${record.id}`) } };
    },
  });
  router.add({
    method: 'GET',
    template: '/iam/v2/api-keys/{id}',
    auth: 'cloud',
    handler: (call) => ({ status: 200, body: keyView(keyOr404(call.params['id']!), false) }),
  });
  router.add({
    method: 'DELETE',
    template: '/iam/v2/api-keys/{id}',
    auth: 'cloud',
    handler: (call) => {
      state.deleteApiKey(keyOr404(call.params['id']!).id);
      return { status: 204 };
    },
  });

  // ---- iam/v2 role bindings --------------------------------------------------------------------------------------------
  const rbOr404 = (id: string) => {
    // The role-binding service answers a deleted binding with a body in the Kafka REST layout.
    if (state.gone.get(id) === 'role-binding')
      throw new EmulatorHttpError(403, 'forbidden', 'Forbidden', {
        body: {
          error_code: 40301,
          message: 'Either unauthorized to access role binding or role binding does not exist',
        },
      });
    const rb = state.roleBindings.get(id);
    if (!rb) throw new EmulatorHttpError(404, 'resource_not_found', `Role binding "${id}" not found`);
    return rb;
  };
  router.add({
    method: 'GET',
    template: '/iam/v2/role-bindings',
    auth: 'cloud',
    handler: (call) => {
      const crn = decodeURIComponent(call.query.get('crn_pattern') ?? '');
      const principal = call.query.get('principal') ?? undefined;
      const role = call.query.get('role_name') ?? undefined;
      const bindings = [...state.roleBindings.values()]
        .filter(
          (rb) =>
            decodeURIComponent(rb.crnPattern) === crn &&
            (!principal || rb.principal === principal) &&
            (!role || rb.roleName === role),
        )
        .map(rbView);
      return list(call, '/iam/v2/role-bindings', 'iam/v2', 'RoleBindingList', bindings, {
        crn_pattern: crn,
        principal,
        role_name: role,
      });
    },
  });
  router.add({
    method: 'POST',
    template: '/iam/v2/role-bindings',
    auth: 'cloud',
    handler: (call) => {
      const input = body(call);
      const principal = String(input['principal']);
      const roleName = String(input['role_name']);
      const crnPattern = String(input['crn_pattern']);
      if (!PREDEFINED_ROLES.has(roleName))
        throw new EmulatorHttpError(400, 'bad_request', `Unknown role "${roleName}"`, { pointer: '/role_name' });
      const subject = principal.replace(/^User:/, '');
      if (subject !== state.adminUserId && !state.serviceAccounts.has(subject)) {
        throw new EmulatorHttpError(400, 'bad_request', `Principal "${principal}" does not exist`, {
          pointer: '/principal',
        });
      }
      if (!decodeURIComponent(crnPattern).startsWith(state.orgCrn())) {
        throw new EmulatorHttpError(
          403,
          'forbidden_access',
          `crn_pattern is not in organization ${state.organizationId}`,
          { pointer: '/crn_pattern' },
        );
      }
      const duplicate = [...state.roleBindings.values()].find(
        (rb) =>
          rb.principal === principal &&
          rb.roleName === roleName &&
          decodeURIComponent(rb.crnPattern) === decodeURIComponent(crnPattern),
      );
      if (duplicate) {
        throw new EmulatorHttpError(409, 'resource_already_exists', 'Role binding already exists', {
          headers: { Location: url(`/iam/v2/role-bindings/${duplicate.id}`) },
        });
      }
      const rb: RoleBindingRecord = {
        id: `rb-${shortId(5)}`,
        principal,
        roleName,
        crnPattern,
        createdAt: call.now,
        effectiveAt: call.now + deps.durations.roleBindingMs,
      };
      state.roleBindings.set(rb.id, rb);
      return { status: 201, body: rbView(rb), headers: { Location: url(`/iam/v2/role-bindings/${rb.id}`) } };
    },
  });
  router.add({
    method: 'GET',
    template: '/iam/v2/role-bindings/{id}',
    auth: 'cloud',
    handler: (call) => ({ status: 200, body: rbView(rbOr404(call.params['id']!)) }),
  });
  router.add({
    method: 'DELETE',
    template: '/iam/v2/role-bindings/{id}',
    auth: 'cloud',
    handler: (call) => {
      const rb = rbOr404(call.params['id']!);
      state.roleBindings.delete(rb.id);
      state.gone.set(rb.id, 'role-binding');
      return { status: 200, body: rbView(rb) };
    },
  });

  // ---- ksqldbcm/v2 ------------------------------------------------------------------------------------------------------
  const ksqlOr404 = (id: string, environmentId: string | null) => {
    environmentOr403(environmentId);
    if (state.gone.get(id) === 'ksql-cluster') throw forbiddenAccess();
    const k = state.ksqlClusters.get(id);
    if (!k || k.environmentId !== environmentId)
      throw new EmulatorHttpError(404, 'resource_not_found', `ksqlDB cluster "${id}" not found`);
    return k;
  };
  router.add({
    method: 'GET',
    template: '/ksqldbcm/v2/clusters',
    auth: 'cloud',
    handler: (call) => {
      const environmentId = call.query.get('environment');
      environmentOr403(environmentId);
      const clusters = [...state.ksqlClusters.values()]
        .filter((k) => k.environmentId === environmentId)
        .map((k) => ksqlView(k, call.now));
      return list(call, '/ksqldbcm/v2/clusters', 'ksqldbcm/v2', 'ClusterList', clusters, {
        environment: environmentId ?? undefined,
      });
    },
  });
  router.add({
    method: 'POST',
    template: '/ksqldbcm/v2/clusters',
    auth: 'cloud',
    handler: async (call) => {
      const spec = (body(call)['spec'] ?? {}) as Record<string, any>;
      const env = environmentOr403(spec['environment']?.['id'], '/spec/environment/id');
      const kafka = state.clusters.get(spec['kafka_cluster']?.['id']);
      if (!kafka || kafka.environmentId !== env.id || kafka.deletion) {
        throw new EmulatorHttpError(
          404,
          'resource_not_found',
          `Kafka cluster "${spec['kafka_cluster']?.['id']}" not found in ${env.id}`,
          { pointer: '/spec/kafka_cluster/id' },
        );
      }
      if (call.now < kafka.readyAt) {
        throw new EmulatorHttpError(409, 'resource_conflict', `Kafka cluster ${kafka.id} is still provisioning`, {
          pointer: '/spec/kafka_cluster/id',
        });
      }
      const identity = String(spec['credential_identity']?.['id'] ?? '');
      if (identity !== state.adminUserId && !state.serviceAccounts.has(identity)) {
        throw new EmulatorHttpError(404, 'resource_not_found', `Credential identity "${identity}" not found`, {
          pointer: '/spec/credential_identity/id',
        });
      }
      const csu = Number(spec['csu']);
      if (![1, 2, 4, 8, 12, 28].includes(csu))
        throw new EmulatorHttpError(422, 'invalid_input', 'csu must be one of 1, 2, 4, 8, 12, 28', {
          pointer: '/spec/csu',
        });
      const name = String(spec['display_name']);
      const record: KsqlClusterRecord = {
        id: `lksqlc-${shortId(5)}`,
        environmentId: env.id,
        kafkaClusterId: kafka.id,
        credentialIdentityId: identity,
        displayName: name,
        csu,
        detailedProcessingLog: spec['use_detailed_processing_log'] !== false,
        topicPrefix: `pksqlc-${shortId(5)}`,
        createdAt: call.now,
        readyAt: call.now + deps.durations.ksqlClusterMs,
        endpoint: '',
      };
      record.endpoint = await deps.onKsqlClusterCreated(record);
      state.ksqlClusters.set(record.id, record);
      return {
        status: 202,
        body: ksqlView(record, call.now),
        headers: { Location: url(`/ksqldbcm/v2/clusters/${record.id}?environment=${env.id}`) },
      };
    },
  });
  router.add({
    method: 'GET',
    template: '/ksqldbcm/v2/clusters/{id}',
    auth: 'cloud',
    handler: (call) => ({
      status: 200,
      body: ksqlView(ksqlOr404(call.params['id']!, call.query.get('environment')), call.now),
    }),
  });
  router.add({
    method: 'DELETE',
    template: '/ksqldbcm/v2/clusters/{id}',
    auth: 'cloud',
    handler: async (call) => {
      const k = ksqlOr404(call.params['id']!, call.query.get('environment'));
      k.deletion ??= { requestedAt: call.now, goneAt: call.now + deps.durations.ksqlClusterDeleteMs };
      await finishDueDeletes(call.now);
      return { status: 204 };
    },
  });

  return { finishDueDeletes };
}

function deletedAt(deletion: { requestedAt: number } | undefined): { deleted_at?: string } {
  return deletion ? { deleted_at: iso(deletion.requestedAt) } : {};
}
