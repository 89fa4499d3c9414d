import type { JobCreated, JobLocation, OrderPlaced, VehiclePosition } from './records.js';

/**
 * The JSON text of each record value, the same characters JSON.stringify writes (same key order; strings quoted
 * by JSON.stringify), but assembled by hand: the generic serializer walks each object's shape and was the largest
 * single cost of generating records at full speed. Numbers here are always finite, where the two agree.
 */
const quote = JSON.stringify;

export function jobCreatedJson(v: JobCreated): string {
  return `{"job_id":${v.job_id},"job_start_date":${quote(v.job_start_date)},"job_end_date":${quote(v.job_end_date)},"price":${v.price},"job_status":${quote(v.job_status)}}`;
}

export function orderPlacedJson(v: OrderPlaced): string {
  return `{"job_id":${v.job_id},"customer_id":${quote(v.customer_id)},"service_option":${quote(v.service_option)},"contractor_id":${quote(v.contractor_id)},"location":${quote(v.location)},"price_quoted":${v.price_quoted}}`;
}

export function jobLocationJson(v: JobLocation, prefix = jobLocationPrefix(v)): string {
  return `${prefix}${v.REPORTING_TIME}}`;
}

/** Everything of a joblocation value before its REPORTING_TIME: the same for every job of one customer. */
export function jobLocationPrefix(v: JobLocation): string {
  return `{"CUSTOMERNAME":${quote(v.CUSTOMERNAME)},"EMAIL":${quote(v.EMAIL)},"ADDRESS":${quote(v.ADDRESS)},"DEST_LAT":${v.DEST_LAT},"DEST_LONG":${v.DEST_LONG},"REPORTING_TIME":`;
}

export function vehiclePositionJson(v: VehiclePosition): string {
  return `{"JOB_ID":${quote(v.JOB_ID)},"STATE":${quote(v.STATE)},"LAT":${v.LAT},"LONG":${v.LONG}}`;
}
