import { isCliError, OperationError, UserError } from '../core/errors.js';
import { formatDuration } from '../core/parse.js';
import { systemClock, waitFor, within, type Clock } from '../core/waiter.js';

export interface ConnectorState {
  name: string;
  connector: { state: string; worker_id?: string; trace?: string };
  tasks: { id: number; state: string; worker_id?: string; trace?: string }[];
  type?: string;
}

export interface ConnectClientOptions {
  /** How long the worker may take to answer one request (requestTimeout); default 15 s. */
  timeoutMs?: number;
  /** Ctrl-C: a request in flight ends at once, and so does a wait, throwing the signal's reason. */
  signal?: AbortSignal;
  clock?: Clock;
}

/** A self-managed Kafka Connect worker's REST API (the local stack's), with errors a user can act on. */
export class ConnectClient {
  private readonly base: string;
  private readonly timeoutMs: number;

  constructor(
    url: string,
    private readonly options: ConnectClientOptions = {},
  ) {
    this.base = url.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 15_000;
  }

  async connectors(): Promise<string[]> {
    return (await this.call<string[]>('GET', '/connectors')) ?? [];
  }

  async config(name: string): Promise<Record<string, string> | undefined> {
    return this.call<Record<string, string>>('GET', `/connectors/${encodeURIComponent(name)}/config`, undefined, [404]);
  }

  /**
   * Create or update. PUT is idempotent on Connect, so a worker that answers "not ready yet" (starting, joining its
   * group, rebalancing) is asked again until `timeoutMs`.
   */
  async putConfig(name: string, config: Record<string, string>, options: { timeoutMs?: number } = {}): Promise<void> {
    const path = `/connectors/${encodeURIComponent(name)}/config`;
    let lastRefusal: ConnectNotReady | undefined;
    let failure: unknown;
    try {
      await waitFor(
        async () => {
          try {
            await this.call('PUT', path, config);
            return { done: true, value: undefined };
          } catch (error) {
            if (!(error instanceof ConnectNotReady)) throw (failure = error);
            lastRefusal = error;
            return { done: false, status: `${error.status}: ${error.message}` };
          }
        },
        {
          what: `Kafka Connect to accept connector ${name}`,
          timeoutMs: options.timeoutMs ?? 60_000,
          signal: this.options.signal,
          clock: this.options.clock ?? systemClock,
          initialDelayMs: 250,
          maxDelayMs: 2_000,
        },
      );
    } catch (error) {
      // The wait timed out while the worker still refused: its answer says more than the timeout.
      if (lastRefusal && error !== failure && error instanceof OperationError) throw lastRefusal;
      throw error;
    }
  }

  async status(name: string): Promise<ConnectorState | undefined> {
    return this.call<ConnectorState>('GET', `/connectors/${encodeURIComponent(name)}/status`, undefined, [404]);
  }

  async delete(name: string): Promise<boolean> {
    const gone = await this.call('DELETE', `/connectors/${encodeURIComponent(name)}`, undefined, [404]);
    return gone !== undefined;
  }

  async restart(name: string): Promise<void> {
    await this.call('POST', `/connectors/${encodeURIComponent(name)}/restart?includeTasks=true&onlyFailed=true`);
  }

  private async call<T>(method: string, path: string, body?: unknown, absentOn: number[] = []): Promise<T | undefined> {
    // One deadline for the answer and its body; at the deadline or at Ctrl-C the request is cancelled.
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
    let response: Response;
    let text: string;
    try {
      ({ response, text } = await within(exchange, {
        timeoutMs: this.timeoutMs,
        signal: this.options.signal,
        onTimeout: () => this.timeout(method, path),
      }));
    } catch (error) {
      cancel.abort();
      throw isCliError(error) ? error : this.unreachable(error);
    }
    if (absentOn.includes(response.status)) return undefined;
    if (!response.ok) {
      let message = text;
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        // not JSON: keep the text
      }
      const summary = `Kafka Connect ${method} ${path} answered ${response.status}: ${message.split('\n')[0]}`;
      if (response.status === 400) throw new UserError(summary, { hint: 'Fix the connector settings named above.' });
      if (notReadyYet(response.status, message)) throw new ConnectNotReady(summary, response.status);
      throw new OperationError(summary, {
        hint: 'See the Connect log: `marketplace local logs connect`.',
      });
    }
    return (text ? JSON.parse(text) : (null as unknown)) as T;
  }

  private timeout(method: string, path: string): OperationError {
    return new OperationError(
      `Kafka Connect at ${this.base} gave no answer to ${method} ${path} within ${formatDuration(this.timeoutMs)}`,
      {
        hint: 'Check that Connect runs (`marketplace local status`) and that connectUrl points at it; requestTimeout (MARKETPLACE_REQUEST_TIMEOUT) gives a slow worker longer.',
      },
    );
  }

  private unreachable(error: unknown): OperationError {
    const code = (error as { cause?: NodeJS.ErrnoException }).cause?.code;
    return new OperationError(`Kafka Connect at ${this.base} is not reachable (${code ?? (error as Error).message})`, {
      hint: 'Start the local stack with `marketplace local start`, or check connectUrl.',
    });
  }
}

/**
 * A worker's answers while it cannot serve a request yet: 503 while it starts, 409 while it joins its group or
 * rebalances (a request forwarded to a leader it does not know yet, or config it has not read), 500 when the
 * herder did not answer in time.
 */
function notReadyYet(status: number, message: string): boolean {
  return status === 503 || status === 409 || (status === 500 && /timed out/i.test(message));
}

/** Kafka Connect answered "not ready yet"; the worker is expected to serve the request within moments. */
class ConnectNotReady extends OperationError {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message, { hint: 'The worker is starting or rebalancing; run the command again in a few seconds.' });
  }
}
