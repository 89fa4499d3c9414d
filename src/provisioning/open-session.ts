import type { LoadedConfig } from '../core/config.js';
import type { Context } from '../core/context.js';
import type { ProvisionSession } from './session.js';

/** The session of the configured target. */
export async function openSession(
  ctx: Context,
  loaded: LoadedConfig,
  options: { lock: string | undefined; needMongoPassword: boolean; withRecordedEngines?: boolean },
  // biome-ignore lint/suspicious/noExplicitAny: callers are generic over the env, and ResourceDef<Env> is invariant
): Promise<ProvisionSession<any>> {
  if (loaded.values.target === 'local') {
    const { openLocalSession } = await import('./local-session.js');
    return openLocalSession(ctx, loaded, options);
  }
  const { openCloudSession } = await import('./cloud-session.js');
  return openCloudSession(ctx, loaded, options);
}
