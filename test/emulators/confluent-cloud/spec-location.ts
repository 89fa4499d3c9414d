import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: three levels above this folder (test/emulators/confluent-cloud). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/**
 * Where the official Confluent OpenAPI specs live: ../shared/reference/openapi next to the repository (in CI and
 * on developer machines), or CONFLUENT_OPENAPI_DIR. undefined when absent: the emulator then uses its own rules.
 */
export function openApiDir(): string | undefined {
  const candidates = [process.env.CONFLUENT_OPENAPI_DIR, join(repoRoot, '..', 'shared', 'reference', 'openapi')];
  return candidates.find((dir): dir is string => !!dir && existsSync(join(dir, 'cmk-v2.yaml')));
}
