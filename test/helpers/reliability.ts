import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The hardening suite (test/e2e/hardening) records one result per scenario here; the stack project's teardown
 * (test/setup/reliability-report.ts) turns them into docs/RELIABILITY.md.
 */
export interface ReliabilityResult {
  /** Item number of the hardening issue: 1 broker kill, 2 Connect kill, 3 ksqlDB restart, 4 faulty API, 5 bad input, 6 secrets. */
  item: number;
  scenario: string;
  expectation: string;
  /** What happened, with figures (records acked/found, retries, exit code, message…). */
  observed: string;
  passed: boolean;
}

export const RESULTS_FILE = fileURLToPath(new URL('../../test-results/reliability/results.jsonl', import.meta.url));

export function recordReliability(result: ReliabilityResult): void {
  mkdirSync(dirname(RESULTS_FILE), { recursive: true });
  appendFileSync(RESULTS_FILE, `${JSON.stringify({ ...result, at: new Date().toISOString() })}\n`);
}

/**
 * Runs the assertions, then records the scenario as passed or failed (with the assertion's message) and rethrows,
 * so a failing scenario is both a failed test and a ✗ row in the report.
 */
export async function checkAndRecord(
  result: Omit<ReliabilityResult, 'passed'>,
  assertions: () => void | Promise<void>,
): Promise<void> {
  try {
    await assertions();
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    recordReliability({ ...result, observed: `${result.observed} — FAILED: ${reason}`, passed: false });
    throw error;
  }
  recordReliability({ ...result, passed: true });
}
