import { OperationError, UserError, type CliErrorOptions } from '../core/errors.js';

/** Which of Confluent's error body layouts a response used; kept for --verbose and tests. */
export type ConfluentErrorShape =
  | 'v2-errors'
  | 'standard'
  | 'connect'
  | 'kafka-rest'
  | 'html'
  | 'text'
  | 'none'
  | 'network';

export interface ConfluentErrorDetails {
  /** HTTP status, or 0 when no response arrived (reset, timeout, refused). */
  status: number;
  /** Confluent's machine code: `forbidden_access`, `40101`, `ECONNRESET`, … */
  code?: string;
  /** The server's own explanation. */
  detail: string;
  requestId?: string;
  /** JSON pointer or parameter name the server blamed. */
  pointer?: string;
  shape: ConfluentErrorShape;
  method: string;
  /** Path without the host, e.g. /cmk/v2/clusters. */
  path: string;
  /** Location of the conflicting resource on 409. */
  location?: string;
  retryAfterMs?: number;
}

const USER_FIXABLE = new Set([400, 401, 402, 403, 404, 409, 422]);

/** Fields every normalised Confluent failure carries, whichever CLI error class it is. */
interface ConfluentApiErrorFields extends ConfluentErrorDetails {
  readonly isNotFound: boolean;
  readonly retriable: boolean;
}

/** A 4xx the user can act on (credentials, permission, quota, conflict, invalid input): exit 2 with a hint. */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the constructor sets every field with Object.assign(this, details)
export class ConfluentApiUserError extends UserError implements ConfluentApiErrorFields {
  constructor(details: ConfluentErrorDetails, options: CliErrorOptions = {}) {
    super(oneLine(details), { hint: options.hint ?? hintFor(details), cause: options.cause });
    Object.assign(this, details);
  }
  get isNotFound(): boolean {
    return notFound(this);
  }
  get retriable(): boolean {
    return retriable(this);
  }
}
export interface ConfluentApiUserError extends ConfluentErrorDetails {}

/** Throttling, server errors and network failures: exit 1. */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the constructor sets every field with Object.assign(this, details)
export class ConfluentApiOperationError extends OperationError implements ConfluentApiErrorFields {
  constructor(details: ConfluentErrorDetails, options: CliErrorOptions = {}) {
    super(oneLine(details), { hint: options.hint ?? hintFor(details), cause: options.cause });
    Object.assign(this, details);
  }
  get isNotFound(): boolean {
    return notFound(this);
  }
  get retriable(): boolean {
    return retriable(this);
  }
}
export interface ConfluentApiOperationError extends ConfluentErrorDetails {}

/** One error type for every failure shape of every Confluent API. */
export type ConfluentApiError = ConfluentApiUserError | ConfluentApiOperationError;

export function confluentApiError(details: ConfluentErrorDetails, options: CliErrorOptions = {}): ConfluentApiError {
  return USER_FIXABLE.has(details.status)
    ? new ConfluentApiUserError(details, options)
    : new ConfluentApiOperationError(details, options);
}

export function isConfluentApiError(error: unknown): error is ConfluentApiError {
  return error instanceof ConfluentApiUserError || error instanceof ConfluentApiOperationError;
}

/** The server said the thing is gone: 404, or the 403 Confluent gives for deleted or foreign resources. */
function notFound(details: ConfluentErrorDetails): boolean {
  return details.status === 404 || (details.status === 403 && !/api.?key|credential|authenticat/i.test(details.detail));
}

function retriable(details: ConfluentErrorDetails): boolean {
  return details.status === 0 || details.status === 429 || (details.status >= 500 && details.status !== 501);
}

function oneLine(details: ConfluentErrorDetails): string {
  const where = `${details.method} ${details.path}`;
  const status = details.status === 0 ? (details.code ?? 'network error') : `HTTP ${details.status}`;
  const code = details.code && details.status !== 0 ? ` ${details.code}` : '';
  const pointer = details.pointer ? ` (at ${details.pointer})` : '';
  const requestId = details.requestId ? ` [request ${details.requestId}]` : '';
  return `Confluent Cloud ${where} failed: ${status}${code}: ${details.detail}${pointer}${requestId}`;
}

function hintFor(details: ConfluentErrorDetails): string | undefined {
  const dataPlane = details.path.startsWith('/kafka/v3');
  const registry = SCHEMA_REGISTRY_PATH.test(details.path);
  if (registry) {
    const hint = schemaRegistryHint(details.status);
    if (hint) return hint;
  }
  switch (details.status) {
    case 0:
      return 'Check the network and the Cloud API URL (cloudApiUrl / MARKETPLACE_CLOUD_API_URL), then run the command again.';
    case 401:
      return dataPlane
        ? 'The Kafka cluster API key was rejected. A new key takes a minute or two to become usable; if it persists, create a new cluster API key.'
        : 'Check CONFLUENT_CLOUD_API_KEY and CONFLUENT_CLOUD_API_SECRET, and that the key is a Cloud API key (resource "Cloud resource management"), not a Kafka cluster key.';
    case 402:
      return 'Your organization is over a Confluent Cloud quota or has no payment method: delete unused resources or raise the quota in the Confluent Cloud console.';
    case 403:
      return dataPlane
        ? 'The key owner lacks permission on this cluster: grant CloudClusterAdmin (role bindings take about 90 s to take effect) or the needed ACLs.'
        : 'The Cloud API key owner lacks permission: use a key owned by an OrganizationAdmin, or grant EnvironmentAdmin on the environment.';
    case 409:
      return 'A resource with that name already exists: pick another prefix, or run the command again to adopt the existing one.';
    case 422:
    case 400:
      return 'The request was rejected as invalid; check the configuration values named above (marketplace init shows them).';
    case 404:
      return 'The resource does not exist (deleted, or in another environment); check the ids in your state with `marketplace status`.';
    case 429:
      return 'Confluent Cloud is rate limiting this key; wait a minute and run the command again.';
    default:
      return details.status >= 500
        ? 'Confluent Cloud had a server error; run the command again in a few minutes.'
        : undefined;
  }
}

