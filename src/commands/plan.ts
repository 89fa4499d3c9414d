import type { PlanStep } from '../provisioning/engine.js';
import { defineCommand } from './command.js';
import { ENGINE_OPTION } from './engine-option.js';

export interface PlanResult {
  target: 'cloud' | 'local';
  steps: PlanStep[];
  changes: number;
}

const SYMBOL: Record<PlanStep['action'], string> = { create: '+', update: '~', adopt: '=', wait: '…', none: ' ' };

export const planCommand = defineCommand({
  name: 'plan',
  summary: 'Show what `up` would create, update or adopt; sends no mutating request',
  description:
    'Looks up every resource of the demo (read-only requests only) and lists what `marketplace up` would do: ' +
    '+ create, ~ update in place, = adopt an existing resource this deployment made (its id is not in the state file ' +
    'yet), … wait for one still provisioning.',
  options: ENGINE_OPTION,
  examples: [
    { command: 'marketplace plan', description: 'plan for Confluent Cloud' },
    { command: 'marketplace plan --target local --json', description: 'the local plan as JSON' },
    { command: 'marketplace plan --target local --engine flink', description: 'what `up` would do on Flink' },
  ],
  run: async (ctx): Promise<PlanResult> => {
    const loaded = await ctx.loadConfig();
    const { openSession } = await import('../provisioning/open-session.js');
    const { planSession } = await import('../provisioning/run.js');
    const session = await openSession(ctx, loaded, { lock: undefined, needMongoPassword: false });
    try {
      const steps = await planSession(session);
      return { target: session.target, steps, changes: steps.filter((s) => s.action !== 'none').length };
    } finally {
      await session.release();
    }
  },
  render: (result, ctx) => {
    const { green, yellow, cyan, dim } = ctx.out.paint;
    const paint = { create: green, update: yellow, adopt: cyan, wait: dim, none: dim } as const;
    for (const step of result.steps) {
      const detail = step.changes?.length ? ` (${step.changes.join('; ')})` : '';
      ctx.out.info(paint[step.action](`${SYMBOL[step.action]} ${step.action.padEnd(6)} ${step.title}${detail}`));
    }
    ctx.out.info(
      result.changes === 0 ? 'Nothing to do.' : `${result.changes} change(s). Run \`marketplace up\` to apply.`,
    );
  },
});
