import { stat } from 'node:fs/promises';
import { UserError } from '../core/errors.js';
import { stackPaths } from './settings.js';

/**
 * Throws a UserError unless `home` is a directory `local install` has installed into (it has the manifest), so
 * commands that act on a stack (stop, reset, logs) never report success for a home that holds none.
 */
export async function requireStackHome(home: string): Promise<void> {
  const fix =
    "Point --home or MARKETPLACE_HOME at the stack's home (default ~/.cache/marketplace), or run " +
    '`marketplace local install`.';
  const kind = await stat(home).then(
    (s) => (s.isDirectory() ? 'directory' : 'file'),
    () => 'missing',
  );
  if (kind === 'missing') throw new UserError(`the local stack home ${home} does not exist`, { hint: fix });
  if (kind === 'file') throw new UserError(`the local stack home ${home} is not a directory`, { hint: fix });
  const installed = await stat(stackPaths(home).manifest).then(
    () => true,
    () => false,
  );
  if (!installed) {
    throw new UserError(`no local stack in ${home}: it has no manifest.json from \`local install\``, { hint: fix });
  }
}
