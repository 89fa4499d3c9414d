import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import {
  CONFIG_KEYS,
  CONFIG_KEY_NAMES,
  SECRET_ENV,
  SECRET_KEY_PATTERN,
  envNameOf,
  flagNameOf,
  regionsOf,
  type Config,
  type ConfigKey,
} from './config-schema.js';
import { UserError } from './errors.js';
import { JsonRejectedError, JsonSyntaxError, type ParsedJson, parseJsonWithLines } from './json-source.js';
import { didYouMean } from './suggest.js';

export const CONFIG_FILE_NAME = 'marketplace.config.json';

export type ConfigSource =
  | { kind: 'default' }
  | { kind: 'file'; file: string; line: number | undefined }
  | { kind: 'env'; name: string }
  | { kind: 'flag'; name: string };

export interface LoadedConfig {
  values: Config;
  sources: Record<ConfigKey, ConfigSource>;
  /** The config file that was read, if any. */
  file: string | undefined;
  /** Directory the state lives beside: the config file's, or the working directory. */
  dir: string;
}

export interface LoadConfigChoices {
  /** Validate flags, environment and defaults only, as `init` does before it (over)writes the file. */
  withoutFile?: boolean;
}

export interface LoadConfigOptions extends LoadConfigChoices {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** From --config; when set the file must exist. */
  configPath?: string;
  /** Config values given as command-line flags (already named by config key). */
  flags?: Partial<Record<ConfigKey, unknown>>;
}

export function describeSource(source: ConfigSource, key: ConfigKey): string {
  switch (source.kind) {
    case 'default':
      return `default of "${key}"`;
    case 'file':
      return source.line === undefined ? source.file : `${source.file}:${source.line}`;
    case 'env':
      return source.name;
    case 'flag':
      return source.name;
  }
}

export async function loadConfig(options: LoadConfigOptions): Promise<LoadedConfig> {
  const explicit = options.configPath !== undefined;
  const file = resolve(options.cwd, options.configPath ?? CONFIG_FILE_NAME);
  const fromFile = options.withoutFile ? undefined : await readConfigFile(file, explicit);

  const raw: Partial<Record<ConfigKey, unknown>> = {};
  const sources = {} as Record<ConfigKey, ConfigSource>;
  for (const key of CONFIG_KEY_NAMES) {
    const spec = CONFIG_KEYS[key] as { default?: unknown };
    const flagValue = options.flags?.[key];
    const envName = envNameOf(key);
    const envValue = options.env[envName];
    if (flagValue !== undefined) {
      raw[key] = flagValue;
      sources[key] = { kind: 'flag', name: flagNameOf(key) };
    } else if (envValue !== undefined && envValue !== '') {
      raw[key] = envValue;
      sources[key] = { kind: 'env', name: envName };
    } else if (fromFile && key in fromFile.values) {
      raw[key] = fromFile.values[key];
      sources[key] = { kind: 'file', file: fromFile.displayName, line: fromFile.keyLines.get(key) };
    } else {
      raw[key] = spec.default;
      sources[key] = { kind: 'default' };
    }
  }

  const values = {} as Record<ConfigKey, unknown>;
  for (const key of CONFIG_KEY_NAMES) {
    if (raw[key] === undefined) continue;
    const spec = CONFIG_KEYS[key];
    const parsed = spec.schema.safeParse(typeof raw[key] === 'string' ? (raw[key] as string).trim() : raw[key]);
    if (!parsed.success) {
      throw invalidValue(key, sources[key], raw[key], spec.expected);
    }
    values[key] = parsed.data;
  }

  const config = values as unknown as Config;
  const regions = regionsOf(config.cloud);
  if (!regions.includes(config.region)) {
    throw new UserError(
      `${describeSource(sources.region, 'region')}: unknown ${config.cloud} region "${config.region}"${didYouMean(config.region, regions)}`,
      { hint: `Use one of: ${regions.slice(0, 8).join(', ')}, … (all ${regions.length} are listed in the README).` },
    );
  }
  config.home = expandHome(config.home, options.env);
  if (config.kafkaCaFile !== undefined) {
    // A relative path means relative to the file that names it, or to the working directory for flags and variables.
    const base = sources.kafkaCaFile.kind === 'file' ? dirname(file) : options.cwd;
    const path = config.kafkaCaFile;
    config.kafkaCaFile = path === '~' || path.startsWith('~/') ? expandHome(path, options.env) : resolve(base, path);
  }

  return {
    values: config,
    sources,
    file: fromFile ? file : undefined,
    dir: fromFile ? dirname(file) : options.cwd,
  };
}

