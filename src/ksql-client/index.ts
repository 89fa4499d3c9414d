export {
  KsqlClient,
  type BasicAuth,
  type KsqlClientOptions,
  type QueryResult,
  type StatementOptions,
} from './client.js';
export type * from './entities.js';
export { isEntity, FINAL_COMMAND_STATES } from './entities.js';
export {
  ErrorCode,
  KsqlConnectionError,
  KsqlError,
  KsqlRequestError,
  isKsqlError,
  type AnyKsqlError,
  type KsqlErrorDetails,
} from './errors.js';
export { InsertsStream } from './inserts-stream.js';
export { KsqlRow, StreamedQuery } from './streamed-query.js';
export { applyTemplates, TEMPLATES_DIR, type AppliedStatement, type ApplyResult } from './templates.js';
export { ksqlClientOptions, resolveKsqlTarget, KSQLDB_API_KEY_KIND, type KsqlTarget } from './target.js';
export type { ProtocolPreference, TlsOptions, WireProtocol } from './transport.js';
