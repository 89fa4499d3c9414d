import type { KsqlBackend } from './server.js';

/**
 * ksqlDB clusters backed by the project's ksqlDB dev server (src/ksqldb-dev-server), one in-process instance per
 * cluster on the 127.0.0.1 port its endpoint names, over the local Kafka's PLAINTEXT listener. Only the ksqlDB API
 * keys the emulator issued for that cluster (once usable) are let in, and statements only for owners with an
 * effective role binding, which is what Confluent Cloud does.
 */
export function localKsqlBackend(
  plaintextBootstrap: string,
  log: (line: string) => void = () => undefined,
): KsqlBackend {
  return {
    async start(cluster, authorize, listen) {
      const { startKsqlDevServer } = await import('../../../src/ksqldb-dev-server/index.js');
      const options = {
        bootstrap: plaintextBootstrap,
        serviceId: `${cluster.topicPrefix}_`,
        authorize,
        log,
      };
      // The port was free a moment ago; should something have taken it meanwhile, the endpoint moves.
      const server = await startKsqlDevServer({ ...options, listen: `127.0.0.1:${listen.port}` }).catch(
        (error: NodeJS.ErrnoException) => {
          if (error.code !== 'EADDRINUSE' || listen.port === 0) throw error;
          return startKsqlDevServer({ ...options, listen: '127.0.0.1:0' });
        },
      );
      return { url: server.url, stop: () => server.close() };
    },
  };
}
