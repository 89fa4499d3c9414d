import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isClassifiedError } from '../core/errors.js';
import type { Clock } from '../core/waiter.js';
import { writeFileAtomic } from '../core/fs-atomic.js';
import { FlinkGateway } from '../flink-client/gateway.js';
import { ACTIVE_STATES, FlinkJobs } from '../flink-client/jobs.js';
import { submitJob, type JobSubmission } from '../flink-client/submit.js';
import { stackPaths, type StackPaths, type StackSettings } from './settings.js';

/**
 * A job the local Flink keeps running across restarts. A session cluster without high availability forgets its
 * jobs when the JobManager stops; the stack remembers each one here (what to submit, and the job that runs it), takes
 * a savepoint of it before stopping, and submits it again on start from its newest savepoint or checkpoint.
 */
export interface KeptJob extends JobSubmission {
  /** The pipeline it runs, e.g. job_status. */
  pipeline: string;
  /** The Flink job running it now, or last. */
  jobId: string;
  /** Taken when the stack stopped the job; the next start restores from it. */
  savepoint?: string;
}

interface KeptJobsFile {
  format: 1;
  jobs: Record<string, KeptJob>;
}

export class KeptJobs {
  constructor(private readonly paths: StackPaths) {}

  async all(): Promise<KeptJob[]> {
    return Object.values((await this.read()).jobs);
  }

  async get(pipeline: string): Promise<KeptJob | undefined> {
    return (await this.read()).jobs[pipeline];
  }

  async put(job: KeptJob): Promise<void> {
    const file = await this.read();
    file.jobs[job.pipeline] = job;
    await this.write(file);
  }

  async remove(pipeline: string): Promise<void> {
    const file = await this.read();
    if (!(pipeline in file.jobs)) return;
    delete file.jobs[pipeline];
    await this.write(file);
  }

  private async read(): Promise<KeptJobsFile> {
    try {
      const parsed = JSON.parse(await readFile(this.paths.flinkJobs, 'utf8')) as KeptJobsFile;
      return parsed.format === 1 && parsed.jobs ? parsed : { format: 1, jobs: {} };
    } catch {
      return { format: 1, jobs: {} };
    }
  }

