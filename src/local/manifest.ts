import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../core/fs-atomic.js';
import { stackPaths } from './settings.js';

export interface ComponentRecord {
  /** Hash of the inputs this component was made from; a different hash means it must be made again. */
  inputHash: string;
  installedAt: string;
  seconds: number;
  details: Record<string, string>;
}

/** What `marketplace local install` put in the home directory, and from which inputs. */
export interface InstallManifest {
  format: 1;
  updatedAt: string;
  components: Record<string, ComponentRecord>;
  tools: Record<string, string>;
}

export async function readManifest(home: string): Promise<InstallManifest | undefined> {
  try {
    const parsed = JSON.parse(await readFile(stackPaths(home).manifest, 'utf8')) as InstallManifest;
    return parsed.format === 1 && parsed.components ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export async function writeManifest(home: string, manifest: InstallManifest): Promise<void> {
  await writeFileAtomic(stackPaths(home).manifest, `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o644 });
}
