import { z } from 'zod';
import { durationMs, MAX_TIMER_MS } from './parse.js';
import { CLOUD_REGIONS } from './regions.js';

/**
 * Every configuration key, with its validator, default and help. This table is the single source for the
 * loader, `marketplace init`, the environment variable names and the README's configuration reference.
 */
export interface KeySpec {
  schema: z.ZodType;
  /** What a valid value looks like, for error messages. */
  expected: string;
  description: string;
  default?: unknown;
}

/**
 * A whole number: a JSON number in the file, digits in a variable or flag. Not z.coerce, which reads true as 1 and
 * [8] as 8.
 */
const wholeNumber = z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]).pipe(z.number().int());
const port = wholeNumber.pipe(z.number().min(1).max(65535));
/** The sizes Confluent Cloud offers a ksqlDB cluster, less 1 and 2, which new clusters may no longer have. */
export const KSQL_CSU_SIZES = [4, 8, 12, 28] as const;
/** The sizes Confluent Cloud offers a Flink compute pool, in CFUs (it scales up to the size chosen). */
export const FLINK_MAX_CFU_SIZES = [5, 10, 20, 30, 40, 50] as const;
const httpUrl = z.url({ protocol: /^https?$/ });
const hostPortList = z
  .string()
  .regex(/^[A-Za-z0-9.\-[\]:]+:\d{1,5}(,[A-Za-z0-9.\-[\]:]+:\d{1,5})*$/)
  .refine((list) => list.split(',').every((server) => isPort(Number(server.slice(server.lastIndexOf(':') + 1)))));

/** A duration as the flags take it ("30s", "500ms", "2m"; a bare number is seconds), read as milliseconds. */
const timeout = z
  .union([z.number().positive(), z.string()])
  .transform((value) => (typeof value === 'number' ? Math.round(value * 1000) : durationMs(value)))
  .pipe(z.number().int().min(1).max(MAX_TIMER_MS));

