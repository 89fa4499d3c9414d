import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { OperationError, UserError } from './errors.js';
import {
  assertWritable,
  describeWriteFailure,
  notADirectory,
  writeFileAtomic,
  type AtomicWriteFs,
} from './fs-atomic.js';

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

// Loose objects: fields a newer marketplace of the same schema version adds are kept when this one rewrites the file.
const RESOURCE_SCHEMA = z.looseObject({
  kind: z.string().min(1),
  id: z.string().min(1),
  name: z.string().optional(),
  target: z.enum(['cloud', 'local']),
  createdAt: z.string(),
  attributes: z.record(z.string(), z.unknown()).optional(),
  secrets: z.record(z.string(), z.string()).optional(),
});

const STATE_SCHEMA = z.looseObject({
  version: z.number(),
  updatedAt: z.string().optional(),
  resources: z.record(z.string(), RESOURCE_SCHEMA).optional(),
});

const MOVE_ASIDE =
  'Move it aside and run `marketplace down --discover` to find what the tool created by its name prefix.';

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
  private readonly warn: (message: string) => void;

  /** `warn` hears about what read() repaired (a state file with secrets that others could read). */
  constructor(configDir: string, options: { fsImpl?: AtomicWriteFs; warn?: (message: string) => void } = {}) {
    this.dir = stateDirOf(configDir);
    this.path = join(this.dir, STATE_FILE_NAME);
    this.fsImpl = options.fsImpl;
    this.warn = options.warn ?? (() => undefined);
  }

  async read(): Promise<StateDocument> {
    let text: string;
    try {
      text = await fs.readFile(this.path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return emptyState();
      if (code === 'ENOTDIR' || code === 'EISDIR') throw notADirectory(this.path, error) ?? this.unreadable(error);
      throw this.unreadable(error);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new UserError(`state file ${this.path} is corrupt (not valid JSON)`, { hint: MOVE_ASIDE });
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
    const checked = STATE_SCHEMA.safeParse(parsed);
    if (!checked.success) {
      const issue = checked.error.issues[0]!;
      const where = issue.path.map(String).join('.') || 'the document';
      const problem = `${where}: ${issue.message}`;
      throw new UserError(`state file ${this.path} is not in the shape marketplace writes (${problem})`, {
        hint: `Restore it from a backup, or ${MOVE_ASIDE.charAt(0).toLowerCase()}${MOVE_ASIDE.slice(1)}`,
      });
    }
    const resources = (checked.data.resources ?? {}) as Record<string, ResourceRecord>;
    await this.keepSecretsPrivate(resources);
    return { version: STATE_VERSION, updatedAt: checked.data.updatedAt ?? '', resources };
  }

  /**
   * Tightens a state file that holds secrets but others may read (copied, restored from a backup, or edited with a
   * umask of 022) to 0600, and says so. Refusing would also block `down`, the command that deletes those keys.
   */
  private async keepSecretsPrivate(resources: Record<string, ResourceRecord>): Promise<void> {
    const holdsSecrets = Object.values(resources).some((record) => Object.keys(record.secrets ?? {}).length > 0);
    if (!holdsSecrets) return;
    const mode = (await fs.stat(this.path)).mode & 0o777;
    if ((mode & 0o077) === 0) return;
    try {
      await fs.chmod(this.path, 0o600);
    } catch (error) {
      throw new UserError(`${this.path} holds API key secrets and others can read it (mode 0${mode.toString(8)})`, {
        hint: `Run \`chmod 600 ${this.path}\`, then run the command again.`,
        cause: error,
      });
    }
    this.warn(
      `${this.path} holds API key secrets but was readable by others (mode 0${mode.toString(8)}); it is now 0600`,
    );
  }

  private unreadable(error: unknown): OperationError {
    return new OperationError(`cannot read ${this.path}: ${(error as Error).message}`, {
      hint: 'Check the permissions of the .marketplace directory.',
    });
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
    const size = await fs.stat(this.path).then(
      (s) => s.size,
      () => 0,
    );
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
