import { UserError } from '../core/errors.js';
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

/**
 * After a create whose answer was lost: the object this call made is the one with the name that was not there
 * before. Display names are not unique, so several new ones cannot be told apart, and that is an error naming them.
 */
export function madeByThisCall<T extends { id: string }>(
  what: string,
  displayName: string,
  now: readonly T[],
  before: readonly string[],
): T | undefined {
  const fresh = now.filter((item) => !before.includes(item.id));
  if (fresh.length <= 1) return fresh[0];
  throw new UserError(
    `${fresh.length} ${what}s named "${displayName}" appeared while one was being created (${fresh.map((item) => item.id).join(', ')})`,
    { hint: `Delete the ones that are not yours in the Confluent Cloud console, then run the command again.` },
  );
}