function isPort(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

export const CONFIG_KEYS = {
  target: {
    schema: z.enum(['cloud', 'local']),
    expected: '"cloud" or "local"',
    description: 'Where the demo runs: Confluent Cloud, or the local stack started by `marketplace local start`.',
    default: 'cloud',
  },
  engine: {
    schema: z.enum(['ksqldb', 'flink']),
    expected: '"ksqldb" or "flink"',
    description:
      'Stream processor of the local target: the ksqlDB dev server, or Apache Flink (JobManager, TaskManager and SQL ' +
      'Gateway, started with the stack when chosen).',
    default: 'ksqldb',
  },
  prefix: {
    schema: z.string().regex(/^[a-z][a-z0-9-]{1,30}[a-z0-9]$/),
    expected: '3-32 characters: lower-case letters, digits and dashes, starting with a letter',
    description: 'Name prefix of every resource the tool creates; `down --discover` finds resources by it.',
    default: 'marketplace',
  },
  cloud: {
    schema: z.enum(['aws', 'gcp', 'azure']),
    expected: '"aws", "gcp" or "azure"',
    description: 'Cloud provider of the Kafka and ksqlDB clusters.',
    default: 'aws',
  },
  region: {
    schema: z.string().min(1),
    expected: 'a region of the chosen cloud, e.g. us-east-2 (aws), us-central1 (gcp), eastus (azure)',
    description: 'Cloud region of the Kafka and ksqlDB clusters.',
    default: 'us-east-2',
  },
  clusterType: {
    schema: z.enum(['basic', 'standard', 'enterprise']),
    expected: '"basic", "standard" or "enterprise"',
    description: 'Confluent Cloud Kafka cluster type.',
    default: 'basic',
  },
  ksqlCsu: {
    schema: wholeNumber.pipe(z.literal(KSQL_CSU_SIZES)),
    expected: 'a whole number of CSUs (4, 8, 12 or 28; new clusters need at least 4)',
    description: 'Size of the ksqlDB cluster in Confluent Streaming Units (new clusters need at least 4).',
    default: 4,
  },
  flinkMaxCfu: {
    schema: wholeNumber.pipe(z.literal(FLINK_MAX_CFU_SIZES)),
    expected: 'a whole number of CFUs: 5, 10, 20, 30, 40 or 50',
    description:
      'Engine flink on the cloud target: the most Confluent Flink Units the compute pool scales up to (the smallest ' +
      'size runs the demo).',
    default: 5,
  },
  cloudApiUrl: {
    schema: httpUrl,
    expected: 'an http(s) URL',
    description: 'Base URL of the Confluent Cloud control-plane API.',
    default: 'https://api.confluent.cloud',
  },
  bootstrapServers: {
    schema: hostPortList,
    expected: 'host:port[,host:port…] with ports 1-65535',
    description: 'Kafka bootstrap servers. Cloud: taken from the provisioned cluster; local: the running local stack.',
  },
  kafkaCaFile: {
    schema: z.string().min(1),
    expected: 'the path of a PEM file of CA certificates',
    description:
      'Extra CA certificates (PEM) trusted for TLS to the Kafka brokers on the cloud target, in addition to the public ' +
      'roots: for a TLS-intercepting proxy or a broker with a private CA.',
  },
  ksqldbUrl: {
    schema: httpUrl,
    expected: 'an http(s) URL',
    description: 'ksqlDB REST endpoint. Cloud: taken from the provisioned ksqlDB cluster; local: the dev server.',
  },
  flinkGatewayUrl: {
    schema: httpUrl,
    expected: 'an http(s) URL',
    description: "Flink SQL Gateway REST endpoint (engine flink). Local: the stack's gateway.",
  },
  flinkRestUrl: {
    schema: httpUrl,
    expected: 'an http(s) URL',
    description:
      "Flink JobManager REST endpoint (engine flink): job states, checkpoints, savepoints. Local: the stack's.",
  },
  connectUrl: {
    schema: httpUrl,
    expected: 'an http(s) URL',
    description: 'Kafka Connect REST endpoint (local target).',
  },
  mongoUri: {
    schema: z
      .string()
      .regex(/^mongodb(\+srv)?:\/\/[^\s]+$/)
      .refine((uri) => !/^mongodb(\+srv)?:\/\/[^@/]*:[^@/]*@/.test(uri)),
    expected: 'a mongodb:// or mongodb+srv:// URI without a password',
    description:
      'MongoDB URI without a password. Local target: where the sink writes. Cloud target: where `sink verify` reads ' +
      'the documents instead of mongodb+srv://<mongoHost>/ (a standard connection string, a private endpoint, URI ' +
      'options), signing in as mongoUser with MONGODB_PASSWORD.',
  },
  mongoHost: {
    schema: z.string().regex(/^[A-Za-z0-9.-]+(:\d+)?$/),
    expected: 'a host name such as cluster0.abcde.mongodb.net',
    description: 'MongoDB Atlas host for the cloud sink connector.',
  },
  mongoDatabase: {
    schema: z.string().regex(/^[^\s./\\"$]{1,63}$/),
    expected: 'a MongoDB database name (no spaces, dots, slashes, quotes or $)',
    description: 'Database the sink writes job_status documents to.',
    default: 'marketplace',
  },
  mongoCollection: {
    schema: z
      .string()
      .regex(/^[^\s$]{1,120}$/)
      .refine((name) => !name.startsWith('system.')),
    expected: 'a MongoDB collection name (no spaces or $, not system.*)',
    description: 'Collection the sink writes job_status documents to.',
    default: 'job_status',
  },
  mongoUser: {
    schema: z.string().min(1).max(128),
    expected: 'a MongoDB user name',
    description: 'MongoDB Atlas database user for the cloud sink (its password comes from MONGODB_PASSWORD).',
  },
  requestTimeout: {
    schema: timeout,
    expected: 'a duration such as 30s, 500ms or 2m (at most 24 days)',
    description:
      'How long a server (Kafka, ksqlDB, Connect, MongoDB, the Cloud API) may take to answer one request before the ' +
      'command fails, naming the server; a server that accepts connections but never answers ends there too.',
    default: '30s',
  },
  home: {
    schema: z.string().min(1),
    expected: 'a directory path',
    description: 'Where the local stack keeps its downloads, builds, data and logs.',
    default: '~/.cache/marketplace',
  },
  localKafkaPort: {
    schema: port,
    expected: 'a TCP port',
    description: 'Local Kafka PLAINTEXT listener port.',
    default: 19092,
  },
  localKafkaControllerPort: {
    schema: port,
    expected: 'a TCP port',
    description: 'Local Kafka KRaft controller port.',
    default: 19093,
  },
  localKafkaSaslPort: {
    schema: port,
    expected: 'a TCP port',
    description: 'Local Kafka SASL_SSL (PLAIN) listener port, the protocol Confluent Cloud speaks.',
    default: 19094,
  },
  localConnectPort: {
    schema: port,
    expected: 'a TCP port',
    description: 'Local Kafka Connect REST port.',
    default: 18083,
  },
  localFerretdbPort: {
    schema: port,
    expected: 'a TCP port',
    description: 'Local FerretDB (MongoDB wire protocol) port.',
    default: 27018,
  },
  localKsqldbPort: {
    schema: port,
    expected: 'a TCP port',
    description: 'Local ksqlDB dev server port.',
    default: 18088,
  },
  localFlinkPort: {
    schema: port,
    expected: 'a TCP port',
    description: 'Local Flink JobManager REST port (also its web UI).',
    default: 18481,
  },
  localFlinkRpcPort: {
    schema: port,
    expected: 'a TCP port',
    description: 'Local Flink JobManager RPC port (the TaskManager and clients connect to it).',
    default: 18482,
  },
  localFlinkGatewayPort: {
    schema: port,
    expected: 'a TCP port',
    description: 'Local Flink SQL Gateway REST port.',
    default: 18483,
  },
  localFlinkSessionIdleTimeout: {
    schema: timeout,
    expected: 'a duration such as 10m, 30s or 1h',
    description:
      'How long the local Flink SQL Gateway keeps a session that nobody uses before it closes it, with the tables ' +
      'created in it; a client holding a session open tells the gateway it is in use.',
    default: '10m',
  },
} satisfies Record<string, KeySpec>;

export type ConfigKey = keyof typeof CONFIG_KEYS;
export const CONFIG_KEY_NAMES = Object.keys(CONFIG_KEYS) as ConfigKey[];

export interface Config {
  target: 'cloud' | 'local';
  engine: 'ksqldb' | 'flink';
  prefix: string;
  cloud: 'aws' | 'gcp' | 'azure';
  region: string;
  clusterType: 'basic' | 'standard' | 'enterprise';
  ksqlCsu: number;
  flinkMaxCfu: number;
  cloudApiUrl: string;
  bootstrapServers?: string;
  kafkaCaFile?: string;
  ksqldbUrl?: string;
  flinkGatewayUrl?: string;
  flinkRestUrl?: string;
  connectUrl?: string;
  mongoUri?: string;
  mongoHost?: string;
  mongoDatabase: string;
  mongoCollection: string;
  mongoUser?: string;
  /** Milliseconds. */
  requestTimeout: number;
  home: string;
  localKafkaPort: number;
  localKafkaControllerPort: number;
  localKafkaSaslPort: number;
  localConnectPort: number;
  localFerretdbPort: number;
  localKsqldbPort: number;
  localFlinkPort: number;
  localFlinkRpcPort: number;
  localFlinkGatewayPort: number;
  localFlinkSessionIdleTimeout: number;
}

/** Keys that hold secrets: refused in the config file, where they would end up committed. */
export const SECRET_KEY_PATTERN = /(secret|password|passwd|apikey|api_key|token|credential)/i;

export { SECRET_ENV } from './secret-env.js';

export function envNameOf(key: ConfigKey): string {
  return `MARKETPLACE_${key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`;
}

export function flagNameOf(key: ConfigKey): string {
  return `--${key.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()}`;
}

export function regionsOf(cloud: Config['cloud']): readonly string[] {
  return CLOUD_REGIONS[cloud];
}
