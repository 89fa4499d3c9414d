import type { ApiKeyRecord } from './state.js';

export type Caller = { kind: 'cloud'; ownerId: string } | { kind: 'resource'; key: ApiKeyRecord };

export interface Call {
  method: string;
  pathname: string;
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  requestId: string;
  caller: Caller;
  now: number;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (call: Call) => Reply | Promise<Reply>;

/** Which key family a route accepts (mirrors the specs' security schemes). */
export type Auth = 'cloud' | 'kafka-cluster' | 'schema-registry' | 'flink-region';

/** Checks a data-plane key for a route of one auth kind; the module that emulates that data plane provides it. */
export type ResourceAuthenticator = (
  credentials: { key: string; secret: string },
  params: Record<string, string>,
  now: number,
) => Caller;

export interface Route {
  method: string;
  /** Path template as in the specs, e.g. /cmk/v2/clusters/{id}. */
  template: string;
  auth: Auth;
  handler: Handler;
}

interface CompiledRoute extends Route {
  regex: RegExp;
  names: string[];
  literalLength: number;
}

export class Router {
  private readonly routes: CompiledRoute[] = [];

  add(route: Route): void {
    const names: string[] = [];
    const pattern = route.template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([^}]+)\}/g, (_m, name: string) => {
      names.push(name);
      return '([^/]+)';
    });
    this.routes.push({
      ...route,
      regex: new RegExp(`^${pattern}$`),
      names,
      literalLength: route.template.replace(/\{[^}]+\}/g, '').length,
    });
    this.routes.sort((a, b) => b.literalLength - a.literalLength);
  }

  match(
    method: string,
    pathname: string,
  ): { route?: CompiledRoute; params: Record<string, string>; pathExists: boolean } {
    let pathExists = false;
    for (const route of this.routes) {
      const found = route.regex.exec(pathname);
      if (!found) continue;
      pathExists = true;
      if (route.method !== method) continue;
      const params: Record<string, string> = {};
      for (const [i, name] of route.names.entries()) params[name] = decodeURIComponent(found[i + 1]!);
      return { route, params, pathExists };
    }
    return { params: {}, pathExists };
  }
}
