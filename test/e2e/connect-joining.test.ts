import { mkdtemp } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UpResult } from '../../src/commands/up.js';
import { runCli, type CliRun } from '../helpers/cli.js';
import { localTargetEnv, stackEndpoints } from '../helpers/stack.js';

/**
 * What a Connect worker answers in its first moments, before it has joined its group and read its config topic
 * (503 while it starts, 409 while it joins or rebalances), in front of the stack's real worker: the first
 * connector PUTs are refused that way, everything else is passed through.
 */
const REFUSALS = [
  { status: 503, message: 'Request cannot be completed because the worker is still starting up' },
  { status: 409, message: 'Cannot complete request because of a conflicting operation (e.g. worker rebalance)' },
  {
    status: 409,
    message:
      'Cannot complete request momentarily due to stale configuration ' +
      '(typically caused by a concurrent config change)',
  },
];

function joiningWorker(upstream: string): { server: Server; refused: () => number } {
  let refused = 0;
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const connectorPut = request.method === 'PUT' && /^\/connectors\/[^/]+\/config$/.test(request.url ?? '');
      const refusal = connectorPut ? REFUSALS[refused] : undefined;
      if (refusal) {
        refused++;
        response.writeHead(refusal.status, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error_code: refusal.status, message: refusal.message }));
        return;
      }
      const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
      const headers: Record<string, string> = { accept: 'application/json' };
      if (body) headers['content-type'] = 'application/json';
      fetch(`${upstream}${request.url ?? '/'}`, { method: request.method, headers, body })
        .then(async (answer) => {
          const type = answer.headers.get('content-type') ?? 'application/json';
          response.writeHead(answer.status, { 'content-type': type });
          response.end(Buffer.from(await answer.arrayBuffer()));
        })
        .catch((error: unknown) => {
          response.writeHead(502);
          response.end(String(error));
        });
    });
  });
  return { server, refused: () => refused };
}

describe('Kafka Connect that is still joining its group', () => {
  let worker: ReturnType<typeof joiningWorker>;
  let cwd: string;
  let env: NodeJS.ProcessEnv;
  const cli = (args: string[]): Promise<CliRun> => runCli(args, { cwd, env, timeoutMs: 180_000 });

  beforeAll(async () => {
    const stack = stackEndpoints();
    worker = joiningWorker(stack.connect.url.replace(/\/+$/, ''));
    await new Promise<void>((resolve) => worker.server.listen(0, '127.0.0.1', resolve));
    const { port } = worker.server.address() as AddressInfo;
    cwd = await mkdtemp(join(tmpdir(), 'marketplace-connect-joining-'));
    const demo = { prefix: 'connect-joining', database: 'connect_joining' };
    env = { ...localTargetEnv(stack, demo), MARKETPLACE_CONNECT_URL: `http://127.0.0.1:${port}` };
    await cli(['down', '--yes', '--discover']);
  });

  afterAll(async () => {
    await cli(['down', '--yes', '--discover']);
    await new Promise((resolve) => worker.server.close(resolve));
  });

  it('up waits out its "not ready yet" answers and creates the sink', async () => {
    const up = await cli(['up', '--json']);
    expect(up.code, up.stderr).toBe(0);
    expect(worker.refused()).toBe(REFUSALS.length);
    const result = JSON.parse(up.stdout) as UpResult;
    expect(result.created).toContain('mongo-sink-connector');
  });
});
