import { OperationError } from '../core/errors.js';
import { waitFor, type Clock } from '../core/waiter.js';
import type { Clusters } from './clusters.js';
import type { Connectors } from './connectors.js';
import type { Environments } from './environments.js';
import { isConfluentApiError } from './errors.js';
import type { ApiResponse, Credentials, HttpCore } from './http.js';
import type { KafkaRest } from './kafka-rest.js';
import type { KsqlClusters } from './ksql-clusters.js';
import { orUndefinedIfGone } from './lookup.js';
import type { ConnectorStatus, KafkaCluster, KsqlCluster } from './types.js';

export interface WaitSettings {
  clock?: Clock;
  timeoutMs?: number;
  onProgress?: (status: string, elapsedMs: number) => void;
  signal?: AbortSignal;
}

const MINUTE = 60_000;

function settings(
  what: string,
  defaults: { timeoutMs: number; initialDelayMs: number; maxDelayMs: number },
  given: WaitSettings,
) {
  return {
    what,
    timeoutMs: given.timeoutMs ?? defaults.timeoutMs,
    initialDelayMs: defaults.initialDelayMs,
    maxDelayMs: defaults.maxDelayMs,
    clock: given.clock,
    onProgress: given.onProgress,
    signal: given.signal,
  };
}

/** Waiting for an object to become ready is pointless once its delete runs. */
function beingDeleted(what: string): OperationError {
  return new OperationError(`${what} is being deleted`, {
    hint: 'Wait until `marketplace down` has finished, then run `marketplace up` again.',
  });
}

/** Kafka cluster until PROVISIONED; FAILED (or a delete) ends the wait with an error. */
export function waitForClusterProvisioned(
  clusters: Clusters,
  id: string,
  environmentId: string,
  options: WaitSettings = {},
): Promise<KafkaCluster> {
  return waitFor(
    async () => {
      const cluster = await clusters.get(id, environmentId);
      if (cluster.status.phase === 'PROVISIONED') return { done: true, value: cluster };
      if (cluster.metadata.deleted_at) throw beingDeleted(`Kafka cluster ${id}`);
      if (cluster.status.phase === 'FAILED') {
        throw new OperationError(`Kafka cluster ${id} failed to provision`, {
          hint: 'Delete it (marketplace down) and try another region or cluster type.',
        });
      }
      return { done: false, status: cluster.status.phase };
    },
    settings(
      `Kafka cluster ${id} to be PROVISIONED`,
      { timeoutMs: 60 * MINUTE, initialDelayMs: 5_000, maxDelayMs: 30_000 },
      options,
    ),
  );
}

/**
 * ksqlDB cluster until PROVISIONED and a statement (`SHOW STREAMS;` over /ksql) succeeds with the ksqlDB key twice in
 * a row. /info is no proof: it only authenticates, while a statement also needs the key owner's KsqlAdmin role
 * binding, and both the key and the binding take effect a while after they were made (nothing reports when; the
 * second success is for nodes that sync later than others). The endpoint is published while the cluster still
 * provisions, so the phase is checked first. 503 with error_code 50321 means the cluster's service account lacks
 * ACLs: that never heals by waiting, so it fails at once with that explanation.
 */
export function waitForKsqlClusterReady(
  http: HttpCore,
  ksqlClusters: KsqlClusters,
  id: string,
  environmentId: string,
  ksqlCredentials: Credentials,
  options: WaitSettings = {},
): Promise<KsqlCluster> {
  let accepted = 0;
  return waitFor(
    async () => {
      const cluster = await ksqlClusters.get(id, environmentId);
      if (cluster.metadata.deleted_at) throw beingDeleted(`ksqlDB cluster ${id}`);
      if (cluster.status.phase === 'FAILED') {
        throw new OperationError(`ksqlDB cluster ${id} failed to provision`, {
          hint: 'Delete it and create it again.',
        });
      }
      if (cluster.status.phase !== 'PROVISIONED') return { done: false, status: cluster.status.phase };
      const endpoint = cluster.status.http_endpoint;
      if (!endpoint) return { done: false, status: 'PROVISIONED, endpoint not published yet' };
      let probe: ApiResponse<{ error_code?: number; message?: string }>;
      try {
        probe = await http.request({
          method: 'POST',
          path: `${endpoint.replace(/\/+$/, '')}/ksql`,
          body: { ksql: 'SHOW STREAMS;', streamsProperties: {} },
          credentials: ksqlCredentials,
          acceptStatuses: [401, 403, 503],
          deadlineMs: 60_000,
          idempotent: true,
        });
      } catch (error) {
        // A new endpoint may not resolve or accept connections at first.
        if (!isConfluentApiError(error) || error.status !== 0) throw error;
        accepted = 0;
        return { done: false, status: `PROVISIONED, endpoint not reachable yet (${error.code ?? 'network error'})` };
      }
      if (probe.status === 200) {
        accepted++;
        return accepted >= 2 ? { done: true, value: cluster } : { done: false, status: 'statements accepted once' };
      }
      accepted = 0;
      if (probe.status === 503 && probe.data?.error_code === 50321) {
        throw new OperationError(
          `ksqlDB cluster ${id} cannot use Kafka: its service account's ACLs are wrong (error 50321)`,
          {
            hint: "Grant the ksqlDB service account the ACLs of `confluent ksql cluster configure-acls` (topics/groups with the cluster's topic prefix), or a CloudClusterAdmin role binding.",
          },
        );
      }
      const why =
        probe.status === 401
          ? 'the ksqlDB API key is not valid yet'
          : probe.status === 403
            ? "the key owner's KsqlAdmin role binding is not effective yet"
            : 'ksqlDB is not serving yet';
      return { done: false, status: `PROVISIONED, ${why} (SHOW STREAMS answered HTTP ${probe.status})` };
    },
    settings(
      `ksqlDB cluster ${id} to accept statements`,
      { timeoutMs: 60 * MINUTE, initialDelayMs: 10_000, maxDelayMs: 60_000 },
      options,
    ),
  );
}

