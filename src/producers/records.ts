/**
 * The four input topics and the exact JSON shapes the ksqlDB statements in templates/ksql read from them.
 * orders_placed / jobs_created use the lower-case names of their CREATE STREAM; joblocation and vehicles use the
 * upper-case names ksqlDB gives their columns (both match: ksqlDB tries the exact name, then the upper-cased one).
 */
export const INPUT_TOPICS = ['job_created', 'order_placed', 'joblocation', 'tradie_truck_location'] as const;
export type InputTopic = (typeof INPUT_TOPICS)[number];

/** Stream `jobs_created`, topic job_created. Record key: the job id as UTF-8 (the stream declares no key). */
export interface JobCreated {
  job_id: number;
  job_start_date: string;
  job_end_date: string;
  price: number;
  job_status: 'Yet To Begin';
}

/** Stream `orders_placed`, topic order_placed. Record key: the job id as UTF-8 (the stream declares no key). */
export interface OrderPlaced {
  job_id: number;
  customer_id: string;
  service_option: string;
  contractor_id: string;
  location: string;
  price_quoted: number;
}

/** Table `joblocation`: key ID = job id as UTF-8 (KAFKA key format), value below. */
export interface JobLocation {
  CUSTOMERNAME: string;
  EMAIL: string;
  ADDRESS: string;
  DEST_LAT: number;
  DEST_LONG: number;
  REPORTING_TIME: number;
}

export type TruckState = 'EN_ROUTE' | 'ARRIVED';

/** Stream `vehicles`, topic tradie_truck_location: key ID = vehicle id as UTF-8, value below. */
export interface VehiclePosition {
  JOB_ID: string;
  STATE: TruckState;
  LAT: number;
  LONG: number;
}

export type RecordValue = JobCreated | OrderPlaced | JobLocation | VehiclePosition;

/**
 * Where generated records go, one call per record as it is made: the key is bytes[0, keyEnd), the JSON value
 * bytes[keyEnd, valueEnd) (UTF-8), the timestamp its event time (epoch ms). The bytes are only valid during the call.
 */
export type RecordSink = (
  topic: InputTopic,
  bytes: Buffer,
  keyEnd: number,
  valueEnd: number,
  timestamp: number,
) => void;

export function isInputTopic(name: string): name is InputTopic {
  return (INPUT_TOPICS as readonly string[]).includes(name);
}
