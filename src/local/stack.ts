import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SECRET_ENV, type Config } from '../core/config-schema.js';
import { isClassifiedError, isCliError, OperationError, UserError } from '../core/errors.js';
import { writeFileAtomic } from '../core/fs-atomic.js';
import { acquireLock, type HeldLock } from '../core/lock.js';
import { waitFor, type Clock } from '../core/waiter.js';
import { missingComponents } from './install.js';
import { readKafkaUsers, type KafkaUser } from './kafka-users.js';
import {
  isAlive,
  isOurProcess,
  lastLogLines,
  portInUse,
  portOwner,
  readProcessRecord,
  removeProcessRecord,
  spawnDetached,
  terminate,
  writeProcessRecord,
  type ProcessRecord,
} from './processes.js';
import type { Health } from './health.js';
import {
  SERVICES,
  ServicePrepareError,
  type ServiceDefinition,
  type ServiceGroup,
  type ServiceName,
} from './services.js';
import { settingsFromConfig, stackPaths, type StackSettings } from './settings.js';

export { SERVICES } from './services.js';
export type { ServiceGroup, ServiceName } from './services.js';
export { SERVICE_GROUPS } from './service-definition.js';
export { settingsFromConfig, stackPaths } from './settings.js';
export type { StackSettings, StackPorts } from './settings.js';
export { readKafkaUsers } from './kafka-users.js';
export type { KafkaUser } from './kafka-users.js';

/** The running stack as clients see it. The vitest global setup provides exactly this shape. */
export interface LocalEndpoints {
  home: string;
  kafka: { plaintext: string; saslSsl: string; caFile: string; users: KafkaUser[] };
  connect: { url: string };
  ferretdb: { uri: string };
  ksqldb?: { url: string };
  /** Present when the Flink session cluster runs: its SQL Gateway and the JobManager's REST API. */
  flink?: { gatewayUrl: string; restUrl: string };
}

export interface ServiceStart {
  name: ServiceName;
  action: 'started' | 'restarted' | 'already-running' | 'skipped';
  pid: number | null;
  seconds: number;
  endpoints: Record<string, string>;
  notice?: string;
}

export interface StartResult {
  home: string;
  seconds: number;
  services: ServiceStart[];
}

export type StartEvent =
  | { kind: 'starting'; service: ServiceName }
  | { kind: 'waiting'; service: ServiceName; status: string; elapsedMs: number }
  | { kind: 'healthy'; service: ServiceName; seconds: number; action: ServiceStart['action'] }
  | { kind: 'restarting'; service: ServiceName; status: string }
  | { kind: 'skipped'; service: ServiceName; reason: string };

/** A service did not become healthy: carries its log tail so the command can show it. */
export class ServiceStartError extends OperationError {
  constructor(
    readonly service: ServiceName,
    message: string,
    readonly logFile: string,
    readonly logTail: string[],
    hint: string,
    cause?: unknown,
  ) {
    super(message, { hint, cause });
  }
}

/** Why the other services' waits stop when one service fails; never the error reported. */
class StartAborted extends Error {
  constructor(failed: ServiceName) {
    super(`start aborted because ${failed} failed`);
  }
}

const STACK_RECORD = 'stack.json';
const LOCK_WAIT_MS = 5 * 60_000;
const CORRUPTION = /corrupt|malformed|not a database|InconsistentClusterId|meta\.properties|Invalid cluster\.id/i;

export const logFileOf = (home: string, service: ServiceName) => join(stackPaths(home).logs, `${service}.log`);

/**
 * Starts every service that is not already running and healthy, each once the services it depends on are healthy.
 * Already-healthy services are left alone, so a second start is a fast no-op. When a service fails to become
 * healthy, everything this call started is stopped again and a ServiceStartError carries the service's log tail.
 */
