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
    name: 'demo',
    summary: 'Run the whole demo on the local stack for 30 s and print a summary (the quick start)',
    load: async () => (await import('./demo.js')).demoCommand,
  },
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
  {
    name: 'up',
    summary: 'Provision the whole demo on Confluent Cloud (or --target local); idempotent, resumable',
    load: async () => (await import('./up.js')).upCommand,
  },
  {
    name: 'plan',
    summary: 'Show what `up` would create, update or adopt, without changing anything',
    load: async () => (await import('./plan.js')).planCommand,
  },
  {
    name: 'status',
    summary: 'Show each resource with its health, ksqlDB queries and topic end offsets',
    load: async () => (await import('./status.js')).statusCommand,
  },
  {
    name: 'down',
    summary: 'Delete everything `up` made; verify nothing with the prefix is left',
    load: async () => (await import('./down.js')).downCommand,
  },
  {
    name: 'produce',
    summary: 'Generate realistic jobs, orders, job locations and truck positions into the input topics',
    load: async () => (await import('./produce.js')).produceCommand,
  },
  {
    name: 'tail',
    summary: 'Show the rows of job_status, truck_tracker or any stream, table or topic live',
    load: async () => (await import('./tail.js')).tailCommand,
  },
  {
    name: 'lineage',
    summary: 'Draw the data flow from live metadata: producers → topics → queries → sink',
    load: async () => (await import('./lineage.js')).lineageCommand,
  },
  {
    name: 'sink',
    summary: 'Create, check and verify the MongoDB sink of job_status',
    load: async () => (await import('./sink.js')).sinkCommand,
  },
  {
    name: 'local',
    summary: 'Install, start, stop and inspect the local stack (Kafka, Connect, FerretDB, ksqlDB dev server)',
    load: async () => (await import('./local.js')).localCommand,
  },
  {
    name: 'ksql',
    summary: "Run ksqlDB statements and queries; `ksql apply` creates the demo's streams and tables, `ksql list` shows them",
    load: async () => (await import('./ksql.js')).ksqlCommand,
  },
];
