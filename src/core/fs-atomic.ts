import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { OperationError, UserError } from './errors.js';

/** The file-system calls an atomic write makes; injectable so tests can simulate a crash or a full disk. */
export interface AtomicWriteFs {
  open: typeof fs.open;
  rename: typeof fs.rename;
  unlink: typeof fs.unlink;
}

const realFs: AtomicWriteFs = { open: fs.open, rename: fs.rename, unlink: fs.unlink };

/**
 * Writes through a temp file in the same directory and renames it over the target, so readers see either the old
 * file or the new one, never half of one. The temp file is created 0600 from the start.
 */
export async function writeFileAtomic(
  path: string,
  contents: string,
  options: { mode?: number; fsImpl?: AtomicWriteFs } = {},
): Promise<void> {
  const io = options.fsImpl ?? realFs;
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

async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close();
}

export function describeWriteFailure(path: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code;
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
      return error instanceof Error ? error : new Error(String(error));
  }
}