export async function startStack(options: {
  settings: StackSettings;
  /** Optional groups to start as well (e.g. flink); a group's services already running are kept either way. */
  groups?: ServiceGroup[];
  env?: NodeJS.ProcessEnv;
  onEvent?: (event: StartEvent) => void;
  signal?: AbortSignal;
  clock?: Clock;
}): Promise<StartResult> {
  const { settings } = options;
  const paths = stackPaths(settings.home);
  const started = Date.now();
  const groups = options.groups ?? [];
  const missing = await missingComponents(settings.home, groups);
  if (missing.length > 0) {
    const withGroups = groups.map((group) => ` --with ${group}`).join('');
    throw new UserError(`the local stack is not installed in ${settings.home} (missing: ${missing.join(', ')})`, {
      hint: `Run \`marketplace local install${withGroups}\` first.`,
    });
  }
  for (const dir of [paths.logs, paths.run, paths.data, paths.config])
    await mkdir(dir, { recursive: true, mode: 0o700 });
  const lock = await lockPatiently(paths.run, 'local start', options);
  const startedHere: { service: ServiceDefinition; pid: number }[] = [];
  try {
    const plan = await planStart(settings, groups);
    await refuseBusyPorts(settings, plan);
    await writeFileAtomic(join(paths.run, STACK_RECORD), `${JSON.stringify({ settings }, null, 2)}\n`);

    const abort = new AbortController();
    const onOuterAbort = () => abort.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onOuterAbort, { once: true });
    const env = childEnv(options.env ?? process.env);
    const outcomes = new Map<ServiceName, Promise<ServiceStart | undefined>>();

    const bring = (service: ServiceDefinition): Promise<ServiceStart | undefined> => {
      const existing = outcomes.get(service.name);
      if (existing) return existing;
      const outcome = (async (): Promise<ServiceStart | undefined> => {
        const state = plan.get(service.name)!;
        if (state.kind === 'omit') return undefined;
        if (state.kind === 'skip') {
          options.onEvent?.({ kind: 'skipped', service: service.name, reason: state.reason });
          return { name: service.name, action: 'skipped', pid: null, seconds: 0, endpoints: {}, notice: state.reason };
        }
        for (const dependency of service.dependsOn) {
          const dep = SERVICES.find((s) => s.name === dependency);
          if (dep) await bring(dep);
        }
        abort.signal.throwIfAborted();
        const t0 = Date.now();
        let pid: number | undefined;
        let action: ServiceStart['action'] = 'started';
        if (state.kind === 'running') {
          const health = await healthWithin(
            service,
            settings,
            Math.min(service.deadlineMs / 2, RUNNING_GRACE_MS),
            abort.signal,
            options.clock,
          );
          if (health.healthy) {
            pid = state.record.pid;
            action = 'already-running';
          } else {
            // Ours but wedged (e.g. a FerretDB whose backend stopped answering): replace it.
            options.onEvent?.({ kind: 'restarting', service: service.name, status: health.status });
            await terminate(state.record.pid, service.stopGraceMs);
            await removeProcessRecord(paths.run, service.name);
            action = 'restarted';
          }
        }
        if (pid === undefined) {
          options.onEvent?.({ kind: 'starting', service: service.name });
          try {
            await service.prepare?.(settings, paths, logFileOf(settings.home, service.name));
          } catch (error) {
            // A failed step's output is in the service's log: shown with the error. A problem the step itself
            // describes (damaged data) is reported as it is, and anything unclassified is a bug.
            const failedStep = error instanceof ServicePrepareError || (isClassifiedError(error) && !isCliError(error));
            if (!failedStep) throw error;
            throw await serviceFailure(
              service,
              settings,
              `${service.name} could not start: ${(error as Error).message}`,
              error,
            );
          }
          const launch = service.launch(settings, paths);
          pid = await spawnDetached({
            ...launch,
            env: { ...env, ...launch.env },
            logFile: logFileOf(settings.home, service.name),
          });
          startedHere.push({ service, pid });
          await writeProcessRecord(paths.run, service.name, {
            pid,
            marker: service.marker(settings),
            startedAt: new Date().toISOString(),
            endpoints: service.endpoints(settings),
          });
        }
        await waitHealthy(service, settings, pid, abort.signal, options);
        const notice = await afterStart(service, settings, abort.signal, options.clock);
        const seconds = (Date.now() - t0) / 1000;
        options.onEvent?.({ kind: 'healthy', service: service.name, seconds, action });
        return {
          name: service.name,
          action,
          pid,
          seconds,
          endpoints: service.endpoints(settings),
          ...(notice ? { notice } : {}),
        };
      })();
      outcome.catch(() => abort.abort(new StartAborted(service.name)));
      outcomes.set(service.name, outcome);
      return outcome;
    };

    const settled = await Promise.allSettled(SERVICES.map(bring));
    options.signal?.removeEventListener('abort', onOuterAbort);
    const failure = settled.find(
      (r): r is PromiseRejectedResult => r.status === 'rejected' && !(r.reason instanceof StartAborted),
    );
    const firstRejection = failure ?? settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (firstRejection) {
      for (const { service, pid } of [...startedHere].reverse()) {
        await terminate(pid, service.stopGraceMs);
        await removeProcessRecord(paths.run, service.name);
      }
      throw firstRejection.reason;
    }
    return {
      home: settings.home,
      seconds: (Date.now() - started) / 1000,
      services: settled
        .map((r) => (r as PromiseFulfilledResult<ServiceStart | undefined>).value)
        .filter((service) => service !== undefined),
    };
  } finally {
    await lock.release();
  }
}