/**
 * Until a deleted object is gone. Deletes are asynchronous: the object stays readable (and listed), with phase
 * DEPROVISIONING where it has a phase, until the service has finished. Gone is a 404, or the 403 Confluent answers
 * for a deleted object or for one whose environment was deleted (Terraform reads both that way).
 */
export function waitForDeleted(
  what: string,
  read: () => Promise<object & { status?: { phase?: string } }>,
  options: WaitSettings = {},
): Promise<void> {
  return waitFor(
    async () => {
      const found = await orUndefinedIfGone(read);
      if (!found) return { done: true, value: undefined };
      return { done: false, status: found.status?.phase ?? 'being deleted' };
    },
    settings(`${what} to be deleted`, { timeoutMs: 30 * MINUTE, initialDelayMs: 5_000, maxDelayMs: 30_000 }, options),
  );
}

export function waitForClusterDeleted(
  clusters: Clusters,
  id: string,
  environmentId: string,
  options: WaitSettings = {},
): Promise<void> {
  return waitForDeleted(`Kafka cluster ${id}`, () => clusters.get(id, environmentId), options);
}

export function waitForKsqlClusterDeleted(
  ksqlClusters: KsqlClusters,
  id: string,
  environmentId: string,
  options: WaitSettings = {},
): Promise<void> {
  return waitForDeleted(`ksqlDB cluster ${id}`, () => ksqlClusters.get(id, environmentId), options);
}

export function waitForEnvironmentDeleted(
  environments: Environments,
  id: string,
  options: WaitSettings = {},
): Promise<void> {
  return waitForDeleted(`environment ${id}`, () => environments.get(id), options);
}

/**
 * A new Kafka API key is usable once the topic list succeeds twice in a row (Terraform's rule: one success can
 * come from a node that already synced while the next one has not).
 */
export function waitForApiKeyUsable(kafka: KafkaRest, keyId: string, options: WaitSettings = {}): Promise<void> {
  let successes = 0;
  return waitFor(
    async () => {
      const { status } = await kafka.listTopics({ acceptStatuses: [401, 403], deadlineMs: 60_000 });
      successes = status === 200 ? successes + 1 : 0;
      if (successes >= 2) return { done: true, value: undefined };
      return { done: false, status: status === 200 ? 'accepted once' : `rejected with HTTP ${status}` };
    },
    settings(
      `API key ${keyId} to become usable`,
      { timeoutMs: 20 * MINUTE, initialDelayMs: 5_000, maxDelayMs: 30_000 },
      options,
    ),
  );
}

/**
 * A role binding is effective when the data-plane call it allows stops answering 403. The probe is that call
 * (e.g. listing topics with the key of the bound service account).
 */
export function waitForRoleBindingEffective(
  roleBindingId: string,
  probe: () => Promise<boolean>,
  options: WaitSettings = {},
): Promise<void> {
  return waitFor(
    async () =>
      (await probe()) ? { done: true, value: undefined } : { done: false, status: 'not effective yet (HTTP 403)' },
    settings(
      `role binding ${roleBindingId} to take effect`,
      { timeoutMs: 10 * MINUTE, initialDelayMs: 5_000, maxDelayMs: 30_000 },
      options,
    ),
  );
}

/** Probe for waitForRoleBindingEffective: the key's owner may list topics on the cluster. */
export function topicListAllowed(kafka: KafkaRest): () => Promise<boolean> {
  return async () => (await kafka.listTopics({ acceptStatuses: [401, 403], deadlineMs: 60_000 })).status === 200;
}

/**
 * Connector until RUNNING. FAILED is reported with the task trace; a connector may flip to FAILED briefly while it
 * starts, so only `failedPolls` FAILED answers in a row end the wait.
 */
export function waitForConnectorRunning(
  connectors: Connectors,
  name: string,
  options: WaitSettings & { failedPolls?: number } = {},
): Promise<ConnectorStatus> {
  let failedInARow = 0;
  let pausedInARow = 0;
  const failedPolls = options.failedPolls ?? 3;
  return waitFor(
    async () => {
      const status = await connectors.status(name);
      const state = status.connector.state;
      if (state === 'RUNNING') return { done: true, value: status };
      if (state === 'FAILED') {
        failedInARow++;
        if (failedInARow >= failedPolls) {
          throw new OperationError(`connector ${name} FAILED: ${connectorTrace(status)}`, {
            hint: 'Fix the cause above (credentials, topic, MongoDB host/user), then delete the connector and run the command again.',
          });
        }
      } else {
        failedInARow = 0;
      }
      // Resume is asynchronous (202): right after it the connector still reports PAUSED for a moment.
      pausedInARow = state === 'PAUSED' ? pausedInARow + 1 : 0;
      if (pausedInARow >= failedPolls) {
        throw new OperationError(`connector ${name} is PAUSED`, {
          hint: 'Resume it, e.g. with the resume API, then wait again.',
        });
      }
      return { done: false, status: state };
    },
    settings(
      `connector ${name} to be RUNNING`,
      { timeoutMs: 30 * MINUTE, initialDelayMs: 5_000, maxDelayMs: 30_000 },
      options,
    ),
  );
}

function connectorTrace(status: ConnectorStatus): string {
  const traces = [status.connector.trace, ...(status.tasks ?? []).map((task) => task.msg)].filter(
    (text): text is string => typeof text === 'string' && text.length > 0,
  );
  return traces.length > 0 ? traces.map((text) => text.split('\n')[0]).join(' | ') : 'no trace given';
}
