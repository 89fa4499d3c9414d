import type { Clock } from '../core/waiter.js';
import type { Health } from './health.js';
import type { StackPaths, StackSettings } from './settings.js';

export type ServiceName =
  | 'kafka'
  | 'ferretdb'
  | 'connect'
  | 'ksqldb'
  | 'flink-jobmanager'
  | 'flink-taskmanager'
  | 'flink-gateway';

/** Services that run only when asked for (`local start --with flink`, or the setting that needs them). */
export type ServiceGroup = 'flink';
export const SERVICE_GROUPS: readonly ServiceGroup[] = ['flink'];

export interface LaunchSpec {
  command: string;
  args: string[];
  cwd: string;
  /** Variables added to the stack's environment for this process only. */
  env?: Record<string, string>;
}

/** The command-line marker of a JVM service of the stack in `home` (its pid file is trusted only while it matches). */
export const javaMarker = (service: ServiceName, settings: StackSettings) =>
  `-Dmarketplace.stack=${service}@${settings.home}`;

/**
 * One service of the local stack, as data. Adding a service means adding one entry to SERVICES: the start, stop,
 * status and logs commands are driven by this list.
 */
export interface ServiceDefinition {
  name: ServiceName;
  /** Set for a service that starts only when its group is asked for; unset: always part of the stack. */
  group?: ServiceGroup;
  /** Services that must be healthy before this one starts. */
  dependsOn: ServiceName[];
  deadlineMs: number;
  /** Grace period between SIGTERM and SIGKILL on stop. */
  stopGraceMs: number;
  ports(settings: StackSettings): number[];
  endpoints(settings: StackSettings): Record<string, string>;
  /** Why the service cannot run here (its program is not built); undefined when it can. */
  unavailable?(settings: StackSettings): Promise<string | undefined>;
  /** Writes config files and initialises storage before a start. */
  prepare?(settings: StackSettings, paths: StackPaths, logFile: string): Promise<void>;
  launch(settings: StackSettings, paths: StackPaths): LaunchSpec;
  /** A string unique to this instance that appears in the process's command line (checked before any kill). */
  marker(settings: StackSettings): string;
  health(settings: StackSettings): Promise<Health>;
  /** Runs once the service (and what it depends on) is healthy, on every start: e.g. resubmitting kept jobs. */
  afterStart?(settings: StackSettings, signal: AbortSignal, clock?: Clock): Promise<string | undefined>;
  /** Runs before the service is stopped while everything it needs still runs: e.g. taking savepoints. */
  beforeStop?(settings: StackSettings): Promise<string | undefined>;
}
