import { readFileSync } from 'node:fs';
import type { OpenApiSpecs } from './openapi.js';
import type { RecordedExchange } from './recorder.js';

/**
 * Answers the real service gives that its spec does not list. Each entry is a deliberate, explained exception.
 * createConnectv1Connector 409: a duplicate connector name; connect/v1 fronts Kafka Connect, which answers 409.
 */
export const UNDOCUMENTED_BUT_REAL: { operationId: string; status: number }[] = [
  { operationId: 'createConnectv1Connector', status: 409 },
  // updateSqlv1Statement 409: its own description says a PUT of a statement changed since it was read answers 409.
  { operationId: 'updateSqlv1Statement', status: 409 },
];

export interface ContractReport {
  checked: number;
  skipped: number;
  violations: string[];
}

/**
 * Replays a recorded exchange log against the specs: each request the client sent must be a valid request of a
 * documented operation, and each answer a documented response of it. Dropped connections have no answer to check;
 * injected faults are checked like any other answer.
 */
export function checkExchangeLog(file: string, specs: OpenApiSpecs): ContractReport {
  const report: ContractReport = { checked: 0, skipped: 0, violations: [] };
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim().length > 0);
  for (const line of lines) {
    const exchange = JSON.parse(line) as RecordedExchange;
    const query = new URLSearchParams(exchange.query);
    const label = `${exchange.method} ${exchange.path}${exchange.query} [${exchange.requestId}]`;
    const { op, params } = specs.match(exchange.method, exchange.path, query);
    if (!op) {
      report.violations.push(`${label}: no operation in the specs`);
      continue;
    }
    report.checked++;
    const requestProblems = specs.validateRequest(op, {
      params,
      query,
      contentType: exchange.request.contentType,
      body: exchange.request.body,
      rawBody: exchange.request.rawBody,
    });
    // A request the emulator rejected on purpose (a test of strictness) is expected to be invalid.
    const rejected = exchange.response.status === 400 || exchange.response.status === 422;
    if (!rejected)
      for (const problem of requestProblems)
        report.violations.push(`${label}: request ${problem.where} ${problem.message}`);
    if (exchange.dropped) {
      report.skipped++;
      continue;
    }
    if (
      UNDOCUMENTED_BUT_REAL.some(
        (known) => known.operationId === op.operationId && known.status === exchange.response.status,
      )
    )
      continue;
    const responseProblems = specs.validateResponse(
      op,
      exchange.response.status,
      exchange.response.contentType,
      exchange.response.body,
      exchange.response.rawBody,
    );
    for (const problem of responseProblems)
      report.violations.push(`${label}: response ${exchange.response.status} ${problem.where} ${problem.message}`);
  }
  return report;
}
