import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { OperationError } from '../core/errors.js';
import { INPUT_TOPICS, type InputTopic, type JobCreated, type JobLocation, type VehiclePosition } from './records.js';

/** templates/schemas: one JSON Schema per input topic's value, the data contract registered as `<topic>-value`. */
export const SCHEMAS_DIR = new URL('../../templates/schemas/', import.meta.url);

export type JsonSchema = Record<string, unknown> & { properties?: Record<string, unknown> };
export type Contracts = Record<InputTopic, JsonSchema>;

/** The contract of each input topic, as shipped in templates/schemas. */
export function loadContracts(dir: URL = SCHEMAS_DIR): Contracts {
  return Object.fromEntries(
    INPUT_TOPICS.map((topic) => [topic, JSON.parse(readFileSync(new URL(`${topic}.json`, dir), 'utf8')) as JsonSchema]),
  ) as Contracts;
}

export const CONTRACT_VIOLATION_HINT =
  'This is a bug in the record generators of `marketplace produce`: report this line, with the --seed of the run.';

/** A record the generators made does not satisfy its topic's contract: a bug in produce, so it is never sent. */
export class ContractViolation extends OperationError {
  constructor(
    readonly topic: InputTopic,
    problems: string,
    record: string,
  ) {
    super(`a ${topic} record breaks its contract (templates/schemas/${topic}.json): ${problems}; not sent: ${record}`, {
      hint: CONTRACT_VIOLATION_HINT,
    });
    this.name = 'ContractViolation';
  }
}

/**
 * Checks every record against its topic's contract before it is sent, at a cost the hot path can carry. A value is
 * put together from pieces made once (per customer, service option and contractor, date) and a few numbers that
 * change with every record, so a record containing a piece made for the first time is parsed and checked whole
 * against the schema; any other record only differs from one already checked in those numbers, and those are
 * checked against the schema's own rules for them (a validator compiled from the schema's properties for those
 * fields alone). Truck reports are few and made whole each time, so each is checked whole.
 */
export class ContractGuard {
  private readonly whole: Record<InputTopic, ValidateFunction>;
  private readonly jobCreatedNumbers: ValidateFunction;
  private readonly orderNumbers: ValidateFunction;
  private readonly jobLocationNumbers: ValidateFunction;
  /** Reused for each order's numbers: orders exist as numbers only until they are encoded. */
  private readonly order = { job_id: 0, price_quoted: 0 };
  /** Records checked whole, for tests and --verbose. */
  wholeChecks = 0;

  constructor(contracts: Contracts = loadContracts()) {
    const ajv = new Ajv({ allErrors: true, strict: true });
    this.whole = Object.fromEntries(INPUT_TOPICS.map((topic) => [topic, ajv.compile(contracts[topic])])) as Record<
      InputTopic,
      ValidateFunction
    >;
    const fields = (topic: InputTopic, names: string[]) =>
      ajv.compile({
        type: 'object',
        properties: Object.fromEntries(names.map((name) => [name, propertyOf(contracts[topic], topic, name)])),
        required: names,
      });
    this.jobCreatedNumbers = fields('job_created', ['job_id', 'price']);
    this.orderNumbers = fields('order_placed', ['job_id', 'price_quoted']);
    this.jobLocationNumbers = fields('joblocation', ['REPORTING_TIME']);
  }

  /** Parses a value as it will be sent (UTF-8 JSON in bytes[from, to)) and checks it against the whole contract. */
  wholeRecord(topic: InputTopic, bytes: Buffer, from: number, to: number): void {
    this.wholeChecks++;
    const text = bytes.toString('utf8', from, to);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new ContractViolation(topic, `not JSON (${(error as Error).message})`, text);
    }
    const validate = this.whole[topic];
    if (!validate(value)) throw new ContractViolation(topic, describe(validate.errors), text);
  }

  jobCreated(value: JobCreated): void {
    if (!this.jobCreatedNumbers(value)) fail('job_created', this.jobCreatedNumbers, value);
  }

  orderPlaced(jobId: number, priceQuoted: number): void {
    const order = this.order;
    order.job_id = jobId;
    order.price_quoted = priceQuoted;
    if (!this.orderNumbers(order)) fail('order_placed', this.orderNumbers, order);
  }

  jobLocation(value: JobLocation): void {
    if (!this.jobLocationNumbers(value)) fail('joblocation', this.jobLocationNumbers, value);
  }

  truckPosition(value: VehiclePosition): void {
    this.wholeChecks++;
    const validate = this.whole.tradie_truck_location;
    if (!validate(value)) fail('tradie_truck_location', validate, value);
  }
}

/** Also for the copy a producer thread reports, which keeps the name and message only. */
export function isContractViolation(error: unknown): error is Error {
  return error instanceof Error && error.name === 'ContractViolation';
}

function propertyOf(schema: JsonSchema, topic: InputTopic, name: string): unknown {
  const property = schema.properties?.[name];
  if (property === undefined) throw new Error(`templates/schemas/${topic}.json has no property ${name}`);
  return property;
}

function fail(topic: InputTopic, validate: ValidateFunction, value: unknown): never {
  throw new ContractViolation(topic, describe(validate.errors), JSON.stringify(value));
}

function describe(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .slice(0, 3)
    .map((error) => `${error.instancePath || '(the value)'} ${error.message ?? 'is invalid'}`)
    .join(', ');
}
