import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OperationError, UserError } from '../../src/core/errors.js';
import { WRITE_FAULT_ENV, type AtomicWriteFs } from '../../src/core/fs-atomic.js';
import { acquireLock, type LockOwner } from '../../src/core/lock.js';
import { StateStore, type StateDocument } from '../../src/core/state-store.js';

async function tempDir(): Promise<string> {
  return fs.mkdtemp(join(tmpdir(), 'marketplace-state-'));
}

function withResource(doc: StateDocument, id: string): StateDocument {
  doc.resources[id] = { kind: 'environment', id, target: 'cloud', createdAt: new Date().toISOString() };
  return doc;
}

describe('state store', () => {
  it('writes state with mode 0600 inside a 0700 directory and reads it back', async () => {
    const dir = await tempDir();
    const store = new StateStore(dir);
    await store.update((doc) => withResource(doc, 'env-1'));
    expect((await fs.stat(store.path)).mode & 0o777).toBe(0o600);
    expect((await fs.stat(store.dir)).mode & 0o777).toBe(0o700);
    const doc = await store.read();
    expect(doc.version).toBe(1);
    expect(Object.keys(doc.resources)).toEqual(['env-1']);
  });

  it('a crash between the temp write and the rename leaves the old state readable', async () => {
    const dir = await tempDir();
    await new StateStore(dir).update((doc) => withResource(doc, 'env-old'));
    const crashing: AtomicWriteFs = {
      open: fs.open,
      unlink: async () => undefined, // a crashed process cleans nothing up
      rename: async () => {
        throw Object.assign(new Error('killed'), { code: 'EKILLED' });
      },
    };
    await expect(
      new StateStore(dir, { fsImpl: crashing }).update((doc) => withResource(doc, 'env-new')),
    ).rejects.toThrow();
    const doc = await new StateStore(dir).read();
    expect(Object.keys(doc.resources)).toEqual(['env-old']);
    const leftovers = (await fs.readdir(join(dir, '.marketplace'))).filter((name) => name.endsWith('.tmp'));
    expect(leftovers).toHaveLength(1); // the orphan temp file is harmless: it is never read
    for (const name of leftovers) expect((await fs.stat(join(dir, '.marketplace', name))).mode & 0o777).toBe(0o600);
  });

  it('a full disk fails with a clear error, keeps the old state and removes the temp file', async () => {
    const dir = await tempDir();
    await new StateStore(dir).update((doc) => withResource(doc, 'env-old'));
    const fullDisk: AtomicWriteFs = {
      open: async (path, flags, mode) => {
        const handle = await fs.open(path, flags, mode);
        return Object.assign(Object.create(Object.getPrototypeOf(handle)), handle, {
          writeFile: async () => {
            throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
          },
          sync: () => handle.sync(),
          close: () => handle.close(),
        });
      },
      rename: fs.rename,
      unlink: fs.unlink,
    };
    const error = await new StateStore(dir, { fsImpl: fullDisk })
      .update((doc) => withResource(doc, 'env-new'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperationError);
    expect((error as OperationError).message).toMatch(/disk is full; the previous contents are unchanged/);
    expect(Object.keys((await new StateStore(dir).read()).resources)).toEqual(['env-old']);
    expect((await fs.readdir(join(dir, '.marketplace'))).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('with MARKETPLACE_TEST_WRITE_FAULT=ENOSPC every write fails half-way like a full disk, and the old state stays', async () => {
    const dir = await tempDir();
    const store = new StateStore(dir);
    await store.update((doc) => withResource(doc, 'env-old'));
    const before = await fs.readFile(store.path);
    process.env[WRITE_FAULT_ENV] = 'ENOSPC';
    try {
      const written = await store.update((doc) => withResource(doc, 'env-new')).catch((e: unknown) => e);
      expect((written as OperationError).message).toMatch(/disk is full; the previous contents are unchanged/);
      const checked = await store.assertWritable().catch((e: unknown) => e);
      expect(checked).toBeInstanceOf(OperationError);
    } finally {
      delete process.env[WRITE_FAULT_ENV];
    }
    expect((await fs.readFile(store.path)).equals(before)).toBe(true);
    expect((await fs.readdir(store.dir)).sort()).toEqual(['state.json']);
    await expect(store.assertWritable()).resolves.toBeUndefined();
    expect((await fs.readdir(store.dir)).sort()).toEqual(['state.json']);
  });

  it('a read-only state directory is a user error that says what to fix', async () => {
    if (process.getuid?.() === 0) {
      // root ignores permission bits; simulate the EACCES the kernel gives everyone else
      const denied: AtomicWriteFs = {
        open: async () => {
          throw Object.assign(new Error('permission denied'), { code: 'EACCES' });
        },
        rename: fs.rename,
        unlink: fs.unlink,
      };
      const error = await new StateStore(await tempDir(), { fsImpl: denied })
        .write({
          version: 1,
          updatedAt: '',
          resources: {},
        })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UserError);
      expect((error as UserError).message).toMatch(/is not writable/);
      return;
    }
    const dir = await tempDir();
    await fs.mkdir(join(dir, '.marketplace'), { mode: 0o500 });
    const error = await new StateStore(dir)
      .write({ version: 1, updatedAt: '', resources: {} })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
  });

  it('a corrupt state file is reported with a way out', async () => {
    const dir = await tempDir();
    await fs.mkdir(join(dir, '.marketplace'));
    await fs.writeFile(join(dir, '.marketplace', 'state.json'), '{"version": 1, "resou');
    const error = await new StateStore(dir).read().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).hint).toMatch(/down --discover/);
  });

  it('refuses state written by a newer version', async () => {
    const dir = await tempDir();
    await fs.mkdir(join(dir, '.marketplace'));
    await fs.writeFile(join(dir, '.marketplace', 'state.json'), '{"version": 9, "resources": {}}');
    await expect(new StateStore(dir).read()).rejects.toThrow(/newer marketplace/);
  });
});

async function stateFile(contents: string, mode = 0o600): Promise<string> {
  const dir = await tempDir();
  await fs.mkdir(join(dir, '.marketplace'), { mode: 0o700 });
  await fs.writeFile(join(dir, '.marketplace', 'state.json'), contents, { mode });
  await fs.chmod(join(dir, '.marketplace', 'state.json'), mode);
  return dir;
}

const keyRecord = { kind: 'kafka-api-key', id: 'k1', target: 'cloud', createdAt: '2026-01-01T00:00:00.000Z' };

describe('state file shape and permissions', () => {
  const withKey = (record: Record<string, unknown>) => ({ version: 1, resources: { k1: { ...keyRecord, ...record } } });
  it.each([
    ['resources as an array', { version: 1, resources: [] }, /resources: /],
    ['a record with an unknown target', withKey({ target: 'moon' }), /resources\.k1\.target: /],
    ['a record without an id', withKey({ id: undefined }), /resources\.k1\.id: /],
    ['secrets that are not strings', withKey({ secrets: { secret: 7 } }), /resources\.k1\.secrets\.secret: /],
  ])('refuses %s, naming where and what to do', async (_name, doc, where) => {
    const error = await new StateStore(await stateFile(JSON.stringify(doc))).read().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toMatch(/state file .*state\.json is not in the shape marketplace writes \(/);
    expect((error as UserError).message).toMatch(where);
    expect((error as UserError).hint).toMatch(/down --discover/);
  });

  it('keeps fields it does not know when it rewrites a record', async () => {
    const dir = await stateFile(JSON.stringify({ version: 1, resources: { k1: { ...keyRecord, region: 'x' } } }));
    const store = new StateStore(dir);
    await store.update(() => undefined);
    expect(JSON.parse(await fs.readFile(store.path, 'utf8')).resources.k1.region).toBe('x');
  });

  it('tightens a state file holding secrets from 0644 to 0600, with one warning', async () => {
    const doc = { version: 1, resources: { k1: { ...keyRecord, secrets: { secret: 'do-not-share' } } } };
    const dir = await stateFile(JSON.stringify(doc), 0o644);
    const warnings: string[] = [];
    const store = new StateStore(dir, { warn: (message) => warnings.push(message) });
    expect((await store.read()).resources.k1!.secrets).toEqual({ secret: 'do-not-share' });
    expect((await fs.stat(store.path)).mode & 0o777).toBe(0o600);
    expect(warnings).toEqual([
      `${store.path} holds API key secrets but was readable by others (mode 0644); it is now 0600`,
    ]);
    await store.read();
    expect(warnings).toHaveLength(1);
  });

  it('leaves a 0644 state file without secrets as it is', async () => {
    const dir = await stateFile(JSON.stringify({ version: 1, resources: { k1: keyRecord } }), 0o644);
    const warnings: string[] = [];
    const store = new StateStore(dir, { warn: (message) => warnings.push(message) });
    await store.read();
    expect((await fs.stat(store.path)).mode & 0o777).toBe(0o644);
    expect(warnings).toEqual([]);
  });

  it('a file where the state directory should be is named, for reads and writes', async () => {
    const dir = await tempDir();
    await fs.writeFile(join(dir, '.marketplace'), 'not a directory');
    const store = new StateStore(dir);
    for (const attempt of [store.read(), store.write({ version: 1, updatedAt: '', resources: {} })]) {
      const error = await attempt.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UserError);
      expect((error as UserError).message).toMatch(/\.marketplace is a file, where marketplace needs a directory/);
      expect((error as UserError).hint).toBe('Move or rename that file, then run the command again.');
    }
  });
});

describe('lock', () => {
  it('a live holder makes a second run fail with a message naming it', async () => {
    const dir = join(await tempDir(), '.marketplace');
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      await fs.mkdir(dir, { recursive: true });
      const owner: LockOwner = { pid: child.pid!, host: hostname(), command: 'up', startedAt: '2026-01-01T00:00:00Z' };
      await fs.writeFile(join(dir, 'lock'), JSON.stringify(owner));
      const error = await acquireLock(dir, 'down', () => undefined).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OperationError);
      expect((error as Error).message).toMatch(new RegExp(`marketplace up\` \\(pid ${child.pid}\\)`));
    } finally {
      child.kill();
    }
  });

  it('release frees the lock for the next run', async () => {
    const dir = join(await tempDir(), '.marketplace');
    const first = await acquireLock(dir, 'up', () => undefined);
    expect(JSON.parse(await fs.readFile(join(dir, 'lock'), 'utf8')).pid).toBe(process.pid);
    await first.release();
    await expect(fs.stat(join(dir, 'lock'))).rejects.toThrow(/ENOENT/);
    const notices: unknown[] = [];
    const second = await acquireLock(dir, 'down', (previous) => notices.push(previous));
    expect(notices).toEqual([]);
    await second.release();
  });

  it('a lock left by a dead process is taken over with a notice', async () => {
    const dir = join(await tempDir(), '.marketplace');
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((resolve) => child.on('exit', resolve));
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(
      join(dir, 'lock'),
      JSON.stringify({ pid: child.pid, host: hostname(), command: 'up', startedAt: '2026-01-01T00:00:00Z' }),
    );
    const notices: (LockOwner | undefined)[] = [];
    const lock = await acquireLock(dir, 'up', (previous) => notices.push(previous));
    expect(notices).toHaveLength(1);
    expect(notices[0]?.pid).toBe(child.pid);
    expect(JSON.parse(await fs.readFile(join(dir, 'lock'), 'utf8')).pid).toBe(process.pid);
    await lock.release();
  });
});
