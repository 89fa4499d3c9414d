import { UserError } from '../core/errors.js';
import type { HttpCore } from './http.js';
import { orUndefinedIfGone } from './lookup.js';
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

  async findByName(displayName: string): Promise<Environment | undefined> {
    return (await this.list()).find((env) => env.display_name === displayName);
  }

  async create(input: { displayName: string; streamGovernance?: StreamGovernancePackage }): Promise<Environment> {
    const response = await this.http.request<Environment>({
      method: 'POST',
      path: '/org/v2/environments',
      body: {
        display_name: input.displayName,
        stream_governance_config: { package: input.streamGovernance ?? 'ESSENTIALS' },
      },
      recover: () => this.findByName(input.displayName),
    });
    return response.data;
  }

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
