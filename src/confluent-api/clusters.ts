import { enc } from './environments.js';
import type { HttpCore } from './http.js';
import { madeByThisCall, orUndefinedIfGone } from './lookup.js';
import { listAll } from './pagination.js';
import type { ClusterConfig, KafkaCluster } from './types.js';

export type ClusterType = 'basic' | 'standard' | 'enterprise' | 'dedicated';

export interface CreateClusterInput {
  displayName: string;
  environmentId: string;
  cloud: 'AWS' | 'GCP' | 'AZURE' | Lowercase<'AWS' | 'GCP' | 'AZURE'>;
  region: string;
  type?: ClusterType;
  /** Dedicated only. */
  cku?: number;
  /** Ids of same-named clusters from before the create (see Environments.create); listed when not given. */
  existingIds?: readonly string[];
}

/** cmk/v2 Kafka clusters. */
export class Clusters {
  constructor(private readonly http: HttpCore) {}

  list(environmentId: string): Promise<KafkaCluster[]> {
    return listAll<KafkaCluster>(this.http, '/cmk/v2/clusters', { environment: environmentId });
  }

  async get(id: string, environmentId: string): Promise<KafkaCluster> {
    const response = await this.http.request<KafkaCluster>({
      method: 'GET',
      path: `/cmk/v2/clusters/${enc(id)}`,
      query: { environment: environmentId },
    });
    return response.data;
  }

  find(id: string, environmentId: string): Promise<KafkaCluster | undefined> {
    return orUndefinedIfGone(() => this.get(id, environmentId));
  }

  /** Every cluster of the environment with this display name: names are not unique. */
  async listByName(environmentId: string, displayName: string): Promise<KafkaCluster[]> {
    return (await this.list(environmentId)).filter((cluster) => cluster.spec.display_name === displayName);
  }

  async create(input: CreateClusterInput): Promise<KafkaCluster> {
    const existing =
      input.existingIds ?? (await this.listByName(input.environmentId, input.displayName)).map((c) => c.id);
    const type = input.type ?? 'basic';
    const config: ClusterConfig =
      type === 'dedicated' ? { kind: 'Dedicated', cku: input.cku ?? 1 } : { kind: capitalise(type) as 'Basic' };
    const response = await this.http.request<KafkaCluster>({
      method: 'POST',
      path: '/cmk/v2/clusters',
      body: {
        spec: {
          display_name: input.displayName,
          availability: type === 'basic' || type === 'standard' ? 'SINGLE_ZONE' : 'MULTI_ZONE',
          cloud: input.cloud.toUpperCase(),
          region: input.region,
          config,
          environment: { id: input.environmentId },
        },
      },
      recover: async () =>
        madeByThisCall(
          'Kafka cluster',
          input.displayName,
          await this.listByName(input.environmentId, input.displayName),
          existing,
        ),
    });
    return response.data;
  }

  /** Asynchronous: the cluster stays visible (phase DEPROVISIONING) until the delete has finished. */
  async delete(id: string, environmentId: string): Promise<void> {
    await this.http.request({
      method: 'DELETE',
      path: `/cmk/v2/clusters/${enc(id)}`,
      query: { environment: environmentId },
    });
  }
}

/** host:port for Kafka clients: the API prefixes the bootstrap endpoint with SASL_SSL://. */
export function bootstrapServers(cluster: KafkaCluster): string | undefined {
  const endpoint =
    cluster.spec.kafka_bootstrap_endpoint ?? Object.values(cluster.spec.endpoints ?? {})[0]?.kafka_bootstrap_endpoint;
  return endpoint?.replace(/^[A-Z_]+:\/\//, '');
}

/** Base URL of the cluster's Kafka REST v3 API. */
export function restEndpoint(cluster: KafkaCluster): string | undefined {
  return cluster.spec.http_endpoint ?? Object.values(cluster.spec.endpoints ?? {})[0]?.http_endpoint;
}

/** The CRN role bindings use for a cluster: its resource name without the trailing /kafka=<id>. */
export function clusterRbacCrn(cluster: KafkaCluster): string {
  const crn = cluster.metadata.resource_name;
  if (!crn) throw new Error(`cluster ${cluster.id} has no resource_name`);
  return crn.replace(/\/kafka=[^/]+$/, '');
}

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}
