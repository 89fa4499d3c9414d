import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A ksqlDB cluster's endpoint while the cluster is still PROVISIONING: the address is taken, ksqlDB is not there yet. */
export interface ReservedEndpoint {
  url: string;
  port: number;
  /** Frees the port (for the cluster's server to listen on), or for good when the cluster is gone. */
  release(): Promise<void>;
}

/**
 * Confluent Cloud publishes a ksqlDB cluster's http_endpoint in its create answer, long before ksqlDB serves it.
 * This holds a 127.0.0.1 port for that endpoint and answers every request there with 503, as a cluster that is
 * not up yet does.
 */
export async function reserveKsqlEndpoint(): Promise<ReservedEndpoint> {
  const server = createServer((_req, res) => {
    res.writeHead(503, { 'Content-Type': 'application/json' }).end(
      JSON.stringify({
        '@type': 'generic_error',
        error_code: 50302,
        message: 'KSQL is not yet ready to serve requests: the cluster is still being provisioned.',
      }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let released: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    release: () => {
      released ??= new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      return released;
    },
  };
}
