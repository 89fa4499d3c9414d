import type { Writable } from 'node:stream';
import { escapeControl, escapeJsonControl } from '../core/escape.js';
import { stringifyJson } from '../json/exact-json.js';
import type { TailRow } from './source.js';

export type TailFormat = 'table' | 'jsonl' | 'json';

type Paint = (text: string) => string;
export interface TailPalette {
  green: Paint;
  red: Paint;
  bold: Paint;
  dim: Paint;
}

/** Running figures for the footer: rows, rate, and for job_status the ACCEPTED/REJECTED split. */
export class TailStats {
  rows = 0;
  readonly statuses = new Map<string, number>();
  private readonly started = Date.now();

  count(row: TailRow): void {
    this.rows++;
    const status = row['CURRENT_STATUS'];
    if (typeof status === 'string') this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
  }

  rate(): number {
    const seconds = (Date.now() - this.started) / 1000;
    return seconds > 0 ? this.rows / seconds : 0;
  }

  footer(): string {
    const parts = [`${this.rows} rows`, `${this.rate().toFixed(1)} rows/s`];
    for (const [status, n] of [...this.statuses].sort()) parts.push(`${status} ${n}`);
    return parts.join(' · ');
  }
}

export interface RowRenderer {
  row(row: TailRow): void;
  end(): void;
}

/** One JSON object per line, keyed by column name: the format for pipes and scripts. */
export function jsonlRenderer(out: Writable): RowRenderer {
  return {
    row: (row) => out.write(`${escapeJsonControl(stringifyJson(row))}\n`),
    end: () => undefined,
  };
}

/** One JSON array of row objects, streamed so a long tail never sits in memory. */
export function jsonArrayRenderer(out: Writable): RowRenderer {
  let first = true;
  return {
    row: (row) => {
      out.write(`${first ? '[\n' : ',\n'}${escapeJsonControl(stringifyJson(row))}`);
      first = false;
    },
    end: () => out.write(first ? '[]\n' : '\n]\n'),
  };
}

/** A value as a table cell: one line, control characters written out (records are untrusted text). */
export function formatCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(Math.round(value * 1e6) / 1e6);
  if (typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return escapeControl(value);
  return escapeControl(stringifyJson(value));
}

function colourStatus(text: string, palette: TailPalette): string {
  if (text === 'ACCEPTED') return palette.green(text);
  if (text === 'REJECTED') return palette.red(text);
  return text;
}

/** Column widths that fit the terminal: each column gets what its header and first rows need, shrunk evenly. */
export function fitWidths(columns: string[], sample: TailRow[], terminalWidth: number): number[] {
  const natural = columns.map((column) =>
    Math.min(40, Math.max(column.length, ...sample.map((row) => formatCell(row[column]).length))),
  );
  const budget = terminalWidth - 2 * (columns.length - 1);
  let widths = [...natural];
  while (widths.reduce((a, b) => a + b, 0) > budget && widths.some((w) => w > 6)) {
    const widest = widths.indexOf(Math.max(...widths));
    widths = widths.map((w, i) => (i === widest ? w - 1 : w));
  }
  return widths;
}

function pad(text: string, width: number): string {
  if (text.length > width) return `${text.slice(0, Math.max(0, width - 1))}…`;
  return text + ' '.repeat(width - text.length);
}

/**
 * An append-only log with aligned columns. Widths are fixed from the first rows (so the log stays aligned); the
 * header is repeated every screenful.
 */
export function tableRenderer(
  out: Writable,
  options: { columns: string[]; width: number; height: number; palette: TailPalette },
): RowRenderer {
  let columns = options.columns;
  let widths: number[] | undefined;
  const pending: TailRow[] = [];
  let printed = 0;
  const line = (cells: string[], paintCell: (text: string, column: string) => string) =>
    cells
      .map((cell, i) => paintCell(pad(cell, widths![i]!), columns[i]!))
      .join('  ')
      .trimEnd();
  const header = () => out.write(`${options.palette.bold(line(columns, (t) => t))}\n`);
  const print = (row: TailRow) => {
    if (printed % Math.max(10, options.height - 2) === 0) header();
    out.write(
      `${line(
        columns.map((c) => formatCell(row[c])),
        (t, c) => (c === 'CURRENT_STATUS' ? colourStatus(t, options.palette) : t),
      )}\n`,
    );
    printed++;
  };
  const settle = () => {
    const seen = new Set(columns);
    for (const row of pending) {
      for (const column of Object.keys(row)) {
        if (seen.has(column)) continue;
        seen.add(column);
        columns.push(column);
      }
    }
    columns = [...columns];
    widths = fitWidths(columns, pending, options.width);
    for (const row of pending.splice(0)) print(row);
  };
  let timer: NodeJS.Timeout | undefined;
  return {
    row: (row) => {
      if (widths) return print(row);
      pending.push(row);
      // Size the columns from a handful of rows, or from what arrived within half a second on a quiet stream.
      if (pending.length >= 5) {
        clearTimeout(timer);
        settle();
      } else {
        timer ??= setTimeout(settle, 500);
      }
    },
    end: () => {
      clearTimeout(timer);
      if (!widths && pending.length > 0) settle();
    },
  };
}

/**
 * One line per key, rewritten in place as updates arrive (for tables such as truck_tracker). Needs a terminal:
 * it moves the cursor up over the block and redraws it, at most ten times a second.
 */
export function liveRenderer(
  out: Writable,
  options: { columns: string[]; keyColumns: string[]; width: number; palette: TailPalette; footer: () => string },
): RowRenderer & { redraw(): void } {
  const rows = new Map<string, TailRow>();
  let drawnLines = 0;
  let timer: NodeJS.Timeout | undefined;
  let columns = options.columns;
  const keyOf = (row: TailRow) => options.keyColumns.map((k) => formatCell(row[k])).join('|');
  const redraw = () => {
    timer = undefined;
    const all = [...rows.values()];
    for (const row of all)
      for (const column of Object.keys(row)) if (!columns.includes(column)) columns = [...columns, column];
    const widths = fitWidths(columns, all.slice(0, 50), options.width);
    const render = (cells: string[]) =>
      cells
        .map((cell, i) => pad(cell, widths[i]!))
        .join('  ')
        .trimEnd();
    const lines = [
      options.palette.bold(render(columns)),
      ...[...rows.keys()].sort().map((key) => render(columns.map((c) => formatCell(rows.get(key)![c])))),
      options.palette.dim(options.footer()),
    ];
    const up = drawnLines > 0 ? `\u001b[${drawnLines}A` : '';
    out.write(`${up}\r${lines.map((l) => `\u001b[2K${l}`).join('\n')}\n`);
    drawnLines = lines.length;
  };
  return {
    row: (row) => {
      rows.set(keyOf(row), row);
      timer ??= setTimeout(redraw, 100);
    },
    end: () => {
      if (timer) clearTimeout(timer);
      redraw();
    },
    redraw,
  };
}
