import type { CommandSpec } from './command.js';
import { dashboardCommand } from './dashboard.js';
import { demoCommand } from './demo.js';
import { doctorCommand } from './doctor.js';
import { flinkCommand } from './flink.js';
import { downCommand } from './down.js';
import { initCommand } from './init.js';
import { ksqlCommand } from './ksql.js';
import { lineageCommand } from './lineage.js';
import { localCommand } from './local.js';
import { planCommand } from './plan.js';
import { produceCommand } from './produce.js';
import { sinkCommand } from './sink.js';
import { statusCommand } from './status.js';
import { tailCommand } from './tail.js';
import { upCommand } from './up.js';

export interface CommandEntry {
  name: string;
  summary: string;
  // biome-ignore lint/suspicious/noExplicitAny: each command has its own result type
  load: () => Promise<CommandSpec<any>>;
}

/**
 * Every top-level command in the order `marketplace --help` lists them, with the summary its own file declares.
 * Command files are light (they import their heavy dependencies only inside their handlers), so importing all of
 * them here costs the start-up nothing worth a second copy of each summary.
 */
// biome-ignore lint/suspicious/noExplicitAny: each command has its own result type
const SPECS: CommandSpec<any>[] = [
  demoCommand,
  initCommand,
  doctorCommand,
  upCommand,
  planCommand,
  statusCommand,
  downCommand,
  produceCommand,
  tailCommand,
  lineageCommand,
  dashboardCommand,
  sinkCommand,
  localCommand,
  ksqlCommand,
  flinkCommand,
];

export const COMMANDS: CommandEntry[] = SPECS.map((spec) => ({
  name: spec.name,
  summary: spec.summary,
  load: async () => spec,
}));