type PlannedState =
  | { kind: 'running'; record: ProcessRecord }
  | { kind: 'start' }
  | { kind: 'skip'; reason: string }
  | { kind: 'omit' };

/** Part of this start: always-on services, and those of the groups asked for. */
const wanted = (service: ServiceDefinition, groups: readonly ServiceGroup[]) =>
  service.group === undefined || groups.includes(service.group);

async function planStart(
  settings: StackSettings,
  groups: readonly ServiceGroup[],
): Promise<Map<ServiceName, PlannedState>> {
  const paths = stackPaths(settings.home);
  const plan = new Map<ServiceName, PlannedState>();
  const running = new Map<ServiceName, ProcessRecord>();
  for (const service of SERVICES) {
    const record = await readProcessRecord(paths.run, service.name);
    if (record && (await isOurProcess(record))) running.set(service.name, record);
    else if (record) await removeProcessRecord(paths.run, service.name);
  }
  // A group with any process still running is started whole: its survivors need the rest of it to be healthy.
  const effective = [
    ...groups,
    ...SERVICES.filter((service) => service.group && running.has(service.name)).map((service) => service.group!),
  ];
  for (const service of SERVICES) {
    const record = running.get(service.name);
    if (record) {
      plan.set(service.name, { kind: 'running', record });
      continue;
    }
    if (!wanted(service, effective)) {
      plan.set(service.name, { kind: 'omit' });
      continue;
    }
    const reason = await service.unavailable?.(settings);
    plan.set(service.name, reason ? { kind: 'skip', reason } : { kind: 'start' });
  }
  return plan;
}

async function refuseBusyPorts(settings: StackSettings, plan: Map<ServiceName, PlannedState>): Promise<void> {
  for (const service of SERVICES) {
    if (plan.get(service.name)?.kind !== 'start') continue;
    for (const port of service.ports(settings)) {
      if (!(await portInUse(port))) continue;
      const owner = await portOwner(port);
      throw new UserError(`port ${port} (needed by ${service.name}) is already in use${owner ? ` by ${owner}` : ''}`, {
        hint: `Stop that process, or choose other ports (e.g. MARKETPLACE_LOCAL_KAFKA_PORT, --home / MARKETPLACE_HOME for a second stack).`,
      });
    }
  }
}

async function waitHealthy(
  service: ServiceDefinition,
  settings: StackSettings,
  pid: number,
  signal: AbortSignal,
  options: { onEvent?: (event: StartEvent) => void; clock?: Clock },
): Promise<void> {
  const failWithLog = (message: string, cause?: unknown) => serviceFailure(service, settings, message, cause);
  const override = settings.deadlines?.[service.name];
  const deadlineMs = override ? override * 1000 : service.deadlineMs;
  try {
    await waitFor(
      async () => {
        if (!isAlive(pid)) throw await failWithLog(`${service.name} exited during start-up`);
        const health = await service.health(settings);
        return health.healthy ? { done: true, value: undefined } : { done: false, status: health.status };
      },
      {
        what: `${service.name} to become healthy`,
        timeoutMs: deadlineMs,
        initialDelayMs: 250,
        maxDelayMs: 1_000,
        signal,
        clock: options.clock,
        onProgress: (status, elapsedMs) =>
          options.onEvent?.({ kind: 'waiting', service: service.name, status, elapsedMs }),
      },
    );
  } catch (error) {
    if (error instanceof ServiceStartError || signal.aborted || !isClassifiedError(error)) throw error;
    throw await failWithLog(`${service.name} did not become healthy within ${Math.round(deadlineMs / 1000)} s`, error);
  }
}

/** A service's after-start step (resubmitting kept Flink jobs); its failure fails the start like a health check. */
async function afterStart(
  service: ServiceDefinition,
  settings: StackSettings,
  signal: AbortSignal,
  clock?: Clock,
): Promise<string | undefined> {
  if (!service.afterStart) return undefined;
  try {
    return await service.afterStart(settings, signal, clock);
  } catch (error) {
    if (signal.aborted || isCliError(error)) throw error;
    throw await serviceFailure(service, settings, `${service.name}: ${(error as Error).message}`, error);
  }
}

/** Longest a running service of ours may stay unhealthy before `start` replaces it (half its deadline). */
const RUNNING_GRACE_MS = 30_000;

