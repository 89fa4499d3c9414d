import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../../helpers/cli.js';
import { checkAndRecord } from '../../helpers/reliability.js';
import { stackEndpoints } from '../../helpers/stack.js';

// Hardening item 5, the files marketplace reads and writes: `init` writes the file --config names and replaces a
// broken one with --force; a file where the state directory belongs, and a state file with secrets that others can
// read. What every run leaves in the directory is checked besides the exit code and the line.
let root: string;

/** The local target on the test stack, read-only here (plan and status change nothing). */
function localEnv(): NodeJS.ProcessEnv {
  const stack = stackEndpoints();
  return {
    MARKETPLACE_TARGET: 'local',
    MARKETPLACE_BOOTSTRAP_SERVERS: stack.kafka.plaintext,
    MARKETPLACE_KSQLDB_URL: stack.ksqldb?.url,
    MARKETPLACE_CONNECT_URL: stack.connect.url,
    MARKETPLACE_MONGO_URI: stack.ferretdb.uri,
  };
}

function freshDir(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir);
  return dir;
}

function lines(run: CliRun): string[] {
  return run.stderr.trim().split('\n');
}

function observed(run: CliRun, dir: string): string {
  const files = readdirSync(dir).sort().join(', ');
  return `exit ${run.code}; stderr: ${lines(run).join(' / ').slice(0, 300)}; files: ${files}`;
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'e2e-config-files-'));
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('hardening 5: init writes the config file it is told to', () => {
  it('`--config my.json init --yes` creates my.json, and later commands read it', async () => {
    const cwd = freshDir('named');
    const run = await runCli(['--config', 'my.json', 'init', '--yes', '--prefix', 'named-demo'], { cwd });
    const plan = await runCli(['--config', 'my.json', 'plan', '--json'], { cwd, env: localEnv() });
    await checkAndRecord(
      {
        item: 5,
        scenario: '`marketplace --config my.json init --yes` where my.json does not exist yet',
        expectation: 'exit 0, my.json written (and no marketplace.config.json); `--config my.json` then reads it',
        observed: observed(run, cwd),
      },
      () => {
        expect(run.code, run.stderr).toBe(0);
        expect(JSON.parse(readFileSync(join(cwd, 'my.json'), 'utf8'))).toMatchObject({ prefix: 'named-demo' });
        expect(existsSync(join(cwd, 'marketplace.config.json'))).toBe(false);
        expect(plan.code, plan.stderr).toBe(0);
        expect(plan.stdout, 'the plan uses the prefix from my.json').toMatch(/named-demo-mongo-sink/);
      },
    );
  });

  it('`init --yes --force` replaces a broken config file in one piece', async () => {
    const cwd = freshDir('broken');
    writeFileSync(join(cwd, 'marketplace.config.json'), '{\n  "prefix": "old",\n  "region": \n');
    const refused = await runCli(['init', '--yes'], { cwd });
    const run = await runCli(['init', '--yes', '--force', '--prefix', 'fresh-demo'], { cwd });
    await checkAndRecord(
      {
        item: 5,
        scenario: '`marketplace init --yes --force` over a marketplace.config.json that is not valid JSON',
        expectation:
          'without --force: exit 2 "already exists — Pass --force"; with it: exit 0, the file replaced whole',
        observed: `without --force: exit ${refused.code}, ${lines(refused)[0]}; with: ${observed(run, cwd)}`,
      },
      () => {
        expect(refused.code).toBe(2);
        expect(lines(refused)).toHaveLength(1);
        expect(lines(refused)[0]).toMatch(/marketplace\.config\.json already exists — Pass --force to overwrite it/);
        expect(run.code, run.stderr).toBe(0);
        expect(readdirSync(cwd), 'no temp file left beside it').toEqual(['marketplace.config.json']);
        const written: unknown = JSON.parse(readFileSync(join(cwd, 'marketplace.config.json'), 'utf8'));
        expect(written).toMatchObject({ prefix: 'fresh-demo' });
      },
    );
  });

  it('`--config` naming a directory, or a file in a missing directory: one line, nothing written', async () => {
    const cwd = freshDir('dirs');
    const intoDir = await runCli(['--config', '.', 'init', '--yes', '--force'], { cwd });
    const missingDir = await runCli(['--config', 'nowhere/my.json', 'init', '--yes'], { cwd });
    await checkAndRecord(
      {
        item: 5,
        scenario: '`marketplace --config <a directory> init --yes --force`, and --config in a missing directory',
        expectation: 'exit 2, one line each naming the problem and the fix; nothing written',
        observed: `${observed(intoDir, cwd)}; ${observed(missingDir, cwd)}`,
      },
      () => {
        expect(intoDir.code).toBe(2);
        expect(lines(intoDir)).toHaveLength(1);
        expect(lines(intoDir)[0]).toMatch(/ is a directory — Pass --config the path of the file to write/);
        expect(missingDir.code).toBe(2);
        expect(lines(missingDir)).toHaveLength(1);
        expect(lines(missingDir)[0]).toMatch(/the directory .*nowhere does not exist — Create the directory first/);
        expect(readdirSync(cwd)).toEqual([]);
        expect(existsSync(join(cwd, 'nowhere'))).toBe(false);
      },
    );
  });
});

