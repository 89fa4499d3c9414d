import { duration, jobRate } from '../core/parse.js';
import type { DemoResult } from '../demo/result.js';
import { defineCommand, flag, option } from './command.js';
import { ENGINE_OPTION } from './engine-option.js';

export const demoCommand = defineCommand({
  name: 'demo',
  summary: 'Run the whole demo on the local stack for 30 s and print a summary (the quick start)',
  description:
    'Installs and starts the local stack if needed (Kafka, Connect with the MongoDB sink, FerretDB, the ksqlDB dev ' +
    'server), provisions the demo on it (`up --target local`), produces jobs, orders, job locations and truck ' +
    'positions for --duration while job_status streams by, then prints a summary: jobs produced, ACCEPTED/REJECTED ' +
    "counts, documents in MongoDB and truck_tracker rows. Afterwards it removes what it created (the demo's " +
    'topics, queries and connector, and the stack if it started it) unless --keep. With --dashboard the live page ' +
    '(`marketplace dashboard`) is served while the demo runs, and after it until Ctrl-C. With --engine flink the ' +
    'statements run as Apache Flink jobs instead (Flink is installed and started with the stack).',
  options: {
    duration: option('--duration <time>', 'how long to produce', { parse: duration('--duration'), default: '30s' }),
    rate: option('--rate <jobs>', 'new jobs per second', { parse: jobRate('--rate', { example: 50 }), default: '20' }),
    keep: flag('--keep', 'leave the stack and the demo running afterwards'),
    dashboard: flag('--dashboard', 'serve the live dashboard while the demo runs, and keep it until Ctrl-C'),
    ...ENGINE_OPTION,
  },
  examples: [
    { command: 'marketplace demo', description: '30 seconds of the demo on the local stack' },
    { command: 'marketplace demo --duration 2m --rate 50 --keep', description: 'longer, faster, and keep it running' },
    { command: 'marketplace demo --dashboard', description: 'watch it in the browser' },
    { command: 'marketplace demo --engine flink', description: 'the same demo on Apache Flink' },
  ],
  run: async (ctx, { options }): Promise<DemoResult> => {
    const { runDemo } = await import('../demo/run.js');
    return runDemo(ctx, {
      durationMs: options.duration,
      rate: options.rate,
      keep: options.keep,
      dashboard: options.dashboard,
    });
  },
  render: (result, ctx) => {
    const { green, red, bold } = ctx.out.paint;
    ctx.out.info(bold('Summary'));
    ctx.out.info(`  jobs produced        ${result.jobs} in ${(result.durationMs / 1000).toFixed(0)} s`);
    ctx.out.info(
      `  job_status rows      ${result.jobStatus.rows} (${green(`ACCEPTED ${result.jobStatus.accepted}`)}, ${red(`REJECTED ${result.jobStatus.rejected}`)})`,
    );
    ctx.out.info(`  MongoDB documents    ${result.mongoDocuments}`);
    ctx.out.info(`  truck_tracker rows   ${result.truckTrackerRows}`);
    ctx.out.info(
      result.kept
        ? 'Everything is still running (--keep). `marketplace down --target local --yes` removes the demo.'
        : 'Cleaned up.',
    );
  },
});
