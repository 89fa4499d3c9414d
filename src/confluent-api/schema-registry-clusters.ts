import { OperationError } from '../core/errors.js';
import { waitFor } from '../core/waiter.js';
import { enc } from './environments.js';
import type { HttpCore } from './http.js';
import { orUndefinedIfGone } from './lookup.js';
import { listAll } from './pagination.js';
import type { SchemaRegistryCluster } from './types.js';
import type { WaitSettings } from './waiters.js';

/**
 * srcm/v3 Schema Registry clusters: read only. Confluent Cloud makes one per governed environment, with the
 * environment's first Kafka cluster; it goes with the environment.
 */
export class SchemaRegistryClusters {
  constructor(private readonly http: HttpCore) {}

  list(environmentId: string): Promise<SchemaRegistryCluster[]> {
    return listAll<SchemaRegistryCluster>(this.http, '/srcm/v3/clusters', { environment: environmentId });
  }

  async get(id: string, environmentId: string): Promise<SchemaRegistryCluster> {
    const response = await this.http.request<SchemaRegistryCluster>({
      method: 'GET',
      path: `/srcm/v3/clusters/${enc(id)}`,
      query: { environment: environmentId },
    });
    return response.data;
  }

  find(id: string, environmentId: string): Promise<SchemaRegistryCluster | undefined> {
    return orUndefinedIfGone(() => this.get(id, environmentId));
  }

  /** The environment's registry, or undefined while it has none (no Kafka cluster yet, or no governance). */
  async ofEnvironment(environmentId: string): Promise<SchemaRegistryCluster | undefined> {
    return (await this.list(environmentId))[0];
  }
}

/** The registry's REST endpoint (its public one). */
export function schemaRegistryEndpoint(cluster: SchemaRegistryCluster): string | undefined {
  return cluster.spec.http_endpoint || undefined;
}

/**
 * Until the environment has its registry (it comes with the first Kafka cluster of a governed environment) and it is
 * PROVISIONED with an endpoint; with `listed`, only until it is listed (whatever its phase).
 */
export function waitForSchemaRegistry(
  clusters: SchemaRegistryClusters,
  environmentId: string,
  options: WaitSettings & { listed?: boolean } = {},
): Promise<SchemaRegistryCluster> {
  return waitFor(
    async () => {
      const cluster = await clusters.ofEnvironment(environmentId);
      if (!cluster) return { done: false, status: 'no Schema Registry in the environment yet' };
      if (options.listed) return { done: true, value: cluster };
      if (cluster.status.phase === 'FAILED') {
        throw new OperationError(`Schema Registry ${cluster.id} of environment ${environmentId} failed to provision`, {
          hint: 'Check the environment in the Confluent Cloud console (Stream Governance), or contact Confluent support.',
        });
      }
      if (cluster.status.phase === 'PROVISIONED' && schemaRegistryEndpoint(cluster))
        return { done: true, value: cluster };
      return { done: false, status: cluster.status.phase };
    },
    {
      what: `the Schema Registry of environment ${environmentId} to be PROVISIONED`,
      timeoutMs: options.timeoutMs ?? 30 * 60_000,
      initialDelayMs: 5_000,
      maxDelayMs: 30_000,
      clock: options.clock,
      signal: options.signal,
      onProgress: options.onProgress,
    },
  );
}
