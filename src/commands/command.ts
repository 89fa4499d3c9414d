import type { ConfigKey } from '../core/config-schema.js';
import type { Context } from '../core/context.js';
import type { ExitCode } from '../core/errors.js';

export interface OptionSpec {
  /** Commander flag syntax, e.g. "--rate <n>" or "--keep". */
  flags: string;
  description: string;
  defaultValue?: unknown;
  /** Turns the raw string into a value, throwing a UserError that names the flag when it is bad. */
  parse?: (value: string) => unknown;
  /** When set, the flag overrides this configuration key (highest precedence). */
  configKey?: ConfigKey;
}

export interface ArgSpec {
  name: string;
  description: string;
  required?: boolean;
  variadic?: boolean;
}

export interface Example {
  command: string;
  description: string;
}

export interface CommandInput {
  args: string[];
  options: Record<string, unknown>;
}

/** A command is data (name, flags, help, examples) plus a handler that takes a Context and returns a result. */
export interface CommandSpec<Result = unknown> {
  name: string;
  summary: string;
  description?: string;
  args?: ArgSpec[];
  options?: OptionSpec[];
  examples: Example[];
  subcommands?: AnyCommandSpec[];
  run?: (ctx: Context, input: CommandInput) => Promise<Result>;
  /** Human rendering of the result (stderr). With --json the result itself is printed to stdout instead. */
  render?(result: Result, ctx: Context): void;
  /** Non-zero exit for a result that is itself a failure (e.g. doctor with a failed check). */
  exitCode?(result: Result): ExitCode;
}

/**
 * A command of any result type. `render` and `exitCode` are methods, so TypeScript compares their parameter
 * bivariantly and every CommandSpec<R> fits here.
 */
export type AnyCommandSpec = CommandSpec<unknown>;

export function defineCommand<Result>(spec: CommandSpec<Result>): CommandSpec<Result> {
  return spec;
}

/** Flag values that map onto configuration keys, ready for Context.loadConfig. */
export function configFlags(
  spec: Pick<CommandSpec, 'options'>,
  options: Record<string, unknown>,
): Partial<Record<ConfigKey, unknown>> {
  const flags: Partial<Record<ConfigKey, unknown>> = {};
  for (const option of spec.options ?? []) {
    if (!option.configKey) continue;
    const value = options[attributeName(option.flags)];
    if (value !== undefined) flags[option.configKey] = value;
  }
  return flags;
}

/** Commander's camelCase attribute for a flag spec ("--mongo-host <h>" → "mongoHost"). */
export function attributeName(flags: string): string {
  const long = /--(?:no-)?([a-z0-9-]+)/.exec(flags)?.[1] ?? flags;
  return long.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
