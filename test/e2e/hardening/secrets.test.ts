import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudPipeline } from '../../helpers/cloud-pipeline.js';
import { checkAndRecord } from '../../helpers/reliability.js';
import {
  filesUnder,
  findSecrets,
  modeOf,
  RunObserver,
  scanFiles,
  secret,
  type Hit,
  type Secret,
} from '../../helpers/secret-scan.js';
import { stackEndpoints } from '../../helpers/stack.js';

/**
 * Hardening item 6: a whole cloud-target run (up → status → produce → tail → sink → down, every call with --verbose)
 * against the Confluent Cloud emulator, then every byte the run produced is searched for each secret: the CLI's
 * stdout and stderr, the local stack's logs and run records, the emulator's exchange log, every file in the working
 * directory (the state directory included) and the argument vector of every process seen while the commands ran.
 *
 * "The secret fields of the 0600 state" are, precisely, the string values at `resources.<id>.secrets.<field>` in
 * `.marketplace/state.json`. A secret may occur there and nowhere else in that file; the Cloud API secret and the
 * Mongo password may not occur in it at all.
 */
const TIME_SCALE = 0.001;
const JOBS = 60;
const prefix = `e2e-secrets-${Date.now().toString(36)}`;
// Characters that URI and JSON encoders treat specially, so an encoded leak has a spelling of its own to look for.
const mongoPassword = `pw-${randomBytes(9).toString('base64url')}/:@%+=`;

let root: string;
let pipeline: CloudPipeline;
const stateDir = () => (pipeline ? [join(pipeline.cwd, '.marketplace')] : []);
const observer = new RunObserver(stateDir);
let secrets: Secret[] = [];
/** `.marketplace` files read right after each CLI call, and whatever the observer caught there meanwhile. */
const stateSnapshots: { after: string; path: string; mode: number; bytes: Buffer }[] = [];
let completed = false;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'e2e-secrets-'));
  pipeline = await CloudPipeline.start(stackEndpoints(), {
    dir: root,
    prefix,
    timeScale: TIME_SCALE,
    verbose: true,
    env: { MONGODB_PASSWORD: mongoPassword },
  });
  const cloud = pipeline.harness.emulator.cloudCredentials;
  secrets = [
    secret('Cloud API secret', cloud.secret, cloud.key),
    secret('Mongo password', mongoPassword, pipeline.env.MARKETPLACE_MONGO_USER),
  ];
  observer.start();
});

