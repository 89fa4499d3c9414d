import { randomUUID } from 'node:crypto';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { isCliError, OperationError } from '../core/errors.js';
import type { SecretRegistry } from '../core/redact.js';
import { formatDuration } from '../core/parse.js';
import { AFTER_INTERRUPT_MS, abortReason, systemClock, type Clock } from '../core/waiter.js';
import { confluentApiError, normaliseFailure, type ConfluentApiError } from './errors.js';
import { defaultRetryPolicy, nextDelayMs, serverWaitHintMs, type RetryPolicy } from './retry-policy.js';

export interface Credentials {
  key: string;
  secret: string;
}

/** Where --verbose lines go; ctx.out satisfies it. */
export interface ApiLogger {
  debug(message: string): void;
}

export type QueryValue = string | number | boolean | undefined | readonly string[];

export interface ApiRequest<T> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** A path on the control plane (/org/v2/…) or, for data planes, an absolute URL. */
  path: string;
  query?: Record<string, QueryValue>;
  body?: unknown;
  /** Defaults to the Cloud API key; data planes pass their cluster or ksqlDB key. */
  credentials?: Credentials;
  /**
   * For a non-idempotent create: after an ambiguous failure (timeout, reset, 5xx) the request may have been
   * applied, so this looks the resource up by name; a hit ends the call, a miss allows one more create.
   */
  recover?: () => Promise<T | undefined>;
  /** A POST that is safe to repeat (ACL create, validate): ambiguous failures are retried like GETs. */
  idempotent?: boolean;
  /** Overall deadline for this call including retries. */
  deadlineMs?: number;
  /** Statuses returned as results instead of thrown (probes want to see 401/403). */
  acceptStatuses?: readonly number[];
  /**
   * Follow redirects (at most 5) to wherever they point, keeping the Authorization header: the regional Flink
   * endpoint redirects to another host, and HTTP clients drop the header on such hops. Never from https to http.
   */
  followRedirects?: boolean;
}

export interface ApiResponse<T> {
  status: number;
  data: T;
  headers: Record<string, string | undefined>;
  requestId?: string;
  /** True when the value came from `recover` after an ambiguous create. */
  recovered?: boolean;
}

export interface HttpCoreOptions {
  baseUrl: string;
  cloudCredentials: Credentials;
  clock?: Clock;
  logger?: ApiLogger;
  secrets?: SecretRegistry;
  /** Per attempt: how long the API may take to answer (requestTimeout). */
  timeoutMs?: number;
  /** Per call, across retries. */
  deadlineMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Ctrl-C: the attempt in flight and the pause before the next end at once, throwing the signal's reason. */
  signal?: AbortSignal;
}

const NETWORK_NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
/** 303 is left out on purpose: it turns the request into a GET, which no Flink call expects. */
const REDIRECTS = new Set([301, 302, 307, 308]);
const MAX_REDIRECTS = 5;

/** The one place that speaks HTTP to Confluent: auth, request ids, retries, error normalisation, logging. */
export class HttpCore {
  readonly baseUrl: string;
  private readonly axios: AxiosInstance;
  private readonly cloudCredentials: Credentials;
  /** The clock retries sleep on; the API modules' own waits use it too. */
  readonly clock: Clock;
  private readonly logger?: ApiLogger;
  private readonly secrets?: SecretRegistry;
  private readonly deadlineMs: number;
  private readonly timeoutMs: number;
  private readonly signal?: AbortSignal;
  private readonly policy: RetryPolicy;

  constructor(options: HttpCoreOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.cloudCredentials = options.cloudCredentials;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger;
    this.secrets = options.secrets;
    this.deadlineMs = options.deadlineMs ?? 5 * 60_000;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.signal = options.signal;
    this.policy = { ...defaultRetryPolicy, ...options.retry };
    this.registerCredentials(options.cloudCredentials);
    this.axios = axios.create({
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
      maxRedirects: 0,
      headers: { 'User-Agent': 'marketplace-cli', Accept: 'application/json' },
    });
  }

  /** Every key/secret that travels through this core is masked in all output. */
  registerCredentials(credentials: Credentials): void {
    this.secrets?.addCredentialPair(credentials.key, credentials.secret);
  }

