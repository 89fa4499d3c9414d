import { isConfluentApiError } from './errors.js';

/** A get that answers undefined for a resource that is gone (404, or Confluent's 403 for deleted resources). */
export async function orUndefinedIfGone<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (isConfluentApiError(error) && error.isNotFound) return undefined;
    throw error;
  }
}
