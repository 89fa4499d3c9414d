import { oneOf } from '../core/parse.js';
import type { LineageResult } from '../lineage/collect.js';
import { defineCommand, option } from './command.js';
import { ENGINE_OPTION } from './engine-option.js';

export type { LineageResult };

export const lineageCommand = defineCommand({
  name: 'lineage',
  summary: "Draw the demo's data flow from live metadata (tree, Mermaid, or --json)",
  description:
    'Asks ksqlDB for its streams, tables and queries (LIST, DESCRIBE EXTENDED) and Connect for its connectors, and ' +
    "draws producers → topics → streams/tables → queries → output topics → sink connector with each query's and " +
    "connector's status. Anything created by hand shows up too. With --engine flink the queries are the Flink jobs " +
    "that run (their tables read from each job's plan), each with its state.",
  options: {
    format: option('--format <format>', 'tree or mermaid (printed to stdout)', {
      parse: oneOf('--format', ['tree', 'mermaid'] as const),
      default: 'tree',
    }),
    ...ENGINE_OPTION,
  },
  examples: [
    { command: 'marketplace lineage', description: 'the flow as a tree' },
    { command: 'marketplace lineage --format mermaid > flow.mmd', description: 'a Mermaid flowchart' },
    { command: 'marketplace lineage --json', description: 'the graph as JSON' },
    { command: 'marketplace lineage --target local --engine flink', description: 'the Flink jobs and their tables' },
  ],
  run: async (ctx, { options }): Promise<LineageResult> => {
    const { collectLineage } = await import('../lineage/collect.js');
    const result = await collectLineage(ctx, await ctx.loadConfig());
    if (!ctx.globals.json) {
      const { toMermaid, toTree } = await import('../lineage/graph.js');
      const { green, red } = ctx.out.paint;
      ctx.out.data(
        options.format === 'mermaid'
          ? toMermaid(result)
          : toTree(result, { status: (text, ok) => (ok ? green(text) : red(text)) }),
      );
    }
    return result;
  },
  render: (result, ctx) => {
    for (const note of result.notes) ctx.out.warn(note);
  },
});
