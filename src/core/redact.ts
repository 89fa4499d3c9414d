export const MASK = '****';

/** Field names whose values are secrets wherever they appear in a structured result. */
const SECRET_FIELD = /(secret|password|passwd|authorization|api_?key_?secret|private_?key|credential)/i;

/** The password part of scheme://user:password@host, which may be a secret nobody registered. */
const URI_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:@/\s]+:)[^@/\s]+@/gi;

/**
 * The password of user:password@host with no scheme (a bootstrap server list, say): after a start, a space, a quote,
 * a comma or a "=", and followed by a host.
 */
const USERINFO_PASSWORD = /((?:^|[\s,"'=([])[A-Za-z0-9._~%!$&*+;-]+:)[^@\s,"'/]+@(?=[A-Za-z0-9[])/g;

/** Secrets shorter than this are not scanned for in free text: masking "a" everywhere would garble output. */
const MIN_SECRET_LENGTH = 4;

/**
 * The one place secrets are known. Every line of output, every error message and every --json result passes
 * through redact() before it leaves the process.
 */
export class SecretRegistry {
  private readonly secrets = new Set<string>();
  private pattern: RegExp | undefined;

  add(secret: string | undefined | null): void {
    if (!secret || secret.length < MIN_SECRET_LENGTH || this.secrets.has(secret)) return;
    this.secrets.add(secret);
    for (const encoded of derivedForms(secret)) this.secrets.add(encoded);
    this.pattern = undefined;
  }

  /** A key/secret pair also travels as an HTTP basic-auth token; mask that form as well. */
  addCredentialPair(key: string, secret: string | undefined | null): void {
    if (!secret) return;
    this.add(secret);
    this.add(Buffer.from(`${key}:${secret}`).toString('base64'));
  }

  get size(): number {
    return this.secrets.size;
  }

  redact(text: string): string {
    if (text.length === 0) return text;
    return this.redactKnown(text.replace(URI_PASSWORD, `$1${MASK}@`).replace(USERINFO_PASSWORD, `$1${MASK}@`));
  }

  /**
   * Masks only the registered secrets, without the user:password@ heuristics: cheap enough for bulk data that is
   * sent many times a second (the dashboard's feed), whose free-text parts went through redact() already.
   */
  redactKnown(text: string): string {
    if (text.length === 0 || this.secrets.size === 0) return text;
    this.pattern ??= new RegExp(
      [...this.secrets]
        .sort((a, b) => b.length - a.length)
        .map(escapeRegExp)
        .join('|'),
      'g',
    );
    return text.replace(this.pattern, MASK);
  }

  /** Deep copy of a JSON-able value with secret-named fields masked and known secrets removed from strings. */
  redactValue<T>(value: T): T {
    return this.walk(value, undefined) as T;
  }

  private walk(value: unknown, key: string | undefined): unknown {
    if (typeof value === 'string') {
      if (key !== undefined && SECRET_FIELD.test(key) && value.length > 0) return MASK;
      return this.redact(value);
    }
    if (Array.isArray(value)) return value.map((item) => this.walk(item, undefined));
    if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
      const copy: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) copy[k] = this.walk(v, k);
      return copy;
    }
    return value;
  }
}

/** A secret also leaks as part of a basic-auth header or a URL-encoded string; mask those forms too. */
function derivedForms(secret: string): string[] {
  const forms = new Set<string>();
  const uriEncoded = encodeURIComponent(secret);
  if (uriEncoded !== secret) forms.add(uriEncoded);
  // Inside a JSON string a quote or backslash is escaped, and the plain form would not match.
  const jsonEscaped = JSON.stringify(secret).slice(1, -1);
  if (jsonEscaped !== secret) forms.add(jsonEscaped);
  return [...forms];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
