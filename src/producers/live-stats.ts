import type { Output } from '../core/output.js';
import { formatStatsLine, type StatsSnapshot } from './stats.js';

const TTY_REFRESH_MS = 250;
const PLAIN_EVERY_MS = 5_000;

/**
 * Progress on stderr while producing: one line rewritten in place on a terminal, otherwise a plain line every 5 s
 * so logs and CI output stay readable. Returns a stop function that clears the live line.
 */
export function startLiveStats(out: Output, snapshot: () => StatsSnapshot): () => void {
  if (out.interactive) {
    const timer = setInterval(() => out.writeErr(`\r\u001b[2K${formatStatsLine(snapshot())}`), TTY_REFRESH_MS);
    timer.unref();
    return () => {
      clearInterval(timer);
      out.writeErr('\r\u001b[2K');
    };
  }
  const timer = setInterval(() => out.info(formatStatsLine(snapshot())), PLAIN_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
