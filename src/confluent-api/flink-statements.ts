import { OperationError } from '../core/errors.js';
import { waitFor } from '../core/waiter.js';
import { enc } from './environments.js';
import { isConfluentApiError } from './errors.js';
import type { ApiRequest, Credentials, HttpCore } from './http.js';
import { orUndefinedIfGone } from './lookup.js';
import { pageTokenOf } from './pagination.js';
import type { FlinkStatement, StatementException, StatementPhase, StatementResultRow } from './types.js';
import type { WaitSettings } from './waiters.js';

/** Where an environment's statements live: the regional Flink endpoint, with a Flink API key for that region. */
export interface FlinkTarget {
  /** The region's http_endpoint (fcpm/v2 regions). */
  endpoint: string;
  organizationId: string;
  environmentId: string;
  credentials: Credentials;
}

export interface StatementInput {
  name: string;
  statement: string;
  properties: Record<string, string>;
  computePoolId: string;
  /** The service account (or user) the statement runs as. */
  principal: string;
}

export interface ResultPage {
  rows: StatementResultRow[];
  /** The token of the next page; undefined at the end of a bounded result. */
  next?: string;
}

/**
 * sql/v1 statements of one environment, on the regional Flink endpoint. Every call follows the endpoint's redirects
 * itself, keeping its credentials (see http.ts).
 */
export class FlinkStatements {
  private readonly base: string;

  constructor(
    private readonly http: HttpCore,
    private readonly target: FlinkTarget,
  ) {
    this.base = `${target.endpoint.replace(/\/+$/, '')}/sql/v1/organizations/${enc(target.organizationId)}/environments/${enc(target.environmentId)}/statements`;
    http.registerCredentials(target.credentials);
  }

  private call<T>(spec: Omit<ApiRequest<T>, 'credentials' | 'followRedirects'>) {
    return this.http.request<T>({ ...spec, credentials: this.target.credentials, followRedirects: true });
  }

  /** Every statement of the environment (optionally of one compute pool), following the pages to the end. */
  async list(filter: { computePoolId?: string } = {}): Promise<FlinkStatement[]> {
    const statements: FlinkStatement[] = [];
    let pageToken: string | undefined;
    for (let page = 0; page < 1000; page++) {
      const response = await this.call<{ data: FlinkStatement[]; metadata?: { next?: string } }>({
        method: 'GET',
        path: this.base,
        query: {
          'spec.compute_pool_id': filter.computePoolId,
          ...(pageToken === undefined ? { page_size: 100 } : { page_token: pageToken }),
        },
      });
      statements.push(...(response.data.data ?? []));
      const next = pageTokenOf(response.data.metadata?.next);
      if (next === undefined || next === pageToken) return statements;
      pageToken = next;
    }
    return statements;
  }

  async get(name: string): Promise<FlinkStatement> {
    return (await this.call<FlinkStatement>({ method: 'GET', path: `${this.base}/${enc(name)}` })).data;
  }

  find(name: string): Promise<FlinkStatement | undefined> {
    return orUndefinedIfGone(() => this.get(name));
  }

  /**
   * Creates a statement (201, PENDING). Names are unique in the environment (409 otherwise), so after an ambiguous
   * failure the statement is looked up by name: one with this very SQL is the one this call made.
   */
  async create(input: StatementInput): Promise<FlinkStatement> {
    const response = await this.call<FlinkStatement>({
      method: 'POST',
      path: this.base,
      body: {
        name: input.name,
        spec: {
          statement: input.statement,
          properties: input.properties,
          compute_pool_id: input.computePoolId,
          principal: input.principal,
          stopped: false,
        },
      },
      recover: async () => {
        const found = await this.find(input.name);
        return found?.spec.statement === input.statement ? found : undefined;
      },
    });
    return response.data;
  }

