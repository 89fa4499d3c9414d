import { OperationError } from '../core/errors.js';
import type { HttpCore, QueryValue } from './http.js';
import type { ListResponse } from './types.js';

const PAGE_SIZE = 100;

/**
 * Every item of a v2 list, following `metadata.next` to the end. The token is taken out of the next link and sent
 * to our own base URL (as Terraform does), so a proxy or emulator answering under another host name still works.
 */
export async function listAll<T>(http: HttpCore, path: string, query: Record<string, QueryValue> = {}): Promise<T[]> {
  const items: T[] = [];
  let pageToken: string | undefined;
  const seen = new Set<string>();
  for (;;) {
    const page = await http.request<ListResponse<T>>({
      method: 'GET',
      path,
      query: pageToken === undefined ? { ...query, page_size: PAGE_SIZE } : { ...query, page_token: pageToken },
    });
    items.push(...(page.data.data ?? []));
    pageToken = pageTokenOf(page.data.metadata?.next);
    if (pageToken === undefined) return items;
    if (seen.has(pageToken)) {
      throw new OperationError(`${path}: the Cloud API returned the same page token twice`, {
        hint: 'Run the command again; if it keeps happening, the listing is broken on the service side.',
      });
    }
    seen.add(pageToken);
  }
}

export function pageTokenOf(next: string | null | undefined): string | undefined {
  if (!next) return undefined;
  try {
    return new URL(next, 'http://placeholder').searchParams.get('page_token') ?? undefined;
  } catch {
    return undefined;
  }
}
