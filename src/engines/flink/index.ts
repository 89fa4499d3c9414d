import type { LoadedConfig } from '../../core/config.js';
import { configuredEndpoints } from '../../core/endpoints.js';
import { isClassifiedError, OperationError } from '../../core/errors.js';
import { FlinkGateway } from '../../flink-client/gateway.js';
import { ACTIVE_STATES, FlinkJobs, type JobDetail } from '../../flink-client/jobs.js';
import { KeptJobs, keptSavepoints, pruneFlinkState, restorePoint } from '../../local/flink-jobs.js';
import { settingsFromConfig, stackPaths } from '../../local/settings.js';
import type { QueryFacts, SourceFacts } from '../../lineage/graph.js';
import { ENGINE_WORDS, type EngineContext, type EngineJob, type StreamEngine } from '../engine.js';
import { applyPipelines, inspectPipelines, removePipelines, type PipelineRuntime } from './pipelines.js';
import { findTable, openFlinkTail, readFlinkTable } from './tail.js';
import { keyOf, loadFlinkTemplates, parseJobName, type FlinkTemplates } from './templates.js';

export { loadFlinkTemplates, FLINK_TEMPLATES_DIR } from './templates.js';

const START_HINT =
  'Start it with `marketplace local start --with flink` (check it with `marketplace local status`), or fix ' +
  'flinkGatewayUrl and flinkRestUrl.';

/**
 * Apache Flink: the templates' tables are created in each session that needs them (a gateway session's catalog lives
 * only as long as the session), each INSERT runs as a job named after its pipeline and the hash of its statements,
 * and on the local stack every job is kept (src/local/flink-jobs.ts) so it survives a restart of the stack.
 */
