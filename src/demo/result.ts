import { OperationError } from '../core/errors.js';

/** What `marketplace demo` reports (also its --json document). */
export interface DemoResult {
  durationMs: number;
  jobs: number;
  jobStatus: { rows: number; accepted: number; rejected: number };
  mongoDocuments: number;
  truckTrackerRows: number;
  kept: boolean;
  stackStartedHere: boolean;
}

export function demoFailed(step: string, error: unknown): OperationError {
  const message = error instanceof Error ? error.message : String(error);
  return new OperationError(`demo: ${step} failed: ${message}`, {
    hint: (error as { hint?: string }).hint ?? 'Run `marketplace doctor --target local` to see what is wrong.',
    cause: error,
  });
}
