import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { OperationError } from '../core/errors.js';
import { acquireLock } from '../core/lock.js';
import { generateKafkaUsers, writeKafkaUsers } from './kafka-users.js';
import { readManifest, writeManifest, type ComponentRecord, type InstallManifest } from './manifest.js';
import type { ServiceGroup } from './service-definition.js';
import { stackPaths, type StackPaths } from './settings.js';
import { generateBrokerTls } from './tls.js';
import { requireTools, type Tool } from './toolchain.js';

const run = promisify(execFile);

/** The repository's local/ folder: the Maven reactor and the FerretDB Go module. */
export const LOCAL_SOURCES = fileURLToPath(new URL('../../local/', import.meta.url));
const FERRETDB_MODULE = join(LOCAL_SOURCES, 'ferretdb');
const POM_FILES = [
  'pom.xml',
  'kafka-broker/pom.xml',
  'kafka-connect/pom.xml',
  'mongo-plugin/pom.xml',
  'kafka-tools/pom.xml',
];
const FERRETDB_FILES = ['go.mod', 'go.sum', 'main.go'];
const FLINK_MODULE = join(LOCAL_SOURCES, 'flink');

export interface InstallStepResult {
  name: string;
  action: 'installed' | 'cached';
  seconds: number;
  details: Record<string, string>;
}

export interface InstallResult {
  home: string;
  changed: boolean;
  seconds: number;
  steps: InstallStepResult[];
}

interface InstallStep {
  name: string;
  /** Installed only when its group is asked for (`--with flink`); unset: always. */
  group?: ServiceGroup;
  tools: Tool[];
  inputHash(): Promise<string>;
  present(paths: StackPaths): Promise<boolean>;
  make(paths: StackPaths, env: NodeJS.ProcessEnv): Promise<Record<string, string>>;
}

const STEPS: InstallStep[] = [
  {
    name: 'java-libs',
    tools: ['java', 'mvn'],
    inputHash: () => hashFiles(LOCAL_SOURCES, POM_FILES),
    present: async (paths) =>
      (await nonEmpty(paths.kafkaLib)) && (await nonEmpty(paths.connectLib)) && (await nonEmpty(paths.pluginPath)),
    make: installJavaLibs,
  },
  {
    name: 'flink',
    group: 'flink',
    tools: ['java', 'mvn'],
    inputHash: () => hashFiles(FLINK_MODULE, ['pom.xml']),
    present: (paths) => nonEmpty(paths.flinkLib),
    make: installFlinkLibs,
  },
  {
    name: 'ferretdb',
    tools: ['go'],
    inputHash: () => hashFiles(FERRETDB_MODULE, FERRETDB_FILES),
    present: (paths) => exists(paths.ferretdbBinary),
    make: buildFerretdb,
  },
  {
    name: 'tls',
    tools: ['openssl'],
    inputHash: async () => 'ca+broker:localhost,127.0.0.1',
    present: async (paths) => (await exists(paths.caCert)) && (await exists(paths.brokerKeystore)),
    make: async (paths) => {
      await generateBrokerTls(paths);
      return { caFile: paths.caCert };
    },
  },
  {
    name: 'kafka-users',
    tools: [],
    inputHash: async () => 'plain-users-v1',
    present: (paths) => exists(paths.kafkaUsers),
    make: async (paths) => {
      const users = generateKafkaUsers();
      await writeKafkaUsers(paths.home, users);
      return { users: users.map((u) => u.username).join(',') };
    },
  },
];

/**
 * Makes everything the local stack runs from, under the home directory. Each step is skipped when its output is
 * present and was made from the same inputs (pom files, Go module files), so a second run is quick and silent.
 */
export async function installStack(options: {
  home: string;
  /** Optional groups to install as well (e.g. flink). */
  groups?: ServiceGroup[];
  env?: NodeJS.ProcessEnv;
  force?: boolean;
  onProgress?: (message: string) => void;
}): Promise<InstallResult> {
  const started = Date.now();
  const env = options.env ?? process.env;
  const paths = stackPaths(options.home);
  await mkdir(paths.home, { recursive: true, mode: 0o700 });
  const lock = await acquireLock(paths.home, 'local install', () => undefined);
  try {
    const manifest: InstallManifest = (await readManifest(paths.home)) ?? {
      format: 1,
      updatedAt: new Date().toISOString(),
      components: {},
      tools: {},
    };
    const plan = await Promise.all(
      stepsFor(options.groups ?? []).map(async (step) => {
        const hash = await step.inputHash();
        const record = manifest.components[step.name];
        const current = !options.force && record?.inputHash === hash && (await step.present(paths));
        return { step, hash, current, record };
      }),
    );
    const pending = plan.filter((p) => !p.current);
    if (pending.length > 0) {
      manifest.tools = {
        ...manifest.tools,
        ...(await requireTools(
          pending.flatMap((p) => p.step.tools),
          env,
        )),
      };
    }
    // Maven is network-bound and the Go build CPU-bound: they overlap well.
    const results = await Promise.all(
      plan.map(async ({ step, hash, current, record }): Promise<InstallStepResult> => {
        if (current && record) return { name: step.name, action: 'cached', seconds: 0, details: record.details };
        options.onProgress?.(`${step.name}: installing…`);
        const stepStarted = Date.now();
        const details = await step.make(paths, env);
        const seconds = (Date.now() - stepStarted) / 1000;
        const entry: ComponentRecord = { inputHash: hash, installedAt: new Date().toISOString(), seconds, details };
        manifest.components[step.name] = entry;
        options.onProgress?.(`${step.name}: done in ${seconds.toFixed(1)} s`);
        return { name: step.name, action: 'installed', seconds, details };
      }),
    );
    const changed = results.some((r) => r.action === 'installed');
    if (changed) {
      manifest.updatedAt = new Date().toISOString();
      await writeManifest(paths.home, manifest);
    }
    return { home: paths.home, changed, seconds: (Date.now() - started) / 1000, steps: results };
  } finally {
    await lock.release();
  }
}

