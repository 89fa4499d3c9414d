import { enc } from './environments.js';
import type { HttpCore } from './http.js';
import { orUndefinedIfGone } from './lookup.js';
import { listAll } from './pagination.js';
import type { ServiceAccount } from './types.js';

/** iam/v2 service accounts. Display names are unique in the organization. */
export class ServiceAccounts {
  constructor(private readonly http: HttpCore) {}

  list(filter: { displayName?: string } = {}): Promise<ServiceAccount[]> {
    return listAll<ServiceAccount>(this.http, '/iam/v2/service-accounts', {
      display_name: filter.displayName === undefined ? undefined : [filter.displayName],
    });
  }

  async get(id: string): Promise<ServiceAccount> {
    return (await this.http.request<ServiceAccount>({ method: 'GET', path: `/iam/v2/service-accounts/${enc(id)}` }))
      .data;
  }

  find(id: string): Promise<ServiceAccount | undefined> {
    return orUndefinedIfGone(() => this.get(id));
  }

  async findByName(displayName: string): Promise<ServiceAccount | undefined> {
    return (await this.list({ displayName })).find((sa) => sa.display_name === displayName);
  }

  async create(input: { displayName: string; description?: string }): Promise<ServiceAccount> {
    const response = await this.http.request<ServiceAccount>({
      method: 'POST',
      path: '/iam/v2/service-accounts',
      body: { display_name: input.displayName, description: input.description ?? '' },
      recover: () => this.findByName(input.displayName),
    });
    return response.data;
  }

  /** Also deletes every API key the account owns. */
  async delete(id: string): Promise<void> {
    await this.http.request({ method: 'DELETE', path: `/iam/v2/service-accounts/${enc(id)}` });
  }
}
