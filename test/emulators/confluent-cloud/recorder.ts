import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export interface RecordedExchange {
  at: string;
  requestId: string;
  method: string;
  path: string;
  query: string;
  request: { headers: Record<string, string>; contentType?: string; body: unknown; rawBody: string };
  response: { status: number; headers: Record<string, string>; contentType?: string; body: unknown; rawBody: string };
  /** Set when the emulator dropped the connection instead of answering. */
  dropped?: boolean;
  /** Why the emulator answered this way when it was not the handler (fault injection). */
  fault?: string;
  /** How long a latency-spike rule held the answer back, when one did. */
  delayedMs?: number;
}

const SECRET_KEY = /(secret|password|authorization|connection\.uri)/i;
export const REDACTED = '****';

/** Appends one JSON line per exchange; secrets (by field name, and any registered value) are masked first. */
export class ExchangeRecorder {
  private readonly secrets = new Set<string>();

  constructor(readonly file: string | undefined) {
    if (file) mkdirSync(dirname(file), { recursive: true });
  }

  addSecret(value: string | undefined): void {
    if (value && value.length >= 4) this.secrets.add(value);
  }

  record(exchange: RecordedExchange): void {
    if (!this.file) return;
    // A secret-named field of a parsed body (a connector's connection.password) also sits in that body's raw text.
    this.learnSecretFields(exchange.request.body);
    this.learnSecretFields(exchange.response.body);
    appendFileSync(this.file, `${JSON.stringify(this.redact(exchange))}\n`, { mode: 0o600 });
  }

  private learnSecretFields(value: unknown, key?: string): void {
    if (typeof value === 'string') {
      if (key !== undefined && SECRET_KEY.test(key)) this.addSecret(value);
    } else if (Array.isArray(value)) {
      for (const item of value) this.learnSecretFields(item);
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) this.learnSecretFields(v, k);
    }
  }

  private redact<T>(value: T, key?: string): T {
    if (typeof value === 'string') {
      if (key !== undefined && SECRET_KEY.test(key) && value.length > 0) return REDACTED as T;
      let text: string = value;
      for (const secret of this.secrets) text = text.split(secret).join(REDACTED);
      return text as T;
    }
    if (Array.isArray(value)) return value.map((item) => this.redact(item)) as T;
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.redact(v, k)])) as T;
    }
    return value;
  }
}
