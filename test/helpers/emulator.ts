import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import {
  startConfluentCloudEmulator,
  type KsqlBackend,
  type RunningEmulator,
} from '../emulators/confluent-cloud/index.js';
import { localKsqlBackend } from '../emulators/confluent-cloud/ksql-backend.js';
import type { RecordedExchange } from '../emulators/confluent-cloud/recorder.js';
import type { PhaseDurations } from '../emulators/confluent-cloud/state.js';
import type { StackEndpoints } from './stack.js';

export type ExchangeListener = (exchange: {
  method: string;
  path: string;
  status: number;
  fault?: string;
  delayedMs?: number;
}) => void;

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function isMutating(exchange: { method: string }): boolean {
  return MUTATING.has(exchange.method.toUpperCase());
}

/** What the emulated organization holds right now (live objects only). */
export interface CloudInventory {
  environments: { id: string; name: string }[];
  clusters: { id: string; name: string }[];
  serviceAccounts: { id: string; name: string }[];
  apiKeys: { id: string; name: string; ownerId: string; resourceId?: string }[];
  roleBindings: { id: string; principal: string; roleName: string }[];
  ksqlClusters: { id: string; name: string }[];
  connectors: { name: string; workerName: string }[];
  /** Live subjects of every Schema Registry, as `<registry id>/<subject>`. */
  subjects: string[];
  /** Flink compute pools (also while they deprovision) and statements (also while they are deleted). */
  computePools: { id: string; name: string }[];
  statements: { name: string; phase: string; principal: string }[];
}

/** The emulator's inventory when nothing is provisioned (what `down` must leave). */
export const EMPTY_INVENTORY: CloudInventory = {
  environments: [],
  clusters: [],
  serviceAccounts: [],
  apiKeys: [],
  roleBindings: [],
  ksqlClusters: [],
  connectors: [],
  subjects: [],
  computePools: [],
  statements: [],
};

