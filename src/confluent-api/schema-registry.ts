import { waitFor } from '../core/waiter.js';
import { enc } from './environments.js';
import type { Credentials, HttpCore } from './http.js';
import { orUndefinedIfGone } from './lookup.js';
import type { SubjectSchema } from './types.js';
import type { WaitSettings } from './waiters.js';

export interface SchemaRegistryTarget {
  /** The registry's spec.http_endpoint. */
  endpoint: string;
  /** A Schema Registry API key for this registry (Cloud keys are rejected with 401). */
  credentials: Credentials;
}

/** The Schema Registry's REST API (schema-registry-v1) on a registry's own endpoint: subjects and their versions. */
export class SchemaRegistry {
  private readonly base: string;

  constructor(
    private readonly http: HttpCore,
    private readonly target: SchemaRegistryTarget,
  ) {
    this.base = target.endpoint.replace(/\/+$/, '');
    http.registerCredentials(target.credentials);
  }

  /** Subject names, optionally only those starting with `prefix`; soft-deleted ones only with `deleted`. */
  async subjects(options: { prefix?: string; deleted?: boolean } = {}): Promise<string[]> {
    return (await this.listSubjects(options)).data;
  }

  private listSubjects(options: { prefix?: string; deleted?: boolean; acceptStatuses?: number[] }) {
    return this.http.request<string[]>({
      method: 'GET',
      path: `${this.base}/subjects`,
      query: { subjectPrefix: options.prefix, deleted: options.deleted ? true : undefined },
      credentials: this.target.credentials,
      acceptStatuses: options.acceptStatuses,
      deadlineMs: 60_000,
    });
  }

  /**
   * A new key is usable once the registry answers it twice in a row (the rule Terraform applies to Kafka keys:
   * one success may come from a node that synced before the others); listing subjects needs no role.
   */
  waitUntilUsable(options: WaitSettings = {}): Promise<void> {
    let accepted = 0;
    return waitFor(
      async () => {
        const { status } = await this.listSubjects({ acceptStatuses: [401] });
        accepted = status === 200 ? accepted + 1 : 0;
        if (accepted >= 2) return { done: true, value: undefined };
        return { done: false, status: status === 200 ? 'accepted once' : 'key not accepted yet (HTTP 401)' };
      },
      {
        what: `Schema Registry API key ${this.target.credentials.key} to become usable`,
        timeoutMs: options.timeoutMs ?? 20 * 60_000,
        initialDelayMs: 5_000,
        maxDelayMs: 30_000,
        clock: options.clock,
        signal: options.signal,
        onProgress: options.onProgress,
      },
    );
  }

  async latest(subject: string): Promise<SubjectSchema> {
    const response = await this.http.request<SubjectSchema>({
      method: 'GET',
      path: `${this.base}/subjects/${enc(subject)}/versions/latest`,
      credentials: this.target.credentials,
    });
    return response.data;
  }

  /** The subject's latest version; undefined when the subject does not exist (or is soft-deleted). */
  findLatest(subject: string): Promise<SubjectSchema | undefined> {
    return orUndefinedIfGone(() => this.latest(subject));
  }

  /**
   * Registers `schema` under `subject` (a new version unless the subject already has this very schema, which
   * makes this safe to repeat); returns the schema's id. An incompatible schema is a 409.
   */
  async register(subject: string, schema: string, schemaType: 'JSON' | 'AVRO' | 'PROTOBUF'): Promise<number> {
    const response = await this.http.request<{ id: number }>({
      method: 'POST',
      path: `${this.base}/subjects/${enc(subject)}/versions`,
      body: { schemaType, schema },
      credentials: this.target.credentials,
      idempotent: true,
    });
    return response.data.id;
  }

  /**
   * Deletes a subject with all its versions: a soft delete, then the permanent one (Confluent requires both, in that
   * order). A subject that is already gone, or only soft-deleted, counts as deleted as far as it went.
   */
  async deleteSubject(subject: string): Promise<void> {
    await orUndefinedIfGone(() =>
      this.http.request({
        method: 'DELETE',
        path: `${this.base}/subjects/${enc(subject)}`,
        credentials: this.target.credentials,
      }),
    );
    await orUndefinedIfGone(() =>
      this.http.request({
        method: 'DELETE',
        path: `${this.base}/subjects/${enc(subject)}`,
        query: { permanent: true },
        credentials: this.target.credentials,
      }),
    );
  }
}
