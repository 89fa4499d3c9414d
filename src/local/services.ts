import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, appendFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { OperationError } from '../core/errors.js';
import { connectHealth, kafkaHealth, ksqldbHealth, mongoHealth, tcpListening } from './health.js';
import { brokerProperties, connectWorkerProperties, log4jProperties } from './kafka-config.js';
import { readKafkaUsers } from './kafka-users.js';
import { LOG_START_MARK } from './processes.js';
import { FLINK_SERVICES } from './flink-services.js';
import { javaMarker, type ServiceDefinition } from './service-definition.js';
import { stackPaths, type StackPaths, type StackSettings } from './settings.js';

const run = promisify(execFile);

export type { LaunchSpec, ServiceDefinition, ServiceGroup, ServiceName } from './service-definition.js';

const KSQLDB_SERVER_MAIN = fileURLToPath(new URL('../ksqldb-dev-server/main.js', import.meta.url));
const ksqldbMain = (settings: StackSettings) => settings.ksqldbServerMain ?? KSQLDB_SERVER_MAIN;

export const JVM_OPTIONS = [
  '-Xms128m',
  '-Xmx512m',
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-XX:+ExitOnOutOfMemoryError',
  '-Djava.awt.headless=true',
];

export const SERVICES: ServiceDefinition[] = [
  {
    name: 'kafka',
    dependsOn: [],
    deadlineMs: 60_000,
    stopGraceMs: 20_000,
    ports: (s) => [s.ports.kafka, s.ports.kafkaController, s.ports.kafkaSasl],
    endpoints: (s) => ({ plaintext: `127.0.0.1:${s.ports.kafka}`, sasl_ssl: `localhost:${s.ports.kafkaSasl}` }),
    prepare: prepareKafka,
    launch: (s, paths) => ({
      command: 'java',
      args: [
        ...JVM_OPTIONS,
        javaMarker('kafka', s),
        `-Dlog4j.configuration=file:${join(paths.config, 'log4j.properties')}`,
        '-cp',
        `${paths.kafkaLib}/*`,
        'kafka.Kafka',
        join(paths.config, 'kafka.properties'),
      ],
      cwd: paths.home,
    }),
    marker: (s) => javaMarker('kafka', s),
    health: async (s) => {
      const broker = await kafkaHealth(`127.0.0.1:${s.ports.kafka}`);
      if (!broker.healthy) return broker;
      const sasl = await tcpListening('127.0.0.1', s.ports.kafkaSasl);
      return sasl.healthy ? sasl : { healthy: false, status: `SASL_SSL listener: ${sasl.status}` };
    },
  },
  {
    name: 'ferretdb',
    dependsOn: [],
    deadlineMs: 30_000,
    stopGraceMs: 10_000,
    ports: (s) => [s.ports.ferretdb],
    endpoints: (s) => ({ mongodb: `mongodb://127.0.0.1:${s.ports.ferretdb}/` }),
    prepare: async (_s, paths) => {
      await mkdir(join(paths.data, 'ferretdb'), { recursive: true, mode: 0o700 });
    },
    launch: (s, paths) => ({
      command: paths.ferretdbBinary,
      args: [
        '--listen-addr',
        `127.0.0.1:${s.ports.ferretdb}`,
        '--data-dir',
        join(paths.data, 'ferretdb'),
        '--log-level',
        'warn',
      ],
      cwd: join(paths.data, 'ferretdb'),
    }),
    marker: (s) => `--data-dir ${join(stackPaths(s.home).data, 'ferretdb')}`,
    health: (s) => mongoHealth(`mongodb://127.0.0.1:${s.ports.ferretdb}/`),
  },
  {
    name: 'connect',
    dependsOn: ['kafka'],
    deadlineMs: 120_000,
    stopGraceMs: 20_000,
    ports: (s) => [s.ports.connect],
    endpoints: (s) => ({ rest: `http://127.0.0.1:${s.ports.connect}` }),
    prepare: async (s, paths) => {
      await mkdir(paths.config, { recursive: true, mode: 0o700 });
      await writeFile(join(paths.config, 'connect.properties'), connectWorkerProperties(paths, s.ports), {
        mode: 0o600,
      });
      await writeFile(join(paths.config, 'log4j.properties'), log4jProperties());
    },
    launch: (s, paths) => ({
      command: 'java',
      args: [
        ...JVM_OPTIONS,
        javaMarker('connect', s),
        `-Dlog4j.configuration=file:${join(paths.config, 'log4j.properties')}`,
        '-cp',
        `${paths.connectLib}/*`,
        'org.apache.kafka.connect.cli.ConnectDistributed',
        join(paths.config, 'connect.properties'),
      ],
      cwd: paths.home,
    }),
    marker: (s) => javaMarker('connect', s),
    health: (s) => connectHealth(`http://127.0.0.1:${s.ports.connect}`),
  },
  {
    name: 'ksqldb',
    dependsOn: ['kafka'],
    deadlineMs: 60_000,
    stopGraceMs: 10_000,
    ports: (s) => [s.ports.ksqldb],
    endpoints: (s) => ({ rest: `http://127.0.0.1:${s.ports.ksqldb}` }),
    unavailable: async (s) => ((await exists(ksqldbMain(s))) ? undefined : `${ksqldbMain(s)} is not built yet`),
    prepare: async (_s, paths) => {
      await mkdir(join(paths.data, 'ksqldb'), { recursive: true, mode: 0o700 });
    },
    launch: (s, paths) => ({
      command: process.execPath,
      args: [
        ksqldbMain(s),
        '--listen',
        `127.0.0.1:${s.ports.ksqldb}`,
        '--bootstrap',
        `127.0.0.1:${s.ports.kafka}`,
        '--data-dir',
        join(paths.data, 'ksqldb'),
      ],
      cwd: paths.home,
    }),
    marker: (s) => `--data-dir ${join(stackPaths(s.home).data, 'ksqldb')}`,
    health: (s) => ksqldbHealth(`http://127.0.0.1:${s.ports.ksqldb}`),
  },
  ...FLINK_SERVICES,
];

