import type { Context } from '../core/context.js';
import type { ApplySummary } from '../provisioning/run.js';
import { defineCommand, flag } from './command.js';
import { ENGINE_OPTION } from './engine-option.js';
import { planCommand, type PlanResult } from './plan.js';

export type UpResult = ApplySummary;

export const upCommand = defineCommand({
  name: 'up',
  summary: 'Provision the whole demo (cloud or --target local); idempotent and resumable',
  description:
    'Creates what is missing, in parallel where the dependencies allow: environment, Kafka cluster, service account, ' +
    'role bindings, API keys, topics, ksqlDB cluster, statements and the MongoDB sink. Every id is saved to ' +
    '.marketplace/state.json the moment it exists, so an interrupted run continues where it stopped. On a complete ' +
    'deployment it changes nothing and says so. With --target local: topics, statements and sink on the local stack, ' +
    'the statements on ksqlDB or, with --engine flink, as Flink jobs (a job whose statement changed is replaced, ' +
    'starting from a savepoint of the old one).',
  options: {
    dryRun: flag('--dry-run', 'only show the plan (same as `marketplace plan`); nothing is changed'),
    ...ENGINE_OPTION,
  },
  examples: [
    { command: 'marketplace up', description: 'provision on Confluent Cloud' },
    { command: 'marketplace up --dry-run', description: 'show what would be created or changed' },
    { command: 'marketplace up --target local', description: 'topics, statements and sink on the local stack' },
    { command: 'marketplace up --target local --engine flink', description: 'the same pipelines as Flink jobs' },
  ],
  run: async (ctx, { options }): Promise<UpResult | PlanResult> => {
    if (options.dryRun) return planCommand.run!(ctx, { args: [], options: { engine: options.engine } });
    return provision(ctx);
  },
  render: (result, ctx) => {
    if ('steps' in result) return planCommand.render!(result, ctx);
    const { green, bold, dim } = ctx.out.paint;
    if (result.nothingToDo) {
      ctx.out.info(green(`Nothing to do: all ${result.unchanged.length} resources are in place.`));
    } else {
      const parts = [
        result.created.length && `${result.created.length} created`,
        result.updated.length && `${result.updated.length} updated`,
        result.adopted.length && `${result.adopted.length} adopted by name`,
        result.unchanged.length && `${result.unchanged.length} already in place`,
      ].filter(Boolean);
      ctx.out.info(green(`Done in ${Math.round(result.wallMs / 1000)} s: ${parts.join(', ')}.`));
    }
    if (!result.sink)
      ctx.out.info(dim('MongoDB sink skipped: set mongoHost and mongoUser (marketplace init) to add it.'));
    for (const [name, value] of Object.entries(result.endpoints))
      if (value) ctx.out.info(`  ${name.padEnd(16)} ${value}`);
    ctx.out.info(`Next: ${bold(result.next)}`);
  },
});

async function provision(ctx: Context): Promise<UpResult> {
  const loaded = await ctx.loadConfig();
  const { openSession } = await import('../provisioning/open-session.js');
  const { applySession, progressFor } = await import('../provisioning/run.js');
  const session = await openSession(ctx, loaded, { lock: 'up', needMongoPassword: true });
  try {
    const progress = progressFor(ctx, session, { doing: 'checking', done: 'finishing' });
    session.env.progress = progress.status;
    try {
      return await applySession(ctx, session, progress);
    } finally {
      progress.stop();
    }
  } finally {
    await session.release();
  }
}
