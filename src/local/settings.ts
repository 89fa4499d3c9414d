import { join } from 'node:path';
import { expandHome } from '../core/config.js';
import type { Config } from '../core/config-schema.js';

/** Where the local stack lives and which ports it listens on. */
export interface StackSettings {
  home: string;
  ports: StackPorts;
  /** Entry point of the ksqlDB dev server; default dist/ksqldb-dev-server/main.js (MARKETPLACE_KSQLDB_SERVER_MAIN). */
  ksqldbServerMain?: string;
  /** Start deadlines in seconds that replace a service's default (MARKETPLACE_LOCAL_<SERVICE>_DEADLINE). */
  deadlines?: Record<string, number>;
  /** How long the SQL Gateway keeps an unused session, in ms (localFlinkSessionIdleTimeout); default 10 min. */
  flinkSessionIdleTimeoutMs?: number;
}

export interface StackPorts {
  kafka: number;
  kafkaController: number;
  kafkaSasl: number;
  connect: number;
  ferretdb: number;
  ksqldb: number;
  /** Flink JobManager REST (and web UI). */
  flink: number;
  flinkRpc: number;
  flinkGateway: number;
}

export function settingsFromConfig(config: Config, env: NodeJS.ProcessEnv = process.env): StackSettings {
  return {
    home: expandHome(config.home, env),
    ports: {
      kafka: config.localKafkaPort,
      kafkaController: config.localKafkaControllerPort,
      kafkaSasl: config.localKafkaSaslPort,
      connect: config.localConnectPort,
      ferretdb: config.localFerretdbPort,
      ksqldb: config.localKsqldbPort,
      flink: config.localFlinkPort,
      flinkRpc: config.localFlinkRpcPort,
      flinkGateway: config.localFlinkGatewayPort,
    },
    ...(env.MARKETPLACE_KSQLDB_SERVER_MAIN ? { ksqldbServerMain: env.MARKETPLACE_KSQLDB_SERVER_MAIN } : {}),
    deadlines: deadlineOverrides(env),
    flinkSessionIdleTimeoutMs: config.localFlinkSessionIdleTimeout,
  };
}

function deadlineOverrides(env: NodeJS.ProcessEnv): Record<string, number> {
  const deadlines: Record<string, number> = {};
  for (const [name, value] of Object.entries(env)) {
    const match = /^MARKETPLACE_LOCAL_([A-Z_]+)_DEADLINE$/.exec(name);
    if (match && Number(value) > 0) deadlines[match[1]!.toLowerCase().replace(/_/g, '-')] = Number(value);
  }
  return deadlines;
}

/** Every file and folder of the stack under the home directory, in one place. */
export function stackPaths(home: string) {
  const lib = join(home, 'lib');
  const flinkData = join(home, 'data', 'flink');
  return {
    home,
    manifest: join(home, 'manifest.json'),
    lib,
    kafkaLib: join(lib, 'kafka'),
    connectLib: join(lib, 'connect'),
    /** The kafka-tools jar alone (ProducerPerformance for `npm run bench:produce`); its dependencies are in kafkaLib. */
    kafkaToolsLib: join(lib, 'kafka-tools'),
    pluginPath: join(lib, 'connect-plugins'),
    /** Apart from lib/: the Kafka jars are replaced as a whole, and both are installed at the same time. */
    flinkLib: join(home, 'lib-flink'),
    flinkConfig: join(home, 'config', 'flink'),
    /** Checkpoints (retained on cancel), savepoints, the jobs the stack keeps running, and each JVM's temp folder. */
    flinkCheckpoints: join(flinkData, 'checkpoints'),
    flinkSavepoints: join(flinkData, 'savepoints'),
    flinkJobs: join(flinkData, 'jobs.json'),
    flinkTmp: join(flinkData, 'tmp'),
    bin: join(home, 'bin'),
    ferretdbBinary: join(home, 'bin', 'ferretdb'),
    tls: join(home, 'tls'),
    caCert: join(home, 'tls', 'ca.pem'),
    caKey: join(home, 'tls', 'ca-key.pem'),
    brokerKeystore: join(home, 'tls', 'broker-keystore.pem'),
    kafkaUsers: join(home, 'kafka-users.json'),
    config: join(home, 'config'),
    data: join(home, 'data'),
    logs: join(home, 'logs'),
    run: join(home, 'run'),
  };
}

export type StackPaths = ReturnType<typeof stackPaths>;