  async request<T>(spec: ApiRequest<T>): Promise<ApiResponse<T>> {
    const started = this.clock.now();
    const deadline = started + (spec.deadlineMs ?? this.deadlineMs);
    const credentials = spec.credentials ?? this.cloudCredentials;
    if (spec.credentials) this.registerCredentials(spec.credentials);
    const url = this.resolveUrl(spec.path, spec.query);
    const shownPath = displayPath(url);
    const repeatable = spec.method !== 'POST' || spec.idempotent === true;
    let lastError: ConfluentApiError | undefined;

    for (let attempt = 0; attempt < this.policy.maxAttempts; attempt++) {
      const clientRequestId = randomUUID();
      this.log(`→ ${spec.method} ${shownPath} (attempt ${attempt + 1}, X-Request-Id ${clientRequestId})`);
      const attemptStarted = this.clock.now();
      // A call made after Ctrl-C (recording what was done) gets a moment; one in flight at Ctrl-C ends then.
      const interrupted = this.signal?.aborted === true;
      const attemptTimeout = Math.max(
        1,
        Math.min(interrupted ? AFTER_INTERRUPT_MS : this.timeoutMs, deadline - attemptStarted),
      );
      let response: AxiosResponse<string> | undefined;
      let networkCode: string | undefined;
      try {
        response = await this.send(spec, url, credentials, clientRequestId, {
          timeout: attemptTimeout,
          signal: interrupted ? undefined : this.signal,
        });
      } catch (error) {
        if (!interrupted && this.signal?.aborted) throw abortReason(this.signal);
        if (isCliError(error)) throw error;
        networkCode = networkErrorCode(error);
      }

      const headers = response ? flatHeaders(response.headers) : {};
      const requestId = headers['x-request-id'] ?? clientRequestId;
      if (response) {
        this.log(
          `← ${response.status} ${spec.method} ${shownPath} in ${this.clock.now() - attemptStarted} ms [${requestId}]`,
        );
        const body = parseBody(response.data, headers['content-type']);
        if ((response.status >= 200 && response.status < 300) || spec.acceptStatuses?.includes(response.status)) {
          return { status: response.status, data: body as T, headers, requestId };
        }
        lastError = confluentApiError({
          ...normaliseFailure({ status: response.status, headers, body, method: spec.method, path: shownPath }),
          requestId,
        });
      } else {
        this.log(`✗ ${spec.method} ${shownPath}: ${networkCode} after ${this.clock.now() - attemptStarted} ms`);
        lastError = confluentApiError({
          status: 0,
          code: networkCode,
          detail: networkMessage(networkCode, url, attemptTimeout),
          shape: 'network',
          method: spec.method,
          path: shownPath,
          requestId: clientRequestId,
        });
      }

      if (!lastError.retriable || interrupted) throw lastError;
      const notApplied = lastError.status === 429 || NETWORK_NOT_SENT.has(networkCode ?? '');
      if (!notApplied && !repeatable) {
        if (!spec.recover) throw lastError;
        const existing = await spec.recover();
        if (existing !== undefined) {
          this.log(
            `  ${spec.method} ${shownPath}: found the resource after an ambiguous failure; not creating it again`,
          );
          return { status: 200, data: existing, headers: {}, requestId, recovered: true };
        }
      }
      const hint = serverWaitHintMs(headers, Date.now());
      const delay = nextDelayMs(attempt, this.policy, hint);
      if (attempt + 1 >= this.policy.maxAttempts || this.clock.now() + delay > deadline) break;
      this.log(`  retrying in ${delay} ms${hint === undefined ? '' : ' (server asked)'}`);
      await this.clock.sleep(delay, this.signal);
    }
    throw lastError!;
  }

  private async send<T>(
    spec: ApiRequest<T>,
    url: string,
    credentials: Credentials,
    clientRequestId: string,
    bounds: { timeout: number; signal: AbortSignal | undefined },
  ): Promise<AxiosResponse<string>> {
    let target = url;
    for (let hop = 0; ; hop++) {
      const response = await this.axios.request<string>({
        method: spec.method,
        url: target,
        timeout: bounds.timeout,
        signal: bounds.signal,
        data: spec.body === undefined ? undefined : JSON.stringify(spec.body),
        headers: {
          Authorization: `Basic ${Buffer.from(`${credentials.key}:${credentials.secret}`).toString('base64')}`,
          'X-Request-Id': clientRequestId,
          ...(spec.body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
      });
      const location = response.headers['location'];
      if (!spec.followRedirects || !REDIRECTS.has(response.status) || typeof location !== 'string') return response;
      const next = new URL(location, target);
      if (hop >= MAX_REDIRECTS || (new URL(target).protocol === 'https:' && next.protocol !== 'https:')) {
        throw new OperationError(
          `${spec.method} ${displayPath(url)}: ${hop >= MAX_REDIRECTS ? `more than ${MAX_REDIRECTS} redirects` : `a redirect from https to ${next.protocol}`} (to ${next.host})`,
          {
            hint: 'The endpoint is misconfigured or something between you and it rewrites answers; check the endpoint URL.',
          },
        );
      }
      this.log(`  ${response.status} → ${next.host}${next.pathname} (redirect ${hop + 1}, credentials kept)`);
      target = next.toString();
    }
  }

  private resolveUrl(path: string, query: Record<string, QueryValue> | undefined): string {
    const url = new URL(/^https?:\/\//.test(path) ? path : `${this.baseUrl}${path}`);
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const item of value) url.searchParams.append(name, item);
      else url.searchParams.append(name, String(value));
    }
    return url.toString();
  }

  private log(message: string): void {
    if (!this.logger) return;
    this.logger.debug(this.secrets ? this.secrets.redact(message) : message);
  }
}

function displayPath(url: string): string {
  const parsed = new URL(url);
  return parsed.pathname + parsed.search;
}

function flatHeaders(headers: AxiosResponse['headers']): Record<string, string | undefined> {
  const flat: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined || value === null) continue;
    flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return flat;
}

function parseBody(text: string | undefined, contentType: string | undefined): unknown {
  if (text === undefined || text === '') return undefined;
  if (contentType && !/json/i.test(contentType)) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function networkErrorCode(error: unknown): string {
  const record = error as { code?: string; message?: string; cause?: { code?: string } };
  if (record.code === 'ECONNABORTED' || record.code === 'ETIMEDOUT' || /timeout/i.test(record.message ?? ''))
    return 'ETIMEDOUT';
  return record.code ?? record.cause?.code ?? 'ENETWORK';
}

function networkMessage(code: string | undefined, url: string, timeoutMs: number): string {
  switch (code) {
    case 'ETIMEDOUT':
      return `no answer within ${formatDuration(timeoutMs)}`;
    case 'ECONNRESET':
      return 'the connection was reset';
    case 'ECONNREFUSED':
      return `nothing accepts connections at ${new URL(url).host}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve ${new URL(url).hostname}`;
    default:
      return `network error ${code ?? ''}`.trim();
  }
}