async function healthWithin(
  service: ServiceDefinition,
  settings: StackSettings,
  timeoutMs: number,
  signal: AbortSignal,
  clock?: Clock,
): Promise<Health> {
  let last: Health = { healthy: false, status: 'not checked' };
  try {
    await waitFor(
      async () => {
        last = await service.health(settings);
        return last.healthy ? { done: true, value: undefined } : { done: false, status: last.status };
      },
      { what: `${service.name} to answer`, timeoutMs, initialDelayMs: 250, maxDelayMs: 2_000, signal, clock },
    );
  } catch (error) {
    if (signal.aborted) throw error;
  }
  return last;
}

async function serviceFailure(
  service: ServiceDefinition,
  settings: StackSettings,
  message: string,
  cause?: unknown,
): Promise<ServiceStartError> {
  const logFile = logFileOf(settings.home, service.name);
  const tail = await lastLogLines(logFile, 20);
  const hint = tail.some((line) => CORRUPTION.test(line))
    ? 'Its data directory looks damaged: run `marketplace local reset`, then start again.'
    : `See the log lines above, or \`marketplace local logs ${service.name}\`.`;
  return new ServiceStartError(service.name, message, logFile, tail, hint, cause);
}

/**
 * Several test runs may start the shared stack at once: the later ones wait for the first to finish (and then find
 * everything healthy) instead of failing on the lock.
 */
async function lockPatiently(
  dir: string,
  command: string,
  options: { signal?: AbortSignal; clock?: Clock } = {},
): Promise<HeldLock> {
  let held: OperationError | undefined;
  try {
    return await waitFor<HeldLock>(
      async () => {
        try {
          return { done: true, value: await acquireLock(dir, command, () => undefined) };
        } catch (error) {
          if (!(error instanceof OperationError)) throw error;
          held = error;
          return { done: false, status: error.message };
        }
      },
      { what: `the lock of ${dir}`, timeoutMs: LOCK_WAIT_MS, initialDelayMs: 500, maxDelayMs: 500, ...options },
    );
  } catch (error) {
    // Still held at the deadline: the lock's own message says by whom, and what to do.
    if (held && error instanceof OperationError && !options.signal?.aborted) throw held;
    throw error;
  }
}

/** Servers we start never see the user's cloud credentials. */
function childEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...env };
  for (const name of Object.values(SECRET_ENV)) delete copy[name];
  return copy;
}

export interface ServiceStop {
  name: ServiceName;
  action: 'stopped' | 'killed' | 'not-running';
  pid: number | null;
  /** What its before-stop step did or why it could not (e.g. the savepoints taken). */
  notice?: string;
}

/** Stops the services this tool started in `home`, dependants first; never touches a process it did not start. */
export async function stopStack(options: {
  home: string;
  /** Only these services (default: all). */
  only?: ServiceName[];
}): Promise<{ home: string; services: ServiceStop[] }> {
  const paths = stackPaths(options.home);
  await mkdir(paths.run, { recursive: true, mode: 0o700 });
  const lock = await lockPatiently(paths.run, 'local stop');
  try {
    const results: ServiceStop[] = [];
    for (const wave of stopWaves()) {
      results.push(
        ...(await Promise.all(
          wave
            .filter((service) => !options.only || options.only.includes(service.name))
            .map(async (service): Promise<ServiceStop> => {
              const record = await readProcessRecord(paths.run, service.name);
              if (!record || !(await isOurProcess(record))) {
                await removeProcessRecord(paths.run, service.name);
                return { name: service.name, action: 'not-running', pid: null };
              }
              const notice = await beforeStop(service, options.home);
              const how = await terminate(record.pid, service.stopGraceMs);
              await removeProcessRecord(paths.run, service.name);
              return {
                name: service.name,
                action: how === 'killed' ? 'killed' : 'stopped',
                pid: record.pid,
                ...(notice ? { notice } : {}),
              };
            }),
        )),
      );
    }
    const order = SERVICES.map((s) => s.name);
    results.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
    return { home: options.home, services: results };
  } finally {
    await lock.release();
  }
}

/** A failing before-stop step never keeps a service from stopping: it becomes the stop's notice. */
async function beforeStop(service: ServiceDefinition, home: string): Promise<string | undefined> {
  if (!service.beforeStop) return undefined;
  const settings = await runningSettings(home);
  if (!settings) return undefined;
  try {
    return await service.beforeStop(settings);
  } catch (error) {
    return `${(error as Error).message.split('\n')[0]}`;
  }
}

/** Reverse dependency order: services nobody depends on first, then what they depended on. */
function stopWaves(): ServiceDefinition[][] {
  const remaining = [...SERVICES];
  const waves: ServiceDefinition[][] = [];
  while (remaining.length > 0) {
    const wave = remaining.filter((s) => !remaining.some((other) => other.dependsOn.includes(s.name)));
    waves.push(wave);
    for (const s of wave) remaining.splice(remaining.indexOf(s), 1);
  }
  return waves;
}

