import type { TestProject } from 'vitest/node';
import type { StackEndpoints } from '../helpers/stack.js';

/**
 * Global setup of the `stack` project: starts the local stack once per test run (reusing a healthy one), provides
 * its endpoints as `localStack` (installing it first on a fresh machine), and stops it afterwards unless MARKETPLACE_KEEP_STACK=1 or it was already running
 * when the run began. Builds nothing: `npm run build` must have run (the stack code is imported from dist/).
 * Home and ports follow the usual configuration (MARKETPLACE_HOME, MARKETPLACE_LOCAL_KAFKA_PORT, …).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // A stack that cannot start fails each test that needs it, with the reason, rather than the whole run: vitest
  // would otherwise run no test at all, the unit tests of the other project included.
  try {
    return await startOrReuse(project);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    process.stderr.write(`local stack: could not start: ${reason}\n`);
    project.provide('localStackError', reason);
    return async () => undefined;
  }
}

async function startOrReuse(project: TestProject): Promise<() => Promise<void>> {
  const distStack = new URL('../../dist/local/stack.js', import.meta.url).href;
  const distConfig = new URL('../../dist/core/config.js', import.meta.url).href;
  const stack = (await import(distStack).catch((error: unknown) => {
    throw new Error(`cannot load ${distStack}: run \`npm run build\` first (${String(error)})`);
  })) as typeof import('../../src/local/stack.js');
  const { loadConfig } = (await import(distConfig)) as typeof import('../../src/core/config.js');

  const { values } = await loadConfig({ cwd: process.cwd(), env: process.env });
  const settings = stack.settingsFromConfig(values, process.env);
  // A fresh machine: install first (idempotent and cached), so `npm test` alone is enough.
  const install = (await import(
    new URL('../../dist/local/install.js', import.meta.url).href
  )) as typeof import('../../src/local/install.js');
  if ((await install.missingComponents(settings.home)).length > 0) {
    await install.installStack({
      home: settings.home,
      env: process.env,
      onProgress: (message) => process.stderr.write(`local stack install: ${message}\n`),
    });
  }
  const before = await stack.stackStatus({ settings });
  const wanted = before.services.filter((s) => (s.name !== 'ksqldb' && !s.name.startsWith('flink-')) || s.pid !== null);
  const alreadyHealthy = wanted.length >= 3 && wanted.every((s) => s.healthy);
  // Flink is started by the test files that need it (test/helpers/flink.ts); one that was not running before this
  // run is stopped after it.
  const flinkBefore = before.services.some((s) => s.name.startsWith('flink-') && s.pid !== null);

  const result = await stack.startStack({ settings, env: process.env });
  const startedHere = !alreadyHealthy && result.services.some((s) => s.action === 'started');
  const ksqldbUp = result.services.some((s) => s.name === 'ksqldb' && s.action !== 'skipped');
  const endpoints: StackEndpoints = stack.endpointsOf(settings, await stack.readKafkaUsers(settings.home), ksqldbUp);
  project.provide('localStack', endpoints);

  return async () => {
    if (process.env.MARKETPLACE_KEEP_STACK === '1') return;
    if (startedHere) {
      await stack.stopStack({ home: settings.home });
    } else if (!flinkBefore) {
      await stack.stopStack({ home: settings.home, only: ['flink-gateway', 'flink-taskmanager', 'flink-jobmanager'] });
    }
  };
}
