import { join } from 'node:path';
import type { StackPaths, StackSettings } from './settings.js';

/** The three processes of the local Flink session cluster. */
export type FlinkProcess = 'jobmanager' | 'taskmanager' | 'gateway';

/**
 * The TaskManager's memory, in MiB. Flink's start scripts compute these from one total and pass them in; we start
 * the JVM ourselves, so every part is given explicitly and the JVM flags are derived from the same numbers (Flink
 * refuses to start a TaskManager whose options and JVM limits disagree).
 */
export const TASKMANAGER_MEMORY = {
  frameworkHeap: 128,
  taskHeap: 384,
  frameworkOffHeap: 128,
  taskOffHeap: 0,
  network: 32,
  managed: 64,
  metaspace: 192,
  overhead: 128,
} as const;

/** Enough for the demo's two jobs, a few SELECTs from `tail` or `marketplace flink`, and the tests' own jobs. */
export const TASK_SLOTS = 8;

/**
 * How often jobs checkpoint: also how often the exactly-once Kafka sinks commit, so about how long a reader of
 * committed records waits for a row. The hashmap state backend writes the whole state each time, and job_status holds
 * an hour of both inputs: more often would cost a busy laptop more than the rows' latency is worth.
 */
export const CHECKPOINT_INTERVAL = '5s';

/** Flink's own default: a gateway session nobody used for 10 minutes is closed. */
const SESSION_IDLE_TIMEOUT_MS = 600_000;

/**
 * How often the gateway looks for idle sessions: Flink's default of one minute, or a quarter of a shorter idle
 * timeout, so that a session is closed soon after its time is up rather than up to a minute later.
 */
function sessionCheckIntervalMs(idleTimeoutMs: number): number {
  return Math.max(100, Math.min(60_000, Math.round(idleTimeoutMs / 4)));
}

/** Flink's own modules reach into the JDK; flink-dist passes these to every JVM (env.java.opts.all). */
const MODULE_ACCESS = [
  ...[
    'java.base/sun.net.util',
    'java.rmi/sun.rmi.registry',
    'jdk.compiler/com.sun.tools.javac.api',
    'jdk.compiler/com.sun.tools.javac.file',
    'jdk.compiler/com.sun.tools.javac.parser',
    'jdk.compiler/com.sun.tools.javac.tree',
    'jdk.compiler/com.sun.tools.javac.util',
    'java.security.jgss/sun.security.krb5',
  ].map((pkg) => `--add-exports=${pkg}=ALL-UNNAMED`),
  ...[
    'java.lang',
    'java.net',
    'java.io',
    'java.nio',
    'sun.nio.ch',
    'java.lang.reflect',
    'java.text',
    'java.time',
    'java.util',
    'java.util.concurrent',
    'java.util.concurrent.atomic',
    'java.util.concurrent.locks',
  ].map((pkg) => `--add-opens=java.base/${pkg}=ALL-UNNAMED`),
];

const MAIN_CLASS: Record<FlinkProcess, string> = {
  jobmanager: 'org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint',
  taskmanager: 'org.apache.flink.runtime.taskexecutor.TaskManagerRunner',
  gateway: 'org.apache.flink.table.gateway.SqlGateway',
};

/** Small fixed limits: the JobManager and the gateway hold metadata and plans, the TaskManager the jobs' state. */
function memoryFlags(process: FlinkProcess): string[] {
  const m = TASKMANAGER_MEMORY;
  switch (process) {
    case 'jobmanager':
      return ['-Xms64m', '-Xmx256m', '-XX:MaxMetaspaceSize=192m', '-XX:MaxDirectMemorySize=128m'];
    case 'gateway':
      return ['-Xms64m', '-Xmx256m', '-XX:MaxMetaspaceSize=256m'];
    case 'taskmanager': {
      const heap = m.frameworkHeap + m.taskHeap;
      return [
        `-Xms${heap}m`,
        `-Xmx${heap}m`,
        `-XX:MaxDirectMemorySize=${m.frameworkOffHeap + m.taskOffHeap + m.network}m`,
        `-XX:MaxMetaspaceSize=${m.metaspace}m`,
      ];
    }
  }
}

/** The TaskManager resource options Flink's scripts would have computed (see TASKMANAGER_MEMORY). */
function taskManagerResources(): [string, string | number][] {
  const m = TASKMANAGER_MEMORY;
  return [
    ['taskmanager.cpu.cores', 2],
    ['taskmanager.memory.framework.heap.size', `${m.frameworkHeap}m`],
    ['taskmanager.memory.task.heap.size', `${m.taskHeap}m`],
    ['taskmanager.memory.framework.off-heap.size', `${m.frameworkOffHeap}m`],
    ['taskmanager.memory.task.off-heap.size', `${m.taskOffHeap}m`],
    ['taskmanager.memory.network.min', `${m.network}m`],
    ['taskmanager.memory.network.max', `${m.network}m`],
    ['taskmanager.memory.managed.size', `${m.managed}m`],
    ['taskmanager.memory.jvm-metaspace.size', `${m.metaspace}m`],
    ['taskmanager.memory.jvm-overhead.min', `${m.overhead}m`],
    ['taskmanager.memory.jvm-overhead.max', `${m.overhead}m`],
  ];
}

/** The id the TaskManager registers under, so its health check can find it in the JobManager's list. */
export const TASKMANAGER_ID = 'marketplace-taskmanager';

/**
 * config.yaml shared by the three processes. Everything listens on 127.0.0.1 only (the BLOB server and the RPC
 * endpoints included, which otherwise bind every interface), and every file Flink writes stays under the home.
 */
