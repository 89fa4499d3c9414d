import { open, stat } from 'node:fs/promises';
import { systemClock, waitFor, type Clock } from '../core/waiter.js';
import { lastLogLines } from './processes.js';
import { logFileOf, type ServiceName } from './stack.js';

/**
 * Prints the tail of each service's log; with `follow`, keeps printing appended bytes until the signal aborts
 * (calling `onNothingYet` first when no log has a line yet). Returns how many lines the tail had.
 */
export async function printLogs(options: {
  home: string;
  services: ServiceName[];
  lines: number;
  follow: boolean;
  write: (text: string) => void;
  onNothingYet?: () => void;
  signal: AbortSignal;
  clock?: Clock;
}): Promise<number> {
  const many = options.services.length > 1;
  const width = Math.max(8, ...options.services.map((service) => service.length));
  const prefix = (service: ServiceName) => (many ? `${service.padEnd(width)} | ` : '');
  const offsets = new Map<ServiceName, number>();
  let printed = 0;
  for (const service of options.services) {
    const file = logFileOf(options.home, service);
    const lines = await lastLogLines(file, options.lines);
    for (const line of lines) options.write(`${prefix(service)}${line}\n`);
    printed += lines.length;
    offsets.set(
      service,
      await stat(file).then(
        (s) => s.size,
        () => 0,
      ),
    );
  }
  if (!options.follow) return printed;
  if (printed === 0) options.onNothingYet?.();
  const printAppended = async () => {
    for (const service of options.services) {
      const file = logFileOf(options.home, service);
      const size = await stat(file).then(
        (s) => s.size,
        () => 0,
      );
      const from = offsets.get(service) ?? 0;
      if (size < from) offsets.set(service, 0);
      if (size <= from) continue;
      const handle = await open(file, 'r');
      try {
        const buffer = Buffer.alloc(size - from);
        await handle.read(buffer, 0, buffer.length, from);
        offsets.set(service, size);
        for (const line of buffer
          .toString('utf8')
          .split('\n')
          .filter((l) => l.length > 0)) {
          options.write(`${prefix(service)}${line}\n`);
        }
      } finally {
        await handle.close();
      }
    }
  };
  // Following ends only with Ctrl-C: a wait that is never done, checking for appended bytes twice a second.
  await waitFor(
    async () => {
      await printAppended();
      return { done: false, status: 'following' };
    },
    {
      what: 'new log lines',
      timeoutMs: Number.POSITIVE_INFINITY,
      initialDelayMs: FOLLOW_EVERY_MS,
      maxDelayMs: FOLLOW_EVERY_MS,
      clock: options.clock ?? systemClock,
      signal: options.signal,
    },
  ).catch((error: unknown) => {
    if (!options.signal.aborted) throw error;
  });
  return printed;
}

const FOLLOW_EVERY_MS = 500;
