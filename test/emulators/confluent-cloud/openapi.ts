import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { FormatsPlugin } from 'ajv-formats';
import { parse } from 'yaml';

// ajv-formats is CommonJS whose default export NodeNext types do not see as callable.
const addFormats = createRequire(import.meta.url)('ajv-formats') as FormatsPlugin;

/** The spec files the demo's APIs live in (api-keys are in apikeys-v2, role bindings in mds-v2). */
export const SPEC_FILES = [
  'org-v2',
  'cmk-v2',
  'iam-v2',
  'apikeys-v2',
  'mds-v2',
  'ksql-v2',
  'connect-v1',
  'kafkarest-v3',
  'srcm-v3',
  'schema-registry-v1',
  'flink-v2',
  'flink-gateway-v1',
] as const;

type Json = Record<string, unknown>;
type Direction = 'request' | 'response';

export interface SpecParameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Json;
}

export interface SpecOperation {
  spec: string;
  operationId: string;
  method: string;
  template: string;
  /** Query parameters a path key like `/connectors?expand=…` demands (connect/v1 lists expanded views this way). */
  impliedQuery: string[];
  parameters: SpecParameter[];
  requestBody?: { required: boolean; content: Record<string, { schema?: Json }> };
  responses: Record<string, { content?: Record<string, { schema?: Json }> }>;
  regex: RegExp;
  paramNames: string[];
  literalLength: number;
}

export interface Violation {
  where: string;
  message: string;
}

/**
 * A spec file as JSON. Parsing the YAML (about 1.7 MB) takes seconds on a busy machine, and every test file starts
 * its own emulator, so the parsed document is kept in the temp directory, keyed by the YAML's content hash.
 */
function readSpec(path: string): Json {
  const text = readFileSync(path, 'utf8');
  const cacheDir = join(tmpdir(), 'marketplace-openapi-json');
  const cached = join(cacheDir, `${createHash('sha256').update(text).digest('hex')}.json`);
  try {
    return JSON.parse(readFileSync(cached, 'utf8')) as Json;
  } catch {
    const doc = parse(text) as Json;
    try {
      mkdirSync(cacheDir, { recursive: true });
      // Written aside, then renamed: emulators starting at the same moment never read half a file.
      const partial = `${cached}.${process.pid}.${Date.now()}`;
      writeFileSync(partial, JSON.stringify(doc));
      renameSync(partial, cached);
    } catch {
      // No cache then; the next start parses the YAML again.
    }
    return doc;
  }
}

/**
 * The official specs, loaded once, with request and response validators compiled on demand. OpenAPI 3.0 differs
 * from JSON Schema in two ways that matter here: `required` lists readOnly fields (which clients must not be asked
 * for) and writeOnly fields (which servers never return); each direction gets a copy of the components with those
 * names removed from `required`.
 */
export class OpenApiSpecs {
  readonly operations: SpecOperation[] = [];
  private readonly ajv: Ajv;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(readonly dir: string) {
    this.ajv = new Ajv({
      strict: false,
      unicodeRegExp: false,
      allErrors: true,
      validateFormats: true,
      discriminator: false,
    });
    addFormats(this.ajv);
    for (const name of ['int32', 'int64', 'float', 'double', 'byte', 'binary', 'password'])
      this.ajv.addFormat(name, true);
    for (const file of SPEC_FILES) {
      const doc = readSpec(join(dir, `${file}.yaml`));
      applyErrata(file, doc);
      for (const direction of ['request', 'response'] as const) {
        this.ajv.addSchema(
          { components: adaptComponents((doc['components'] ?? {}) as Json, direction) },
          `${file}/${direction}`,
        );
      }
      this.indexOperations(file, doc);
    }
    // Literal segments win over parameters: /acls:batch before /acls/{x}, /topics/-/configs before /topics/{name}.
    this.operations.sort((a, b) => b.literalLength - a.literalLength || b.impliedQuery.length - a.impliedQuery.length);
  }