export async function flinkEngine(options: {
  loaded: LoadedConfig;
  ctx: EngineContext;
  /** Another folder of templates than the bundled templates/flink (tests, benchmarks). */
  templatesDir?: string;
}): Promise<StreamEngine> {
  const config = options.loaded.values;
  const endpoints = configuredEndpoints(config);
  const gatewayUrl = endpoints.flinkGatewayUrl;
  const restUrl = endpoints.flinkRestUrl;
  if (!gatewayUrl || !restUrl || !endpoints.bootstrapServers) {
    throw new OperationError('the Flink engine needs flinkGatewayUrl, flinkRestUrl and bootstrapServers', {
      hint: 'Use --target local (the local stack provides all three), or set them.',
    });
  }
  const { ctx } = options;
  const client = {
    unreachableHint: START_HINT,
    timeoutMs: config.requestTimeout,
    signal: ctx.signal,
    clock: ctx.clock,
  };
  const gateway = new FlinkGateway({ url: gatewayUrl, ...client });
  const jobs = new FlinkJobs({ url: restUrl, ...client });
  // Jobs are kept across restarts only on the stack's own Flink: a cluster of the user's has its own means.
  const settings = settingsFromConfig(config, ctx.env);
  const onStack =
    config.target === 'local' &&
    new URL(gatewayUrl).origin === `http://127.0.0.1:${settings.ports.flinkGateway}` &&
    new URL(restUrl).origin === `http://127.0.0.1:${settings.ports.flink}`;
  const paths = stackPaths(settings.home);
  const kept = onStack ? new KeptJobs(paths) : undefined;
  const runtime: PipelineRuntime = {
    gateway,
    jobs,
    ...(kept
      ? {
          kept,
          savepointDir: `file://${keptSavepoints(paths)}`,
          restorePoint: async (pipeline) => {
            const job = await kept.get(pipeline);
            return job ? restorePoint(paths, job) : undefined;
          },
          prune: () => pruneFlinkState(settings),
        }
      : {}),
  };
  let loadedTemplates: FlinkTemplates | undefined;
  const templates = async () =>
    (loadedTemplates ??= await loadFlinkTemplates(
      { bootstrapServers: endpoints.bootstrapServers! },
      options.templatesDir,
    ));

  const describeJobs = async (): Promise<JobDetail[]> => {
    const listed = await jobs.list();
    // Active jobs, and for a pipeline with none its newest ended job (so a failed one shows as failed).
    const active = listed.filter((job) => ACTIVE_STATES.includes(job.state));
    const covered = new Set(active.map((job) => parseJobName(job.name)?.pipeline ?? job.name));
    const ended = listed
      .filter((job) => !ACTIVE_STATES.includes(job.state) && parseJobName(job.name))
      .sort((a, b) => b.startTime - a.startTime)
      .filter((job) => {
        const pipeline = parseJobName(job.name)!.pipeline;
        if (covered.has(pipeline) || !(loadedTemplates?.pipelines ?? []).some((p) => p.name === pipeline)) return false;
        covered.add(pipeline);
        return true;
      });
    const details = await Promise.all([...active, ...ended].map((job) => jobs.detail(job.id)));
    return details.filter((detail) => detail !== undefined);
  };

  return {
    name: 'flink',
    ...ENGINE_WORDS.flink,
    resourceId: 'flink-jobs',
    resourceTitle: 'Flink tables and jobs (templates/flink)',
    endpoints: () => ({ 'flink sql gateway': gatewayUrl, 'flink web ui': restUrl }),
    endpointKeys: ['flinkGatewayUrl', 'flinkRestUrl'],
    requireReachable: async (probe) => {
      // Short probes, not requestTimeout: this only asks whether the servers are there at all.
      const quick = { ...client, timeoutMs: probe.timeoutMs, signal: probe.signal };
      await new FlinkGateway({ url: gatewayUrl, ...quick }).info();
      await new FlinkJobs({ url: restUrl, ...quick }).list();
    },
    inspect: async () => inspectPipelines(runtime, (await templates()).pipelines),
    apply: async (apply) => applyPipelines(runtime, (await templates()).pipelines, apply),
    remove: async (remove) => removePipelines(runtime, (await templates()).pipelines, remove),
    leftovers: async () => {
      const names = new Set((await templates()).pipelines.map((pipeline) => pipeline.name));
      return (await jobs.list())
        .filter((job) => ACTIVE_STATES.includes(job.state) && names.has(parseJobName(job.name)?.pipeline ?? ''))
        .map((job) => `flink job ${job.name} (${job.id})`);
    },
    jobs: async () => {
      await templates();
      const described = await describeJobs();
      return Promise.all(
        described.map(async (job): Promise<EngineJob> => {
          const reason =
            job.state === 'RUNNING'
              ? undefined
              : await jobs.lastException(job.id).catch((error: unknown) => {
                  if (!isClassifiedError(error)) throw error;
                  return undefined;
                });
          return {
            id: job.id,
            name: parseJobName(job.name)?.pipeline ?? job.name,
            state: job.state,
            sources: job.sources,
            sinks: job.sinks,
            ...(reason ? { detail: reason } : {}),
          };
        }),
      );
    },
    lineage: async () => {
      const { tables } = await templates();
      const running = (await describeJobs()).filter((job) => ACTIVE_STATES.includes(job.state));
      // Not name@id: that reads as user@host, and output masks what looks like a password in front of it.
      const label = (job: JobDetail) => `${parseJobName(job.name)?.pipeline ?? job.name}#${job.id.slice(0, 8)}`;
      const used = new Set(running.flatMap((job) => [...job.sources, ...job.sinks]));
      const sources: SourceFacts[] = [...used].map((name) => {
        const table = tables.find((t) => t.name === name);
        return {
          name,
          type: table?.connector === 'upsert-kafka' ? 'TABLE' : 'STREAM',
          topic: table?.topic ?? name,
          readQueries: running.filter((job) => job.sources.includes(name)).map(label),
          writeQueries: running.filter((job) => job.sinks.includes(name)).map(label),
        };
      });
      const queries: QueryFacts[] = running.map((job) => ({
        id: label(job),
        state: job.state,
        sinks: job.sinks,
        sinkTopics: job.sinks.map((name) => tables.find((t) => t.name === name)?.topic ?? name),
      }));
      return { sources, queries };
    },
    tail: async (request) => openFlinkTail(gateway, findTable((await templates()).tables, request.name), request),
    topicKey: async (topic) => {
      const table = (await templates()).tables.find((t) => t.topic === topic);
      return table ? keyOf(table) : undefined;
    },
    tableRows: async (name, signal) => readFlinkTable(gateway, findTable((await templates()).tables, name), signal),
    close: async () => undefined,
  };
}
