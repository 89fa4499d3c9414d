import type { LoadedConfig } from '../core/config.js';
import type { Context } from '../core/context.js';
import { mongoPassword } from '../core/credentials.js';
import { configuredEndpoints } from '../core/endpoints.js';
import { UserError } from '../core/errors.js';

export interface MongoConnection {
  uri: string;
  /** Sent by the driver during the handshake, so the password is never part of a URI that might be echoed. */
  auth?: { username: string; password: string };
}

/**
 * Local: mongoUri (FerretDB by default). Cloud: the Atlas cluster at mongoHost, or mongoUri when set (a standard
 * connection string where DNS SRV lookups are blocked, a private endpoint, extra URI options), with mongoUser and
 * MONGODB_PASSWORD as credentials.
 */
export async function mongoConnection(ctx: Context, loaded: LoadedConfig): Promise<MongoConnection> {
  const config = loaded.values;
  if (config.target === 'local') {
    return { uri: configuredEndpoints(config).mongoUri! };
  }
  if (!config.mongoUri && (!config.mongoHost || !config.mongoUser)) {
    throw new UserError('mongoHost and mongoUser are not set', {
      hint: 'Run `marketplace init` to set the Atlas sink settings.',
    });
  }
  const uri = config.mongoUri ?? `mongodb+srv://${config.mongoHost}/`;
  if (!config.mongoUser) return { uri };
  return { uri, auth: { username: config.mongoUser, password: await mongoPassword(ctx, config.mongoUser) } };
}
