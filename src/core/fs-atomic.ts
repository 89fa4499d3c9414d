import { randomBytes } from 'node:crypto';
import { promises as fs, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { asError, isClassifiedError, isCliError, OperationError, UserError } from './errors.js';

/** The file-system calls an atomic write makes; injectable so tests can simulate a crash or a full disk. */
export interface AtomicWriteFs {
  open: typeof fs.open;
  rename: typeof fs.rename;
  unlink: typeof fs.unlink;
}

const realFs: AtomicWriteFs = { open: fs.open, rename: fs.rename, unlink: fs.unlink };

/**
 * Test seam: MARKETPLACE_TEST_WRITE_FAULT=ENOSPC (or another errno code such as EROFS) makes every write through
 * this module fail half-way with that error, as a full disk would. The end-to-end suite uses it to prove a failed
 * state write leaves the previous file and every resource untouched. MARKETPLACE_TEST_WRITE_FAULT=bug throws a
 * TypeError instead, as a programming error would, to prove the wrappers around a write (a provisioning step) let a
 * bug reach the error boundary as one. Inert unless set.
 */
export const WRITE_FAULT_ENV = 'MARKETPLACE_TEST_WRITE_FAULT';

function simulatedWriteFault(path: string): Error | undefined {
  const code = process.env[WRITE_FAULT_ENV]?.trim();
  if (code === 'bug') return new TypeError(`simulated bug: Cannot read properties of undefined, writing '${path}'`);
  if (!code || !/^E[A-Z]+$/.test(code)) return undefined;
  return Object.assign(new Error(`${code}: simulated write failure, write '${path}'`), {
    code,
    syscall: 'write',
    path,
  });
}

function defaultFs(): AtomicWriteFs {
  if (!process.env[WRITE_FAULT_ENV]) return realFs;
  return {
    ...realFs,
    open: (async (...args: Parameters<typeof fs.open>) => {
      const handle = await fs.open(...args);
      const fault = simulatedWriteFault(String(args[0]));
      if (!fault) return handle;
      // Half the bytes land, then the device refuses the rest: what a full disk does to a write.
      const writeFile = async (data: string | Uint8Array) => {
        const bytes = typeof data === 'string' ? Buffer.from(data) : data;
        await handle.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
        throw fault;
      };
      return Object.assign(handle, { writeFile });
    }) as typeof fs.open,
  };
}

/**
 * Writes through a temp file in the same directory and renames it over the target, so readers see either the old
 * file or the new one, never half of one. The temp file is created 0600 from the start.
 */
export async function writeFileAtomic(
  path: string,
  contents: string,
  options: { mode?: number; fsImpl?: AtomicWriteFs } = {},
): Promise<void> {
  const io = options.fsImpl ?? defaultFs();
  const mode = options.mode ?? 0o600;
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await io.open(temp, 'wx', mode);
    try {
      await handle.writeFile(contents, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await io.rename(temp, path);
  } catch (error) {
    await io.unlink(temp).catch(() => undefined);
    throw describeWriteFailure(path, error);
  }
  await syncDirectory(dir);
}

/**
 * Proves the directory of `path` can take a new version of it of about `bytes` bytes, by writing (and removing) a
 * scratch file the way an atomic write would. Commands that are about to create resources call this first, so a
 * full disk or a read-only directory stops them before anything exists that the state file could fail to record.
 */
export async function assertWritable(
  path: string,
  bytes: number,
  options: { fsImpl?: AtomicWriteFs } = {},
): Promise<void> {
  const io = options.fsImpl ?? defaultFs();
  const scratch = join(
    dirname(path),
    `.${basename(path)}.write-check.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    const handle = await io.open(scratch, 'wx', 0o600);
    try {
      await handle.writeFile(' '.repeat(bytes), 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw describeWriteFailure(path, error);
  } finally {
    await io.unlink(scratch).catch(() => undefined);
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close();
}

/**
 * When `path` cannot be reached because a file sits where one of its directories should be (mkdir's EEXIST,
 * ENOTDIR), a one-line error naming that file; undefined when nothing is in the way.
 */
export function notADirectory(path: string, cause: unknown): UserError | undefined {
  for (let dir = path; ; dir = dirname(dir)) {
    let found: ReturnType<typeof statSync>;
    try {
      found = statSync(dir);
    } catch {
      if (dirname(dir) === dir) return undefined;
      continue;
    }
    if (found.isDirectory()) return undefined;
    if (dir === path && !(cause as NodeJS.ErrnoException | undefined)?.syscall?.startsWith('mkdir')) return undefined;
    const forWhat = dir === path ? '' : ` (for ${path})`;
    return new UserError(`${dir} is a file, where marketplace needs a directory${forWhat}`, {
      hint: 'Move or rename that file, then run the command again.',
      cause,
    });
  }
}

export function describeWriteFailure(path: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EEXIST' || code === 'ENOTDIR') {
    const inTheWay = notADirectory(path, error);
    if (inTheWay) return inTheWay;
  }
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new OperationError(`could not write ${path}: the disk is full; the previous contents are unchanged`, {
        hint: 'Free some disk space and run the command again.',
        cause: error,
      });
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new UserError(`cannot write ${path}: ${dirname(path)} is not writable`, {
        hint: 'Fix the directory permissions, or run from a directory you can write to (or pass --config).',
        cause: error,
      });
    default:
      // Another failure of the file system (EIO, ENAMETOOLONG, …) is said as it is; anything else is a bug.
      if (!isClassifiedError(error) || isCliError(error)) return asError(error);
      return new OperationError(`could not write ${path}: ${error.message}`, {
        hint: 'Check the disk and the file system it is on, then run the command again.',
        cause: error,
      });
  }
}
