import type { ConfigKey } from '../core/config-schema.js';
import type { Context } from '../core/context.js';
import type { ExitCode } from '../core/errors.js';

/** Type-only key: carries the value type a handler receives for an option; never set at run time. */
declare const optionValue: unique symbol;

/**
 * One flag of a command, made by `flag()` or `option()`. The handler receives its value as `Value`: the return type
 * of `parse`, a string without one, a boolean for a switch; `undefined` only when the flag has no default.
 */
export interface OptionSpec<Value = unknown> {
  /** Commander flag syntax, e.g. "--rate <n>" or "-f, --follow". */
  readonly flags: string;
  readonly description: string;
  /** False for a switch (no value). */
  readonly takesValue: boolean;
  /** Turns the raw string into a value, throwing a UserError that names the flag when it is bad. */
  readonly parse?: (raw: string) => unknown;
  /** The default as a user would type it: parsed like a given value and shown in the help as "(default: …)". */
  readonly default?: string;
  /** For a default the handler works out (no fixed value): the help shows it as "(default: …)". */
  readonly defaultNote?: string;
  /** When set, the flag overrides this configuration key (highest precedence). */
  readonly configKey?: ConfigKey;
  readonly [optionValue]?: Value;
}

/** A command's flags, each under the name its handler reads it by (the flag's camelCase name). */
export type OptionSpecs = Record<string, OptionSpec>;

/** What a handler receives for a command's flags, each typed from its declaration. */
export type OptionValues<Options extends OptionSpecs> = {
  [Name in keyof Options]: Options[Name] extends OptionSpec<infer Value> ? Value : never;
};

/** A switch: true when given, false otherwise. */
export function flag(flags: string, description: string): OptionSpec<boolean> {
  if (/[<[]/.test(flags)) throw new Error(`flag("${flags}") takes no value: declare it with option()`);
  return { flags, description, takesValue: false };
}

interface ValueSettings {
  configKey?: ConfigKey;
}

/** A flag with a value: parsed by `parse` when given, else a string; a `default` makes it always present. */
export function option<T>(
  flags: string,
  description: string,
  settings: ValueSettings & { parse: (raw: string) => T; default: string },
): OptionSpec<T>;
export function option<T>(
  flags: string,
  description: string,
  settings: ValueSettings & { parse: (raw: string) => T; defaultNote?: string },
): OptionSpec<T | undefined>;
export function option(
  flags: string,
  description: string,
  settings: ValueSettings & { default: string },
): OptionSpec<string>;
export function option(
  flags: string,
  description: string,
  settings?: ValueSettings & { defaultNote?: string },
): OptionSpec<string | undefined>;
export function option(
  flags: string,
  description: string,
  settings: ValueSettings & { parse?: (raw: string) => unknown; default?: string; defaultNote?: string } = {},
): OptionSpec {
  if (!/[<[]/.test(flags)) throw new Error(`option("${flags}") needs a <value>: declare a switch with flag()`);
  return { flags, description, takesValue: true, ...settings };
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

export interface CommandInput<Options extends OptionSpecs = OptionSpecs> {
  args: string[];
  options: OptionValues<Options>;
}

/**
 * A command is data (name, flags, help, examples) plus a handler that takes a Context and returns a result.
 * `run`, `render` and `exitCode` are methods, so TypeScript compares their parameters bivariantly and every
 * CommandSpec<R, O> fits AnyCommandSpec.
 */
export interface CommandSpec<Result = unknown, Options extends OptionSpecs = OptionSpecs> {
  name: string;
  summary: string;
  description?: string;
  args?: ArgSpec[];
  options?: Options;
  examples: Example[];
  subcommands?: AnyCommandSpec[];
  run?(ctx: Context, input: CommandInput<Options>): Promise<Result>;
  /** Human rendering of the result (stderr). With --json the result itself is printed to stdout instead. */
  render?(result: Result, ctx: Context): void;
  /** Non-zero exit for a result that is itself a failure (e.g. doctor with a failed check). */
  exitCode?(result: Result): ExitCode;
}

/** A command of any result type and any flags. */
export type AnyCommandSpec = CommandSpec<unknown, OptionSpecs>;

/**
 * Declares a command. The flags' types come from `options`, the result type from what `run` returns: annotate
 * `run`'s return with the command's exported result type, so the --json contract and the handler cannot drift apart.
 */
export function defineCommand<Result, Options extends OptionSpecs = Record<never, OptionSpec>>(
  spec: CommandSpec<Result, Options>,
): CommandSpec<Result, Options> {
  return spec;
}

/** Flag values that map onto configuration keys, ready for Context.loadConfig. */
export function configFlags(specs: OptionSpecs, values: Record<string, unknown>): Partial<Record<ConfigKey, unknown>> {
  const flags: Partial<Record<ConfigKey, unknown>> = {};
  for (const [name, option] of Object.entries(specs)) {
    if (!option.configKey) continue;
    const value = values[name];
    if (value !== undefined) flags[option.configKey] = value;
  }
  return flags;
}
