import { OperationError } from '../core/errors.js';

export interface KafkaErrorContext {
  target: 'cloud' | 'local';
  bootstrap: string;
}

/** Node's wording for a chain that ends in an unknown CA (self-signed, missing issuer, unverifiable). */
const UNTRUSTED_CERTIFICATE = /self[- ]signed certificate|unable to (get|verify) (local )?issuer certificate|unable to verify the first certificate/i;

/** Turns a kafkajs failure into a one-line OperationError with what to do about it. */
export function kafkaOperationError(error: unknown, what: string, context: KafkaErrorContext): OperationError {
  const name = (error as { name?: string } | undefined)?.name ?? '';
  const message = rootMessage(error);
  if (name === 'KafkaJSSASLAuthenticationError' || /SASL|authenticat/i.test(message)) {
    return new OperationError(`Kafka at ${context.bootstrap} rejected the credentials while ${what}: ${message}`, {
      hint:
        context.target === 'cloud'
          ? 'The cluster API key may be deleted or not yet propagated; run `marketplace up` again to recreate it.'
          : 'Check the SASL user and password of the local stack (`marketplace local status`).',
      cause: error,
    });
  }
  if (UNTRUSTED_CERTIFICATE.test(message)) {
    return new OperationError(`Kafka at ${context.bootstrap} presented a certificate this machine does not trust while ${what}: ${message}`, {
      hint:
        'If a TLS-intercepting proxy or a private CA signs it, set kafkaCaFile (MARKETPLACE_KAFKA_CA_FILE) to that CA\'s PEM file; otherwise check the bootstrap address.',
      cause: error,
    });
  }
  return new OperationError(`cannot reach Kafka at ${context.bootstrap} while ${what}: ${message}`, {
    hint:
      context.target === 'local'
        ? 'Start the local stack with `marketplace local start` (check with `marketplace local status`), or pass --bootstrap-servers.'
        : 'Check the network, bootstrapServers if you set it, and that the cluster from `marketplace up` still exists (`marketplace status`).',
    cause: error,
  });
}

export function connectionTimeoutError(what: string, timeoutMs: number, context: KafkaErrorContext): OperationError {
  return kafkaOperationError(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`), what, context);
}

/** The innermost message of an error kafkajs wrapped (retries exhausted → connection error → socket error). */
export function rootMessage(error: unknown): string {
  let current = error as { message?: string; originalError?: unknown; cause?: unknown } | undefined;
  let message = current?.message ?? String(error);
  // kafkajs wraps the socket error: KafkaJSNumberOfRetriesExceeded → KafkaJSConnectionError → Error
  for (let depth = 0; depth < 5 && current; depth++) {
    const inner = (current.originalError ?? current.cause) as typeof current | undefined;
    if (!inner?.message) break;
    message = inner.message;
    current = inner;
  }
  return message;
}
