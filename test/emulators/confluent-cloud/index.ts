export { startConfluentCloudEmulator } from './server.js';
export type {
  EmulatorOptions,
  RunningEmulator,
  KsqlBackend,
  KafkaBackendOptions,
  ConnectBackendOptions,
} from './server.js';
export type { FaultRule, FaultSettings } from './faults.js';
export { checkExchangeLog } from './contract.js';
export { loadOpenApiSpecs } from './openapi.js';
export { openApiDir, repoRoot } from './spec-location.js';
export { REALISTIC_DURATIONS } from './state.js';