export function flinkConfigYaml(settings: StackSettings, paths: StackPaths): string {
  const { ports } = settings;
  const idleTimeoutMs = settings.flinkSessionIdleTimeoutMs ?? SESSION_IDLE_TIMEOUT_MS;
  const fileUri = (path: string) => `file://${path}`;
  const entries: [string, string | number][] = [
    ['jobmanager.rpc.address', '127.0.0.1'],
    ['jobmanager.rpc.port', ports.flinkRpc],
    ['jobmanager.bind-host', '127.0.0.1'],
    ['jobmanager.memory.process.size', '640m'],
    ['taskmanager.host', '127.0.0.1'],
    ['taskmanager.bind-host', '127.0.0.1'],
    ['taskmanager.resource-id', TASKMANAGER_ID],
    ['taskmanager.numberOfTaskSlots', TASK_SLOTS],
    ...taskManagerResources(),
    ['rest.address', '127.0.0.1'],
    ['rest.bind-address', '127.0.0.1'],
    ['rest.port', ports.flink],
    ['rest.bind-port', ports.flink],
    // The gateway reads rest.* to find the JobManager; its own endpoint is configured apart, with both port keys
    // (a bare rest.bind-port would otherwise win and move it).
    ['sql-gateway.endpoint.type', 'rest'],
    ['sql-gateway.endpoint.rest.address', '127.0.0.1'],
    ['sql-gateway.endpoint.rest.bind-address', '127.0.0.1'],
    ['sql-gateway.endpoint.rest.port', ports.flinkGateway],
    ['sql-gateway.endpoint.rest.bind-port', ports.flinkGateway],
    ['sql-gateway.session.idle-timeout', `${idleTimeoutMs}ms`],
    ['sql-gateway.session.check-interval', `${sessionCheckIntervalMs(idleTimeoutMs)}ms`],
    ['execution.target', 'remote'],
    ['execution.runtime-mode', 'streaming'],
    ['parallelism.default', 1],
    ['state.backend.type', 'hashmap'],
    ['execution.checkpointing.interval', CHECKPOINT_INTERVAL],
    // A checkpoint that takes long (large state, a busy machine) is followed by a pause for the job to catch up.
    ['execution.checkpointing.min-pause', '2s'],
    ['execution.checkpointing.dir', fileUri(paths.flinkCheckpoints)],
    ['execution.checkpointing.savepoint-dir', fileUri(paths.flinkSavepoints)],
    ['execution.checkpointing.externalized-checkpoint-retention', 'RETAIN_ON_CANCELLATION'],
    ['execution.checkpointing.num-retained', 1],
    ['restart-strategy.type', 'exponential-delay'],
    ['web.submit.enable', 'false'],
    // How long the REST API serves a job's cached state: `up` waits on it for every task to run.
    ['web.refresh-interval', '500 ms'],
  ];
  return `${entries.map(([key, value]) => `${key}: ${yamlScalar(value)}`).join('\n')}\n`;
}

function yamlScalar(value: string | number): string {
  return typeof value === 'number' || /^[\w./:-]+$/.test(value) ? String(value) : JSON.stringify(value);
}

/** Console logging only: each process's stdout is its service log, like the other services of the stack. */
export function flinkLog4jProperties(): string {
  const lines = [
    'monitorInterval = 0',
    'rootLogger.level = INFO',
    'rootLogger.appenderRef.console.ref = Console',
    'appender.console.name = Console',
    'appender.console.type = CONSOLE',
    'appender.console.layout.type = PatternLayout',
    'appender.console.layout.pattern = [%d] %p %m (%c{1})%n',
    // The Kafka clients inside jobs and the RPC system log every connection at INFO.
    'logger.kafka.name = org.apache.kafka',
    'logger.kafka.level = WARN',
    'logger.pekko.name = org.apache.pekko',
    'logger.pekko.level = WARN',
    'logger.shaded.name = org.apache.flink.shaded',
    'logger.shaded.level = WARN',
  ];
  return `${lines.join('\n')}\n`;
}

/** The temp folder of one process: cleaned before it starts (Flink leaves extracted jars behind on a kill). */
export function flinkTmpDir(paths: StackPaths, process: FlinkProcess): string {
  return join(paths.flinkTmp, process);
}

/** `java …` for one process: one classpath, the shared config, and that process's own temp and upload folders. */
export function flinkJavaArgs(process: FlinkProcess, marker: string, paths: StackPaths): string[] {
  const tmp = flinkTmpDir(paths, process);
  const dynamic = [`io.tmp.dirs=${tmp}`, `web.tmpdir=${tmp}`, `web.upload.dir=${join(tmp, 'upload')}`];
  return [
    ...memoryFlags(process),
    '-XX:+UseSerialGC',
    // The TaskManager runs the jobs: it gets the optimising compiler; the others start faster without it.
    ...(process === 'taskmanager' ? [] : ['-XX:TieredStopAtLevel=1']),
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    `-Djava.io.tmpdir=${tmp}`,
    `-Dlog4j.configurationFile=file:${join(paths.flinkConfig, 'log4j2.properties')}`,
    marker,
    ...MODULE_ACCESS,
    '-cp',
    `${paths.flinkLib}/*`,
    MAIN_CLASS[process],
    ...(process === 'gateway' ? [] : ['--configDir', paths.flinkConfig]),
    ...dynamic.flatMap((pair) => (process === 'gateway' ? [`-D${pair}`] : ['-D', pair])),
  ];
}