afterAll(async () => {
  await observer.stop();
  await pipeline?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

function snapshotState(after: string): void {
  for (const path of stateDir().flatMap(filesUnder)) {
    try {
      stateSnapshots.push({ after, path, mode: modeOf(path), bytes: readFileSync(path) });
    } catch {
      // A temporary file of an atomic write that was renamed meanwhile.
    }
  }
}

function describeHits(hits: Hit[]): string {
  return hits
    .slice(0, 5)
    .map((hit) => `${hit.secret} in ${hit.where}: …${hit.context.replace(/\s+/g, ' ')}…`)
    .join('\n');
}

describe('secrets never leave their 0600 state file (hardening item 6)', () => {
  it('a full cloud-target run with --verbose on every call', async () => {
    const step = async (name: string, args: string[], expectedCode = 0) => {
      const run = await pipeline.cli(args);
      expect(run.code, `${name}: exit ${run.code}\n${run.stderr.slice(-3000)}`).toBe(expectedCode);
      snapshotState(name);
      return run;
    };

    await step('up', ['up', '--json']);
    const keys = [...pipeline.harness.emulator.state.apiKeys.values()];
    const kafkaKey = keys.find((k) => k.displayName === `${prefix}-kafka-key`);
    const ksqlKey = keys.find((k) => k.displayName === `${prefix}-ksqldb-key`);
    expect(kafkaKey && ksqlKey, 'up created both API keys').toBeTruthy();
    secrets.push(
      secret('Kafka API secret', kafkaKey!.secret, kafkaKey!.id),
      secret('ksqlDB API secret', ksqlKey!.secret, ksqlKey!.id),
    );

    await step('status', ['status', '--json']);
    await step('produce', [
      'produce',
      '--count',
      String(JOBS),
      '--rate',
      '200',
      '--trucks',
      '1',
      '--truck-interval',
      '200ms',
      '--seed',
      '5',
      '--json',
    ]);
    const tailed = await step('tail', [
      'tail',
      'job_status',
      '--from-beginning',
      '--limit',
      String(JOBS),
      '--format',
      'jsonl',
    ]);
    expect(tailed.stdout.trim().split('\n')).toHaveLength(JOBS);
    await step('tail --via kafka', [
      'tail',
      'job_status',
      '--via',
      'kafka',
      '--from-beginning',
      '--limit',
      String(JOBS),
      '--format',
      'jsonl',
    ]);
    await step('sink mongo', ['sink', 'mongo', '--json']);
    await step('sink status', ['sink', 'status', '--json']);
    const verified = await step('sink verify', ['sink', 'verify', '--wait', '120s', '--json']);
    expect(JSON.parse(verified.stdout)).toMatchObject({ documents: JOBS, missing: 0 });
    // An error path, where secrets tend to slip into messages and stack traces: MongoDB unreachable.
    const failed = await pipeline.cli(['sink', 'verify', '--json'], 60_000, {
      ...pipeline.env,
      MARKETPLACE_MONGO_URI: 'mongodb://127.0.0.1:9/?authMechanism=PLAIN',
    });
    expect(failed.code, failed.stderr).toBe(1);
    await step('down', ['down', '--yes', '--json']);
    completed = true;
  });

  it('stdout and stderr of every call hold no secret', async () => {
    expect(completed, 'the run did not complete').toBe(true);
    const hits = pipeline.calls.flatMap((call, index) => [
      ...findSecrets(call.run.stdout, `stdout of #${index + 1} ${call.args.slice(0, 2).join(' ')}`, secrets),
      ...findSecrets(call.run.stderr, `stderr of #${index + 1} ${call.args.slice(0, 2).join(' ')}`, secrets),
    ]);
    const bytes = pipeline.calls.reduce(
      (sum, call) => sum + Buffer.byteLength(call.run.stdout) + Buffer.byteLength(call.run.stderr),
      0,
    );
    const verbose = pipeline.calls.every((call) => call.args.includes('--verbose'));
    await checkAndRecord(
      {
        item: 6,
        scenario: `stdout and stderr of ${pipeline.calls.length} CLI calls with --verbose (up, status, produce, tail ×2, sink mongo/status/verify, a failing sink verify, down)`,
        expectation:
          'none of the 4 secrets (Cloud API, Kafka API, ksqlDB API, Mongo password), raw, URI-encoded or as a basic-auth token',
        observed: `${(bytes / 1024).toFixed(0)} KB scanned, ${hits.length} hits`,
      },
      () => {
        expect(verbose).toBe(true);
        expect(bytes).toBeGreaterThan(0);
        expect(hits, describeHits(hits)).toEqual([]);
      },
    );
  });

  it('the local stack logs and the emulator log hold no secret', async () => {
    expect(completed, 'the run did not complete').toBe(true);
    const home = stackEndpoints().home;
    const stackLogs = filesUnder(join(home, 'logs'));
    // The stack's own records (pids, endpoints, settings). Not its broker user database (kafka-users.json and the
    // broker's config): the emulator hands those SASL users out as Kafka API keys, so they hold the secret by design,
    // as Confluent's servers do.
    const stackState = [...filesUnder(join(home, 'run')), join(home, 'manifest.json')].filter((file) =>
      existsSync(file),
    );
    const emulatorLogs = [pipeline.harness.logFile].filter((file) => existsSync(file));
    const scan = scanFiles([...stackLogs, ...stackState, ...emulatorLogs], secrets);
    await checkAndRecord(
      {
        item: 6,
        scenario:
          'log files of the local stack (Kafka, Connect, FerretDB, ksqlDB dev server) and its run records, and the emulator exchange log',
        expectation: 'no secret in any byte (the CLI itself writes no log file)',
        observed: `${scan.files} files, ${(scan.bytes / 1024 / 1024).toFixed(1)} MB scanned, ${scan.hits.length} hits`,
      },
      () => {
        expect(stackLogs.length).toBeGreaterThanOrEqual(3);
        expect(stackState.length).toBeGreaterThanOrEqual(2);
        expect(emulatorLogs).toHaveLength(1);
        expect(scan.hits, describeHits(scan.hits)).toEqual([]);
      },
    );
  });

  it('the state file holds the API secrets in its secret fields only, with mode 0600; other files hold none', async () => {
    expect(completed, 'the run did not complete').toBe(true);
    await observer.stop();
    for (const file of observer.files.values())
      stateSnapshots.push({ after: 'a command (sampled while it ran)', ...file });
    // The state file, and the temp files an atomic write renames over it.
    const isState = (path: string) => /^(state\.json|\.state\.json\..+\.tmp)$/.test(basename(path));
    const states = stateSnapshots.filter((s) => isState(s.path));
    const problems: string[] = [];
    const heldIn = new Map<string, Set<string>>();
    let partial = 0;
    for (const snapshot of states) {
      if (snapshot.mode !== 0o600)
        problems.push(`${basename(snapshot.path)} after ${snapshot.after}: mode ${snapshot.mode.toString(8)}`);
      let document: { resources: Record<string, { secrets?: Record<string, string> }> };
      try {
        document = JSON.parse(snapshot.bytes.toString('utf8')) as typeof document;
      } catch {
        partial += 1; // a temp file caught half written: its mode was checked, its complete version is checked below
        continue;
      }
      const secretFields: { path: string; value: string }[] = [];
      for (const [id, record] of Object.entries(document.resources)) {
        for (const [field, value] of Object.entries(record.secrets ?? {}))
          secretFields.push({ path: `resources.${id}.secrets.${field}`, value });
        delete record.secrets;
      }
      const outside = findSecrets(
        JSON.stringify(document),
        `${basename(snapshot.path)} outside its secret fields, after ${snapshot.after}`,
        secrets,
      );
      problems.push(...outside.map((hit) => `${hit.secret} ${hit.where}`));
      for (const s of secrets) {
        const fields = secretFields.filter((f) => f.value === s.value).map((f) => f.path);
        for (const path of fields) (heldIn.get(s.name) ?? heldIn.set(s.name, new Set()).get(s.name)!).add(path);
        // Every occurrence in the raw bytes is accounted for by a secret field holding exactly that value.
        const raw = findSecrets(snapshot.bytes, snapshot.path, [s]).length;
        if (raw !== fields.length)
          problems.push(
            `${basename(snapshot.path)} after ${snapshot.after}: ${s.name} occurs ${raw} times, in ${fields.length} secret fields`,
          );
      }
    }
    const others = stateSnapshots.filter((s) => !isState(s.path));
    const otherHits = others.flatMap((s) => findSecrets(s.bytes, `${s.path} after ${s.after}`, secrets));
    const workingFiles = scanFiles(filesUnder(pipeline.cwd), secrets);
    const held = [...heldIn].map(([name, paths]) => `${name} in ${[...paths].join(', ')}`).join('; ');
    await checkAndRecord(
      {
        item: 6,
        scenario:
          `.marketplace/state.json read after each of ${pipeline.calls.length - 1} successful commands and every 25 ms while they ran ` +
          `(${states.length} versions, temp files of atomic writes included); every other file there (lock) and in the working directory`,
        expectation:
          'mode 0600; the Kafka and ksqlDB API secrets only in resources.<id>.secrets.<field>; the Cloud API secret and the Mongo password nowhere; no secret in any other file',
        observed:
          `${held || 'no secret field'}; ${problems.length} problems (${partial} temp files caught half written); ` +
          `${others.length + workingFiles.files} other file versions, ${otherHits.length + workingFiles.hits.length} hits`,
      },
      () => {
        expect(states.filter((s) => !s.after.startsWith('a command')).length).toBeGreaterThanOrEqual(9);
        // The lock was seen while commands ran, so the files of the state directory were really watched.
        expect(others.some((s) => basename(s.path) === 'lock')).toBe(true);
        expect(problems).toEqual([]);
        expect(heldIn.get('Kafka API secret')).toEqual(new Set(['resources.kafka-api-key.secrets.secret']));
        expect(heldIn.get('ksqlDB API secret')).toEqual(new Set(['resources.ksqldb-api-key.secrets.secret']));
        expect(heldIn.has('Cloud API secret')).toBe(false);
        expect(heldIn.has('Mongo password')).toBe(false);
        expect([...otherHits, ...workingFiles.hits], describeHits([...otherHits, ...workingFiles.hits])).toEqual([]);
      },
    );
  });

  it('no process argument vector ever held a secret', async () => {
    expect(completed, 'the run did not complete').toBe(true);
    await observer.stop();
    const commandLines = [...observer.commandLines];
    const hits = commandLines.flatMap((line) => findSecrets(line, 'a process command line', secrets));
    const cliLines = commandLines.filter((line) => line.includes('marketplace.js'));
    await checkAndRecord(
      {
        item: 6,
        scenario:
          'the process list (/proc/*/cmdline, as `ps -eo args` shows it) sampled every 25 ms throughout the run',
        expectation: 'no secret in any process argument (secrets travel in the environment or the state file)',
        observed: `${observer.samples} samples, ${commandLines.length} distinct command lines (${cliLines.length} of the CLI), ${hits.length} hits`,
      },
      () => {
        // The sampler saw the CLI's processes, so it really looked while the commands ran.
        for (const command of ['up', 'produce', 'tail', 'down'])
          expect(cliLines.some((line) => line.includes(` ${command} `))).toBe(true);
        expect(hits, describeHits(hits)).toEqual([]);
      },
    );
  });
});
