import { randomUUID } from 'node:crypto';
import kafkajs, { type Admin, type Producer } from 'kafkajs';
import { localTargetEnv, stackEndpoints, type StackEndpoints } from './stack.js';

const { Kafka, Partitioners, logLevel } = kafkajs;

/** The Flink part of the test stack: its SQL Gateway and JobManager REST API. */
export interface FlinkEndpoints {
  home: string;
  gatewayUrl: string;
  restUrl: string;
}

type StackModule = typeof import('../../src/local/stack.js');
type InstallModule = typeof import('../../src/local/install.js');
type ConfigModule = typeof import('../../src/core/config.js');

const built = async <T>(path: string): Promise<T> =>
  (await import(new URL(`../../dist/${path}`, import.meta.url).href)) as T;

/**
 * Starts Flink on the test stack the way `marketplace local start --with flink` does (installing its jars first on a
 * fresh machine) and returns its endpoints. Only the files that need Flink call this; the first one starts it and
 * later ones find it running, and the stack project's global teardown stops it again if this run started it.
 */
export async function flinkStack(): Promise<FlinkEndpoints> {
  const home = stackEndpoints().home;
  const stack = await built<StackModule>('local/stack.js');
  const install = await built<InstallModule>('local/install.js');
  const { loadConfig } = await built<ConfigModule>('core/config.js');
  const { values } = await loadConfig({ cwd: process.cwd(), env: process.env });
  const settings = { ...stack.settingsFromConfig(values, process.env), home };
  if ((await install.missingComponents(home, ['flink'])).length > 0) {
    await install.installStack({ home, groups: ['flink'], env: process.env });
  }
  await stack.startStack({ settings, groups: ['flink'], env: process.env });
  return {
    home,
    gatewayUrl: `http://127.0.0.1:${settings.ports.flinkGateway}`,
    restUrl: `http://127.0.0.1:${settings.ports.flink}`,
  };
}

export function uniqueSuffix(): string {
  return `_${randomUUID().slice(0, 8)}`;
}

export interface TestKafka {
  admin: Admin;
  producer: Producer;
  kafka: InstanceType<typeof Kafka>;
  /** Creates topics (1 partition unless given) and waits for their leaders. */
  createTopics(topics: (string | { topic: string; numPartitions: number })[]): Promise<void>;
  /** Deletes the topics and consumer groups whose names contain `marker`, then disconnects. */
  close(marker: string): Promise<void>;
}

export async function testKafka(clientId: string): Promise<TestKafka> {
  const kafka = new Kafka({ clientId, brokers: [stackEndpoints().kafka.plaintext], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await admin.connect();
  await producer.connect();
  return {
    kafka,
    admin,
    producer,
    createTopics: async (topics) => {
      await admin.createTopics({
        waitForLeaders: true,
        topics: topics.map((t) => (typeof t === 'string' ? { topic: t, numPartitions: 1 } : t)),
      });
    },
    close: async (marker) => {
      try {
        const topics = (await admin.listTopics()).filter((t) => t.includes(marker));
        if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
        const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.includes(marker));
        if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
      } finally {
        await producer.disconnect();
        await admin.disconnect();
      }
    },
  };
}

/**
 * Environment for CLI runs on the local target with the Flink engine against the test stack: the stack's home (where
 * the jobs it keeps are recorded) and Flink's endpoints, demo objects under `prefix`, the sink writing to `database`.
 */
export function flinkTargetEnv(
  stack: StackEndpoints,
  flink: FlinkEndpoints,
  demo: { prefix: string; database: string },
): NodeJS.ProcessEnv {
  // The stack's own ports too: a command that starts the stack (demo) must find it where it runs.
  const stackPorts = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => name.startsWith('MARKETPLACE_LOCAL_')),
  );
  return {
    ...stackPorts,
    ...localTargetEnv(stack, demo),
    MARKETPLACE_ENGINE: 'flink',
    MARKETPLACE_HOME: flink.home,
    MARKETPLACE_FLINK_GATEWAY_URL: flink.gatewayUrl,
    MARKETPLACE_FLINK_REST_URL: flink.restUrl,
    MARKETPLACE_LOCAL_FLINK_PORT: new URL(flink.restUrl).port,
    MARKETPLACE_LOCAL_FLINK_GATEWAY_PORT: new URL(flink.gatewayUrl).port,
  };
}
