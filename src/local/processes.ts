import { execFile, spawn } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeFileAtomic } from '../core/fs-atomic.js';
import { waitFor, type Clock } from '../core/waiter.js';

const run = promisify(execFile);

/** What a pid file under <home>/run records about a service process this tool started. */
export interface ProcessRecord {
  pid: number;
  /** A string unique to this service instance that appears in its command line. */
  marker: string;
  startedAt: string;
  endpoints: Record<string, string>;
}

export const LOG_START_MARK = '--- marketplace local start';
const MAX_LOG_BYTES = 50 * 1024 * 1024;

export function pidFile(runDir: string, service: string): string {
  return join(runDir, `${service}.json`);
}

export async function readProcessRecord(runDir: string, service: string): Promise<ProcessRecord | undefined> {
  try {
    const parsed = JSON.parse(await readFile(pidFile(runDir, service), 'utf8')) as ProcessRecord;
    return typeof parsed.pid === 'number' && typeof parsed.marker === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export async function writeProcessRecord(runDir: string, service: string, record: ProcessRecord): Promise<void> {
  await mkdir(runDir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(pidFile(runDir, service), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
}

export async function removeProcessRecord(runDir: string, service: string): Promise<void> {
  await rm(pidFile(runDir, service), { force: true });
}

/** The process's command line, or undefined when it does not exist (or is a zombie with none). */
export async function commandLineOf(pid: number): Promise<string | undefined> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return raw.length === 0 ? undefined : raw.split('\0').join(' ').trim();
  } catch {
    return undefined;
  }
}

/** True when the pid is alive and still runs the command we started (pids get reused). */
export async function isOurProcess(record: ProcessRecord | undefined): Promise<boolean> {
  if (!record) return false;
  const cmdline = await commandLineOf(record.pid);
  return cmdline?.includes(record.marker) === true;
}

/**
 * Starts a process that outlives this CLI: its own session, stdin closed, stdout+stderr appended to the log file
 * behind a start marker (so the failure report can show only this run's lines).
 */
export async function spawnDetached(options: {
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
}): Promise<number> {
  await rotateIfLarge(options.logFile);
  const fd = openSync(options.logFile, 'a', 0o600);
  try {
    writeSync(fd, `${LOG_START_MARK} ${new Date().toISOString()} ---\n`);
    const child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', () => resolve(child.pid!));
    });
    child.unref();
    return pid;
  } finally {
    closeSync(fd);
  }
}

async function rotateIfLarge(logFile: string): Promise<void> {
  const size = await stat(logFile).then(
    (s) => s.size,
    () => 0,
  );
  if (size > MAX_LOG_BYTES) await rename(logFile, `${logFile}.1`);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** SIGTERM, then SIGKILL after the grace period; resolves once the process is gone. */
export async function terminate(pid: number, graceMs: number, clock?: Clock): Promise<'terminated' | 'killed'> {
  const gone = (ms: number) =>
    waitFor(
      async () =>
        !isAlive(pid) || (await commandLineOf(pid)) === undefined
          ? { done: true, value: true }
          : { done: false, status: `pid ${pid} still running` },
      { what: `pid ${pid} to exit`, timeoutMs: ms, initialDelayMs: 100, maxDelayMs: 100, clock },
    ).catch(() => false);
  try {
    process.kill(pid, 'SIGTERM');
    // A stopped (SIGSTOP) process only acts on the SIGTERM once continued.
    process.kill(pid, 'SIGCONT');
  } catch {
    return 'terminated';
  }
  if (await gone(graceMs)) return 'terminated';
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return 'killed';
  }
  await gone(5_000);
  return 'killed';
}

/** Whether something already listens on 127.0.0.1:<port> (tries to bind it). */
export async function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      resolve(error.code === 'EADDRINUSE' || error.code === 'EACCES'),
    );
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(false)));
  });
}

/** "java (pid 1234)" for the listener on the port, when ss can tell (other users' processes are hidden). */
export async function portOwner(port: number): Promise<string | undefined> {
  try {
    const { stdout } = await run('ss', ['-ltnpH', `sport = :${port}`], { timeout: 5_000 });
    const match = /users:\(\("([^"]+)",pid=(\d+)/.exec(stdout);
    return match ? `${match[1]} (pid ${match[2]})` : undefined;
  } catch {
    return undefined;
  }
}

/** The last `count` lines the service wrote since its most recent start. */
export async function lastLogLines(logFile: string, count: number): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(logFile, 'utf8');
  } catch {
    return [];
  }
  const lastStart = text.lastIndexOf(LOG_START_MARK);
  const sinceStart = lastStart === -1 ? text : text.slice(text.indexOf('\n', lastStart) + 1);
  const lines = sinceStart.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.slice(-count);
}
