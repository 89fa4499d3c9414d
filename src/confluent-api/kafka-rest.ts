import { waitFor } from '../core/waiter.js';
import { enc } from './environments.js';
import { isConfluentApiError, type ConfluentApiError } from './errors.js';
import type { Credentials, HttpCore } from './http.js';
import { orUndefinedIfGone } from './lookup.js';
import type { AclBinding, KafkaTopic } from './types.js';

export interface KafkaRestTarget {
  /** The cluster's spec.http_endpoint. */
  restEndpoint: string;
  clusterId: string;
  /** A Kafka API key for this cluster (Cloud keys are rejected with 401). */
  credentials: Credentials;
}

export interface CreateTopicInput {
  name: string;
  partitions?: number;
  /** Omit on Confluent Cloud: it accepts only its own replication factor. */
  replicationFactor?: number;
  configs?: Record<string, string>;
}

interface TopicList {
  data: KafkaTopic[];
}

/** Kafka REST v3 on a cluster's own endpoint: topics and ACLs. Lists are not paginated. */
export class KafkaRest {
  private readonly base: string;

  constructor(
    private readonly http: HttpCore,
    private readonly target: KafkaRestTarget,
  ) {
    this.base = `${target.restEndpoint.replace(/\/+$/, '')}/kafka/v3/clusters/${enc(target.clusterId)}`;
    http.registerCredentials(target.credentials);
  }

  async listTopics(
    options: { acceptStatuses?: number[]; deadlineMs?: number } = {},
  ): Promise<{ status: number; topics: KafkaTopic[] }> {
    const response = await this.http.request<TopicList>({
      method: 'GET',
      path: `${this.base}/topics`,
      credentials: this.target.credentials,
      acceptStatuses: options.acceptStatuses,
      deadlineMs: options.deadlineMs,
    });
    return { status: response.status, topics: response.status === 200 ? response.data.data : [] };
  }

  async getTopic(name: string): Promise<KafkaTopic> {
    const response = await this.http.request<KafkaTopic>({
      method: 'GET',
      path: `${this.base}/topics/${enc(name)}`,
      credentials: this.target.credentials,
    });
    return response.data;
  }

  findByName(name: string): Promise<KafkaTopic | undefined> {
    return orUndefinedIfGone(() => this.getTopic(name));
  }

  /**
   * Creates a topic. The answer comes before the topic has partitions (its counts read 0): read it back for them.
   * A topic of that name that was just deleted is still "marked for deletion" for a while, and the create answers
   * 400 meanwhile; that is retried until `markedForDeletionTimeoutMs` (default 5 min).
   */
  async createTopic(
    input: CreateTopicInput,
    options: { markedForDeletionTimeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<KafkaTopic> {
    const body: Record<string, unknown> = { topic_name: input.name, partitions_count: input.partitions ?? 6 };
    if (input.replicationFactor !== undefined) body['replication_factor'] = input.replicationFactor;
    if (input.configs) body['configs'] = Object.entries(input.configs).map(([name, value]) => ({ name, value }));
    let refusal: ConfluentApiError | undefined;
    let failed = false;
    try {
      return await waitFor(
        async () => {
          try {
            const response = await this.http.request<KafkaTopic>({
              method: 'POST',
              path: `${this.base}/topics`,
              body,
              credentials: this.target.credentials,
              recover: () => this.findByName(input.name),
            });
            return { done: true, value: response.data };
          } catch (error) {
            if (!isConfluentApiError(error) || error.status !== 400 || !/marked for deletion/i.test(error.detail)) {
              failed = true;
              throw error;
            }
            refusal = error;
            return { done: false, status: 'its name is still marked for deletion' };
          }
        },
        {
          what: `topic ${input.name} to be created once its previous delete has finished`,
          timeoutMs: options.markedForDeletionTimeoutMs ?? 5 * 60_000,
          initialDelayMs: 1_000,
          maxDelayMs: 10_000,
          clock: this.http.clock,
          signal: options.signal,
        },
      );
    } catch (error) {
      // Past the deadline the service's own words say more than a timeout.
      if (refusal && !failed && !options.signal?.aborted) throw refusal;
      throw error;
    }
  }

  async deleteTopic(name: string): Promise<void> {
    await this.http.request({
      method: 'DELETE',
      path: `${this.base}/topics/${enc(name)}`,
      credentials: this.target.credentials,
    });
  }

  async listAcls(filter: Partial<AclBinding> = {}): Promise<AclBinding[]> {
    const response = await this.http.request<{ data: AclBinding[] }>({
      method: 'GET',
      path: `${this.base}/acls`,
      query: { ...filter },
      credentials: this.target.credentials,
    });
    return response.data.data.map(toBinding);
  }

  /** Creating an ACL that exists is a no-op in Kafka, so this is safe to retry. */
  async createAcls(bindings: AclBinding[]): Promise<void> {
    if (bindings.length === 1) {
      await this.http.request({
        method: 'POST',
        path: `${this.base}/acls`,
        body: bindings[0],
        credentials: this.target.credentials,
        idempotent: true,
      });
      return;
    }
    await this.http.request({
      method: 'POST',
      path: `${this.base}/acls:batch`,
      body: { data: bindings },
      credentials: this.target.credentials,
      idempotent: true,
    });
  }

  async deleteAcls(
    filter: Pick<AclBinding, 'resource_type' | 'pattern_type' | 'operation' | 'permission'> & Partial<AclBinding>,
  ): Promise<AclBinding[]> {
    const response = await this.http.request<{ data: AclBinding[] }>({
      method: 'DELETE',
      path: `${this.base}/acls`,
      query: { ...filter },
      credentials: this.target.credentials,
    });
    return response.data.data.map(toBinding);
  }
}

function toBinding(acl: AclBinding): AclBinding {
  const { resource_type, resource_name, pattern_type, principal, host, operation, permission } = acl;
  return { resource_type, resource_name, pattern_type, principal, host, operation, permission };
}
