import { enc } from './environments.js';
import type { HttpCore } from './http.js';
import { orUndefinedIfGone } from './lookup.js';
import { listAll } from './pagination.js';
import type { RoleBinding } from './types.js';

export interface RoleBindingInput {
  /** User:sa-… or User:u-… */
  principal: string;
  roleName: string;
  crnPattern: string;
}

/** iam/v2 role bindings (the mds/v2 spec). Delete answers 200 with the deleted binding. */
export class RoleBindings {
  constructor(private readonly http: HttpCore) {}

  list(filter: { crnPattern: string; principal?: string; roleName?: string }): Promise<RoleBinding[]> {
    return listAll<RoleBinding>(this.http, '/iam/v2/role-bindings', {
      crn_pattern: filter.crnPattern,
      principal: filter.principal,
      role_name: filter.roleName,
    });
  }

  async get(id: string): Promise<RoleBinding> {
    return (await this.http.request<RoleBinding>({ method: 'GET', path: `/iam/v2/role-bindings/${enc(id)}` })).data;
  }

  find(id: string): Promise<RoleBinding | undefined> {
    return orUndefinedIfGone(() => this.get(id));
  }

  /** Role bindings have no name: the (principal, role, crn) triple identifies one. */
  async findByName(input: RoleBindingInput): Promise<RoleBinding | undefined> {
    const found = await this.list({
      crnPattern: input.crnPattern,
      principal: input.principal,
      roleName: input.roleName,
    });
    return found.find(
      (rb) =>
        rb.principal === input.principal &&
        rb.role_name === input.roleName &&
        decodeURIComponent(rb.crn_pattern) === decodeURIComponent(input.crnPattern),
    );
  }

  async create(input: RoleBindingInput): Promise<RoleBinding> {
    const response = await this.http.request<RoleBinding>({
      method: 'POST',
      path: '/iam/v2/role-bindings',
      body: { principal: input.principal, role_name: input.roleName, crn_pattern: input.crnPattern },
      recover: () => this.findByName(input),
    });
    return response.data;
  }

  async delete(id: string): Promise<void> {
    await this.http.request({ method: 'DELETE', path: `/iam/v2/role-bindings/${enc(id)}` });
  }
}
