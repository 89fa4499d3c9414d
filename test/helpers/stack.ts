import { inject } from 'vitest';

/** The running local stack, as provided by test/setup/local-stack.ts (same shape as src/local/stack.ts LocalEndpoints). */
export interface StackEndpoints {
  home: string;
  kafka: {
    /** host:port of the PLAINTEXT listener */
    plaintext: string;
    /** host:port of the SASL_SSL/PLAIN listener (certificate signed by `caFile`) */
    saslSsl: string;
    /** PEM of the CA that signed the broker certificate */
    caFile: string;
    /** SASL/PLAIN users of the SASL_SSL listener */
    users: { username: string; password: string }[];
  };
  connect: { url: string };
  /** mongodb:// URI of FerretDB */
  ferretdb: { uri: string };
  /** Present only when the ksqlDB dev server is built and running. */
  ksqldb?: { url: string };
}

declare module 'vitest' {
  export interface ProvidedContext {
    localStack: StackEndpoints;
  }
}

/** Endpoints of the local stack started (or reused) by the `stack` project's global setup. */
export function stackEndpoints(): StackEndpoints {
  const endpoints = inject('localStack');
  if (!endpoints) {
    throw new Error('no local stack: run this file in the `stack` vitest project (its globalSetup starts the stack)');
  }
  return endpoints;
}
