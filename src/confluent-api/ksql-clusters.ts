import { enc } from './environments.js';
import type { HttpCore } from './http.js';
import { madeByThisCall, orUndefinedIfGone } from './lookup.js';
import { listAll } from './pagination.js';
import type { KsqlCluster } from './types.js';

export interface CreateKsqlClusterInput {
  displayName: string;
  environmentId: string;
  kafkaClusterId: string;
  /** The service account (or user) whose Kafka credentials the ksqlDB cluster uses. */
  credentialIdentityId: string;
  csu: number;
  detailedProcessingLog?: boolean;
  /** Ids of same-named ksqlDB clusters from before the create (see Environments.create); listed when not given. */
  existingIds?: readonly string[];
}

/** ksqldbcm/v2 ksqlDB clusters. No update: every change is a re-create. */
export class KsqlClusters {
  constructor(private readonly http: HttpCore) {}

  list(environmentId: string): Promise<KsqlCluster[]> {
    return listAll<KsqlCluster>(this.http, '/ksqldbcm/v2/clusters', { environment: environmentId });
  }

  async get(id: string, environmentId: string): Promise<KsqlCluster> {
    const response = await this.http.request<KsqlCluster>({
      method: 'GET',
      path: `/ksqldbcm/v2/clusters/${enc(id)}`,
      query: { environment: environmentId },
    });
    return response.data;
  }

  find(id: string, environmentId: string): Promise<KsqlCluster | undefined> {
    return orUndefinedIfGone(() => this.get(id, environmentId));
  }

  /** Every ksqlDB cluster of the environment with this display name: names are not unique. */
  async listByName(environmentId: string, displayName: string): Promise<KsqlCluster[]> {
    return (await this.list(environmentId)).filter((cluster) => cluster.spec.display_name === displayName);
  }

  async create(input: CreateKsqlClusterInput): Promise<KsqlCluster> {
    const existing =
      input.existingIds ?? (await this.listByName(input.environmentId, input.displayName)).map((c) => c.id);
    const response = await this.http.request<KsqlCluster>({
      method: 'POST',
      path: '/ksqldbcm/v2/clusters',
      body: {
        spec: {
          display_name: input.displayName,
          csu: input.csu,
          use_detailed_processing_log: input.detailedProcessingLog ?? true,
          kafka_cluster: { id: input.kafkaClusterId, environment: input.environmentId },
          credential_identity: { id: input.credentialIdentityId },
          environment: { id: input.environmentId },
        },
      },
      recover: async () =>
        madeByThisCall(
          'ksqlDB cluster',
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
      path: `/ksqldbcm/v2/clusters/${enc(id)}`,
      query: { environment: environmentId },
    });
  }
}
