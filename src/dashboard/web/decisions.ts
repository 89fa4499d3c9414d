import uPlot from 'uplot';
import type { DecisionRow } from '../protocol.js';
import { byId, cssVar, formatCount, formatPrice } from './dom.js';
import { RATE_WINDOW_S, type PageState } from './state.js';

/** Shown rows: what fits the panel; the rest scrolls away as new ones arrive. */
const VISIBLE_ROWS = 14;

/** The job decisions panel: counts and share, rows per second over the last minutes, the latest rows. */
export class DecisionsPanel {
  private chart: uPlot | undefined;
  private readonly chartBox = byId('chart');
  private readonly body = byId('rows');

  constructor() {
    new ResizeObserver(() => this.chart?.setSize(this.chartSize())).observe(this.chartBox);
  }

  /** Colours live in the chart's options, so a theme change builds it again. */
  rebuildChart(): void {
    this.chart?.destroy();
    this.chart = undefined;
  }

  render(state: PageState): void {
    const accepted = state.counts.byStatus.ACCEPTED ?? 0;
    const rejected = state.counts.byStatus.REJECTED ?? 0;
    const decided = accepted + rejected;
    byId('count-accepted').textContent = formatCount(accepted);
    byId('count-rejected').textContent = formatCount(rejected);
    byId('count-total').textContent = formatCount(state.counts.total);
    const share = (n: number) => (decided > 0 ? `${((100 * n) / decided).toFixed(1)} %` : '–');
    byId('share-accepted').textContent = share(accepted);
    byId('share-rejected').textContent = share(rejected);
    byId('count-note').textContent = state.counts.complete ? 'whole topic' : 'counting earlier records…';
    byId('bar-accepted').style.width = decided > 0 ? `${(100 * accepted) / decided}%` : '0';
    byId('bar-rejected').style.width = decided > 0 ? `${(100 * rejected) / decided}%` : '0';
    this.renderChart(state);
    this.renderRows(state.rows.slice(-VISIBLE_ROWS).reverse());
  }

  private renderChart(state: PageState): void {
    const now = Math.floor(Date.now() / 1000);
    const xs: number[] = [];
    const acc: number[] = [];
    const rej: number[] = [];
    for (let t = now - RATE_WINDOW_S + 1; t <= now; t++) {
      const sample = state.rates.get(t);
      xs.push(t);
      acc.push(sample?.accepted ?? 0);
      rej.push(sample?.rejected ?? 0);
    }
    const data: uPlot.AlignedData = [xs, acc, rej];
    if (this.chart) {
      this.chart.setData(data);
      return;
    }
    const text = cssVar('--muted');
    const grid = cssVar('--line');
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, size: 24 };
    const clock = (_u: uPlot, splits: number[]) =>
      splits.map((t) => new Date(t * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }));
    this.chart = new uPlot(
      {
        ...this.chartSize(),
        legend: { show: false },
        cursor: { show: false },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.15)] } },
        axes: [
          { ...axis, values: clock },
          { ...axis, label: 'rows/s', labelSize: 14, size: 42 },
        ],
        series: [
          {},
          { label: 'ACCEPTED', stroke: cssVar('--accepted'), width: 1.5, fill: cssVar('--accepted-soft') },
          { label: 'REJECTED', stroke: cssVar('--rejected'), width: 1.5, fill: cssVar('--rejected-soft') },
        ],
      },
      data,
      this.chartBox,
    );
  }

  private chartSize(): { width: number; height: number } {
    return { width: Math.max(200, this.chartBox.clientWidth), height: Math.max(80, this.chartBox.clientHeight) };
  }

  private renderRows(rows: DecisionRow[]): void {
    const lines = rows.map((row) => {
      const tr = document.createElement('tr');
      // The record's timestamp, so what reads the page (the benchmark) can tell how long a row took to show.
      tr.dataset.ts = String(row.ts);
      tr.dataset.job = row.jobId;
      for (const [value, className] of [
        [row.jobId, ''],
        [row.customer, ''],
        [row.service, ''],
        [formatPrice(row.price), 'num'],
        [row.status, `status-${row.status}`],
      ] as const) {
        const td = document.createElement('td');
        td.textContent = value;
        if (className) td.className = className;
        tr.append(td);
      }
      return tr;
    });
    this.body.replaceChildren(...lines);
  }
}