function invalidValue(key: ConfigKey, source: ConfigSource, value: unknown, expected: string): UserError {
  const where = describeSource(source, key);
  const shown = typeof value === 'string' ? `"${value}"` : JSON.stringify(value);
  const fix =
    source.kind === 'file'
      ? `Edit "${key}" in ${source.file}.`
      : source.kind === 'env'
        ? `Fix or unset ${source.name}.`
        : `Pass ${flagNameOf(key)} with a valid value.`;
  return new UserError(`${where}: "${key}" must be ${expected}; got ${shown}`, { hint: fix });
}

interface ConfigFileContents {
  values: Record<string, unknown>;
  keyLines: Map<string, number>;
  displayName: string;
}

async function readConfigFile(file: string, explicit: boolean): Promise<ConfigFileContents | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !explicit) return undefined;
    if (code === 'ENOENT') {
      throw new UserError(`config file ${file} does not exist`, {
        hint: 'Check the --config path, or run `marketplace init` to create one.',
      });
    }
    if (code === 'EISDIR') {
      throw new UserError(`config file ${file} is a directory`, {
        hint: explicit
          ? `Pass --config the path of a JSON file, such as ${join(file, CONFIG_FILE_NAME)}.`
          : `Move that directory aside (marketplace reads its settings from a file of that name), or pass --config.`,
      });
    }
    throw new UserError(`cannot read config file ${file}: ${(error as Error).message}`, {
      hint: 'Check the file permissions.',
    });
  }
  const displayName = explicit ? file : CONFIG_FILE_NAME;
  let parsed: ParsedJson;
  try {
    parsed = parseJsonWithLines(text);
  } catch (error) {
    if (error instanceof JsonSyntaxError) {
      throw new UserError(`${displayName}:${error.line}:${error.column}: not valid JSON (${error.message})`, {
        hint: `Fix the JSON syntax in ${displayName}, or delete it and run \`marketplace init\`.`,
      });
    }
    if (error instanceof JsonRejectedError) {
      throw new UserError(`${displayName}:${error.line}:${error.column}: ${error.message}`, {
        hint: error.hint,
      });
    }
    throw error;
  }
  if (parsed.value === null || typeof parsed.value !== 'object' || Array.isArray(parsed.value)) {
    throw new UserError(`${displayName}:1: the config file must hold a JSON object of settings`, {
      hint: 'Run `marketplace init` to write a valid one.',
    });
  }
  const values = parsed.value as Record<string, unknown>;
  for (const key of Object.keys(values)) {
    const line = parsed.keyLines.get(key);
    const where = line === undefined ? displayName : `${displayName}:${line}`;
    if (SECRET_KEY_PATTERN.test(key)) {
      throw new UserError(`${where}: "${key}" looks like a secret, and secrets are never read from the config file`, {
        hint: `Remove it from ${displayName} and set ${Object.values(SECRET_ENV).join(' / ')} in the environment instead.`,
      });
    }
    if (key === '$schema') continue;
    if (!(CONFIG_KEY_NAMES as string[]).includes(key)) {
      throw new UserError(`${where}: unknown setting "${key}"${didYouMean(key, CONFIG_KEY_NAMES)}`, {
        hint: 'See "Configuration reference" in the README for the settings marketplace understands.',
      });
    }
  }
  return { values, keyLines: parsed.keyLines, displayName };
}

export function expandHome(path: string, env: NodeJS.ProcessEnv): string {
  const home = env.HOME ?? homedir();
  if (path === '~') return home;
  if (path.startsWith('~/')) return join(home, path.slice(2));
  return isAbsolute(path) ? path : resolve(path);
}
