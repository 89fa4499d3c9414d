export type LineageKind = 'producer' | 'topic' | 'stream' | 'table' | 'query' | 'connector';

export interface LineageNode {
  id: string;
  kind: LineageKind;
  label: string;
  status?: string;
  /** A topic's data contract: its value subject and latest version (Confluent Cloud), e.g. `order_placed-value v1`. */
  contract?: string;
}

export interface LineageEdge {
  from: string;
  to: string;
}

export interface LineageGraph {
  nodes: LineageNode[];
  edges: LineageEdge[];
}

export interface SourceFacts {
  name: string;
  type: 'STREAM' | 'TABLE';
  topic: string;
  readQueries: string[];
  writeQueries: string[];
  /** The data contract its topic's values follow, when a Schema Registry holds one. */
  contract?: string;
}

export interface QueryFacts {
  id: string;
  state: string;
  sinks: string[];
  sinkTopics: string[];
}

export interface ConnectorFacts {
  name: string;
  state: string;
  topics: string[];
  destination: string;
}

/**
 * The data flow from live metadata: topics feed streams and tables, queries read sources and write sinks (whose
 * topics they fill), connectors drain topics. Topics nobody's query writes are fed by the producers.
 */
export function buildLineage(
  sources: SourceFacts[],
  queries: QueryFacts[],
  connectors: ConnectorFacts[],
): LineageGraph {
  const nodes = new Map<string, LineageNode>();
  const edges = new Map<string, LineageEdge>();
  const node = (n: LineageNode) => {
    if (!nodes.has(n.id)) nodes.set(n.id, n);
    return n.id;
  };
  const edge = (from: string, to: string) => edges.set(`${from}→${to}`, { from, to });
  const contracts = new Map(sources.flatMap((s) => (s.contract ? [[s.topic, s.contract] as const] : [])));
  const topic = (name: string) => {
    const contract = contracts.get(name);
    return node({ id: `topic:${name}`, kind: 'topic', label: name, ...(contract ? { contract } : {}) });
  };
  const queryStatus = new Map(queries.map((q) => [q.id, q.state]));

  for (const source of sources) {
    const id = node({
      id: `${source.type.toLowerCase()}:${source.name}`,
      kind: source.type === 'STREAM' ? 'stream' : 'table',
      label: source.name,
    });
    for (const queryId of source.writeQueries) {
      const q = node({
        id: `query:${queryId}`,
        kind: 'query',
        label: queryId,
        status: queryStatus.get(queryId) ?? 'UNKNOWN',
      });
      edge(q, id);
      edge(id, topic(source.topic));
    }
    if (source.writeQueries.length === 0) edge(topic(source.topic), id);
    for (const queryId of source.readQueries) {
      edge(
        id,
        node({ id: `query:${queryId}`, kind: 'query', label: queryId, status: queryStatus.get(queryId) ?? 'UNKNOWN' }),
      );
    }
  }
  for (const connector of connectors) {
    const id = node({
      id: `connector:${connector.name}`,
      kind: 'connector',
      label: `${connector.name} → ${connector.destination}`,
      status: connector.state,
    });
    for (const name of connector.topics) edge(topic(name), id);
  }
  const written = new Set([...edges.values()].filter((e) => e.to.startsWith('topic:')).map((e) => e.to));
  const inputs = [...nodes.values()].filter((n) => n.kind === 'topic' && !written.has(n.id));
  if (inputs.length > 0) {
    const producer = node({ id: 'producer:marketplace-produce', kind: 'producer', label: 'marketplace produce' });
    for (const input of inputs) edge(producer, input.id);
  }
  return { nodes: [...nodes.values()], edges: [...edges.values()] };
}

/** A Mermaid flowchart of the graph (paste into any Mermaid renderer). */
export function toMermaid(graph: LineageGraph): string {
  const ids = new Map(graph.nodes.map((n, i) => [n.id, `n${i}`]));
  const shape: Record<LineageKind, [string, string]> = {
    producer: ['([', '])'],
    topic: ['[(', ')]'],
    stream: ['[', ']'],
    table: ['[[', ']]'],
    query: ['{{', '}}'],
    connector: ['>', ']'],
  };
  const lines = ['flowchart LR'];
  for (const n of graph.nodes) {
    const [open, close] = shape[n.kind];
    const text =
      `${n.kind}: ${n.label}${n.status ? ` (${n.status})` : ''}${n.contract ? `, contract ${n.contract}` : ''}`.replace(
        /"/g,
        "'",
      );
    lines.push(`  ${ids.get(n.id)}${open}"${text}"${close}`);
  }
  for (const e of graph.edges) lines.push(`  ${ids.get(e.from)} --> ${ids.get(e.to)}`);
  return `${lines.join('\n')}\n`;
}

/** The graph as an indented tree from its roots (nodes nothing points to); shared subtrees are shown once. */
export function toTree(
  graph: LineageGraph,
  paint: { status(text: string, ok: boolean): string } = { status: (t) => t },
): string {
  const children = new Map<string, string[]>();
  const incoming = new Set(graph.edges.map((e) => e.to));
  for (const e of graph.edges) children.set(e.from, [...(children.get(e.from) ?? []), e.to]);
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const shown = new Set<string>();
  const lines: string[] = [];
  const label = (n: LineageNode) =>
    `${n.kind} ${n.label}${n.status ? ` ${paint.status(`[${n.status}]`, n.status === 'RUNNING')}` : ''}${
      n.contract ? ` (contract ${n.contract})` : ''
    }`;
  const walk = (id: string, prefix: string, last: boolean, root: boolean) => {
    const n = byId.get(id)!;
    const again = shown.has(id);
    lines.push(`${root ? '' : `${prefix}${last ? '└─ ' : '├─ '}`}${label(n)}${again ? ' (see above)' : ''}`);
    if (again) return;
    shown.add(id);
    const kids = children.get(id) ?? [];
    for (const [i, kid] of kids.entries())
      walk(kid, root ? '' : `${prefix}${last ? '   ' : '│  '}`, i === kids.length - 1, false);
  };
  const roots = graph.nodes.filter((n) => !incoming.has(n.id));
  for (const root of roots.length ? roots : graph.nodes.slice(0, 1)) walk(root.id, '', true, true);
  return `${lines.join('\n')}\n`;
}
