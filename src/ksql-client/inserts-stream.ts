import { once } from 'node:events';
import type { PassThrough } from 'node:stream';
import { asError, isClassifiedError, isCliError } from '../core/errors.js';
import { parseLine, readLines } from './delimited.js';
import type { InsertAck } from './entities.js';
import {
  errorFromResponse,
  KsqlConnectionError,
  type AnyKsqlError,
  type ErrorContext,
  type KsqlErrorBody,
} from './errors.js';
import { exactNumber, stringifyJson } from '../json/exact-json.js';
import type { HttpExchange } from './transport.js';

interface Pending {
  resolve: (ack: InsertAck) => void;
  reject: (error: Error) => void;
}

/**
 * An open /inserts-stream (HTTP/2): each insert() writes one JSON row and resolves when the server acknowledges
 * that row (acks may arrive out of order; they are matched by sequence number). end() closes the request body and
 * waits for every outstanding ack; it throws the first row error, if any row failed.
 */
export class InsertsStream {
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private firstError: Error | undefined;
  private ended = false;
  private readonly reading: Promise<void>;

  constructor(
    readonly target: string,
    private readonly exchange: HttpExchange,
    private readonly requestBody: PassThrough,
    private readonly errorContext: ErrorContext,
  ) {
    requestBody.on('error', () => undefined);
    this.reading = this.readAcks();
  }

  get acknowledgedOrFailed(): number {
    return this.seq - this.pending.size;
  }

  /** Sends one row (keys are column names; bigint values are written as exact JSON numbers). */
  async insert(row: Record<string, unknown>): Promise<InsertAck> {
    if (this.ended) throw new Error('insert() after end()');
    if (this.requestBody.destroyed) {
      throw this.firstError ?? new KsqlConnectionError(`the inserts stream to ${this.target} is closed`, {});
    }
    const seq = this.seq++;
    const acked = new Promise<InsertAck>((resolve, reject) => this.pending.set(seq, { resolve, reject }));
    // Callers that only await end() must not see an unhandled rejection; end() reports the failure instead.
    acked.catch(() => undefined);
    if (!this.requestBody.write(`${stringifyJson(row)}\n`)) await once(this.requestBody, 'drain');
    return acked;
  }

  async end(): Promise<void> {
    if (!this.ended) {
      this.ended = true;
      this.requestBody.end();
    }
    await this.reading;
    if (this.firstError) throw this.firstError;
  }

  private async readAcks(): Promise<void> {
    try {
      for await (const line of readLines(this.exchange.body)) {
        const message = parseLine(line, exactNumber) as { status?: string; seq?: number } & Record<string, unknown>;
        const seq = typeof message.seq === 'number' ? message.seq : undefined;
        if (message.status === 'ok' && seq !== undefined) {
          this.settle(seq, undefined);
        } else {
          const error = errorFromResponse(undefined, message as KsqlErrorBody, this.errorContext);
          if (seq !== undefined && this.pending.has(seq)) this.settle(seq, error);
          else this.failAll(error);
        }
      }
      if (!this.exchange.completed) {
        this.failAll(this.dropped(undefined));
        return;
      }
      if (this.pending.size > 0) {
        this.failAll(
          new KsqlConnectionError(
            `ksqlDB ended the inserts stream to ${this.target} with ${this.pending.size} row(s) unacknowledged`,
            {
              hint: 'Check the rows were written (SELECT … ) and insert the missing ones again.',
            },
          ),
        );
      }
    } catch (error) {
      // The server's own failures as they are, a network failure as a dropped connection; anything else is a bug
      // and reaches the caller unchanged.
      this.failAll(isCliError(error) || !isClassifiedError(error) ? asError(error) : this.dropped(error));
    } finally {
      this.requestBody.destroy();
    }
  }

  private settle(seq: number, error: AnyKsqlError | undefined): void {
    const pending = this.pending.get(seq);
    if (!pending) return;
    this.pending.delete(seq);
    if (error) {
      this.firstError ??= error;
      pending.reject(error);
    } else {
      pending.resolve({ seq });
    }
  }

  private dropped(cause: unknown): KsqlConnectionError {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    return new KsqlConnectionError(
      `the connection to ksqlDB at ${this.errorContext.url} dropped during inserts into ${this.target}${code ? ` (${code})` : ''}`,
      {
        cause,
        code,
        hint: 'Check that ksqlDB is still running, then insert the unacknowledged rows again.',
      },
    );
  }

  private failAll(error: Error): void {
    this.firstError ??= error;
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }
}
