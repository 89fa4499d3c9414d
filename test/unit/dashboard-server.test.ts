import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DashboardModel } from '../../src/dashboard/model.js';
import type { DecisionRow, Snapshot, Update } from '../../src/dashboard/protocol.js';
import { type DashboardServer, startServer } from '../../src/dashboard/server.js';
import { eventually } from '../helpers/poll.js';

const meta = { target: 'local' as const, prefix: 'unit', engine: 'ksqlDB', since: 0 };

interface Message {
  event: string;
  id: number;
  data: unknown;
}

/** A raw Server-Sent Events reader of /events, as a page's EventSource sees the stream. */
class EventStream {
  readonly messages: Message[] = [];
  client = '';
  private readonly abort = new AbortController();
  private buffer = '';

  constructor(private readonly url: string) {}

  async open(): Promise<void> {
    const response = await fetch(`${this.url}events`, { signal: this.abort.signal });
    const reader = response.body!.getReader();
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        this.buffer += Buffer.from(value).toString('utf8');
        let end = this.buffer.indexOf('\n\n');
        while (end >= 0) {
          this.parse(this.buffer.slice(0, end));
          this.buffer = this.buffer.slice(end + 2);
          end = this.buffer.indexOf('\n\n');
        }
      }
    })().catch(() => undefined);
    await eventually(
      async () => (this.client && this.messages.length > 0 ? true : undefined),
      10_000,
      'the hello event and the first snapshot',
    );
  }

  last(): Message {
    return this.messages.at(-1)!;
  }

  async ack(seq: number): Promise<number> {
    const response = await fetch(`${this.url}ack?client=${this.client}&seq=${seq}`, { method: 'POST' });
    return response.status;
  }

  close(): void {
    this.abort.abort();
  }

  private parse(block: string): void {
    const fields = new Map<string, string>();
    for (const line of block.split('\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trimStart());
    }
    const event = fields.get('event');
    if (event === 'hello') this.client = (JSON.parse(fields.get('data')!) as { client: string }).client;
    else if (event) this.messages.push({ event, id: Number(fields.get('id')), data: JSON.parse(fields.get('data')!) });
  }
}

function decisions(n: number): DecisionRow[] {
  return Array.from({ length: n }, (_, i) => ({
    jobId: String(i),
    customer: 'CUST-1',
    service: 'Plumbing',
    price: 100,
    status: 'ACCEPTED',
    ts: 0,
  }));
}

describe('dashboard server: a page that falls behind', () => {
  let web: string;
  let model: DashboardModel;
  let server: DashboardServer;
  let feeding: NodeJS.Timeout;

  beforeEach(async () => {
    web = mkdtempSync(join(tmpdir(), 'dashboard-web-'));
    for (const file of ['index.html', 'app.js', 'app.css']) writeFileSync(join(web, file), '');
    model = new DashboardModel(meta);
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      model,
      redact: (text) => text,
      tickMs: 20,
      webRoot: pathToFileURL(`${web}/`),
    });
    // Rows keep arriving, as at 1,000 rows/s: every tick has an update to send.
    feeding = setInterval(() => model.addDecisions(decisions(10)), 5);
  });

  afterEach(async () => {
    clearInterval(feeding);
    await server.close();
    rmSync(web, { recursive: true, force: true });
  });

  it('is sent no more than a few messages it has not drawn, then one fresh snapshot once it has', async () => {
    const slow = new EventStream(server.url);
    const keeping = new EventStream(server.url);
    await slow.open();
    await keeping.open();
    // The page that keeps up draws (acknowledges) everything and goes on getting updates.
    await eventually(
      async () => {
        const last = keeping.last();
        expect(await keeping.ack(last.id)).toBe(204);
        return keeping.messages.length >= 40 ? true : undefined;
      },
      30_000,
      'forty messages to the page that keeps up',
      1,
    );
    // Meanwhile the page that draws nothing was sent its snapshot and a few updates, and then nothing more.
    const sent = slow.messages.length;
    expect(sent).toBeGreaterThan(1);
    expect(sent).toBeLessThanOrEqual(8);
    expect(slow.messages[0]!.event).toBe('snapshot');
    expect(slow.messages.slice(1).every((m) => m.event === 'update')).toBe(true);

    // Half way through drawing what it has, it is still sent nothing: a snapshot behind stale updates is stale too.
    expect(await slow.ack(slow.messages[1]!.id)).toBe(204);
    const before = keeping.messages.length;
    await eventually(
      async () => {
        expect(await keeping.ack(keeping.last().id)).toBe(204);
        return keeping.messages.length >= before + 20 ? true : undefined;
      },
      30_000,
      'twenty more messages to the page that keeps up',
      1,
    );
    expect(slow.messages.length).toBe(sent);

    // Once it has drawn what it was sent, it gets today's whole state, not the updates it missed.
    expect(await slow.ack(slow.last().id)).toBe(204);
    await eventually(async () => (slow.messages.length > sent ? true : undefined), 10_000, 'the catch-up message');
    const catchUp = slow.messages[sent]!;
    expect(catchUp.event).toBe('snapshot');
    expect(catchUp.id).toBe(sent + 1);
    const total = (catchUp.data as Snapshot).counts.total;
    const missedUpTo = (slow.messages[sent - 1]!.data as Update).counts!.total;
    expect(total).toBeGreaterThan(missedUpTo);
    slow.close();
    keeping.close();
  });

  it('refuses acknowledgements for streams or messages it does not know', async () => {
    const stream = new EventStream(server.url);
    await stream.open();
    expect(await stream.ack(stream.last().id + 100)).toBe(404);
    const unknown = await fetch(`${server.url}ack?client=nobody&seq=1`, { method: 'POST' });
    expect(unknown.status).toBe(404);
    const get = await fetch(`${server.url}ack?client=${stream.client}&seq=1`);
    expect(get.status).toBe(405);
    stream.close();
  });
});
