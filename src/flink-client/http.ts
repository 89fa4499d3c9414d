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
  timeoutMs?: number;
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

  /** The body on 2xx; a FlinkFailure for any other status the caller lists in `expect`; else a FlinkError. */
  async call<T>(
    method: 'GET' | 'POST' | 'DELETE' | 'PATCH',
    path: string,
    body?: unknown,
    options: { expect?: number[]; signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<T | FlinkFailure> {
    const timeout = AbortSignal.timeout(options.timeoutMs ?? this.options.timeoutMs ?? 30_000);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        headers:
          body === undefined
            ? { accept: 'application/json' }
            : { accept: 'application/json', 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason ?? error;
      const code = (error as { cause?: NodeJS.ErrnoException }).cause?.code;
      const reason = timeout.aborted ? 'no answer in time' : (code ?? (error as Error).message);
      throw new FlinkConnectionError(`${this.options.what} at ${this.base} is not reachable (${reason})`, {
        hint: this.options.unreachableHint,
        cause: error,
      });
    }
    const text = await response.text();
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
