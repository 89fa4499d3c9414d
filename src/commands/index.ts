import type { CommandSpec } from './command.js';

export interface CommandEntry {
  name: string;
  summary: string;
  load: () => Promise<CommandSpec<any>>;
}

/**
 * Every top-level command, with the one line `marketplace --help` shows. A command's module (and whatever heavy
 * dependencies it pulls in) is imported only when that command runs or its own help is asked for.
 */
export const COMMANDS: CommandEntry[] = [
  {
    name: 'init',
    summary: 'Write marketplace.config.json (interactive wizard, or --yes with flags)',
    load: async () => (await import('./init.js')).initCommand,
  },
  {
    name: 'doctor',
    summary: 'Check Node, configuration, credentials and that every endpoint answers',
    load: async () => (await import('./doctor.js')).doctorCommand,
  },
];
