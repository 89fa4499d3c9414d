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
    /** Why the global setup could not start the stack, when it could not. */
    localStackError: string;
  }
}

/** Endpoints of the local stack started (or reused) by the `stack` project's global setup. */
export function stackEndpoints(): StackEndpoints {
  const endpoints = inject('localStack');
  const setupError = inject('localStackError');
  if (setupError) throw new Error(`the local stack did not start: ${setupError}`);
  if (!endpoints) {
    throw new Error('no local stack: run this file in the `stack` vitest project (its globalSetup starts the stack)');
  }
  return endpoints;
}

/**
 * Environment for CLI runs on the local target against the test stack (which needs the ksqlDB dev server):
 * demo objects under `prefix`, the sink writing to `database`.
 */
export function localTargetEnv(stack: StackEndpoints, demo: { prefix: string; database: string }): NodeJS.ProcessEnv {
  if (!stack.ksqldb) throw new Error('the ksqlDB dev server is not running in the local stack');
  return {
    MARKETPLACE_TARGET: 'local',
    MARKETPLACE_PREFIX: demo.prefix,
    MARKETPLACE_BOOTSTRAP_SERVERS: stack.kafka.plaintext,
    MARKETPLACE_KSQLDB_URL: stack.ksqldb.url,
    MARKETPLACE_CONNECT_URL: stack.connect.url,
    MARKETPLACE_MONGO_URI: stack.ferretdb.uri,
    MARKETPLACE_MONGO_DATABASE: demo.database,
  };
}