export interface ServiceStatus {
  name: ServiceName;
  pid: number | null;
  healthy: boolean;
  endpoints: Record<string, string>;
  status?: string;
}

/**
 * Every service with its pid (when this tool runs it), health, and endpoints; an optional group's services only
 * when they run or the group is asked for.
 */
export async function stackStatus(options: {
  settings: StackSettings;
  groups?: ServiceGroup[];
}): Promise<{ home: string; services: ServiceStatus[] }> {
  const settings = (await runningSettings(options.settings.home)) ?? options.settings;
  const paths = stackPaths(settings.home);
  const checked = await Promise.all(
    SERVICES.map(async (service): Promise<ServiceStatus | undefined> => {
      const record = await readProcessRecord(paths.run, service.name);
      const running = await isOurProcess(record);
      if (!running && !wanted(service, options.groups ?? [])) return undefined;
      const health = running ? await service.health(settings) : undefined;
      return {
        name: service.name,
        pid: running ? record!.pid : null,
        healthy: health?.healthy === true,
        endpoints: service.endpoints(settings),
        ...(health && !health.healthy ? { status: health.status } : {}),
        ...(!running ? { status: 'not running' } : {}),
      };
    }),
  );
  return { home: settings.home, services: checked.filter((service) => service !== undefined) };
}

/** The settings (ports) the stack in `home` was last started with. */
export async function runningSettings(home: string): Promise<StackSettings | undefined> {
  try {
    const parsed = JSON.parse(await readFile(join(stackPaths(home).run, STACK_RECORD), 'utf8')) as {
      settings?: StackSettings;
    };
    return parsed.settings?.ports ? { ...parsed.settings, home } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Endpoints of the local stack running in the configured home, for commands run with `--target local` and no
 * explicit endpoints. Fails with a UserError pointing at `marketplace local start` when it is not running.
 */
export async function localEndpoints(config: Config, env: NodeJS.ProcessEnv = process.env): Promise<LocalEndpoints> {
  const configured = settingsFromConfig(config, env);
  const settings = (await runningSettings(configured.home)) ?? configured;
  const paths = stackPaths(settings.home);
  const running = new Map<ServiceName, boolean>();
  for (const service of SERVICES) {
    running.set(service.name, await isOurProcess(await readProcessRecord(paths.run, service.name)));
  }
  const down = (['kafka', 'connect', 'ferretdb'] as const).filter((name) => !running.get(name));
  if (down.length > 0) {
    throw new UserError(`the local stack in ${settings.home} is not running (${down.join(', ')} down)`, {
      hint: 'Run `marketplace local start` (after `marketplace local install` on a new machine).',
    });
  }
  const flink = (['flink-jobmanager', 'flink-taskmanager', 'flink-gateway'] as const).every((name) =>
    running.get(name),
  );
  return endpointsOf(settings, await readKafkaUsers(settings.home), running.get('ksqldb') === true, flink);
}

export function endpointsOf(
  settings: StackSettings,
  users: KafkaUser[],
  withKsqldb: boolean,
  withFlink = false,
): LocalEndpoints {
  return {
    home: settings.home,
    kafka: {
      plaintext: `127.0.0.1:${settings.ports.kafka}`,
      saslSsl: `localhost:${settings.ports.kafkaSasl}`,
      caFile: stackPaths(settings.home).caCert,
      users,
    },
    connect: { url: `http://127.0.0.1:${settings.ports.connect}` },
    ferretdb: { uri: `mongodb://127.0.0.1:${settings.ports.ferretdb}/` },
    ...(withKsqldb ? { ksqldb: { url: `http://127.0.0.1:${settings.ports.ksqldb}` } } : {}),
    ...(withFlink
      ? {
          flink: {
            gatewayUrl: `http://127.0.0.1:${settings.ports.flinkGateway}`,
            restUrl: `http://127.0.0.1:${settings.ports.flink}`,
          },
        }
      : {}),
  };
}

/** Stops the stack, then deletes its data, logs and generated configs; installed jars, binaries and users stay. */
export async function resetStack(options: {
  home: string;
}): Promise<{ home: string; stopped: ServiceStop[]; removed: string[] }> {
  const stopped = await stopStack(options);
  const paths = stackPaths(options.home);
  const removed = [paths.data, paths.logs, paths.config, join(paths.run, STACK_RECORD)];
  for (const path of removed) await rm(path, { recursive: true, force: true });
  return { home: options.home, stopped: stopped.services, removed };
}
