import type { Banner, Health } from '../protocol.js';
import { byId, formatCount, formatRate, formatTime } from './dom.js';

/** Components up or down, MongoDB documents against job_status records, topic end offsets and consumer lag. */
export function renderHealth(health: Health | undefined): void {
  if (!health) return;
  byId('components').replaceChildren(
    ...health.components.map((component) => {
      const li = document.createElement('li');
      li.className = component.up === true ? 'up' : component.up === false ? 'down' : 'unknown';
      li.dataset.component = component.name;
      const dot = document.createElement('span');
      dot.className = 'dot';
      const name = document.createElement('span');
      name.className = 'name';
      name.textContent = component.name;
      const detail = document.createElement('span');
      detail.className = 'note';
      detail.textContent = component.up === false ? `down since ${formatTime(component.since)}` : component.detail;
      li.title = component.detail;
      li.append(dot, name, detail);
      return li;
    }),
  );

  const { documents, records } = health.sink;
  const sink = byId('sink');
  sink.replaceChildren();
  const strong = (text: string) => {
    const element = document.createElement('strong');
    element.textContent = text;
    return element;
  };
  sink.append(
    'MongoDB documents ',
    strong(documents === null ? '–' : formatCount(documents)),
    ' of ',
    strong(records === null ? '…' : formatCount(records)),
    ' job_status records',
  );
  if (documents !== null && records !== null && documents !== records) {
    const note = document.createElement('span');
    note.className = 'behind';
    const gap = records - documents;
    note.textContent = gap > 0 ? ` (${formatCount(gap)} behind)` : ` (${formatCount(-gap)} more documents)`;
    sink.append(note);
  }
  sink.dataset.documents = String(documents ?? '');
  sink.dataset.records = String(records ?? '');

  byId('topics').replaceChildren(
    ...health.topics.map((topic) =>
      row([topic.name, ''], [formatCount(topic.endOffset), 'num'], [formatRate(topic.rate), 'num']),
    ),
  );
  byId('lags').replaceChildren(
    ...health.lags.map((lag) => row([lag.owner, ''], [lag.lag === null ? '–' : formatCount(lag.lag), 'num'])),
  );
}

export function renderBanners(banners: Banner[]): void {
  byId('banners').replaceChildren(
    ...banners.map((banner) => {
      const div = document.createElement('div');
      div.className = `banner ${banner.state}`;
      div.dataset.component = banner.component;
      div.dataset.state = banner.state;
      div.textContent = `${banner.message} · ${formatTime(banner.at)}`;
      return div;
    }),
  );
}

function row(...cells: [string, string][]): HTMLTableRowElement {
  const tr = document.createElement('tr');
  for (const [text, className] of cells) {
    const td = document.createElement('td');
    td.textContent = text;
    if (className) td.className = className;
    tr.append(td);
  }
  return tr;
}
