import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { OperationError } from './errors.js';
import { describeWriteFailure } from './fs-atomic.js';

export interface LockOwner {
  pid: number;
  host: string;
  command: string;
  startedAt: string;
}

export interface HeldLock {
  release(): Promise<void>;
}

/**
 * An exclusive lock file so two `up`/`down` runs in one directory cannot interleave. A lock left by a process that
 * no longer exists is taken over (the caller is told, to say so); a live owner is an error naming it.
 */
export async function acquireLock(
  stateDir: string,
  command: string,
  onStaleTakeover: (previous: LockOwner | undefined) => void,
): Promise<HeldLock> {
  try {
    await fs.mkdir(stateDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw describeWriteFailure(stateDir, error);
  }
  const path = join(stateDir, 'lock');
  const me: LockOwner = { pid: process.pid, host: hostname(), command, startedAt: new Date().toISOString() };

  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await fs.open(path, 'wx', 0o600);
      await handle.writeFile(JSON.stringify(me));
      await handle.close();
      return { release: () => releaseIfMine(path, me) };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw describeWriteFailure(path, error);
    }
    const owner = await readOwner(path);
    if (owner && owner.host === me.host && isAlive(owner.pid) && owner.pid !== process.pid) {
      throw new OperationError(
        `another \`marketplace ${owner.command}\` (pid ${owner.pid}) has held ${path} since ${owner.startedAt}`,
        { hint: 'Wait for it to finish, or stop it; a lock of a process that has exited is taken over automatically.' },
      );
    }
    if (owner && owner.host !== me.host) {
      throw new OperationError(`${path} is held by pid ${owner.pid} on host ${owner.host}`, {
        hint: `If no marketplace command is running on ${owner.host}, delete ${path}.`,
      });
    }
    onStaleTakeover(owner);
    await fs.unlink(path).catch(() => undefined);
  }
  throw new OperationError(`could not take the lock ${path}`, { hint: 'Another run keeps racing for it; try again.' });
}

async function readOwner(path: string): Promise<LockOwner | undefined> {
  try {
    const parsed = JSON.parse(await fs.readFile(path, 'utf8')) as Partial<LockOwner>;
    if (typeof parsed.pid !== 'number') return undefined;
    return {
      pid: parsed.pid,
      host: parsed.host ?? hostname(),
      command: parsed.command ?? 'unknown',
      startedAt: parsed.startedAt ?? 'an unknown time',
    };
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function releaseIfMine(path: string, me: LockOwner): Promise<void> {
  const owner = await readOwner(path);
  if (owner && owner.pid === me.pid && owner.startedAt === me.startedAt) await fs.unlink(path).catch(() => undefined);
}
