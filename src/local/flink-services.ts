import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  flinkConfigYaml,
  flinkJavaArgs,
  flinkLog4jProperties,
  flinkTmpDir,
  TASKMANAGER_ID,
  type FlinkProcess,
} from './flink-config.js';
import { resumeKeptJobs, savepointKeptJobs } from './flink-jobs.js';
import { flinkGatewayHealth, flinkJobManagerHealth, flinkTaskManagerHealth } from './health.js';
import { javaMarker, type ServiceDefinition, type ServiceName } from './service-definition.js';
import type { StackPaths, StackSettings } from './settings.js';

const jobManagerUrl = (s: StackSettings) => `http://127.0.0.1:${s.ports.flink}`;
const gatewayUrl = (s: StackSettings) => `http://127.0.0.1:${s.ports.flinkGateway}`;

/** Config files are written by whichever process starts first; all three read the same folder. */
async function prepareFlink(settings: StackSettings, paths: StackPaths, process: FlinkProcess): Promise<void> {
  await mkdir(paths.flinkConfig, { recursive: true, mode: 0o700 });
  await writeFile(join(paths.flinkConfig, 'config.yaml'), flinkConfigYaml(settings, paths), { mode: 0o600 });
  await writeFile(join(paths.flinkConfig, 'log4j2.properties'), flinkLog4jProperties(), { mode: 0o600 });
  for (const dir of [paths.flinkCheckpoints, paths.flinkSavepoints]) await mkdir(dir, { recursive: true, mode: 0o700 });
  // What a killed JVM left behind (extracted RPC and planner jars, spill files) is of no use to the next one.
  const tmp = flinkTmpDir(paths, process);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(join(tmp, 'upload'), { recursive: true, mode: 0o700 });
}

function flinkService(
  name: ServiceName,
  process: FlinkProcess,
  spec: Pick<
    ServiceDefinition,
    'dependsOn' | 'deadlineMs' | 'stopGraceMs' | 'ports' | 'endpoints' | 'health' | 'afterStart' | 'beforeStop'
  >,
): ServiceDefinition {
  return {
    name,
    group: 'flink',
    ...spec,
    prepare: (settings, paths) => prepareFlink(settings, paths, process),
    launch: (settings, paths) => ({
      command: 'java',
      args: flinkJavaArgs(process, javaMarker(name, settings), paths),
      cwd: paths.home,
      // The gateway finds its config.yaml only through this variable.
      env: { FLINK_CONF_DIR: paths.flinkConfig },
    }),
    marker: (settings) => javaMarker(name, settings),
  };
}

/**
 * A Flink session cluster as three processes of the stack: the JobManager (REST API and web UI), one TaskManager
 * that runs the jobs, and the SQL Gateway that compiles SQL and submits it to the JobManager. The JobManager waits
 * for Kafka, so it also stops before Kafka (its jobs' last savepoint commits to Kafka). The jobs the stack keeps
 * (src/local/flink-jobs.ts) stop with a savepoint before the TaskManager goes, and are submitted again once the
 * gateway is back.
 */
export const FLINK_SERVICES: ServiceDefinition[] = [
  flinkService('flink-jobmanager', 'jobmanager', {
    dependsOn: ['kafka'],
    deadlineMs: 90_000,
    stopGraceMs: 20_000,
    ports: (s) => [s.ports.flink, s.ports.flinkRpc],
    endpoints: (s) => ({ rest: jobManagerUrl(s) }),
    health: (s) => flinkJobManagerHealth(jobManagerUrl(s)),
  }),
  flinkService('flink-taskmanager', 'taskmanager', {
    dependsOn: ['flink-jobmanager'],
    deadlineMs: 90_000,
    stopGraceMs: 20_000,
    ports: () => [],
    endpoints: () => ({}),
    health: (s) => flinkTaskManagerHealth(jobManagerUrl(s), TASKMANAGER_ID),
    beforeStop: (s) => savepointKeptJobs(s),
  }),
  flinkService('flink-gateway', 'gateway', {
    dependsOn: ['flink-jobmanager', 'flink-taskmanager'],
    deadlineMs: 90_000,
    stopGraceMs: 15_000,
    ports: (s) => [s.ports.flinkGateway],
    endpoints: (s) => ({ sql: gatewayUrl(s) }),
    health: (s) => flinkGatewayHealth(gatewayUrl(s)),
    afterStart: (s, signal, clock) => resumeKeptJobs(s, signal, clock),
  }),
];