export function serviceNamed(name: string): ServiceDefinition | undefined {
  return SERVICES.find((service) => service.name === name);
}

/**
 * A step that prepares a service before it starts (formatting Kafka's storage) failed; the step's output went to the
 * service's log, so `local start` shows it with the error.
 */
export class ServicePrepareError extends OperationError {}

/** Thrown when a data directory cannot be used as it is; the fix is always a reset. */
export class CorruptDataError extends OperationError {
  constructor(what: string, dir: string) {
    super(`${what} in ${dir} is damaged or incomplete`, {
      hint: "Run `marketplace local reset` to wipe the local stack's data (installed jars and binaries are kept).",
    });
  }
}

async function prepareKafka(settings: StackSettings, paths: StackPaths, logFile: string): Promise<void> {
  await mkdir(paths.config, { recursive: true, mode: 0o700 });
  const users = await readKafkaUsers(settings.home);
  const serverProperties = join(paths.config, 'kafka.properties');
  // Holds the PLAIN users' passwords.
  await writeFile(serverProperties, brokerProperties(paths, settings.ports, users), { mode: 0o600 });
  await writeFile(join(paths.config, 'log4j.properties'), log4jProperties());

  const dataDir = join(paths.data, 'kafka');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const entries = await readdir(dataDir);
  if (entries.includes('meta.properties')) {
    const meta = await readFile(join(dataDir, 'meta.properties'), 'utf8').catch(() => '');
    if (!/^cluster\.id=\S+$/m.test(meta) || !/^node\.id=1$/m.test(meta)) {
      throw new CorruptDataError('the Kafka storage metadata (meta.properties)', dataDir);
    }
    return;
  }
  if (entries.length > 0) throw new CorruptDataError('Kafka storage (meta.properties is missing)', dataDir);
  let clusterId = randomBytes(16).toString('base64url');
  // Kafka's own ids never start with '-': the formatter's argument parser would read one as an option.
  while (clusterId.startsWith('-')) clusterId = randomBytes(16).toString('base64url');
  try {
    await run(
      'java',
      [
        ...JVM_OPTIONS,
        `-Dlog4j.configuration=file:${join(paths.config, 'log4j.properties')}`,
        '-cp',
        `${paths.kafkaLib}/*`,
        'kafka.tools.StorageTool',
        'format',
        `--cluster-id=${clusterId}`,
        '-c',
        serverProperties,
        '--ignore-formatted',
      ],
      { cwd: paths.home, timeout: 120_000 },
    );
  } catch (error) {
    const output = `${(error as { stdout?: string }).stdout ?? ''}${(error as { stderr?: string }).stderr ?? ''}`;
    // The start-up report shows the service's log, so the formatter's output goes there too.
    await appendFile(logFile, `${LOG_START_MARK} ${new Date().toISOString()} (storage format) ---\n${output}`, {
      mode: 0o600,
    });
    const reason =
      output.split('\n').find((line) => /Exception|Error:|requirement failed/.test(line)) ?? (error as Error).message;
    throw new ServicePrepareError(
      `formatting Kafka storage failed: ${reason.replace(/^Exception in thread "main" /, '').trim()}`,
      { cause: error },
    );
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
