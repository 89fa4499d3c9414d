import type { Context } from '../core/context.js';
import { ExitCode, InterruptedError, UserError } from '../core/errors.js';
import type { DestroySummary } from '../provisioning/run.js';
import { defineCommand, flag } from './command.js';
import { ENGINE_OPTION } from './engine-option.js';

export type DownResult = DestroySummary;

export const downCommand = defineCommand({
  name: 'down',
  summary: 'Delete everything `up` made (connector, ksqlDB, keys, topics, clusters, environment)',
  description:
    'Deletes in reverse dependency order, waits for each asynchronous delete (ksqlDB cluster, Kafka cluster, ' +
    'environment) to finish, treats "already gone" as done, then checks that nothing with the name prefix is left. ' +
    "Asks for confirmation unless --yes. With --discover it finds the demo's resources by their name prefix (those " +
    'tied to its service account), for when the state file is lost. On the local target it stops the jobs and ' +
    'removes the tables of every engine `up` used there (ksqlDB, Flink), whichever --engine says.',
  options: {
    discover: flag(
      '--discover',
      'find resources by name prefix even without a state file (cloud: automatic when the state file has records)',
    ),
    keepEnvironment: flag('--keep-environment', 'keep the environment (e.g. when it is shared)'),
    ...ENGINE_OPTION,
  },
  examples: [
    { command: 'marketplace down', description: 'tear everything down after confirming' },
    { command: 'marketplace down --yes --discover', description: 'no prompt; find resources by prefix too' },
    { command: 'marketplace down --keep-environment', description: 'leave the environment in place' },
  ],
  run: async (ctx, { options }): Promise<DownResult> => {
    const loaded = await ctx.loadConfig();
    await confirm(
      ctx,
      loaded.values.target === 'cloud'
        ? `Delete every resource of the demo with prefix "${loaded.values.prefix}" on Confluent Cloud?`
        : "Delete the demo's connector, queries, streams and topics on the local stack?",
    );
    const { openSession } = await import('../provisioning/open-session.js');
    const { destroySession, progressFor } = await import('../provisioning/run.js');
    const session = await openSession(ctx, loaded, {
      lock: 'down',
      needMongoPassword: false,
      withRecordedEngines: true,
    });
    try {
      const progress = progressFor(ctx, session, { doing: 'deleting', done: 'verifying' });
      session.env.progress = progress.status;
      try {
        // An interrupted `up` can lose the answer to a create: the resource exists but its id never reached the state
        // file. When the state shows a cloud deployment was started from here, look such resources up by their
        // prefixed names too (local names are not prefixed, so there it stays opt-in).
        const started =
          session.target === 'cloud' &&
          Object.values(session.recorder.all()).some((record) => record.target === 'cloud');
        return await destroySession(ctx, session, progress, {
          discover: options.discover || started,
          keepEnvironment: options.keepEnvironment,
        });
      } finally {
        progress.stop();
      }
    } finally {
      await session.release();
    }
  },
  render: (result, ctx) => {
    const { green, red } = ctx.out.paint;
    if (result.remaining.length > 0) {
      ctx.out.info(red(`Still present: ${result.remaining.join(', ')}`));
      if (!result.discovered)
        ctx.out.info('They are not in the state file: run `marketplace down --discover` to find them by name.');
      return;
    }
    const kept = result.kept.length ? ` (kept: ${result.kept.join(', ')})` : '';
    ctx.out.info(
      green(
        result.deleted.length === 0
          ? `Nothing to delete: no resource of the demo exists${kept}.`
          : `Deleted ${result.deleted.length} resources in ${Math.round(result.wallMs / 1000)} s; nothing of the demo is left${kept}.`,
      ),
    );
  },
  exitCode: (result) => (result.remaining.length > 0 ? ExitCode.failure : ExitCode.ok),
});

async function confirm(ctx: Context, question: string): Promise<void> {
  if (ctx.globals.yes) return;
  if (!ctx.prompts.interactive) {
    throw new UserError('`marketplace down` deletes resources and needs confirmation', {
      hint: 'Run it in a terminal to confirm, or pass --yes.',
    });
  }
  if (!(await ctx.prompts.confirm({ message: question, default: false }))) {
    throw new InterruptedError('Cancelled; nothing was deleted');
  }
}
