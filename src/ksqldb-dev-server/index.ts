export { startKsqlDevServer, type KsqlDevServer, type KsqlDevServerOptions } from './server.js';
export { DEV_SERVER_VERSION } from './engine/engine.js';
export type { Authorizer } from './http/handler.js';
