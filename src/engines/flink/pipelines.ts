import { OperationError } from '../../core/errors.js';
import type { FlinkGateway } from '../../flink-client/gateway.js';
import { ACTIVE_STATES, type FlinkJobs, type JobSummary } from '../../flink-client/jobs.js';
import { submitJob } from '../../flink-client/submit.js';
import type { KeptJobs } from '../../local/flink-jobs.js';
import type { ApplyOutcome, PipelineState } from '../engine.js';
import { parseJobName, type FlinkPipeline } from './templates.js';

/** Where the pipelines' jobs run and, on the local stack, where they are kept across restarts. */
export interface PipelineRuntime {
  gateway: FlinkGateway;
  jobs: FlinkJobs;
  /** The local stack's record of kept jobs; absent for a Flink cluster of the user's own. */
  kept?: KeptJobs;
  /** Where replaced jobs' savepoints go (file:…); the cluster's default savepoint folder when absent. */
  savepointDir?: string;
  /** The newest savepoint or checkpoint a kept job can resume from. */
  restorePoint?(pipeline: string): Promise<string | undefined>;
  /** Deletes checkpoints and savepoints nothing needs any more. */
  prune?(): Promise<void>;
}

/** The active job running each pipeline (by the pipeline named in the job's name), newest first if several. */
export async function pipelineJobs(jobs: FlinkJobs): Promise<Map<string, JobSummary>> {
  const byPipeline = new Map<string, JobSummary>();
  const active = (await jobs.list())
    .filter((job) => ACTIVE_STATES.includes(job.state))
    .sort((a, b) => b.startTime - a.startTime);
  for (const job of active) {
    const parsed = parseJobName(job.name);
    if (parsed && !byPipeline.has(parsed.pipeline)) byPipeline.set(parsed.pipeline, job);
  }
  return byPipeline;
}

/** Read-only: which pipelines run their template's current statement, which run an older one, which none. */
export async function inspectPipelines(runtime: PipelineRuntime, pipelines: FlinkPipeline[]): Promise<PipelineState> {
  const running = await pipelineJobs(runtime.jobs);
  const changes: string[] = [];
  let ready = true;
  const ids: Record<string, string> = {};
  for (const pipeline of pipelines) {
    const job = running.get(pipeline.name);
    if (!job) {
      changes.push(`${pipeline.name}: no job runs it`);
      ready = false;
      continue;
    }
    ids[pipeline.name] = job.id;
    if (parseJobName(job.name)?.fingerprint !== pipeline.fingerprint)
      changes.push(`${pipeline.name}: statement changed`);
    if (job.state !== 'RUNNING') ready = false;
  }
  return { present: Object.keys(ids).length > 0, ready, changes, attributes: { jobs: ids } };
}

/**
 * Brings every pipeline to its template: a job already running the same statement is left alone; one running an
 * older statement is stopped with a savepoint and its successor starts from that savepoint (state and offsets
 * carried over, so no row is lost or repeated); a missing one is submitted, resuming from where a kept job of the
 * local stack stopped when there is one.
 */
export async function applyPipelines(
  runtime: PipelineRuntime,
  pipelines: FlinkPipeline[],
  options: { signal?: AbortSignal; progress?: (status: string) => void },
): Promise<ApplyOutcome> {
  const outcome: ApplyOutcome = { created: [], replaced: [], existing: [] };
  const running = await pipelineJobs(runtime.jobs);
  for (const pipeline of pipelines) {
    const job = running.get(pipeline.name);
    const keep = async (jobId: string, restoreFrom?: string) =>
      runtime.kept?.put({
        pipeline: pipeline.name,
        name: pipeline.jobName,
        tables: pipeline.tables,
        insert: pipeline.insert,
        config: pipeline.config,
        jobId,
        ...(restoreFrom ? { restoreFrom } : {}),
      });
    if (job && parseJobName(job.name)?.fingerprint === pipeline.fingerprint) {
      const kept = await runtime.kept?.get(pipeline.name);
      if (kept?.jobId !== job.id) await keep(job.id, kept?.restoreFrom);
      outcome.existing.push(pipeline.name);
      continue;
    }
    let restoreFrom: string | undefined;
    if (job) {
      options.progress?.(`${pipeline.name}: stopping the old job with a savepoint`);
      restoreFrom = await runtime.jobs.stopWithSavepoint(job.id, {
        ...(runtime.savepointDir ? { targetDirectory: runtime.savepointDir } : {}),
        signal: options.signal,
      });
    } else {
      restoreFrom = await runtime.restorePoint?.(pipeline.name);
    }
    options.progress?.(`${pipeline.name}: starting its job${restoreFrom ? ' from where the last one stopped' : ''}`);
    let jobId: string;
    try {
      jobId = await submitJob(
        runtime.gateway,
        runtime.jobs,
        {
          name: pipeline.jobName,
          tables: pipeline.tables,
          insert: pipeline.insert,
          config: pipeline.config,
          ...(restoreFrom ? { restoreFrom } : {}),
        },
        { signal: options.signal },
      );
    } catch (error) {
      if (!restoreFrom) throw error;
      throw new OperationError(
        `${pipeline.name}: the new statement cannot start from the old job's state (${(error as Error).message})`,
        {
          hint:
            `Its state is kept at ${restoreFrom}. To start it afresh from the earliest records (repeating its ` +
            'output), run `marketplace down` and `marketplace up` with --engine flink.',
          cause: error,
        },
      );
    }
    await keep(jobId, restoreFrom);
    (job ? outcome.replaced : outcome.created).push(pipeline.name);
  }
  await runtime.prune?.();
  return outcome;
}

/** Cancels every job of the pipelines and forgets them; their checkpoints go with them. */
export async function removePipelines(
  runtime: PipelineRuntime,
  pipelines: FlinkPipeline[],
  options: { signal?: AbortSignal },
): Promise<void> {
  const names = new Set(pipelines.map((pipeline) => pipeline.name));
  for (const pipeline of names) await runtime.kept?.remove(pipeline);
  const ours = (await runtime.jobs.list()).filter(
    (job) => ACTIVE_STATES.includes(job.state) && names.has(parseJobName(job.name)?.pipeline ?? ''),
  );
  for (const job of ours) await runtime.jobs.cancel(job.id);
  for (const job of ours) await runtime.jobs.waitEnded(job.id, { signal: options.signal });
  await runtime.prune?.();
}
