import { commandLineOf, isOurProcess, readProcessRecord } from '../../src/local/processes.js';
import { stackPaths } from '../../src/local/settings.js';
import type { ServiceName } from '../../src/local/stack.js';

/**
 * Faults for the hardening suite, aimed at one service of the test stack only: the pid comes from the stack's own
 * process record (<home>/run/<service>.json) and is checked against the command-line marker before any signal, so a
 * reused pid or another stack on the machine is never touched.
 */

type StackModule = typeof import('../../src/local/stack.js');

/**
 * Starting and stopping go through the built stack code, as the stack project's global setup does: a service finds
 * what it launches (the ksqlDB dev server's main.js) next to its own module, which exists only under dist/.
 */
async function builtStack(): Promise<StackModule> {
  return (await import(new URL('../../dist/local/stack.js', import.meta.url).href)) as StackModule;
}

/** Sends `signal` (SIGKILL by default) to the running service and waits until the process is gone; returns its pid. */
export async function killService(
  home: string,
  service: ServiceName,
  signal: NodeJS.Signals = 'SIGKILL',
): Promise<number> {
  const record = await readProcessRecord(stackPaths(home).run, service);
  if (!record || !(await isOurProcess(record))) throw new Error(`${service} of the stack in ${home} is not running`);
  process.kill(record.pid, signal);
  const deadline = Date.now() + 30_000;
  while ((await commandLineOf(record.pid)) !== undefined) {
    if (Date.now() > deadline) throw new Error(`${service} (pid ${record.pid}) still runs 30 s after ${signal}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return record.pid;
}

/** Stops one service the way `marketplace local stop` does (SIGTERM, then SIGKILL after its grace period). */
export async function stopService(home: string, service: ServiceName): Promise<void> {
  await (await builtStack()).stopStack({ home, only: [service] });
}

/**
 * What `marketplace local start` does: starts every service that is down (with the ports the stack was started
 * with) and waits until all are healthy. Returns the seconds it took.
 */
export async function startStoppedServices(home: string): Promise<number> {
  const { runningSettings, startStack } = await builtStack();
  const settings = await runningSettings(home);
  if (!settings) throw new Error(`no stack record in ${home}: was the stack ever started there?`);
  const started = Date.now();
  const result = await startStack({ settings });
  // A service skipped now (e.g. the dev server not built) would leave the next test without it: say so loudly.
  const skipped = result.services.filter((s) => s.action === 'skipped');
  if (skipped.length > 0)
    throw new Error(`local start skipped ${skipped.map((s) => `${s.name} (${s.notice})`).join(', ')}`);
  return (Date.now() - started) / 1000;
}

/** True when the service's process (as recorded by the stack) is alive. */
export async function serviceRunning(home: string, service: ServiceName): Promise<boolean> {
  return isOurProcess(await readProcessRecord(stackPaths(home).run, service));
}