/** The Schema Registry data plane answers at the root of its endpoint. */
const SCHEMA_REGISTRY_PATH = /^\/(subjects|schemas|config|mode|compatibility)(\/|\?|$)/;

function schemaRegistryHint(status: number): string | undefined {
  switch (status) {
    case 401:
      return 'The Schema Registry API key was rejected. A new key takes a minute or two to become usable; if it persists, run `marketplace up` again to make a new one.';
    case 403:
      return "The key owner lacks permission on the subject: it needs ResourceOwner on the subject's CRN (role bindings take about 90 s to take effect).";
    case 409:
      return "The schema is not compatible with the subject's latest version (BACKWARD): keep the fields existing records have, add new ones as optional, or delete the subject first (`marketplace down`).";
    case 422:
      return 'The Schema Registry rejected the schema as invalid: check the JSON Schema files in templates/schemas.';
    default:
      return undefined;
  }
}

export interface RawFailure {
  status: number;
  headers: Record<string, string | undefined>;
  /** Parsed JSON when the body was JSON, else the text. */
  body: unknown;
  method: string;
  path: string;
}

/** Reads every documented (and the undocumented HTML) error body shape into one record. */
export function normaliseFailure(raw: RawFailure): ConfluentErrorDetails {
  const requestId = raw.headers['x-request-id'] ?? stringAt(raw.body, 'requestId') ?? stringAt(raw.body, 'request_id');
  const base = {
    status: raw.status,
    requestId,
    method: raw.method.toUpperCase(),
    path: raw.path,
    location: raw.headers['location'],
  };
  const body = raw.body;
  if (isRecord(body)) {
    const errors = body['errors'];
    if (Array.isArray(errors) && errors.length > 0 && isRecord(errors[0])) {
      const first = errors[0];
      const source = isRecord(first['source']) ? first['source'] : {};
      const resolution = typeof first['resolution'] === 'string' ? ` ${first['resolution']}` : '';
      return {
        ...base,
        shape: 'v2-errors',
        code: stringOf(first['code']),
        detail: (stringOf(first['detail']) ?? stringOf(first['title']) ?? `HTTP ${raw.status}`) + resolution,
        pointer: stringOf(source['pointer']) ?? stringOf(source['parameter']),
      };
    }
    const error = body['error'];
    if (isRecord(error)) {
      // The 2025 "standard" shape carries a top-level status; connect/v1 nests a numeric code.
      if ('status' in body || typeof error['code'] === 'string') {
        const suggestion = stringOf(error['suggestion']);
        return {
          ...base,
          shape: 'standard',
          code: stringOf(error['code']),
          detail: (stringOf(error['message']) ?? `HTTP ${raw.status}`) + (suggestion ? ` ${suggestion}` : ''),
          pointer: stringOf(error['path']),
        };
      }
      return {
        ...base,
        shape: 'connect',
        code: stringOf(error['code']),
        detail: stringOf(error['message']) ?? `HTTP ${raw.status}`,
      };
    }
    if ('error_code' in body) {
      return {
        ...base,
        shape: 'kafka-rest',
        code: stringOf(body['error_code']),
        detail: stringOf(body['message']) ?? `HTTP ${raw.status}`,
      };
    }
    if ('message' in body || 'code' in body) {
      return {
        ...base,
        shape: 'connect',
        code: stringOf(body['code']),
        detail: stringOf(body['message']) ?? `HTTP ${raw.status}`,
      };
    }
  }
  if (typeof body === 'string' && body.trim().length > 0) {
    if (/<html|<!doctype/i.test(body)) {
      const title = /<title>([^<]*)<\/title>/i.exec(body)?.[1]?.trim();
      return { ...base, shape: 'html', detail: title || `HTTP ${raw.status} (HTML page)` };
    }
    return { ...base, shape: 'text', detail: body.trim().split('\n')[0]!.slice(0, 200) };
  }
  return { ...base, shape: 'none', detail: defaultMessage(raw.status) };
}

function defaultMessage(status: number): string {
  if (status === 429) return 'Too Many Requests';
  if (status >= 500) return 'Server Error';
  return `HTTP ${status}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function stringOf(value: unknown): string | undefined {
  if (typeof value === 'string' && value.length > 0) return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

function stringAt(value: unknown, key: string): string | undefined {
  return isRecord(value) ? stringOf(value[key]) : undefined;
}
