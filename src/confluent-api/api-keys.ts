import { OperationError } from '../core/errors.js';
import type { SecretRegistry } from '../core/redact.js';
import { enc } from './environments.js';
import type { Credentials, HttpCore } from './http.js';
import { orUndefinedIfGone } from './lookup.js';
import { listAll } from './pagination.js';
import type { ApiKey } from './types.js';

export interface CreateApiKeyInput {
  ownerId: string;
  /** lkc-… for a Kafka key, lksqlc-… for a ksqlDB key, lsrc-… for Schema Registry, <cloud>.<region> for Flink; omit for a Cloud key. */
  resourceId?: string;
  /**
   * Only for a Flink key: a Flink region is not in one environment, so the key names the environment it is for
   * (as Confluent's CLI sends it). Other resources imply their environment.
   */
  flinkEnvironmentId?: string;
  displayName: string;
  description?: string;
}

export interface CreatedApiKey {
  key: ApiKey;
  credentials: Credentials;
}

/** iam/v2 API keys. The secret exists only in the create response; it is registered as a secret at once. */
export class ApiKeys {
  constructor(
    private readonly http: HttpCore,
    private readonly secrets?: SecretRegistry,
  ) {}

  list(filter: { ownerId?: string; resourceId?: string } = {}): Promise<ApiKey[]> {
    return listAll<ApiKey>(this.http, '/iam/v2/api-keys', {
      'spec.owner': filter.ownerId,
      'spec.resource': filter.resourceId,
    });
  }

  async get(id: string): Promise<ApiKey> {
    return (await this.http.request<ApiKey>({ method: 'GET', path: `/iam/v2/api-keys/${enc(id)}` })).data;
  }

  find(id: string): Promise<ApiKey | undefined> {
    return orUndefinedIfGone(() => this.get(id));
  }

  async findByName(
    displayName: string,
    filter: { ownerId?: string; resourceId?: string } = {},
  ): Promise<ApiKey | undefined> {
    return (await this.list(filter)).find((key) => key.spec.display_name === displayName);
  }

  async create(input: CreateApiKeyInput): Promise<CreatedApiKey> {
    const spec: Record<string, unknown> = {
      display_name: input.displayName,
      description: input.description ?? '',
      owner: { id: input.ownerId },
    };
    // Only the id, as both official clients send it (the environment is implied by the resource), but for Flink.
    if (input.resourceId)
      spec['resource'] = input.flinkEnvironmentId
        ? { id: input.resourceId, environment: input.flinkEnvironmentId }
        : { id: input.resourceId };
    const response = await this.http.request<ApiKey>({
      method: 'POST',
      path: '/iam/v2/api-keys',
      body: { spec },
      // A key whose create response was lost has a secret nobody can read: delete it and create a fresh one.
      recover: async () => {
        const orphan = await this.findByName(input.displayName, {
          ownerId: input.ownerId,
          resourceId: input.resourceId,
        });
        if (orphan) await this.delete(orphan.id);
        return undefined;
      },
    });
    const secret = response.data.spec.secret;
    if (!secret) {
      throw new OperationError(`API key ${response.data.id} was created without a secret in the response`, {
        hint: 'Run `marketplace down` to remove it, then `marketplace up` again.',
      });
    }
    const credentials = { key: response.data.id, secret };
    this.secrets?.addCredentialPair(credentials.key, credentials.secret);
    return { key: response.data, credentials };
  }

  async delete(id: string): Promise<void> {
    await this.http.request({ method: 'DELETE', path: `/iam/v2/api-keys/${enc(id)}` });
  }
}
