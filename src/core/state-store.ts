import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { OperationError, UserError } from './errors.js';
import { assertWritable, describeWriteFailure, writeFileAtomic, type AtomicWriteFs } from './fs-atomic.js';

export const STATE_DIR_NAME = '.marketplace';
export const STATE_FILE_NAME = 'state.json';
export const STATE_VERSION = 1;

/** One thing the tool created, recorded the moment its create call returned. */
export interface ResourceRecord {
  kind: string;
  id: string;
  name?: string;
  target: 'cloud' | 'local';
  createdAt: string;
  /** Non-secret facts later steps need (endpoints, owning ids). */
  attributes?: Record<string, unknown>;
  /** Secret material (API key secrets). Only ever stored in the 0600 state file; redacted everywhere else. */
  secrets?: Record<string, string>;
}

export interface StateDocument {
  version: typeof STATE_VERSION;
  updatedAt: string;
  resources: Record<string, ResourceRecord>;
}

export function emptyState(): StateDocument {
  return { version: STATE_VERSION, updatedAt: new Date(0).toISOString(), resources: {} };
}

export function stateDirOf(configDir: string): string {
  return join(configDir, STATE_DIR_NAME);
}

/** `.marketplace/state.json` beside the config: versioned, written atomically with mode 0600. */
export class StateStore {
  readonly dir: string;
  readonly path: string;
  private readonly fsImpl?: AtomicWriteFs;

  constructor(configDir: string, options: { fsImpl?: AtomicWriteFs } = {}) {
    this.dir = stateDirOf(configDir);
    this.path = join(this.dir, STATE_FILE_NAME);
    this.fsImpl = options.fsImpl;
  }

  async read(): Promise<StateDocument> {
    let text: string;
    try {
      text = await fs.readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
      throw new OperationError(`cannot read ${this.path}: ${(error as Error).message}`, {
        hint: 'Check the permissions of the .marketplace directory.',
      });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new UserError(`state file ${this.path} is corrupt (not valid JSON)`, {
        hint: 'Move it aside and run `marketplace down --discover` to find what the tool created by its name prefix.',
      });
    }
    const doc = parsed as Partial<StateDocument>;
    if (typeof doc !== 'object' || doc === null || typeof doc.version !== 'number') {
      throw new UserError(`state file ${this.path} has no version`, {
        hint: 'Move it aside and run `marketplace down --discover` to find what the tool created.',
      });
    }
    if (doc.version > STATE_VERSION) {
      throw new UserError(`state file ${this.path} was written by a newer marketplace (schema v${doc.version})`, {
        hint: 'Upgrade marketplace to manage this deployment.',
      });
    }
    return { version: STATE_VERSION, updatedAt: doc.updatedAt ?? '', resources: doc.resources ?? {} };
  }

  async write(doc: StateDocument): Promise<void> {
    await this.ensureDir();
    const next: StateDocument = { ...doc, version: STATE_VERSION, updatedAt: new Date().toISOString() };
    await writeFileAtomic(this.path, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600, fsImpl: this.fsImpl });
  }

  /** Read-modify-write; callers hold the lock, so no other process interleaves. */
  async update(change: (doc: StateDocument) => void): Promise<StateDocument> {
    const doc = await this.read();
    change(doc);
    await this.write(doc);
    return doc;
  }

  /**
   * Fails (one-line error) when the next write of the state file could not be made: full disk, read-only directory.
   * Checked with room to grow, before a command creates anything the state would then have to record.
   */
  async assertWritable(): Promise<void> {
    await this.ensureDir();
    const size = await fs.stat(this.path).then((s) => s.size, () => 0);
    await assertWritable(this.path, size + 64 * 1024, { fsImpl: this.fsImpl });
  }

  async ensureDir(): Promise<void> {
    try {
      await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw describeWriteFailure(this.dir, error);
    }
  }
}
