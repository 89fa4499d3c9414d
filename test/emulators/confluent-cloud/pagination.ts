import { EmulatorHttpError } from './http-error.js';

/** v2 list pagination: page_size (default 10) on the first call, then opaque page_token links in metadata.next. */
export function paginate<T>(
  items: T[],
  query: URLSearchParams,
  selfUrl: string,
  filters: Record<string, string | string[] | undefined>,
): { data: T[]; metadata: { first: string; next?: string; total_size: number } } {
  let offset = 0;
  let pageSize = Number(query.get('page_size') ?? 10);
  const token = query.get('page_token');
  if (token) {
    try {
      const decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { o: number; s: number };
      if (!Number.isInteger(decoded.o) || !Number.isInteger(decoded.s)) throw new Error('bad token');
      offset = decoded.o;
      pageSize = decoded.s;
    } catch {
      throw new EmulatorHttpError(400, 'invalid_page_token', 'The page token is not valid', {
        parameter: 'page_token',
      });
    }
  }
  if (!Number.isInteger(pageSize) || pageSize < 1) {
    throw new EmulatorHttpError(400, 'invalid_page_size', 'page_size must be a positive integer', {
      parameter: 'page_size',
    });
  }
  const link = (params: Record<string, string>) => {
    const url = new URL(selfUrl);
    for (const [name, value] of Object.entries(filters)) {
      if (value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(name, item);
    }
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    return url.toString();
  };
  const data = items.slice(offset, offset + pageSize);
  const next =
    offset + pageSize < items.length
      ? link({ page_token: Buffer.from(JSON.stringify({ o: offset + pageSize, s: pageSize })).toString('base64url') })
      : undefined;
  return {
    data,
    metadata: { first: link({ page_size: String(pageSize) }), ...(next ? { next } : {}), total_size: items.length },
  };
}