  /** The operation for a request, or undefined; `pathExists` tells a wrong method from an unknown path. */
  match(
    method: string,
    pathname: string,
    query: URLSearchParams,
  ): { op?: SpecOperation; params: Record<string, string>; pathExists: boolean } {
    let pathExists = false;
    for (const op of this.operations) {
      const found = op.regex.exec(pathname);
      if (!found) continue;
      pathExists = true;
      if (op.method !== method.toLowerCase()) continue;
      if (op.impliedQuery.some((name) => !query.has(name))) continue;
      const params: Record<string, string> = {};
      for (const [i, name] of op.paramNames.entries()) params[name] = decodeURIComponent(found[i + 1]!);
      return { op, params, pathExists };
    }
    return { params: {}, pathExists };
  }

  /** Path and query parameters (coerced from strings as the spec's types say) and the JSON body. */
  validateRequest(
    op: SpecOperation,
    input: {
      params: Record<string, string>;
      query: URLSearchParams;
      contentType?: string;
      body: unknown;
      rawBody: string;
    },
  ): Violation[] {
    const violations: Violation[] = [];
    const declared = new Set<string>();
    for (const parameter of op.parameters) {
      if (parameter.in !== 'path' && parameter.in !== 'query') continue;
      const schema = parameter.schema ?? {};
      const resolved = this.resolveSchema(op.spec, schema);
      const isArray = resolved['type'] === 'array';
      let value: unknown;
      if (parameter.in === 'path') value = input.params[parameter.name];
      else {
        declared.add(parameter.name);
        const values = input.query.getAll(parameter.name);
        if (values.length === 0) value = undefined;
        else if (isArray)
          value = values
            .flatMap((v) => v.split(','))
            .map((v) => coerce(v, (resolved['items'] as Json | undefined)?.['type']));
        else if (values.length > 1) {
          violations.push({ where: `query ${parameter.name}`, message: 'given more than once' });
          continue;
        } else value = coerce(values[0]!, resolved['type']);
      }
      if (value === undefined) {
        if (parameter.required) violations.push({ where: `${parameter.in} ${parameter.name}`, message: 'is required' });
        continue;
      }
      const validate = this.validator(op.spec, 'request', schema);
      if (!validate(value)) violations.push(...describe(`${parameter.in} ${parameter.name}`, validate.errors));
    }
    for (const name of new Set(input.query.keys())) {
      if (!declared.has(name) && !op.impliedQuery.includes(name)) {
        violations.push({ where: `query ${name}`, message: `is not a parameter of ${op.operationId}` });
      }
    }
    const requestBody = op.requestBody;
    const hasBody = input.rawBody.trim().length > 0;
    if (!requestBody) {
      if (hasBody) violations.push({ where: 'body', message: `${op.operationId} takes no request body` });
      return violations;
    }
    if (!hasBody) {
      if (requestBody.required) violations.push({ where: 'body', message: 'is required' });
      return violations;
    }
    const mediaType = (input.contentType ?? '').split(';')[0]!.trim().toLowerCase();
    const media = requestBody.content[mediaType];
    if (!media) {
      violations.push({
        where: 'header Content-Type',
        message: `must be one of ${Object.keys(requestBody.content).join(', ')}`,
      });
      return violations;
    }
    if (media.schema) {
      const validate = this.validator(op.spec, 'request', media.schema);
      if (!validate(input.body)) violations.push(...describe('body', validate.errors));
    }
    return violations;
  }

  /** Whether a response is one the spec documents for this operation, with a body of the documented schema. */
  validateResponse(
    op: SpecOperation,
    status: number,
    contentType: string | undefined,
    body: unknown,
    rawBody: string,
  ): Violation[] {
    const documented =
      op.responses[String(status)] ?? op.responses[`${String(status)[0]}XX`] ?? op.responses['default'];
    if (!documented) {
      return [
        {
          where: 'status',
          message: `${status} is not a documented response of ${op.operationId} (${Object.keys(op.responses).join(', ')})`,
        },
      ];
    }
    if (!documented.content) {
      return [];
    }
    if (rawBody.trim().length === 0) {
      return [
        {
          where: 'body',
          message: `${status} of ${op.operationId} must have a body (${Object.keys(documented.content).join(', ')})`,
        },
      ];
    }
    const mediaType = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
    const media = documented.content[mediaType];
    if (!media)
      return [
        {
          where: 'header Content-Type',
          message: `${mediaType || 'none'} is not documented for ${status} (${Object.keys(documented.content).join(', ')})`,
        },
      ];
    if (!media.schema) return [];
    const validate = this.validator(op.spec, 'response', media.schema);
    return validate(body) ? [] : describe('body', validate.errors);
  }

