import { enc } from './environments.js';
import type { HttpCore } from './http.js';
import { orUndefinedIfGone } from './lookup.js';
import { listAll } from './pagination.js';
import type { SchemaRegistryCluster } from './types.js';

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
