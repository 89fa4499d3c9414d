import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpCore, isConfluentApiError } from '../../src/confluent-api/index.js';
import { OperationError } from '../../src/core/errors.js';

/** A regional endpoint that redirects, and the cell behind it that insists on the Authorization header. */
let front: Server;
let cell: Server;
let frontUrl: string;
let cellUrl: string;
const seenAuthorization: (string | undefined)[] = [];
const credentials = { key: 'FLINKKEY', secret: 'flink-secret' };
const expected = `Basic ${Buffer.from('FLINKKEY:flink-secret').toString('base64')}`;

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
}

beforeAll(async () => {
  cell = createServer((req, res) => {
    seenAuthorization.push(req.headers.authorization);
    if (req.headers.authorization !== expected) return res.writeHead(401).end();
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ path: req.url, body }));
    });
  });
  cellUrl = await listen(cell);
  front = createServer((req, res) => {
    const hops = Number(/hops=(\d+)/.exec(req.url ?? '')?.[1] ?? 0);
    const next =
      hops > 0 ? `${frontUrl}${(req.url ?? '/').replace(/hops=\d+/, `hops=${hops - 1}`)}` : `${cellUrl}${req.url}`;
    res.writeHead(307, { Location: next }).end();
  });
  frontUrl = await listen(front);
});

afterAll(async () => {
  for (const server of [front, cell]) await new Promise((resolve) => server.close(resolve));
});

const http = () => new HttpCore({ baseUrl: 'http://127.0.0.1:1', cloudCredentials: { key: 'cloud', secret: 'x' } });

describe('redirects of the regional Flink endpoint', () => {
  it('are followed to another host with the Authorization header kept, a POST with its body', async () => {
    const response = await http().request<{ path: string; body: string }>({
      method: 'POST',
      path: `${frontUrl}/sql/v1/statements?hops=2`,
      body: { name: 'x' },
      credentials,
      followRedirects: true,
    });
    expect(response.status).toBe(200);
    expect(response.data).toEqual({ path: '/sql/v1/statements?hops=0', body: '{"name":"x"}' });
    expect(seenAuthorization.at(-1)).toBe(expected);
  });

  it('are not followed unless asked: the 307 is a failure', async () => {
    const error = await http()
      .request({ method: 'GET', path: `${frontUrl}/sql/v1/statements`, credentials })
      .catch((e: unknown) => e);
    expect(isConfluentApiError(error) && error.status).toBe(307);
  });

  it('stop after 5 hops with a one-line error', async () => {
    const error = await http()
      .request({ method: 'GET', path: `${frontUrl}/sql/v1/statements?hops=9`, credentials, followRedirects: true })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperationError);
    expect((error as Error).message).toMatch(/more than 5 redirects/);
  });
});