  /** The error body schema a status is documented with, by component name (Failure, Error, connect.v1.ConnectorError…). */
  errorSchemaName(op: SpecOperation, status: number): string | undefined {
    const documented = op.responses[String(status)] ?? op.responses[`${String(status)[0]}XX`];
    const schema = documented?.content?.['application/json']?.schema;
    const ref = schema?.['$ref'];
    return typeof ref === 'string' ? ref.split('/').pop() : undefined;
  }

  private validator(spec: string, direction: Direction, schema: Json): ValidateFunction {
    const key = `${spec}/${direction}/${JSON.stringify(schema)}`;
    const cached = this.compiled.get(key);
    if (cached) return cached;
    const validate = this.ajv.compile(rebase(adaptSchema(schema, direction), `${spec}/${direction}`));
    this.compiled.set(key, validate);
    return validate;
  }

  private resolveSchema(spec: string, schema: Json): Json {
    const ref = schema['$ref'];
    if (typeof ref !== 'string') return schema;
    const resolved = this.ajv.getSchema(`${spec}/request${ref}`)?.schema;
    return (resolved && typeof resolved === 'object' ? resolved : {}) as Json;
  }

  private indexOperations(spec: string, doc: Json): void {
    const components = (doc['components'] ?? {}) as Json;
    for (const [key, item] of Object.entries((doc['paths'] ?? {}) as Record<string, Json>)) {
      const [template, impliedQueryString] = key.split('?') as [string, string | undefined];
      const impliedQuery = impliedQueryString ? [...new URLSearchParams(impliedQueryString).keys()] : [];
      const shared = (item['parameters'] ?? []) as Json[];
      for (const [method, raw] of Object.entries(item)) {
        if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
        const operation = raw as Json;
        const paramNames: string[] = [];
        const pattern = template
          .replace(/[.*+?^$()|[\]\\]/g, '\\$&')
          .replace(/\\?\{([^}]+)\\?\}|\{([^}]+)\}/g, (_m, a, b) => {
            paramNames.push(a ?? b);
            return '([^/]+)';
          });
        const parameters = [...shared, ...((operation['parameters'] ?? []) as Json[])].map(
          (p) => deref(components, p, 'parameters') as unknown as SpecParameter,
        );
        const requestBody = operation['requestBody']
          ? (deref(components, operation['requestBody'] as Json, 'requestBodies') as SpecOperation['requestBody'])
          : undefined;
        const responses: SpecOperation['responses'] = {};
        for (const [code, response] of Object.entries((operation['responses'] ?? {}) as Record<string, Json>)) {
          const documented = deref(components, response, 'responses') as SpecOperation['responses'][string];
          responses[code] = documented.content
            ? { ...documented, content: withBareMediaTypes(documented.content) }
            : documented;
        }
        this.operations.push({
          spec,
          operationId: String(operation['operationId']),
          method,
          template,
          impliedQuery,
          parameters,
          requestBody: requestBody
            ? { required: !!requestBody.required, content: requestBody.content ?? {} }
            : undefined,
          responses,
          regex: new RegExp(`^${pattern}$`),
          paramNames,
          literalLength: template.replace(/\{[^}]+\}/g, '').length,
        });
      }
    }
  }
}

const loaded = new Map<string, OpenApiSpecs>();

/** Parsing the specs takes a second or two: one copy per process. */
export function loadOpenApiSpecs(dir: string): OpenApiSpecs {
  let specs = loaded.get(dir);
  if (!specs) {
    specs = new OpenApiSpecs(dir);
    loaded.set(dir, specs);
  }
  return specs;
}

/**
 * Mistakes in the official specs that the real service does not make, each corrected where it is, and explained.
 * flink-gateway-v1: sql.v1.StatementResult lists `data` as required, but defines (and the service answers, and
 * Confluent's CLI reads) the rows under `results.data`, a top-level `data` being in neither; and the statement
 * answers require a `spec.statement_name` that sql.v1.StatementSpec does not define (the name is `name`).
 */
