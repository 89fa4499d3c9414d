import { readFileSync } from 'node:fs';
import type { OpenApiSpecs } from './openapi.js';
import type { RecordedExchange } from './recorder.js';

/** An answer the real service gives that its spec does not allow. */
export interface KnownDeviation {
  /** What the service does, and where that was seen. */
  why: string;
  matches(answer: { operationId: string; spec: string; status: number; contentType?: string }): boolean;
  /** The body with only the deviation undone, so everything else is still checked; without it, not checked. */
  undo?: (body: unknown) => unknown;
}

const withTypeSink = (status: unknown) =>
  status && typeof status === 'object' && (status as { type?: unknown }).type === 'unknown'
    ? { ...status, type: 'sink' }
    : status;

/** Each entry is a deliberate, explained exception, as narrow as the evidence. */
export const KNOWN_DEVIATIONS: KnownDeviation[] = [
  {
    why: 'a duplicate connector name: connect/v1 fronts Kafka Connect, which answers 409',
    matches: (a) => a.operationId === 'createConnectv1Connector' && a.status === 409,
  },
  {
    why: "Kafka REST answers a key it does not accept with Jetty's HTML 401 page (terraform-provider-confluent testdata)",
    matches: (a) => a.spec === 'kafkarest-v3' && a.status === 401 && /text\/html/i.test(a.contentType ?? ''),
  },
  {
    why: 'a deleted role binding is a 403 {"error_code":40301,…} (terraform-provider-confluent testdata)',
    matches: (a) => /^(get|delete)IamV2RoleBinding$/.test(a.operationId) && a.status === 403,
  },
  {
    why: "a managed connector's status says `type: unknown` (terraform-provider-confluent testdata)",
    matches: (a) => a.operationId === 'readConnectv1ConnectorStatus' && a.status === 200,
    undo: withTypeSink,
  },
  {
    why: 'the expanded connector list says `type: unknown` in each status (terraform-provider-confluent testdata)',
    matches: (a) => a.operationId === 'listConnectv1ConnectorsWithExpansions' && a.status === 200,
    undo: (body) =>
      body && typeof body === 'object'
        ? Object.fromEntries(
            Object.entries(body).map(([name, entry]) => [
              name,
              entry && typeof entry === 'object' && 'status' in entry
                ? { ...entry, status: withTypeSink((entry as { status: unknown }).status) }
                : entry,
            ]),
          )
        : body,
  },
  {
    why: "a PUT of a statement that changed since it was read: updateSqlv1Statement's own description says 409",
    matches: (a) => a.operationId === 'updateSqlv1Statement' && a.status === 409,
  },
];

/** The body to check against the spec, or `skip` when a known deviation exempts the answer. */
export function bodyToCheck(
  answer: { operationId: string; spec: string; status: number; contentType?: string },
  body: unknown,
): { body: unknown } | 'skip' {
  const deviation = KNOWN_DEVIATIONS.find((known) => known.matches(answer));
  if (!deviation) return { body };
  return deviation.undo ? { body: deviation.undo(body) } : 'skip';
}

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
    const checked = bodyToCheck(
      {
        operationId: op.operationId,
        spec: op.spec,
        status: exchange.response.status,
        contentType: exchange.response.contentType,
      },
      exchange.response.body,
    );
    if (checked === 'skip') continue;
    const responseProblems = specs.validateResponse(
      op,
      exchange.response.status,
      exchange.response.contentType,
      checked.body,
      exchange.response.rawBody,
    );
    for (const problem of responseProblems)
      report.violations.push(`${label}: response ${exchange.response.status} ${problem.where} ${problem.message}`);
  }
  return report;
}