  /**
   * Stops or resumes a statement: read it, set spec.stopped, write the whole of it back. The write carries the
   * statement's resource_version, so a statement that changed in between answers 409; it is read again and retried.
   */
  async setStopped(name: string, stopped: boolean): Promise<FlinkStatement> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.get(name);
      if (current.spec.stopped === stopped) return current;
      try {
        const response = await this.call<FlinkStatement>({
          method: 'PUT',
          path: `${this.base}/${enc(name)}`,
          body: {
            name: current.name,
            organization_id: current.organization_id,
            environment_id: current.environment_id,
            metadata: { ...current.metadata },
            spec: { ...current.spec, stopped },
          },
        });
        return response.data ?? (await this.get(name));
      } catch (error) {
        if (!(isConfluentApiError(error) && error.status === 409) || attempt >= 4) throw error;
      }
    }
  }

  async delete(name: string): Promise<void> {
    await this.call({ method: 'DELETE', path: `${this.base}/${enc(name)}` });
  }

  /** The most recent exceptions, newest first (at most ten). */
  async exceptions(name: string): Promise<StatementException[]> {
    const response = await this.call<{ data?: StatementException[] }>({
      method: 'GET',
      path: `${this.base}/${enc(name)}/exceptions`,
    });
    return response.data.data ?? [];
  }

  /** One page of the statement's result; pass the previous page's `next` to read on. */
  async results(name: string, pageToken?: string): Promise<ResultPage> {
    const response = await this.call<{ metadata?: { next?: string }; results?: { data?: StatementResultRow[] } }>({
      method: 'GET',
      path: `${this.base}/${enc(name)}/results`,
      query: { page_token: pageToken },
    });
    return { rows: response.data.results?.data ?? [], next: pageTokenOf(response.data.metadata?.next) };
  }
}

const DONE_PHASES: readonly StatementPhase[] = ['RUNNING', 'COMPLETED'];
const FAILED_PHASES: readonly StatementPhase[] = ['FAILED', 'FAILING'];

/**
 * Until the statement runs (an INSERT or a SELECT) or has completed (DDL). FAILED ends the wait with the statement's
 * newest exception as one line and what to do about it; STOPPED or DELETING mean someone else stopped it.
 */
export function waitForStatementRunning(
  statements: FlinkStatements,
  name: string,
  options: WaitSettings = {},
): Promise<FlinkStatement> {
  return waitFor(
    async () => {
      const statement = await statements.get(name);
      const phase = statement.status.phase;
      if (DONE_PHASES.includes(phase)) return { done: true, value: statement };
      if (FAILED_PHASES.includes(phase)) {
        const [newest] = await statements.exceptions(name).catch(() => []);
        throw statementFailure(statement, newest);
      }
      if (phase === 'STOPPED' || phase === 'DELETING')
        throw new OperationError(`Flink statement ${name} is ${phase} while it was being started`, {
          hint: 'Someone stopped or deleted it meanwhile; run the command again to start it anew.',
        });
      return { done: false, status: statement.status.detail ? `${phase}: ${statement.status.detail}` : phase };
    },
    {
      what: `Flink statement ${name} to run`,
      timeoutMs: options.timeoutMs ?? 30 * 60_000,
      initialDelayMs: 2_000,
      maxDelayMs: 10_000,
      clock: options.clock,
      signal: options.signal,
      onProgress: options.onProgress,
    },
  );
}

/** Until a deleted statement is gone (it is DELETING while its job stops). */
export function waitForStatementDeleted(
  statements: FlinkStatements,
  name: string,
  options: WaitSettings = {},
): Promise<void> {
  return waitFor(
    async () => {
      const statement = await statements.find(name);
      return statement ? { done: false, status: statement.status.phase } : { done: true, value: undefined };
    },
    {
      what: `Flink statement ${name} to be deleted`,
      timeoutMs: options.timeoutMs ?? 10 * 60_000,
      initialDelayMs: 1_000,
      maxDelayMs: 10_000,
      clock: options.clock,
      signal: options.signal,
      onProgress: options.onProgress,
    },
  );
}

/** A FAILED statement as one line: its newest exception (else its detail), and the fix that usually applies. */
export function statementFailure(statement: FlinkStatement, newest?: StatementException): OperationError {
  const reason = (newest?.message ?? statement.status.detail ?? 'no exception reported').split('\n')[0]!.trim();
  const name = newest?.name ? `${newest.name}: ` : '';
  return new OperationError(`Flink statement ${statement.name} FAILED: ${name}${reason}`, { hint: fixFor(reason) });
}

function fixFor(reason: string): string {
  if (/not authorized|denied|authoriz/i.test(reason))
    return "Grant the statement's service account what the message names (role bindings take about 90 s), then run `marketplace up` again: it replaces the failed statement.";
  if (/already exists/i.test(reason))
    return 'Drop the table (or delete the topic) that is in the way, or use another prefix, then run `marketplace up` again.';
  if (/does not exist|not found|Object '.*' not found/i.test(reason))
    return 'A table the statement reads is missing: check that the topics and their subjects exist (`marketplace status`), then run `marketplace up` again.';
  return 'Fix the statement (templates/flink-cloud) or what it names, then run `marketplace up` again: it replaces the failed statement.';
}
