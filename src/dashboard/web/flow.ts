import { Graph, layout } from '@dagrejs/dagre';
import type { FlowNode, Health } from '../protocol.js';
import { byId, formatRate, svg, svgById } from './dom.js';
import type { PageState } from './state.js';

const NODE_HEIGHT = 40;
const MAX_LABEL = 48;
const TITLE_FONT = '600 11.5px system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

const measure = document.createElement('canvas').getContext('2d');
/** The title's width as the browser draws it, so every box fits its label. */
function titleWidth(text: string): number {
  if (!measure) return text.length * 7.2;
  measure.font = TITLE_FONT;
  return measure.measureText(text).width;
}

interface Placed {
  node: FlowNode;
  group: SVGGElement;
  detail: SVGTextElement;
}

/**
 * The lineage graph, laid out left to right by dagre whenever its shape changes; between layouts only each node's
 * second line changes: a topic's records per second, a query's or connector's state.
 */
export class FlowPanel {
  private readonly root = svgById('flow');
  private placed = new Map<string, Placed>();

  render(state: PageState): void {
    if (state.flowChanged) {
      state.flowChanged = false;
      this.layout(state);
    }
    const rates = topicRates(state.health);
    for (const { node, group, detail } of this.placed.values()) {
      const text = detailOf(node, rates);
      if (detail.textContent !== text) detail.textContent = text;
      const failing = node.status !== undefined && node.status !== 'RUNNING';
      group.classList.toggle('failing', failing);
      group.classList.toggle('running', node.status === 'RUNNING');
    }
  }

  private layout(state: PageState): void {
    const { nodes, edges } = state.flow;
    this.placed = new Map();
    if (nodes.length === 0) {
      this.root.replaceChildren(svg('text', { x: 10, y: 20, class: 'flow-empty' }, 'waiting for the flow…'));
      return;
    }
    const graph = new Graph();
    graph.setGraph({ rankdir: 'LR', nodesep: 10, ranksep: 38, marginx: 6, marginy: 6 });
    graph.setDefaultEdgeLabel(() => ({}));
    for (const node of nodes) {
      const width = Math.max(90, titleWidth(labelOf(node)) + 20);
      graph.setNode(node.id, { width, height: NODE_HEIGHT });
    }
    for (const edge of edges) {
      if (graph.hasNode(edge.from) && graph.hasNode(edge.to)) graph.setEdge(edge.from, edge.to);
    }
    layout(graph);
    const { width = 0, height = 0 } = graph.graph();
    const defs = svg('defs');
    const marker = svg('marker', {
      id: 'arrow',
      viewBox: '0 0 8 8',
      refX: 8,
      refY: 4,
      markerWidth: 7,
      markerHeight: 7,
      orient: 'auto-start-reverse',
    });
    marker.append(svg('path', { d: 'M0,0 L8,4 L0,8 z', class: 'arrow' }));
    defs.append(marker);
    const edgeLayer = svg('g');
    for (const edge of graph.edges()) {
      const points: { x: number; y: number }[] = graph.edge(edge).points ?? [];
      if (points.length < 2) continue;
      const d = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
      edgeLayer.append(svg('path', { d, class: 'edge', 'marker-end': 'url(#arrow)' }));
    }
    const nodeLayer = svg('g');
    for (const node of nodes) {
      const box = graph.node(node.id);
      const group = svg('g', {
        class: `node ${node.kind}`,
        transform: `translate(${(box.x - box.width / 2).toFixed(1)} ${(box.y - NODE_HEIGHT / 2).toFixed(1)})`,
      });
      group.dataset.node = node.id;
      group.dataset.kind = node.kind;
      const corner = node.kind === 'topic' || node.kind === 'producer' ? 12 : 4;
      group.append(
        svg('rect', { width: box.width, height: NODE_HEIGHT, rx: corner }),
        svg('text', { x: 8, y: 11, class: 'kind' }, node.kind),
        svg('text', { x: 8, y: 23, class: 'title' }, labelOf(node)),
        svg('title', {}, `${node.kind} ${node.label}${node.status ? ` (${node.status})` : ''}`),
      );
      const detail = svg('text', { x: 8, y: 35, class: 'detail' });
      group.append(detail);
      nodeLayer.append(group);
      this.placed.set(node.id, { node, group, detail });
    }
    this.root.setAttribute('viewBox', `0 0 ${Math.max(width, 10)} ${Math.max(height, 10)}`);
    this.root.setAttribute('preserveAspectRatio', 'xMidYMid meet');
    this.root.replaceChildren(defs, edgeLayer, nodeLayer);
    byId('flow-title').textContent = `Data flow · ${nodes.length} objects`;
  }
}

function labelOf(node: FlowNode): string {
  const label = node.kind === 'stream' || node.kind === 'table' ? node.label.toLowerCase() : node.label;
  return label.length > MAX_LABEL ? `${label.slice(0, MAX_LABEL - 1)}…` : label;
}

function topicRates(health: Health | undefined): Map<string, number> {
  return new Map((health?.topics ?? []).map((t) => [t.name, t.rate]));
}

function detailOf(node: FlowNode, rates: Map<string, number>): string {
  if (node.kind === 'topic') {
    const rate = rates.get(node.label);
    return rate === undefined ? '… rec/s' : `${formatRate(rate)} rec/s`;
  }
  return node.status ?? '';
}
