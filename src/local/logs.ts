import { open, stat } from 'node:fs/promises';
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
  if (printed === 0 && options.follow) options.onNothingYet?.();
  while (options.follow && !options.signal.aborted) {
    await new Promise((resolve) => setTimeout(resolve, 500));
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
  }
  return printed;
}
