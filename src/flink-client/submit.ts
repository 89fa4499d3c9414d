import { waitFor } from '../core/waiter.js';
import { FlinkError } from './errors.js';
import type { FlinkGateway } from './gateway.js';
import type { FlinkJobs } from './jobs.js';

export interface JobSubmission {
  /** The job's name (pipeline.name): how it is found again. */
  name: string;
  /** CREATE TABLE statements the INSERT needs: a gateway session starts with an empty catalog. */
  tables: string[];
  /** The INSERT that becomes the job. */
  insert: string;
  /** Configuration for the job (SET statements of its template). */
  config?: Record<string, string>;
  /** A savepoint or retained checkpoint to start from (its state and source offsets). */
  restoreFrom?: string;
}

/** How long a job may take from submission until all its tasks run (a busy TaskManager deploys slowly). */
const RUNNING_DEADLINE_MS = 90_000;

/**
 * Submits an INSERT as a named job in a session of its own, and waits until every task runs. A job that fails or
 * restarts instead is cancelled (else it would restart forever in the background) and reported with its cause.
 */
export async function submitJob(
  gateway: FlinkGateway,
  jobs: FlinkJobs,
  submission: JobSubmission,
  options: { signal?: AbortSignal } = {},
): Promise<string> {
  const jobId = await gateway.withSession({ name: submission.name }, async (session) => {
    for (const table of submission.tables) await session.execute(table, { signal: options.signal });
    const result = await session.execute(submission.insert, {
      signal: options.signal,
      config: {
        ...submission.config,
        'pipeline.name': submission.name,
        ...(submission.restoreFrom
          ? {
              'execution.state-recovery.path': submission.restoreFrom,
              // State of operators the changed statement no longer has is dropped rather than refused.
              'execution.state-recovery.ignore-unclaimed-state': 'true',
            }
          : {}),
      },
    });
    if (!result.jobId) throw new FlinkError(`Flink accepted ${submission.name} but named no job for it`);
    return result.jobId;
  });
  await waitUntilRunning(jobs, jobId, submission.name, options.signal);
  return jobId;
}

/** Waits until the job and each of its tasks are RUNNING; cancels it and throws with its cause if it fails. */
export async function waitUntilRunning(
  jobs: FlinkJobs,
  jobId: string,
  name: string,
  signal?: AbortSignal,
): Promise<void> {
  const failed = async (state: string) => {
    const cause = await jobs.lastException(jobId).catch(() => undefined);
    await jobs.cancel(jobId).catch(() => undefined);
    return new FlinkError(`Flink job ${name} ${state.toLowerCase()}: ${cause ?? 'no exception recorded'}`, {
      hint: 'See `marketplace local logs flink-taskmanager`. The job was cancelled.',
    });
  };
  await waitFor(
    async () => {
      const job = await jobs.detail(jobId);
      if (!job) return { done: false, status: 'not listed yet' };
      if (['FAILED', 'FAILING', 'RESTARTING', 'CANCELED', 'CANCELLING', 'FINISHED'].includes(job.state)) {
        throw await failed(job.state === 'RESTARTING' ? 'failed and is restarting' : job.state);
      }
      const waiting = job.vertices.filter((vertex) => vertex.status !== 'RUNNING');
      if (job.state === 'RUNNING' && job.vertices.length > 0 && waiting.length === 0) {
        return { done: true, value: undefined };
      }
      return { done: false, status: `${job.state}, ${waiting.length} of ${job.vertices.length} tasks not running` };
    },
    {
      what: `Flink job ${name} to run`,
      timeoutMs: RUNNING_DEADLINE_MS,
      initialDelayMs: 100,
      maxDelayMs: 1_000,
      clock: jobs.clock,
      signal: signal ?? jobs.http.signal,
      hint: 'The TaskManager may be out of slots or busy: see `marketplace local logs flink-taskmanager`.',
    },
  );
}