const stepsFor = (groups: readonly ServiceGroup[]) =>
  STEPS.filter((step) => step.group === undefined || groups.includes(step.group));

/** The components not installed yet, of the base stack and `groups` (start refuses those, pointing at install). */
export async function missingComponents(home: string, groups: readonly ServiceGroup[] = []): Promise<string[]> {
  const paths = stackPaths(home);
  const manifest = await readManifest(home);
  const missing: string[] = [];
  for (const step of stepsFor(groups)) {
    if (!manifest?.components[step.name] || !(await step.present(paths))) missing.push(step.name);
  }
  return missing;
}

async function installJavaLibs(paths: StackPaths, env: NodeJS.ProcessEnv): Promise<Record<string, string>> {
  const staging = `${paths.lib}.staging`;
  await rm(staging, { recursive: true, force: true });
  await runTool(
    'mvn',
    [
      '-q',
      '-B',
      '-f',
      join(LOCAL_SOURCES, 'pom.xml'),
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-Dmarketplace.lib=${staging}`,
    ],
    { cwd: LOCAL_SOURCES, env },
    'resolving the Kafka and Connect jars with Maven',
  );
  await rm(paths.lib, { recursive: true, force: true });
  await rename(staging, paths.lib);
  const pom = await readFile(join(LOCAL_SOURCES, 'pom.xml'), 'utf8');
  const property = (name: string) => new RegExp(`<${name}>([^<]+)</${name}>`).exec(pom)?.[1] ?? 'unknown';
  return {
    kafka: property('kafka.version'),
    mongoKafkaConnect: property('mongo.kafka.version'),
    kafkaJars: String((await readdir(paths.kafkaLib)).length),
    connectJars: String((await readdir(paths.connectLib)).length),
  };
}

async function installFlinkLibs(paths: StackPaths, env: NodeJS.ProcessEnv): Promise<Record<string, string>> {
  const staging = `${paths.flinkLib}.staging`;
  await rm(staging, { recursive: true, force: true });
  await runTool(
    'mvn',
    [
      '-q',
      '-B',
      '-f',
      join(FLINK_MODULE, 'pom.xml'),
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-Dmarketplace.lib=${staging}`,
    ],
    { cwd: FLINK_MODULE, env },
    'resolving the Flink jars with Maven',
  );
  await rm(paths.flinkLib, { recursive: true, force: true });
  await rename(join(staging, 'flink'), paths.flinkLib);
  await rm(staging, { recursive: true, force: true });
  const pom = await readFile(join(FLINK_MODULE, 'pom.xml'), 'utf8');
  const property = (name: string) => new RegExp(`<${name}>([^<]+)</${name}>`).exec(pom)?.[1] ?? 'unknown';
  return {
    flink: property('flink.version'),
    kafkaConnector: property('flink.kafka.version'),
    flinkJars: String((await readdir(paths.flinkLib)).length),
  };
}

async function buildFerretdb(paths: StackPaths, env: NodeJS.ProcessEnv): Promise<Record<string, string>> {
  await mkdir(paths.bin, { recursive: true });
  const staging = `${paths.ferretdbBinary}.staging`;
  // The toolchain on PATH builds it: no silent toolchain download when go.mod asks for a newer one.
  const goEnv = { ...env, GOTOOLCHAIN: 'local', CGO_ENABLED: '0' };
  await runTool(
    'go',
    ['build', '-trimpath', '-buildvcs=false', '-ldflags=-s -w', '-o', staging, '.'],
    { cwd: FERRETDB_MODULE, env: goEnv },
    'building FerretDB with Go',
  );
  await rename(staging, paths.ferretdbBinary);
  const gomod = await readFile(join(FERRETDB_MODULE, 'go.mod'), 'utf8');
  return {
    ferretdb: /FerretDB\/FerretDB (v[\d.]+)/.exec(gomod)?.[1] ?? 'unknown',
    handler: 'sqlite',
  };
}

async function runTool(
  tool: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
  what: string,
): Promise<string> {
  try {
    return (await run(tool, args, { ...options, maxBuffer: 64 * 1024 * 1024, timeout: 30 * 60_000 })).stdout;
  } catch (error) {
    const output = `${(error as { stdout?: string }).stdout ?? ''}\n${(error as { stderr?: string }).stderr ?? ''}`;
    const firstError =
      output
        .replace(/\u001b\[[0-9;]*m/g, '')
        .split('\n')
        .map((line) => line.trim())
        .find((line) => /error|cannot|could not|failed/i.test(line)) ?? (error as Error).message;
    throw new OperationError(`${what} failed: ${firstError.slice(0, 300)}`, {
      hint: `Check network access to the registry, then run \`marketplace local install\` again (command: ${tool} ${args.join(' ')}, in ${options.cwd}).`,
      cause: error,
    });
  }
}

/** The module cache is read-only; its copy must not be, to be patched and later deleted. */

async function hashFiles(dir: string, files: string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(`${file}\0`);
    hash.update(await readFile(join(dir, file)));
  }
  return hash.digest('hex').slice(0, 32);
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

async function nonEmpty(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length > 0;
  } catch {
    return false;
  }
}
