import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** One secret under a readable name, and every spelling in which it could leak. */
export interface Secret {
  name: string;
  value: string;
  /** The secret itself, URI-encoded, and as the base64 basic-auth token of its key (when it has one). */
  forms: string[];
}

export function secret(name: string, value: string, key?: string): Secret {
  const forms = new Set([value, encodeURIComponent(value)]);
  if (key) forms.add(Buffer.from(`${key}:${value}`).toString('base64'));
  return { name, value, forms: [...forms] };
}

export interface Hit {
  secret: string;
  where: string;
  /** A few characters around the hit, with the secret itself masked, to tell where it came from. */
  context: string;
}

/** Every occurrence of every form of every secret in `bytes`, compared byte for byte. */
export function findSecrets(bytes: Buffer | string, where: string, secrets: Secret[]): Hit[] {
  const haystack = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  const hits: Hit[] = [];
  for (const s of secrets) {
    for (const form of s.forms) {
      const needle = Buffer.from(form, 'utf8');
      for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + 1)) {
        const before = haystack.subarray(Math.max(0, at - 40), at).toString('utf8');
        const after = haystack.subarray(at + needle.length, at + needle.length + 40).toString('utf8');
        hits.push({ secret: s.name, where, context: `${before}<${s.name}>${after}` });
      }
    }
  }
  return hits;
}

/** Every regular file under `dir`, recursively (none when it does not exist). */
export function filesUnder(dir: string): string[] {
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(path);
    return entry.isFile() ? [path] : [];
  });
}

export interface FileScan {
  files: number;
  bytes: number;
  hits: Hit[];
}

export function scanFiles(paths: string[], secrets: Secret[]): FileScan {
  const scan: FileScan = { files: 0, bytes: 0, hits: [] };
  for (const path of paths) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch {
      continue; // removed between listing and reading (a rotated or temporary file)
    }
    scan.files += 1;
    scan.bytes += bytes.length;
    scan.hits.push(...findSecrets(bytes, path, secrets));
  }
  return scan;
}

export function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

export interface FileSnapshot {
  path: string;
  mode: number;
  bytes: Buffer;
}

/**
 * Watches a run from outside, every few milliseconds while it goes on: the argument vector of every process on the
 * machine (what `ps -eo args` shows, read from /proc/<pid>/cmdline) and the files of the given directories (with
 * their modes, so a short-lived temp or lock file is seen too). Each distinct command line and file version is
 * kept once.
 */
export class RunObserver {
  readonly commandLines = new Set<string>();
  readonly files = new Map<string, FileSnapshot>();
  samples = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly directories: () => string[],
    private readonly intervalMs = 25,
  ) {}

  start(): void {
    const tick = () => {
      this.running = this.sample().finally(() => {
        if (this.timer !== undefined) this.timer = setTimeout(tick, this.intervalMs);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    await this.sample();
  }

  private async sample(): Promise<void> {
    await Promise.all([this.sampleProcesses(), ...this.directories().map((dir) => this.sampleFiles(dir))]);
    this.samples += 1;
  }

  private async sampleProcesses(): Promise<void> {
    const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
    await Promise.all(
      pids.map(async (pid) => {
        try {
          const raw = await readFile(`/proc/${pid}/cmdline`);
          if (raw.length > 0) this.commandLines.add(raw.toString('utf8').replace(/\0+$/, '').split('\0').join(' '));
        } catch {
          // The process ended between listing and reading.
        }
      }),
    );
  }

  private async sampleFiles(dir: string): Promise<void> {
    for (const path of filesUnder(dir)) {
      try {
        const mode = (await stat(path)).mode & 0o777;
        const bytes = await readFile(path);
        const key = `${path}\0${mode}\0${createHash('sha256').update(bytes).digest('hex')}`;
        if (!this.files.has(key)) this.files.set(key, { path, mode, bytes });
      } catch {
        // Renamed or removed between listing and reading (an atomic write's temp file, a released lock).
      }
    }
  }
}
