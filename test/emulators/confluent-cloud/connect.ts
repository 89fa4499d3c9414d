import { EmulatorHttpError } from './http-error.js';
import {
  ATLAS_SINK_CLASS,
  deadLetterTopic,
  kafkaAuthMode,
  MASKED_ON_READ,
  SENSITIVE_KEYS,
  toLocalMongoSink,
  validateAtlasSink,
} from './mongo-atlas-sink.js';
import type { Call } from './router.js';
import type { DataPlaneModule } from './server.js';
import { shortId, type ConnectorRecord } from './state.js';

const BASE = '/connect/v1/environments/{environment_id}/clusters/{kafka_cluster_id}';

interface LocalStatus {
  connector: { state: string; worker_id: string; trace?: string };
  tasks: { id: number; state: string; worker_id: string; trace?: string }[];
  type?: string;
}

/**
 * connect/v1 managed connectors. A MongoDbAtlasSink is validated as Confluent validates it, then runs for real as a
 * MongoSinkConnector on the local Kafka Connect writing to FerretDB; its status is mapped back.
 */
export const connectModule: DataPlaneModule = (emulator, options) => {
  const { router, state } = emulator;
  const key = (envId: string, clusterId: string, name: string) => `${envId}/${clusterId}/${name}`;

  const local = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> => {
    if (!options.connect)
      throw new EmulatorHttpError(
        500,
        'no_backend',
        'This emulator was started without a Kafka Connect backend (no --connect-url)',
      );
    const response = await fetch(`${options.connect.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : undefined };
  };

  // A deleted cluster's connectors stop with it.
  emulator.clusterDeletedHooks.push(async (deleted) => {
    if (!options.connect) return;
    for (const c of state.connectors.values())
      if (c.clusterId === deleted.id) await local('DELETE', `/connectors/${c.workerName}`);
  });

  const scope = (call: Call) => {
    const envId = call.params['environment_id']!;
    const clusterId = call.params['kafka_cluster_id']!;
    const cluster = state.clusters.get(clusterId);
    if (
      !state.liveEnvironment(envId) ||
      !cluster ||
      cluster.environmentId !== envId ||
      call.now < cluster.readyAt ||
      cluster.deletion
    ) {
      throw new EmulatorHttpError(404, 'not_found', `Kafka cluster ${clusterId} not found in environment ${envId}`);
    }
    return { envId, clusterId, cluster };
  };
  const connectorOr404 = (call: Call) => {
    const { envId, clusterId } = scope(call);
    const found = state.connectors.get(key(envId, clusterId, call.params['connector_name']!));
    if (!found) throw new EmulatorHttpError(404, 'not_found', `Connector ${call.params['connector_name']} not found`);
    return found;
  };
  const masked = (config: Record<string, string>) =>
    Object.fromEntries(
      Object.entries(config).map(([k, v]) => [k, MASKED_ON_READ.includes(k) ? '****************' : v]),
    );
  const connectorView = (c: ConnectorRecord) => ({
    name: c.name,
    config: masked(c.config),
    tasks: Array.from({ length: Number(c.config['tasks.max'] ?? '1') }, (_, task) => ({ connector: c.name, task })),
    type: 'sink',
  });

  const serverFilled = (c: { envId: string; cluster: { id: string; cloud: string; region: string } }) => ({
    'cloud.environment': 'prod',
    'cloud.provider': c.cluster.cloud.toLowerCase(),
    'kafka.endpoint': `SASL_SSL://${options.kafka?.saslSsl ?? 'pkc-emulated.local:9092'}`,
    'kafka.region': c.cluster.region,
  });

  const assertValid = (config: Record<string, string>, topName?: string) => {
    if (config['connector.class'] !== ATLAS_SINK_CLASS) {
      throw new EmulatorHttpError(
        400,
        'bad_request',
        `Connector class "${config['connector.class'] ?? ''}" is not available in this cluster (only ${ATLAS_SINK_CLASS})`,
      );
    }
    if (topName !== undefined && config['name'] !== topName) {
      throw new EmulatorHttpError(
        400,
        'bad_request',
        `config.name "${config['name'] ?? ''}" must equal the connector name "${topName}"`,
      );
    }
    const errors = validateAtlasSink(config).flatMap((entry) => entry.errors);
    if (errors.length > 0) {
      throw new EmulatorHttpError(
        400,
        'bad_request',
        `Connector configuration is invalid and contains the following ${errors.length} error(s): ${errors.join('; ')}`,
      );
    }
  };

  /** Creates or reconfigures the real connector; a config the emulator knows will fail is recorded as a failure. */
  const apply = async (record: ConnectorRecord) => {
    const apiKey = state.apiKeys.get(record.config['kafka.api.key'] ?? '');
    record.failure = undefined;
    if (
      kafkaAuthMode(record.config) === 'KAFKA_API_KEY' &&
      (!apiKey || apiKey.secret !== record.config['kafka.api.secret'] || apiKey.resource?.id !== record.clusterId)
    ) {
      record.failure =
        'org.apache.kafka.common.errors.SaslAuthenticationException: Authentication failed: Invalid username or password (kafka.api.key / kafka.api.secret)';
    }
    if (
      record.config['kafka.auth.mode'] === 'SERVICE_ACCOUNT' &&
      !state.serviceAccounts.has(record.config['kafka.service.account.id'] ?? '')
    ) {
      record.failure = `Service account ${record.config['kafka.service.account.id']} does not exist`;
    }
    const translated = toLocalMongoSink(record.config, options.connect?.mongoUri ?? '', record.workerName);
    if (translated.unsupported) record.failure = translated.unsupported;
    if (record.failure) return;
    const dlq = deadLetterTopic(record.config, record.workerName);
    if (dlq) emulator.ownTopic?.(record.clusterId, dlq);
    const result = await local('PUT', `/connectors/${record.workerName}/config`, translated.config);
    if (result.status >= 400)
      record.failure = `Kafka Connect rejected the connector: ${result.json?.message ?? result.status}`;
  };

  router.add({
    method: 'GET',
    template: `${BASE}/connectors`,
    auth: 'cloud',
    handler: async (call) => {
      const { envId, clusterId } = scope(call);
      const mine = [...state.connectors.values()].filter((c) => c.environmentId === envId && c.clusterId === clusterId);
      const expand = (call.query.get('expand') ?? '').split(',').filter(Boolean);
      if (expand.length === 0) return { status: 200, body: mine.map((c) => c.name) };
      const map: Record<string, unknown> = {};
      for (const c of mine) {
        map[c.name] = {
          ...(expand.includes('id') ? { id: { id: c.workerName, id_type: 'ID' } } : {}),
          ...(expand.includes('info') ? { info: { name: c.name, config: masked(c.config), type: 'unknown' } } : {}),
          ...(expand.includes('status') ? { status: await statusOf(c, call.now) } : {}),
        };
      }
      return { status: 200, body: map };
    },
  });

  router.add({
    method: 'POST',
    template: `${BASE}/connectors`,
    auth: 'cloud',
    handler: async (call) => {
      const where = scope(call);
      const input = call.body as { name?: string; config?: Record<string, string> };
      const name = input.name ?? '';
      if (!/^[A-Za-z0-9][A-Za-z0-9_ .-]{0,63}$/.test(name))
        throw new EmulatorHttpError(400, 'bad_request', 'name must be 1-64 letters, digits, space, ., _ or -');
      if (state.connectors.has(key(where.envId, where.clusterId, name))) {
        throw new EmulatorHttpError(409, 'conflict', `Connector ${name} already exists`);
      }
      const config = { ...(input.config ?? {}) };
      assertValid(config, name);
      const record: ConnectorRecord = {
        name,
        environmentId: where.envId,
        clusterId: where.clusterId,
        config: { ...config, ...serverFilled(where) },
        workerName: `lcc-${shortId(5)}`,
        createdAt: call.now,
        runningAt: call.now + emulator.durations.connectorMs,
      };
      await apply(record);
      state.connectors.set(key(where.envId, where.clusterId, name), record);
      return { status: 201, body: connectorView(record) };
    },
  });

  router.add({
    method: 'PUT',
    template: `${BASE}/connectors/{connector_name}/config`,
    auth: 'cloud',
    handler: async (call) => {
      const where = scope(call);
      const name = call.params['connector_name']!;
      const config = { ...(call.body as Record<string, string>) };
      assertValid(config, name);
      const existing = state.connectors.get(key(where.envId, where.clusterId, name));
      const record: ConnectorRecord = existing ?? {
        name,
        environmentId: where.envId,
        clusterId: where.clusterId,
        config: {},
        workerName: `lcc-${shortId(5)}`,
        createdAt: call.now,
        runningAt: call.now + emulator.durations.connectorMs,
      };
      record.config = { ...config, ...serverFilled(where) };
      await apply(record);
      state.connectors.set(key(where.envId, where.clusterId, name), record);
      return { status: 200, body: connectorView(record) };
    },
  });

  router.add({
    method: 'GET',
    template: `${BASE}/connectors/{connector_name}`,
    auth: 'cloud',
    handler: (call) => ({ status: 200, body: connectorView(connectorOr404(call)) }),
  });
  router.add({
    method: 'GET',
    template: `${BASE}/connectors/{connector_name}/config`,
    auth: 'cloud',
    handler: (call) => ({ status: 200, body: masked(connectorOr404(call).config) }),
  });

  const statusOf = async (c: ConnectorRecord, now: number) => {
    // Confluent Cloud reports `type: unknown` in a managed connector's status, whatever the connector is.
    const base = { name: c.name, type: 'unknown' };
    if (c.failure)
      return { ...base, connector: { state: 'FAILED', worker_id: c.workerName, trace: c.failure }, tasks: [] };
    // While it provisions, its tasks exist and read STOPPED.
    const provisioning = () => ({
      ...base,
      connector: { state: 'PROVISIONING', worker_id: c.workerName, trace: '' },
      tasks: Array.from({ length: Number(c.config['tasks.max'] ?? '1') }, (_, id) => ({
        id,
        state: 'STOPPED',
        worker_id: c.workerName,
        msg: '',
      })),
    });
    if (now < c.runningAt) return provisioning();
    const result = await local('GET', `/connectors/${c.workerName}/status`);
    if (result.status === 404) return provisioning();
    const status = result.json as LocalStatus;
    const tasks = (status.tasks ?? []).map((task) => ({
      id: task.id,
      state: task.state,
      worker_id: c.workerName,
      msg: task.trace ?? '',
    }));
    const taskFailed = tasks.some((task) => task.state === 'FAILED');
    const state =
      status.connector.state === 'UNASSIGNED' || status.connector.state === 'RESTARTING'
        ? 'PROVISIONING'
        : taskFailed
          ? 'FAILED'
          : status.connector.state;
    const trace = status.connector.trace ?? status.tasks?.find((task) => task.trace)?.trace ?? '';
    return { ...base, connector: { state, worker_id: c.workerName, trace }, tasks };
  };

  router.add({
    method: 'GET',
    template: `${BASE}/connectors/{connector_name}/status`,
    auth: 'cloud',
    handler: async (call) => ({ status: 200, body: await statusOf(connectorOr404(call), call.now) }),
  });

  for (const action of ['pause', 'resume'] as const) {
    router.add({
      method: 'PUT',
      template: `${BASE}/connectors/{connector_name}/${action}`,
      auth: 'cloud',
      handler: async (call) => {
        const c = connectorOr404(call);
        if (!c.failure) await local('PUT', `/connectors/${c.workerName}/${action}`);
        return { status: 202 };
      },
    });
  }

  router.add({
    method: 'DELETE',
    template: `${BASE}/connectors/{connector_name}`,
    auth: 'cloud',
    handler: async (call) => {
      const c = connectorOr404(call);
      if (options.connect) await local('DELETE', `/connectors/${c.workerName}`);
      state.connectors.delete(key(c.environmentId, c.clusterId, c.name));
      return { status: 200, body: { error: null } };
    },
  });

  router.add({
    method: 'GET',
    template: `${BASE}/connector-plugins`,
    auth: 'cloud',
    handler: (call) => {
      scope(call);
      return { status: 200, body: [{ class: ATLAS_SINK_CLASS, type: 'sink', version: '1.0.0' }] };
    },
  });

  router.add({
    method: 'PUT',
    template: `${BASE}/connector-plugins/{plugin_name}/config/validate`,
    auth: 'cloud',
    handler: (call) => {
      scope(call);
      if (call.params['plugin_name'] !== ATLAS_SINK_CLASS)
        throw new EmulatorHttpError(404, 'not_found', `Plugin ${call.params['plugin_name']} not found`);
      const results = validateAtlasSink(call.body as Record<string, string>);
      return {
        status: 200,
        body: {
          name: ATLAS_SINK_CLASS,
          groups: [
            'How should we connect to your data?',
            'Kafka Cluster credentials',
            'Input messages',
            'Database details',
          ],
          error_count: results.reduce((sum, entry) => sum + entry.errors.length, 0),
          configs: results.map((entry) => ({
            value: {
              name: entry.name,
              value: SENSITIVE_KEYS.includes(entry.name) ? '' : (entry.value ?? ''),
              errors: entry.errors,
              recommended_values: [],
              visible: true,
            },
          })),
        },
      };
    },
  });

  return async () => {
    if (!options.connect) return;
    for (const c of state.connectors.values())
      await local('DELETE', `/connectors/${c.workerName}`).catch(() => undefined);
  };
};
