import { isCliError } from '../core/errors.js';
import { formatDuration } from '../core/parse.js';
import { within } from '../core/waiter.js';
import { parseJson } from '../json/exact-json.js';
import { FlinkConnectionError, FlinkError, rootCauseOf } from './errors.js';

/** An answer Flink gave with a status outside 2xx, and the error texts of its body. */
export interface FlinkFailure {
  failed: true;
  status: number;
  errors: string[];
}

export interface FlinkHttpOptions {
  /** Base URL, e.g. http://127.0.0.1:18483. */
  url: string;
  /** For messages: "the Flink SQL Gateway", "the Flink JobManager". */
  what: string;
  /** What to do when it cannot be reached. */
  unreachableHint: string;
  /** How long the server may take to answer one request (requestTimeout; default 30 s). */
  timeoutMs?: number;
  /** Ctrl-C: a request in flight ends at once, throwing the signal's reason. */
  signal?: AbortSignal;
}

/**
 * JSON over HTTP to one of Flink's REST APIs (the SQL Gateway's and the JobManager's share their error shape). Numbers
 * are parsed exactly, so a BIGINT in a result row keeps every digit.
 */
export class FlinkHttp {
  readonly base: string;

  constructor(private readonly options: FlinkHttpOptions) {
    this.base = options.url.replace(/\/+$/, '');
  }

  get what(): string {
    return this.options.what;
  }

  /** The client's Ctrl-C, for the waits of its callers. */
  get signal(): AbortSignal | undefined {
    return this.options.signal;
  }

  /** The body on 2xx; a FlinkFailure for any other status the caller lists in `expect`; else a FlinkError. */
  async call<T>(
    method: 'GET' | 'POST' | 'DELETE' | 'PATCH',
    path: string,
    body?: unknown,
    options: { expect?: number[]; signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<T | FlinkFailure> {
    // One deadline for the answer and its body (requestTimeout); at the deadline or at Ctrl-C the request is cancelled.
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs ?? 30_000;
    const signal = options.signal ?? this.options.signal;
    const cancel = new AbortController();
    const exchange = (async () => {
      const response = await fetch(`${this.base}${path}`, {
        method,
        headers:
          body === undefined
            ? { accept: 'application/json' }
            : { accept: 'application/json', 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: cancel.signal,
      });
      return { response, text: await response.text() };
    })();
    let silent: FlinkConnectionError | undefined;
    const onTimeout = () =>
      (silent = new FlinkConnectionError(
        `${this.options.what} at ${this.base} gave no answer to ${method} ${path.split('?')[0]} within ${formatDuration(timeoutMs)}`,
        {
          hint: `${this.options.unreachableHint} requestTimeout (MARKETPLACE_REQUEST_TIMEOUT) gives a slow server longer.`,
        },
      ));
    let response: Response;
    let text: string;
    try {
      ({ response, text } = await within(exchange, { timeoutMs, signal, onTimeout }));
    } catch (error) {
      cancel.abort();
      if (error === silent || isCliError(error)) throw error;
      // fetch reports "fetch failed"; why is in its cause (an AggregateError's first error when both IPv4 and IPv6 failed).
      const cause = (error as { cause?: NodeJS.ErrnoException & { errors?: NodeJS.ErrnoException[] } }).cause;
      const code = cause?.code ?? cause?.errors?.[0]?.code ?? cause?.message;
      throw new FlinkConnectionError(
        `${this.options.what} at ${this.base} is not reachable (${code ?? (error as Error).message})`,
        { hint: this.options.unreachableHint, cause: error },
      );
    }
    const parsed = text === '' ? undefined : safeParse(text);
    if (response.ok) return parsed as T;
    const errors = errorTexts(parsed, text);
    if (options.expect?.includes(response.status)) return { failed: true, status: response.status, errors };
    const cause = rootCauseOf(errors);
    throw new FlinkError(
      `${this.options.what} answered ${method} ${path.split('?')[0]} with ${response.status}: ${cause.message}`,
      { httpStatus: response.status, hint: `See its log (\`marketplace local logs flink\` on the local stack).` },
    );
  }

  /** Like call, for requests whose only acceptable answer is 2xx. */
  async request<T>(
    method: 'GET' | 'POST' | 'DELETE' | 'PATCH',
    path: string,
    body?: unknown,
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<T> {
    return (await this.call<T>(method, path, body, options)) as T;
  }
}

export function isFailure(value: unknown): value is FlinkFailure {
  return typeof value === 'object' && value !== null && (value as FlinkFailure).failed === true;
}

function safeParse(text: string): unknown {
  try {
    return parseJson(text);
  } catch {
    return undefined;
  }
}

function errorTexts(parsed: unknown, text: string): string[] {
  const errors = (parsed as { errors?: unknown } | undefined)?.errors;
  if (Array.isArray(errors)) return errors.map(String);
  return [text.slice(0, 2000)];
}
