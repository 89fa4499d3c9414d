import { InterruptedError, UserError } from './errors.js';

export interface Choice<T extends string> {
  value: T;
  name?: string;
}

/** Everything a command may ask the user. Tests inject a scripted one; the CLI uses inquirer on a TTY. */
export interface Prompter {
  readonly interactive: boolean;
  input(question: { message: string; default?: string; validate?: (value: string) => true | string }): Promise<string>;
  select<T extends string>(question: { message: string; choices: Choice<T>[]; default?: T }): Promise<T>;
  confirm(question: { message: string; default?: boolean }): Promise<boolean>;
  password(question: { message: string }): Promise<string>;
}

/** Prompts through @inquirer/prompts on stderr, so stdout stays clean for --json. */
export function terminalPrompter(stdin: NodeJS.ReadStream, stderr: NodeJS.WriteStream): Prompter {
  const context = { input: stdin, output: stderr };
  const load = () => import('@inquirer/prompts');
  const guard = async <T>(ask: () => Promise<T>): Promise<T> => {
    try {
      return await ask();
    } catch (error) {
      if ((error as Error).name === 'ExitPromptError') throw new InterruptedError('Cancelled at the prompt');
      throw error;
    }
  };
  return {
    interactive: true,
    input: async (q) => guard(async () => (await load()).input({ ...q }, context)),
    select: async (q) => guard(async () => (await load()).select({ ...q }, context)) as never,
    confirm: async (q) => guard(async () => (await load()).confirm({ ...q }, context)),
    password: async (q) => guard(async () => (await load()).password({ ...q, mask: '*' }, context)),
  };
}

/** With no TTY there is nobody to ask: every question becomes an error that names what was missing. */
export function nonInteractivePrompter(): Prompter {
  const refuse = (message: string): never => {
    throw new UserError(`cannot ask "${message}": no terminal to prompt on`, {
      hint: 'Pass the value as a flag or environment variable (see --help), or run in a terminal.',
    });
  };
  return {
    interactive: false,
    input: async (q) => refuse(q.message),
    select: async (q) => refuse(q.message),
    confirm: async (q) => refuse(q.message),
    password: async (q) => refuse(q.message),
  };
}