export interface CloudEmulatorHarness {
  emulator: RunningEmulator;
  logFile: string;
  /** Position in the exchange log; `exchangesSince(mark)` returns what was recorded after it. */
  mark(): number;
  exchangesSince(mark: number): RecordedExchange[];
  /** Calls `listener` for each exchange just before its answer is written; returns the unsubscribe function. */
  watch(listener: ExchangeListener): () => void;
  inventory(): CloudInventory;
  /** Environment for the CLI child process: target cloud, pointed at this emulator, with its Cloud API key. */
  cliEnv(options: { prefix: string; waitScale: number; sink?: boolean; extra?: NodeJS.ProcessEnv }): NodeJS.ProcessEnv;
  /** Every API secret the emulator has issued (the Cloud key's and each created key's). */
  issuedSecrets(): string[];
  /**
   * Stops the ksqlDB dev servers of deleted ksqlDB clusters and removes what they kept on the shared broker (command
   * topic, consumer groups): emulator plumbing, not something the CLI created.
   */
  reapKsqlServers(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The strict Confluent Cloud emulator in-process, backed by the running local stack (topics on the real broker,
 * keys as SASL users, the Atlas sink on local Connect, one ksqlDB dev server per ksqlDB cluster).
 */
export async function startCloudEmulatorHarness(
  stack: StackEndpoints,
  options: {
    dir: string;
    timeScale: number;
    durations?: Partial<PhaseDurations>;
    /** The local Flink that runs Flink statements (test/helpers/flink.ts); without it they stay PENDING. */
    flink?: { gatewayUrl: string; restUrl: string };
  },
): Promise<CloudEmulatorHarness> {
  const logFile = join(options.dir, 'emulator-exchanges.jsonl');
  const listeners = new Set<ExchangeListener>();
  const ksqlServers = new Map<string, { serviceId: string; stop(): Promise<void> }>();
  const issued = new Set<string>();
  const inner = localKsqlBackend(stack.kafka.plaintext);
  const ksql: KsqlBackend = {
    async start(cluster, authorize, listen) {
      const server = await inner.start(cluster, authorize, listen);
      ksqlServers.set(cluster.id, { serviceId: `${cluster.topicPrefix}_`, stop: server.stop });
      return server;
    },
  };
  const emulator = await startConfluentCloudEmulator({
    timeScale: options.timeScale,
    durations: options.durations,
    logFile,
    kafka: { plaintext: stack.kafka.plaintext, saslSsl: stack.kafka.saslSsl, users: stack.kafka.users },
    connect: { url: stack.connect.url, mongoUri: stack.ferretdb.uri },
    ksql,
    ...(options.flink ? { flink: options.flink } : {}),
    onExchange: (exchange) => {
      for (const key of emulator.state.apiKeys.values()) issued.add(key.secret);
      for (const listener of listeners) listener(exchange);
    },
  });
  issued.add(emulator.cloudCredentials.secret);

  const readLog = (): RecordedExchange[] => {
    let text = '';
    try {
      text = readFileSync(logFile, 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter((line) => line.trim().length > 0)
      .map((line) => JSON.parse(line) as RecordedExchange);
  };

  const reapKsqlServers = async () => {
    const gone = [...ksqlServers].filter(([id]) => !emulator.state.ksqlClusters.has(id));
    if (gone.length === 0) return;
    for (const [id, server] of gone) {
      await server.stop().catch(() => undefined);
      ksqlServers.delete(id);
    }
    const admin = new Kafka({
      brokers: [stack.kafka.plaintext],
      logLevel: logLevel.NOTHING,
      clientId: 'e2e-reaper',
    }).admin();
    await admin.connect();
    try {
      const prefixes = gone.map(([, server]) => `_confluent-ksql-${server.serviceId}`);
      const owned = (name: string) => prefixes.some((prefix) => name.startsWith(prefix));
      const topics = (await admin.listTopics()).filter(owned);
      if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
      const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter(owned);
      if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
    } finally {
      await admin.disconnect();
    }
  };

  return {
    emulator,
    logFile,
    mark: () => readLog().length,
    exchangesSince: (mark) => readLog().slice(mark),
    watch: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    inventory: () => {
      const { state } = emulator;
      return {
        environments: [...state.environments.values()].map((e) => ({ id: e.id, name: e.displayName })),
        clusters: [...state.clusters.values()].map((c) => ({ id: c.id, name: c.displayName })),
        serviceAccounts: [...state.serviceAccounts.values()].map((s) => ({ id: s.id, name: s.displayName })),
        apiKeys: [...state.apiKeys.values()].map((k) => ({
          id: k.id,
          name: k.displayName,
          ownerId: k.ownerId,
          resourceId: k.resource?.id,
        })),
        roleBindings: [...state.roleBindings.values()].map((r) => ({
          id: r.id,
          principal: r.principal,
          roleName: r.roleName,
        })),
        ksqlClusters: [...state.ksqlClusters.values()].map((k) => ({ id: k.id, name: k.displayName })),
        connectors: [...state.connectors.values()].map((c) => ({ name: c.name, workerName: c.workerName })),
        subjects: [...state.schemaRegistries.values()].flatMap((registry) =>
          [...registry.subjects.values()]
            .filter((subject) => !subject.softDeleted)
            .map((subject) => `${registry.id}/${subject.name}`),
        ),
        computePools: [...state.computePools.values()]
          .filter((pool) => pool.goneAt === undefined || Date.now() < pool.goneAt)
          .map((pool) => ({ id: pool.id, name: pool.displayName })),
        statements: [...state.statements.values()]
          .filter((statement) => statement.goneAt === undefined || Date.now() < statement.goneAt)
          .map((statement) => ({ name: statement.name, phase: statement.phase, principal: statement.principal })),
      };
    },
    cliEnv: ({ prefix, waitScale, sink = false, extra = {} }) => ({
      MARKETPLACE_TARGET: 'cloud',
      MARKETPLACE_CLOUD_API_URL: emulator.url,
      MARKETPLACE_PREFIX: prefix,
      MARKETPLACE_WAIT_SCALE: String(waitScale),
      CONFLUENT_CLOUD_API_KEY: emulator.cloudCredentials.key,
      CONFLUENT_CLOUD_API_SECRET: emulator.cloudCredentials.secret,
      // The cluster's SASL_SSL listener (produce, tail --via kafka, status, sink verify) has a certificate the local CA signed.
      MARKETPLACE_KAFKA_CA_FILE: stack.kafka.caFile,
      ...(sink
        ? {
            MARKETPLACE_MONGO_HOST: 'cluster0.emulated.mongodb.net',
            MARKETPLACE_MONGO_USER: 'marketplace-e2e',
            MARKETPLACE_MONGO_DATABASE: `e2e_${prefix.replace(/-/g, '_')}`,
            MONGODB_PASSWORD: 'e2e-mongo-password-not-real',
          }
        : {}),
      ...extra,
    }),
    issuedSecrets: () => {
      for (const key of emulator.state.apiKeys.values()) issued.add(key.secret);
      return [...issued];
    },
    reapKsqlServers,
    close: async () => {
      await emulator.close();
      // Every cluster is gone with the emulator: its servers are stopped, so clean up what they left on the broker.
      emulator.state.ksqlClusters.clear();
      await reapKsqlServers().catch(() => undefined);
    },
  };
}

const DEMO_TOPICS = (
  JSON.parse(readFileSync(new URL('../../templates/topics.json', import.meta.url), 'utf8')) as {
    topics: { name: string }[];
  }
).topics.map((topic) => topic.name);

export function demoTopicNames(): string[] {
  return [...DEMO_TOPICS];
}

/** The demo topics (fixed names) that exist on the shared local broker right now. */
export async function demoTopicsOnBroker(stack: StackEndpoints): Promise<string[]> {
  const admin = new Kafka({
    brokers: [stack.kafka.plaintext],
    logLevel: logLevel.NOTHING,
    clientId: 'e2e-check',
  }).admin();
  await admin.connect();
  try {
    const present = new Set(await admin.listTopics());
    return DEMO_TOPICS.filter((name) => present.has(name));
  } finally {
    await admin.disconnect();
  }
}

/**
 * The demo's topic names are fixed and the broker is shared: a test that started while they exist would adopt
 * them and its `down` would delete someone else's deployment. Waits briefly for them to go, else fails loudly.
 */
export async function requireNoDemoTopics(stack: StackEndpoints, waitMs = 30_000): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const present = await demoTopicsOnBroker(stack);
    if (present.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(
        `the shared broker ${stack.kafka.plaintext} already holds demo topics (${present.join(', ')}): another deployment ` +
          '(e.g. `marketplace up --target local`) is using them; run `marketplace down --target local --yes` first',
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** Connector names on the local Kafka Connect worker. */
export async function localConnectors(stack: StackEndpoints): Promise<string[]> {
  const response = await fetch(`${stack.connect.url}/connectors`);
  return (await response.json()) as string[];
}
