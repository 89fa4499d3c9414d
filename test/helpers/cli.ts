import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../bin/marketplace.js', import.meta.url));

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a user would from a script: a child process, no TTY, no stdin. */
export function runCli(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? process.cwd(),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** A CLI run still going: its output so far, signals, and the final outcome. */
export interface RunningCli {
  readonly pid: number;
  stdout(): string;
  stderr(): string;
  kill(signal?: NodeJS.Signals): void;
  /** Resolves when the process has exited (killed with SIGKILL after `timeoutMs`, like runCli). */
  done: Promise<CliRun>;
  /** Resolves once stdout or stderr (whichever `on` says) matches, rejects after `timeoutMs` or if the process ends first. */
  waitFor(pattern: RegExp, options?: { on?: 'stdout' | 'stderr'; timeoutMs?: number }): Promise<void>;
}

/** Starts the built CLI in the background, for tests that act on the world while a command runs. */
export function startCli(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): RunningCli {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env };
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? process.cwd(),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let exited = false;
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of listeners) listener();
  };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    notify();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    notify();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  const done = new Promise<CliRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      exited = true;
      notify();
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    pid: child.pid!,
    stdout: () => stdout,
    stderr: () => stderr,
    kill: (signal = 'SIGTERM') => {
      if (!exited) child.kill(signal);
    },
    done,
    waitFor: (pattern, { on = 'stderr', timeoutMs = 60_000 } = {}) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(on === 'stdout' ? stdout : stderr)) return finish();
          if (exited)
            finish(new Error(`the CLI exited before its ${on} matched ${pattern}; stderr: ${stderr.slice(-500)}`));
        };
        const finish = (error?: Error) => {
          clearTimeout(waitTimer);
          listeners.delete(check);
          if (error) reject(error);
          else resolve();
        };
        const waitTimer = setTimeout(
          () =>
            finish(
              new Error(
                `the CLI's ${on} did not match ${pattern} within ${timeoutMs / 1000} s; stderr: ${stderr.slice(-500)}`,
              ),
            ),
          timeoutMs,
        );
        listeners.add(check);
        check();
      }),
  };
}
