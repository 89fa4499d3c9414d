import type { Context } from '../core/context.js';
import { InterruptedError, isClassifiedError, OperationError } from '../core/errors.js';
import { criticalPathMs, type DagResult } from './dag.js';
import { applyResources, destroyResources, planResources, type PlanStep } from './engine.js';
import { ProvisionProgress } from './progress.js';
import type { ProvisionEnvBase } from './resource.js';
import type { ProvisionSession } from './session.js';

export interface ApplySummary {
  target: 'cloud' | 'local';
  nothingToDo: boolean;
  created: string[];
  updated: string[];
  adopted: string[];
  unchanged: string[];
  endpoints: Record<string, string | undefined>;
  sink: boolean;
  wallMs: number;
  /** When each step started and ended, relative to the start of the run (ms). */
  timings: Record<string, { startMs: number; endMs: number }>;
  /** The longest dependency chain weighted by this run's step durations: the floor for wallMs. */
  criticalPathMs: number;
  next: string;
}

export interface DestroySummary {
  target: 'cloud' | 'local';
  deleted: string[];
  notFound: string[];
  kept: string[];
  remaining: string[];
  /** Whether resources missing from state were looked up by name. */
  discovered: boolean;
  wallMs: number;
}

/** `marketplace up` for any target: live progress, and a failure or Ctrl-C reported with what was kept. */
export async function applySession<E extends ProvisionEnvBase>(
  ctx: Context,
  session: ProvisionSession<E>,
  progress: ProvisionProgress,
): Promise<ApplySummary> {
  await progress.start(`Provisioning the demo on ${session.label}`);
  const outcome = await applyResources(session.defs, session.env, session.known, session.recorder, {
    onEvent: progress.onEvent,
  });
  progress.stop();
  throwIfStopped(ctx, session, outcome.dag, {
    interrupted: 'Run `marketplace up` to continue, or `marketplace down` to remove what was made.',
    failed: 'What was made is recorded; run `marketplace up` again to continue.',
  });
  return {
    target: session.target,
    nothingToDo: outcome.created.length + outcome.updated.length + outcome.adopted.length === 0,
    created: outcome.created,
    updated: outcome.updated,
    adopted: outcome.adopted,
    unchanged: outcome.unchanged,
    endpoints: session.endpoints(),
    sink: session.sink,
    wallMs: outcome.dag.wallMs,
    timings: Object.fromEntries(outcome.dag.timings),
    criticalPathMs: criticalPathMs(session.defs, (id) => {
      const timing = outcome.dag.timings.get(id);
      return timing ? timing.endMs - timing.startMs : 0;
    }),
    next: `marketplace produce --rate 50${session.target === 'local' ? ' --target local' : ''}`,
  };
}

export async function planSession<E extends ProvisionEnvBase>(session: ProvisionSession<E>): Promise<PlanStep[]> {
  return planResources(session.defs, session.env, session.known);
}

export async function destroySession<E extends ProvisionEnvBase>(
  ctx: Context,
  session: ProvisionSession<E>,
  progress: ProvisionProgress,
  options: { discover: boolean; keepEnvironment: boolean },
): Promise<DestroySummary> {
  await progress.start(`Tearing down the demo on ${session.label}`);
  const keep = new Set(options.keepEnvironment ? ['environment'] : []);
  session.env.kept = keep;
  const outcome = await destroyResources(session.defs, session.env, session.known, session.recorder, {
    discover: options.discover,
    keep,
    onEvent: progress.onEvent,
  });
  progress.stop();
  throwIfStopped(ctx, session, outcome.dag, {
    interrupted: 'What is not deleted yet is still recorded; run `marketplace down` again to finish.',
    failed: 'What is left is still recorded; run `marketplace down` again.',
  });
  return {
    target: session.target,
    deleted: outcome.deleted,
    notFound: outcome.absent,
    kept: [...keep].filter((id) => session.defs.some((def) => def.id === id)),
    remaining: await session.remaining({ keepEnvironment: options.keepEnvironment, deleted: outcome.deletedRecords }),
    discovered: options.discover,
    wallMs: outcome.dag.wallMs,
  };
}

export function progressFor<E extends ProvisionEnvBase>(
  ctx: Context,
  session: Pick<ProvisionSession<E>, 'defs'>,
  verb: { doing: string; done: string },
): ProvisionProgress {
  return new ProvisionProgress(ctx.out, new Map(session.defs.map((def) => [def.id, def.title])), verb);
}

function throwIfStopped<E extends ProvisionEnvBase>(
  ctx: Context,
  session: ProvisionSession<E>,
  dag: DagResult,
  hints: { interrupted: string; failed: string },
): void {
  if (ctx.signal.aborted) {
    throw new InterruptedError(
      `interrupted; ${Object.keys(session.recorder.all()).length} resources are recorded in ${session.store.path}`,
      { hint: hints.interrupted },
    );
  }
  const failure = dag.failed[0];
  if (!failure) return;
  if (!isClassifiedError(failure.error)) throw failure.error;
  const message = failure.error instanceof Error ? failure.error.message : String(failure.error);
  const hint = (failure.error as { hint?: string }).hint;
  const title = session.defs.find((def) => def.id === failure.id)?.title ?? failure.id;
  throw new OperationError(`${title}: ${message}`, {
    hint: `${hint ? `${hint} ` : ''}${hints.failed}`,
    cause: failure.error,
  });
}
