import 'uplot/dist/uPlot.min.css';
import './style.css';
import type { Hello, Snapshot, Update } from '../protocol.js';
import { DecisionsPanel } from './decisions.js';
import { byId, formatTime } from './dom.js';
import { FlowPanel } from './flow.js';
import { renderBanners, renderHealth } from './health.js';
import { MapPanel } from './map.js';
import { PageState } from './state.js';

const state = new PageState();
const decisions = new DecisionsPanel();
const flow = new FlowPanel();
const map = new MapPanel(() => {
  state.dirty.add('map');
  schedule();
});

let frame = 0;
/** The stream's id for acknowledgements, and the last message applied to the state (its SSE id). */
let stream = '';
let received = 0;
let acked = 0;
let acking = false;

/**
 * Tells the server what the page has drawn: it sends no more than a few messages ahead of that, and a fresh
 * snapshot instead of updates once the page has fallen behind. One acknowledgement in flight at a time.
 */
function acknowledge(): void {
  if (acking || received <= acked || !stream) return;
  const seq = received;
  acking = true;
  fetch(`/ack?client=${encodeURIComponent(stream)}&seq=${seq}`, { method: 'POST' })
    .then((response) => {
      acking = false;
      if (!response.ok) return;
      acked = Math.max(acked, seq);
      if (received > acked) schedule();
    })
    // A server that is gone is not asked again frame after frame: the next message (after EventSource reconnects)
    // brings the next acknowledgement.
    .catch(() => {
      acking = false;
    });
}

/** Messages are merged as they come; drawing happens at most once per animation frame. */
function schedule(): void {
  if (frame === 0) frame = requestAnimationFrame(draw);
}

function draw(): void {
  frame = 0;
  const dirty = new Set(state.dirty);
  state.dirty.clear();
  if (dirty.has('meta') && state.meta) {
    byId('meta-target').textContent = state.meta.target;
    byId('meta-prefix').textContent = state.meta.prefix;
    byId('meta-engine').textContent = state.meta.engine;
    byId('meta-since').textContent = formatTime(state.meta.since);
    document.title = `marketplace · ${state.meta.target} · ${state.meta.prefix}`;
  }
  if (dirty.has('decisions')) decisions.render(state);
  if (dirty.has('map')) map.render(state);
  if (dirty.has('flow')) flow.render(state);
  if (dirty.has('health')) renderHealth(state.health);
  if (dirty.has('banners')) renderBanners(state.banners);
  acknowledge();
}

function connect(): void {
  const link = byId('link');
  const events = new EventSource('/events');
  events.addEventListener('hello', (event) => {
    stream = (JSON.parse((event as MessageEvent<string>).data) as Hello).client;
    received = 0;
    acked = 0;
  });
  events.addEventListener('snapshot', (event) => {
    received = Number((event as MessageEvent<string>).lastEventId);
    state.applySnapshot(JSON.parse((event as MessageEvent<string>).data) as Snapshot);
    link.dataset.state = 'live';
    link.textContent = 'live';
    schedule();
  });
  events.addEventListener('update', (event) => {
    received = Number((event as MessageEvent<string>).lastEventId);
    state.applyUpdate(JSON.parse((event as MessageEvent<string>).data) as Update);
    schedule();
  });
  events.addEventListener('error', () => {
    // EventSource reconnects by itself; the server sends a fresh snapshot when it does.
    link.dataset.state = 'lost';
    link.textContent = 'connection to the dashboard server lost; retrying…';
  });
}

type Theme = 'auto' | 'light' | 'dark';
const THEMES: Theme[] = ['auto', 'light', 'dark'];

function applyTheme(theme: Theme): void {
  const dark = theme === 'dark' || (theme === 'auto' && matchMedia('(prefers-color-scheme: dark)').matches);
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
  byId('theme').textContent = `theme: ${theme}`;
  decisions.rebuildChart();
  state.dirty.add('decisions');
  schedule();
}

function setUpTheme(): void {
  const stored = localStorage.getItem('marketplace-theme');
  let theme: Theme = THEMES.includes(stored as Theme) ? (stored as Theme) : 'auto';
  applyTheme(theme);
  byId('theme').addEventListener('click', () => {
    theme = THEMES[(THEMES.indexOf(theme) + 1) % THEMES.length]!;
    localStorage.setItem('marketplace-theme', theme);
    applyTheme(theme);
  });
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => applyTheme(theme));
}

setUpTheme();
connect();
// The rate chart scrolls with the clock even when no rows arrive.
setInterval(() => {
  state.dirty.add('decisions');
  schedule();
}, 1000);