  private async write(file: KeptJobsFile): Promise<void> {
    await writeFileAtomic(this.paths.flinkJobs, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  }
}

/** Savepoints the stack takes for kept jobs: apart from any a user takes, so retention only ever deletes its own. */
export const keptSavepoints = (paths: StackPaths) => join(paths.flinkSavepoints, 'kept');

function clients(
  settings: StackSettings,
  signal?: AbortSignal,
  clock?: Clock,
): { gateway: FlinkGateway; jobs: FlinkJobs } {
  return {
    gateway: new FlinkGateway({ url: `http://127.0.0.1:${settings.ports.flinkGateway}`, signal, clock }),
    jobs: new FlinkJobs({ url: `http://127.0.0.1:${settings.ports.flink}`, signal, clock }),
  };
}

/**
 * Where a kept job resumes from: the newer of the savepoint taken when it was stopped and the newest checkpoint its
 * last job completed (a crash leaves only checkpoints). Undefined when it has neither.
 */
export async function restorePoint(paths: StackPaths, job: KeptJob): Promise<string | undefined> {
  const candidates: { path: string; at: number }[] = [];
  const metadataTime = async (dir: string) =>
    stat(join(dir, '_metadata')).then(
      (s) => s.mtimeMs,
      () => undefined,
    );
  if (job.savepoint) {
    const at = await metadataTime(fileURLToPath(job.savepoint));
    if (at !== undefined) candidates.push({ path: job.savepoint, at });
  }
  const jobDir = join(paths.flinkCheckpoints, job.jobId);
  const checkpoints = await readdir(jobDir).catch(() => [] as string[]);
  for (const name of checkpoints.filter((entry) => /^chk-\d+$/.test(entry))) {
    const at = await metadataTime(join(jobDir, name));
    if (at !== undefined) candidates.push({ path: `file://${join(jobDir, name)}`, at });
  }
  candidates.sort((a, b) => b.at - a.at);
  return candidates[0]?.path;
}

/** The names of the jobs the JobManager has in an active state, with their ids. */
async function activeJobs(jobs: FlinkJobs): Promise<Map<string, string>> {
  const listed = await jobs.list();
  return new Map(listed.filter((job) => ACTIVE_STATES.includes(job.state)).map((job) => [job.name, job.id]));
}

/**
 * Submits a job for the stack to keep: from its newest restore point when it has run before (`jobId` set), from the
 * start otherwise; records the job that runs it now.
 */
export async function runKeptJob(
  settings: StackSettings,
  job: Omit<KeptJob, 'jobId' | 'restoreFrom'> & { jobId?: string },
  signal?: AbortSignal,
  clock?: Clock,
): Promise<{ jobId: string; restoredFrom?: string }> {
  const paths = stackPaths(settings.home);
  const { gateway, jobs } = clients(settings, signal, clock);
  const from = job.jobId ? await restorePoint(paths, { ...job, jobId: job.jobId }) : undefined;
  // What it restored from last time is of no use now: `from` is the newest point.
  const { savepoint: _used, jobId: _previous, restoreFrom: _old, ...submission } = job as KeptJob;
  const jobId = await submitJob(gateway, jobs, { ...submission, ...(from ? { restoreFrom: from } : {}) }, { signal });
  await new KeptJobs(paths).put({ ...submission, jobId, ...(from ? { restoreFrom: from } : {}) });
  return { jobId, ...(from ? { restoredFrom: from } : {}) };
}

/** After the gateway starts: every kept job that is not running is submitted again. Returns what it did. */
export async function resumeKeptJobs(
  settings: StackSettings,
  signal: AbortSignal,
  clock?: Clock,
): Promise<string | undefined> {
  const paths = stackPaths(settings.home);
  const kept = new KeptJobs(paths);
  const { jobs } = clients(settings, signal, clock);
  const active = await activeJobs(jobs);
  const resumed: string[] = [];
  for (const job of await kept.all()) {
    const running = active.get(job.name);
    if (running) {
      if (running !== job.jobId) await kept.put({ ...job, jobId: running });
      continue;
    }
    const { restoredFrom } = await runKeptJob(settings, job, signal, clock);
    resumed.push(`${job.pipeline} (${restoredFrom ? `from ${basename(restoredFrom)}` : 'from the start'})`);
  }
  await pruneFlinkState(settings);
  return resumed.length > 0 ? `resumed Flink jobs ${resumed.join(', ')}` : undefined;
}

/**
 * Before the TaskManager stops: each kept job that runs is stopped with a savepoint (its Kafka transactions
 * committed), so the next start resumes exactly where it stopped. A job that cannot take one resumes from its last
 * checkpoint instead.
 */
export async function savepointKeptJobs(settings: StackSettings): Promise<string | undefined> {
  const paths = stackPaths(settings.home);
  const kept = new KeptJobs(paths);
  const { jobs } = clients(settings);
  const active = await activeJobs(jobs);
  const outcomes = await Promise.all(
    (await kept.all()).map(async (job) => {
      const id = active.get(job.name);
      if (!id) return undefined;
      try {
        const savepoint = await jobs.stopWithSavepoint(id, {
          targetDirectory: `file://${keptSavepoints(paths)}`,
          timeoutMs: 60_000,
        });
        await kept.put({ ...job, jobId: id, savepoint });
        return `${job.pipeline} saved`;
      } catch (error) {
        if (!isClassifiedError(error)) throw error;
        return `${job.pipeline}: no savepoint (${error.message}); it resumes from its last checkpoint`;
      }
    }),
  );
  const said = outcomes.filter((outcome) => outcome !== undefined);
  return said.length > 0 ? `Flink jobs stopped with a savepoint: ${said.join('; ')}` : undefined;
}

/**
 * Retention: keeps the checkpoints of running and kept jobs and the savepoints and checkpoints kept jobs restore
 * from; deletes the rest (cancelled and replaced jobs leave their last checkpoint behind). Savepoints a user took
 * (outside savepoints/kept) are theirs to delete.
 */
export async function pruneFlinkState(settings: StackSettings): Promise<void> {
  const paths = stackPaths(settings.home);
  const { jobs } = clients(settings);
  const kept = await new KeptJobs(paths).all();
  const active = [...(await activeJobs(jobs)).values()];
  const referenced = kept.flatMap((job) => [job.savepoint, job.restoreFrom].filter((p) => p !== undefined));
  const keepDirs = new Set([...kept.map((job) => job.jobId), ...active]);
  for (const entry of await readdir(paths.flinkCheckpoints).catch(() => [] as string[])) {
    const dir = join(paths.flinkCheckpoints, entry);
    if (keepDirs.has(entry) || referenced.some((path) => fileURLToPath(path).startsWith(`${dir}/`))) continue;
    await rm(dir, { recursive: true, force: true });
  }
  for (const entry of await readdir(keptSavepoints(paths)).catch(() => [] as string[])) {
    const dir = join(keptSavepoints(paths), entry);
    if (referenced.some((path) => fileURLToPath(path).replace(/\/$/, '') === dir)) continue;
    await rm(dir, { recursive: true, force: true });
  }
}
