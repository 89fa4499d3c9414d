export { FlinkConnectionError, FlinkError, FlinkStatementError, rootCauseOf, type RootCause } from './errors.js';
export {
  FlinkGateway,
  FlinkOperation,
  FlinkSession,
  type GatewayInfo,
  type ResultColumn,
  type ResultRow,
  type RowKind,
  type StatementResult,
} from './gateway.js';
export { ACTIVE_STATES, FlinkJobs, type CheckpointInfo, type JobState, type JobSummary } from './jobs.js';
export { splitFlinkScript } from './script.js';
export { submitJob, waitUntilRunning, type JobSubmission } from './submit.js';
