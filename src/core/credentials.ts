import type { Context } from './context.js';
import { UserError } from './errors.js';
import { SECRET_ENV } from './secret-env.js';

export interface CloudCredentials {
  key: string;
  secret: string;
}

const KEY_SHAPE = /^[A-Za-z0-9]{8,64}$/;

/**
 * The Cloud API key from CONFLUENT_CLOUD_API_KEY / CONFLUENT_CLOUD_API_SECRET, or asked for on a terminal.
 * Checked for shape before any request is sent; the secret is registered for redaction at once.
 */
export async function cloudCredentials(ctx: Context): Promise<CloudCredentials> {
  let key = ctx.env[SECRET_ENV.cloudApiKey]?.trim() ?? '';
  let secret = ctx.env[SECRET_ENV.cloudApiSecret]?.trim() ?? '';
  if ((!key || !secret) && ctx.prompts.interactive) {
    if (!key) key = (await ctx.prompts.input({ message: 'Confluent Cloud API key' })).trim();
    if (!secret) secret = (await ctx.prompts.password({ message: 'Confluent Cloud API secret' })).trim();
  }
  const problem = credentialProblem(key, secret);
  if (key && secret) ctx.secrets.addCredentialPair(key, secret);
  if (problem) throw problem;
  return { key, secret };
}

/**
 * What is wrong with a Cloud API key and secret before any request is sent (missing, or not shaped like one), or
 * undefined. `up` and `doctor` both judge them by this.
 */
export function credentialProblem(key: string, secret: string): UserError | undefined {
  const missing = [!key && SECRET_ENV.cloudApiKey, !secret && SECRET_ENV.cloudApiSecret].filter(Boolean);
  if (missing.length > 0) {
    const verb = missing.length > 1 ? 'are' : 'is';
    return new UserError(`no Confluent Cloud credentials: ${missing.join(' and ')} ${verb} not set`, {
      hint: 'Create a Cloud API key (Confluent Cloud console → API keys → Cloud resource management) and export both variables.',
    });
  }
  if (!KEY_SHAPE.test(key)) {
    return new UserError(`${SECRET_ENV.cloudApiKey} does not look like an API key (8-64 letters and digits)`, {
      hint: 'Copy the key (not the secret, not a key id with a prefix) from the Confluent Cloud console.',
    });
  }
  if (/\s/.test(secret) || secret.length < 16) {
    return new UserError(`${SECRET_ENV.cloudApiSecret} does not look like an API secret`, {
      hint: 'Copy the whole secret shown when the key was created; if it is lost, create a new key.',
    });
  }
  return undefined;
}

/** The MongoDB Atlas password for the cloud sink: MONGODB_PASSWORD or a prompt. */
export async function mongoPassword(ctx: Context, user: string | undefined): Promise<string> {
  let password = ctx.env[SECRET_ENV.mongoPassword] ?? '';
  if (!password && ctx.prompts.interactive) {
    password = await ctx.prompts.password({ message: `MongoDB password for ${user ?? 'the sink user'}` });
  }
  if (!password) {
    throw new UserError(`${SECRET_ENV.mongoPassword} is not set and there is no terminal to ask for it`, {
      hint: `Export ${SECRET_ENV.mongoPassword} with the password of MongoDB user ${user ?? '(mongoUser)'}.`,
    });
  }
  ctx.secrets.add(password);
  return password;
}