describe('hardening 5: the state directory and file', () => {
  it('a file named .marketplace where the state directory belongs: one line naming it', async () => {
    const cwd = freshDir('state-dir-is-file');
    writeFileSync(join(cwd, '.marketplace'), 'notes\n');
    const status = await runCli(['status'], { cwd, env: localEnv() });
    const down = await runCli(['down', '--yes'], { cwd, env: localEnv() });
    await checkAndRecord(
      {
        item: 5,
        scenario: '`marketplace status` and `marketplace down --yes` where .marketplace is a file',
        expectation: 'exit 2, one line naming the file and saying to move it; the file untouched',
        observed: `status: ${observed(status, cwd)}; down: ${observed(down, cwd)}`,
      },
      () => {
        for (const run of [status, down]) {
          expect(run.code, run.stderr).toBe(2);
          expect(lines(run)).toHaveLength(1);
          expect(lines(run)[0]).toMatch(/\.marketplace is a file, where marketplace needs a directory.* — Move/);
          expect(run.stderr).not.toMatch(/ENOTDIR|EEXIST|unexpected failure/);
        }
        expect(readFileSync(join(cwd, '.marketplace'), 'utf8')).toBe('notes\n');
      },
    );
  });

  it('a state file with secrets at mode 0644 is tightened to 0600 with one warning line', async () => {
    const cwd = freshDir('state-0644');
    const secret = `not-for-others-${Date.now().toString(36)}`;
    const statePath = join(cwd, '.marketplace', 'state.json');
    mkdirSync(join(cwd, '.marketplace'), { mode: 0o700 });
    const record = { kind: 'kafka-api-key', id: 'key-1', target: 'cloud', createdAt: '2026-01-01T00:00:00.000Z' };
    const resources = { 'key-1': { ...record, secrets: { secret } } };
    writeFileSync(statePath, JSON.stringify({ version: 1, resources }));
    chmodSync(statePath, 0o644);
    const run = await runCli(['plan', '--json'], { cwd, env: localEnv() });
    const mode = statSync(statePath).mode & 0o777;
    const warnings = lines(run).filter((line) => /readable by others/.test(line));
    await checkAndRecord(
      {
        item: 5,
        scenario: '`marketplace plan` with a state file holding an API key secret at mode 0644',
        expectation: 'one warning line; the file is 0600 afterwards; the command goes on; the secret printed nowhere',
        observed: `exit ${run.code}; mode after 0${mode.toString(8)}; warning: ${warnings.join(' / ')}`,
      },
      () => {
        expect(run.code, run.stderr).toBe(0);
        expect(warnings).toEqual([
          `! ${statePath} holds API key secrets but was readable by others (mode 0644); it is now 0600`,
        ]);
        expect(mode).toBe(0o600);
        expect(`${run.stdout}${run.stderr}`).not.toContain(secret);
      },
    );
  });
});
