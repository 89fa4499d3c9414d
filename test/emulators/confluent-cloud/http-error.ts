/** Which of Confluent's error layouts an endpoint answers with. */
export type ErrorFamily = 'v2' | 'kafka-rest' | 'connect' | 'schema-registry';

/** Thrown by handlers; the server renders it in the endpoint family's error shape. */
export class EmulatorHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly options: {
      pointer?: string;
      parameter?: string;
      kafkaErrorCode?: number;
      headers?: Record<string, string>;
      /**
       * The layout of Confluent's API gateway, which answers authentication failures and deleted or foreign resources
       * itself: no title, an empty source, and for a 401 no code either.
       */
      gateway?: boolean;
      /** The exact body to answer with, where an endpoint does not use its family's layout (a string is HTML). */
      body?: unknown;
    } = {},
  ) {
    super(message);
  }
}

const V2_TITLES: Record<number, [string, string]> = {
  400: ['bad_request', 'Bad Request'],
  401: ['user_unauthenticated', 'Authentication Required'],
  402: ['quota_exceeded', 'Quota Exceeded'],
  403: ['forbidden_access', 'Forbidden Access'],
  404: ['resource_not_found', 'Resource Not Found'],
  405: ['method_not_allowed', 'Method Not Allowed'],
  409: ['resource_already_exists', 'Resource Already Exists'],
  422: ['invalid_input', 'Validation Failed'],
  429: ['too_many_requests', 'Too Many Requests'],
  500: ['internal_server_error', 'Internal Server Error'],
  502: ['bad_gateway', 'Bad Gateway'],
  503: ['service_unavailable', 'Service Unavailable'],
};

export function v2Code(status: number): string {
  return V2_TITLES[status]?.[0] ?? 'error';
}

export function errorBody(family: ErrorFamily, error: EmulatorHttpError, requestId: string): unknown {
  if (error.options.body !== undefined) return error.options.body;
  switch (family) {
    case 'kafka-rest':
      return { error_code: error.options.kafkaErrorCode ?? error.status, message: error.message };
    case 'connect':
      // connect/v1 answers an unknown connector (or cluster) in the Kafka REST layout, other errors nested.
      return error.status === 404
        ? { error_code: 404, message: error.message }
        : { error: { code: error.status, message: error.message } };
    case 'schema-registry':
      return { error_code: error.options.kafkaErrorCode ?? error.status, message: error.message };
    case 'v2': {
      const source = error.options.pointer
        ? { pointer: error.options.pointer }
        : error.options.parameter
          ? { parameter: error.options.parameter }
          : undefined;
      if (error.options.gateway) {
        return {
          errors: [
            {
              id: requestId.replace(/-/g, ''),
              status: String(error.status),
              ...(error.status === 401 ? {} : { code: error.code }),
              detail: error.message,
              source: source ?? {},
            },
          ],
        };
      }
      return {
        errors: [
          {
            id: requestId,
            status: String(error.status),
            code: error.code,
            title: V2_TITLES[error.status]?.[1] ?? 'Error',
            detail: error.message,
            ...(source ? { source } : {}),
          },
        ],
      };
    }
  }
}

/** The Schema Registry data plane answers at the root of its endpoint. */
const SCHEMA_REGISTRY_PATH =
  /^\/(subjects|schemas|config|mode|compatibility|contexts|clusterconfig|exporters|dek-registry)(\/|$)/;

export function familyOf(pathname: string): ErrorFamily {
  if (pathname.startsWith('/kafka/v3')) return 'kafka-rest';
  if (pathname.startsWith('/connect/v1')) return 'connect';
  if (SCHEMA_REGISTRY_PATH.test(pathname)) return 'schema-registry';
  return 'v2';
}

/** Jetty's error page: what Kafka REST answers a key it does not accept with (terraform-provider-confluent testdata). */
export function jettyUnauthorizedPage(pathname: string): string {
  return `<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>\n<title>Error 401 Unauthorized</title>\n</head>\n<body><h2>HTTP ERROR 401 Unauthorized</h2>\n<table>\n<tr><th>URI:</th><td>${pathname.replace(/[<>&]/g, '')}</td></tr>\n<tr><th>STATUS:</th><td>401</td></tr>\n<tr><th>MESSAGE:</th><td>Unauthorized</td></tr>\n<tr><th>SERVLET:</th><td>default</td></tr>\n</table>\n</body>\n</html>\n`;
}

/** Jetty DoSFilter's page, which is what Kafka REST answers a throttled call with. */
export function jettyTooManyRequestsPage(pathname: string): string {
  return `<html> <head> <meta http-equiv="Content-Type" content="text/html;charset=utf-8"/> <title>Error 429 Too Many Requests</title> </head> <body> <h2>HTTP ERROR 429 Too Many Requests</h2> <table> <tr> <th>URI:</th> <td>${pathname.replace(/[<>&]/g, '')}</td> </tr> <tr> <th>STATUS:</th> <td>429</td> </tr> <tr> <th>MESSAGE:</th> <td>Too Many Requests</td> </tr> </table> </body> </html>`;
}
