import { UserError } from '../core/errors.js';
import type { HttpCore } from './http.js';
import { madeByThisCall, orUndefinedIfGone } from './lookup.js';
import { listAll } from './pagination.js';
import type { Environment, Organization, StreamGovernancePackage } from './types.js';

/** org/v2 environments. */
export class Environments {
  constructor(private readonly http: HttpCore) {}

  list(): Promise<Environment[]> {
    return listAll<Environment>(this.http, '/org/v2/environments');
  }

  async get(id: string): Promise<Environment> {
    return (await this.http.request<Environment>({ method: 'GET', path: `/org/v2/environments/${enc(id)}` })).data;
  }

  find(id: string): Promise<Environment | undefined> {
    return orUndefinedIfGone(() => this.get(id));
  }

  /** Every environment with this display name: names are not unique, so the caller decides which is its own. */
  async listByName(displayName: string): Promise<Environment[]> {
    return (await this.list()).filter((env) => env.display_name === displayName);
  }

  /**
   * `existingIds`: the ids of environments with this name from before the create (listed here when not given).
   * After an ambiguous failure only an environment that is not one of them can be the one this call made.
   */
  async create(input: {
    displayName: string;
    streamGovernance?: StreamGovernancePackage;
    existingIds?: readonly string[];
  }): Promise<Environment> {
    const existing = input.existingIds ?? (await this.listByName(input.displayName)).map((env) => env.id);
    const response = await this.http.request<Environment>({
      method: 'POST',
      path: '/org/v2/environments',
      body: {
        display_name: input.displayName,
        stream_governance_config: { package: input.streamGovernance ?? 'ESSENTIALS' },
      },
      recover: async () =>
        madeByThisCall('environment', input.displayName, await this.listByName(input.displayName), existing),
    });
    return response.data;
  }

  /** Asynchronous: the environment (and everything in it) stays visible until the delete has finished. */
  async delete(id: string): Promise<void> {
    await this.http.request({ method: 'DELETE', path: `/org/v2/environments/${enc(id)}` });
  }
}

/** org/v2 organizations: where the org id for CRNs comes from. */
export class Organizations {
  constructor(private readonly http: HttpCore) {}

  list(): Promise<Organization[]> {
    return listAll<Organization>(this.http, '/org/v2/organizations');
  }

  async get(id: string): Promise<Organization> {
    return (await this.http.request<Organization>({ method: 'GET', path: `/org/v2/organizations/${enc(id)}` })).data;
  }

  async findByName(displayName: string): Promise<Organization | undefined> {
    return (await this.list()).find((org) => org.display_name === displayName);
  }

  /** The organization a Cloud API key belongs to: the only one it can list. */
  async current(): Promise<Organization> {
    const [first] = await this.list();
    if (!first) {
      throw new UserError('the Cloud API key can see no organization', {
        hint: 'Use a Cloud API key (Cloud resource management), not a cluster or ksqlDB key, in CONFLUENT_CLOUD_API_KEY.',
      });
    }
    return first;
  }
}

export function enc(segment: string): string {
  return encodeURIComponent(segment);
}