function applyErrata(file: string, doc: Json): void {
  if (file !== 'flink-gateway-v1') return;
  const schemas = ((doc['components'] as Json | undefined)?.['schemas'] ?? {}) as Record<string, Json>;
  const result = schemas['sql.v1.StatementResult'];
  if (Array.isArray(result?.['required']))
    result['required'] = (result['required'] as string[]).filter((name) => name !== 'data');
  const dropUndefinedName = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) dropUndefinedName(item);
      return;
    }
    if (!node || typeof node !== 'object') return;
    const object = node as Json;
    const properties = object['properties'] as Json | undefined;
    if (Array.isArray(object['required']) && !properties?.['statement_name'])
      object['required'] = (object['required'] as string[]).filter((name) => name !== 'statement_name');
    for (const value of Object.values(object)) dropUndefinedName(value);
  };
  dropUndefinedName(doc['paths']);
}

/**
 * Schema Registry documents its answers under media types with a quality parameter (`application/json; qs=0.5`,
 * for content negotiation); an answer carries the type alone, so each is indexed under its bare name too.
 */
function withBareMediaTypes<T>(content: Record<string, T>): Record<string, T> {
  const indexed: Record<string, T> = { ...content };
  for (const [type, media] of Object.entries(content)) {
    const bare = type.split(';')[0]!.trim().toLowerCase();
    indexed[bare] ??= media;
  }
  return indexed;
}

function deref(components: Json, value: Json, kind: string): Json {
  const ref = value['$ref'];
  if (typeof ref !== 'string' || !ref.startsWith(`#/components/${kind}/`)) return value;
  const name = ref.slice(`#/components/${kind}/`.length);
  return {
    ...((components[kind] as Json)?.[name] as Json),
    ...Object.fromEntries(Object.entries(value).filter(([k]) => k !== '$ref')),
  };
}

/** Local refs (#/components/…) point into the direction's copy of that spec's components. */
function rebase(schema: Json, base: string): Json {
  return JSON.parse(JSON.stringify(schema), (key, value) =>
    key === '$ref' && typeof value === 'string' && value.startsWith('#/') ? `${base}${value}` : value,
  );
}

function adaptComponents(components: Json, direction: Direction): Json {
  return adaptSchema(components, direction);
}

/** Removes readOnly (request) or writeOnly (response) properties from `required`, everywhere in a schema tree. */
function adaptSchema<T>(node: T, direction: Direction): T {
  if (Array.isArray(node)) return node.map((item) => adaptSchema(item, direction)) as T;
  if (!node || typeof node !== 'object') return node;
  // OpenAPI 3.0 writes "this may also be null" as allOf: [X, {nullable: true}], which JSON Schema cannot read.
  const original = node as Json;
  if (Array.isArray(original['allOf']) && (original['allOf'] as Json[]).some(isBareNullable)) {
    const { allOf, ...rest } = original;
    const parts = (allOf as Json[]).filter((part) => !isBareNullable(part));
    return adaptSchema({ ...rest, anyOf: [{ type: 'null' }, { allOf: parts }] }, direction) as T;
  }
  const copy: Json = {};
  for (const [key, value] of Object.entries(original)) {
    if (key === 'discriminator' || key === 'example' || key === 'examples' || key.startsWith('x-')) continue;
    copy[key] = adaptSchema(value, direction);
  }
  if (copy['nullable'] === true && copy['type'] === undefined) delete copy['nullable'];
  const properties = copy['properties'] as Record<string, Json> | undefined;
  if (Array.isArray(copy['required']) && properties) {
    const skip = direction === 'request' ? 'readOnly' : 'writeOnly';
    copy['required'] = (copy['required'] as string[]).filter((name) => properties[name]?.[skip] !== true);
  }
  return copy as T;
}

function isBareNullable(schema: Json): boolean {
  return schema['nullable'] === true && schema['type'] === undefined && schema['$ref'] === undefined;
}

function coerce(value: string, type: unknown): unknown {
  if (type === 'integer' || type === 'number') return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  if (type === 'boolean') return value === 'true' ? true : value === 'false' ? false : value;
  return value;
}

function describe(where: string, errors: ErrorObject[] | null | undefined): Violation[] {
  return (errors ?? []).slice(0, 5).map((error) => ({
    where: `${where}${error.instancePath}`,
    message: `${error.message ?? 'is invalid'}${error.params && 'allowedValues' in error.params ? ` (${(error.params.allowedValues as unknown[]).join(', ')})` : ''}`,
  }));
}
