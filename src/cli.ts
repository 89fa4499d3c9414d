import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { COMMANDS } from './commands/index.js';
import { type AnyCommandSpec, configFlags, type OptionSpec } from './commands/command.js';
import { SECRET_ENV } from './core/secret-env.js';
import type { Context, GlobalOptions } from './core/context.js';
import { ExitCode, InterruptedError, isCliError, type JsonErrorDocument } from './core/errors.js';
import { escapeControl } from './core/escape.js';
import { Output, colorWanted } from './core/output.js';
import { nonInteractivePrompter, terminalPrompter, type Prompter } from './core/prompts.js';
import { SecretRegistry } from './core/redact.js';
import { clockFromEnv, type Clock } from './core/waiter.js';

export interface CliIo {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
  prompter?: Prompter;
  /** Default: the system clock, its pauses scaled by MARKETPLACE_WAIT_SCALE. */
  clock?: Clock;
}

const GLOBAL_OPTIONS_WITH_VALUE = new Set(['--config', '--target']);

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Runs the CLI and resolves to the process exit code. The one error boundary of the program lives here. */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  // A reader that stops early (`marketplace tail … | head`) is not an error: stop quietly.
  io.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(ExitCode.ok);
  });
  const early = scanGlobals(argv);
  const secrets = new SecretRegistry();
  for (const name of Object.values(SECRET_ENV)) secrets.add(io.env[name]);
  secrets.addCredentialPair(io.env[SECRET_ENV.cloudApiKey] ?? '', io.env[SECRET_ENV.cloudApiSecret]);

  const interactive = Boolean(io.stderr.isTTY);
  const out = new Output({
    json: early.json,
    verbose: early.verbose,
    color: colorWanted(io.env, interactive, early.noColor ? false : undefined),
    interactive,
    stdout: io.stdout,
    stderr: io.stderr,
    secrets,
  });
  await out.enableColor();

  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      out.warn(`${signal} again: exiting now`);
      process.exit(ExitCode.interrupted);
    }
    // Every wait rejects with this reason, so an interrupted command ends with one line and exit 130.
    controller.abort(new InterruptedError(`interrupted by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let exitCode: number = ExitCode.ok;
  try {
    const program = buildProgram(io, out);
    await registerCommands(program, argv, io, out, secrets, controller.signal, (code) => {
      exitCode = code;
    });
    if (argv.length === 0) {
      io.stderr.write(program.helpInformation());
      return ExitCode.usage;
    }
    await program.parseAsync(argv, { from: 'user' });
    if (controller.signal.aborted && exitCode === ExitCode.ok) exitCode = ExitCode.interrupted;
  } catch (error) {
    exitCode = reportError(error, out, controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return exitCode;
}

function processIo(): CliIo {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

/** Output must be set up before commander parses, so errors in parsing are already rendered the right way. */
function scanGlobals(argv: string[]): { json: boolean; verbose: boolean; noColor: boolean } {
  const until = argv.indexOf('--');
  const words = until === -1 ? argv : argv.slice(0, until);
  return {
    json: words.includes('--json'),
    verbose: words.includes('--verbose') || words.includes('-v'),
    noColor: words.includes('--no-color'),
  };
}

/** The command word the user typed, skipping global options (and their values). */
function requestedCommand(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') return undefined;
    if (GLOBAL_OPTIONS_WITH_VALUE.has(word)) {
      i++;
      continue;
    }
    if (word.startsWith('-')) continue;
    if (word === 'help') return argv[i + 1];
    return word;
  }
  return undefined;
}

function buildProgram(io: CliIo, out: Output): Command {
  const program = new Command('marketplace');
  program
    .description('Run the real-time service-marketplace demo on Confluent Cloud or a local stack.')
    .version(version(), '-V, --version', 'print the version')
    .option('--json', 'print results as JSON on stdout (human output stays on stderr)')
    .option('-v, --verbose', 'print details, HTTP request ids and stack traces of unexpected errors')
    .option('--config <file>', 'config file (default: ./marketplace.config.json)')
    .addOption(new Option('--target <target>', 'where the demo runs').choices(['cloud', 'local']))
    .option('--no-color', 'no colours or spinners (also when NO_COLOR is set or output is not a terminal)')
    .option('-y, --yes', 'answer yes to confirmations; never prompt')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => out.writeErr(text),
      outputError: (text, write) => write(usageErrorLine(text, 'marketplace')),
    })
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ marketplace init --yes --cloud aws --region us-east-2   write a config file without prompts',
        '  $ marketplace doctor                                      check that everything is reachable',
        '  $ marketplace up --target local                           provision the demo on the local stack',
        '',
        'Credentials come from CONFLUENT_CLOUD_API_KEY / CONFLUENT_CLOUD_API_SECRET and MONGODB_PASSWORD,',
        "never from the config file. Run `marketplace <command> --help` for a command's flags and examples.",
      ].join('\n'),
    );
  return program;
}

async function registerCommands(
  program: Command,
  argv: string[],
  io: CliIo,
  out: Output,
  secrets: SecretRegistry,
  signal: AbortSignal,
  setExit: (code: number) => void,
): Promise<void> {
  const requested = requestedCommand(argv);
  for (const entry of COMMANDS) {
    if (entry.name === requested) {
      const spec = await entry.load();
      program.addCommand(buildCommand(spec, [], io, out, secrets, signal, setExit));
    } else {
      program.command(entry.name).description(entry.summary).allowUnknownOption().allowExcessArguments();
    }
  }
}

function buildCommand(
  spec: AnyCommandSpec,
  parents: string[],
  io: CliIo,
  out: Output,
  secrets: SecretRegistry,
  signal: AbortSignal,
  setExit: (code: number) => void,
): Command {
  const command = new Command(spec.name).description(spec.description ?? spec.summary);
  command.summary(spec.summary);
  command.exitOverride();
  command.showSuggestionAfterError(true);
  command.configureOutput({
    writeOut: (text) => io.stdout.write(text),
    writeErr: (text) => out.writeErr(text),
    outputError: (text, write) => write(usageErrorLine(text, ['marketplace', ...parents, spec.name].join(' '))),
  });
  for (const arg of spec.args ?? []) {
    const name = `${arg.name}${arg.variadic ? '...' : ''}`;
    command.argument(arg.required ? `<${name}>` : `[${name}]`, arg.description);
  }
  const optionSpecs = spec.options ?? {};
  const attributes = new Map<string, string>();
  for (const [name, option] of Object.entries(optionSpecs)) {
    const o = new Option(option.flags, describeOption(option));
    if (option.parse) o.argParser(option.parse);
    // The default is written as a user would type it: parsed like a given value, and shown as typed.
    if (option.default !== undefined) {
      o.default(option.parse ? option.parse(option.default) : option.default, option.default);
    }
    command.addOption(o);
    attributes.set(name, o.attributeName());
  }
  if (spec.examples.length > 0) {
    const width = Math.max(...spec.examples.map((e) => e.command.length));
    command.addHelpText(
      'after',
      ['', 'Examples:', ...spec.examples.map((e) => `  $ ${e.command.padEnd(width)}   ${e.description}`)].join('\n'),
    );
  }
  for (const sub of spec.subcommands ?? []) {
    command.addCommand(buildCommand(sub, [...parents, spec.name], io, out, secrets, signal, setExit));
  }
  if (spec.run) {
    const run = spec.run;
    command.action(async (...params: unknown[]) => {
      const self = params[params.length - 1] as Command;
      const args = (params.slice(0, spec.args?.length ?? 0) as (string | string[] | undefined)[]).flatMap((value) =>
        value === undefined ? [] : Array.isArray(value) ? value : [value],
      );
      const given = self.opts();
      const options = Object.fromEntries(
        Object.entries(optionSpecs).map(([name, option]) => {
          const value = given[attributes.get(name)!];
          return [name, option.takesValue ? value : value === true];
        }),
      );
      const globals = readGlobals(self.optsWithGlobals());
      const ctx = createContext(io, out, secrets, signal, globals);
      const flagConfig = configFlags(optionSpecs, options);
      const contextWithFlags: Context = {
        ...ctx,
        loadConfig: (flags, choices) => ctx.loadConfig({ ...flagConfig, ...flags }, choices),
      };
      const result = await run(contextWithFlags, { args, options });
      if (globals.json) {
        // --json is always one JSON document on stdout, also for a command with nothing to report.
        out.printJson(result ?? {});
      } else if (spec.render && result !== undefined) {
        spec.render(result, contextWithFlags);
      }
      if (spec.exitCode && result !== undefined) setExit(spec.exitCode(result));
    });
  }
  // A group without a handler of its own (sink, local) is left to commander: an unknown word is "unknown command"
  // with the closest sub-command, no word at all prints the help on stderr (reported by reportError).
  return command;
}

/** The help line of a flag; a default the handler works out is noted the way commander shows a fixed one. */
function describeOption(option: OptionSpec): string {
  return option.defaultNote ? `${option.description} (default: ${option.defaultNote})` : option.description;
}

/** Commander's usage errors ("error: unknown option…" plus a suggestion line) as one line that says where help is. */
function usageErrorLine(text: string, command: string): string {
  const joined = text
    .trim()
    .split(/\s*\n\s*/)
    .join(' ');
  return `${joined} — run \`${command} --help\` for usage\n`;
}

function readGlobals(opts: Record<string, unknown>): GlobalOptions {
  return {
    json: Boolean(opts.json),
    verbose: Boolean(opts.verbose),
    config: opts.config as string | undefined,
    target: opts.target as GlobalOptions['target'],
    color: opts.color !== false,
    yes: Boolean(opts.yes),
  };
}

function createContext(
  io: CliIo,
  out: Output,
  secrets: SecretRegistry,
  signal: AbortSignal,
  globals: GlobalOptions,
): Context {
  const canPrompt = Boolean(io.stdin.isTTY && io.stderr.isTTY) && !globals.yes;
  const prompts = io.prompter ?? (canPrompt ? terminalPrompter(io.stdin, io.stderr) : nonInteractivePrompter());
  return {
    out,
    secrets,
    prompts,
    env: io.env,
    stdout: io.stdout,
    cwd: io.cwd,
    globals,
    signal,
    clock: io.clock ?? clockFromEnv(io.env),
    loadConfig: async (flags = {}, choices = {}) =>
      // zod and the schema load only when a command actually reads configuration
      (await import('./core/config.js')).loadConfig({
        cwd: io.cwd,
        env: io.env,
        configPath: globals.config,
        flags: { ...(globals.target ? { target: globals.target } : {}), ...flags },
        ...choices,
      }),
  };
}

function errorDocument(message: string, exitCode: number, hint?: string): JsonErrorDocument {
  return { error: { message, hint, exitCode } };
}

function reportError(error: unknown, out: Output, signal: AbortSignal): number {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0) {
      return ExitCode.ok;
    }
    const message = error.code === 'commander.help' ? 'no command given (the help is on stderr)' : error.message;
    const oneLine = message
      .replace(/^error: /, '')
      .split(/\s*\n\s*/)
      .join(' ');
    if (out.json) out.printJson(errorDocument(oneLine, ExitCode.usage));
    return ExitCode.usage;
  }
  if (isCliError(error)) {
    // Messages quote user files and server replies: one line, control characters written out.
    const line = escapeControl(error.hint ? `${error.message} — ${error.hint}` : error.message);
    out.failure(`Error: ${line}`);
    if (out.verbose && error.cause instanceof Error && error.cause.stack) out.debug(error.cause.stack);
    if (out.json) out.printJson(errorDocument(error.message, error.exitCode, error.hint));
    return error.exitCode;
  }
  if (signal.aborted) {
    out.failure('Interrupted.');
    if (out.json) out.printJson(errorDocument('interrupted', ExitCode.interrupted));
    return ExitCode.interrupted;
  }
  // Not classified anywhere on its way here: a bug. One line, and the stack for the report with --verbose.
  const message = error instanceof Error ? error.message : String(error);
  const how = out.verbose
    ? 'report it with the stack trace below'
    : 'run with --verbose for the stack trace and report it';
  out.failure(`Error: unexpected failure: ${escapeControl(message)} — a bug in marketplace; ${how}`);
  if (out.verbose && error instanceof Error && error.stack) out.debug(error.stack);
  if (out.json) out.printJson(errorDocument(message, ExitCode.failure));
  return ExitCode.failure;
}
