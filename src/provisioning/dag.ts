import type { Clock } from '../core/waiter.js';
import { systemClock } from '../core/waiter.js';

export interface DagNode {
  id: string;
  dependsOn: readonly string[];
  run(signal: AbortSignal): Promise<void>;
}

export type DagEvent =
  | { type: 'start'; id: string; at: number }
  | { type: 'done'; id: string; at: number; elapsedMs: number }
  | { type: 'failed'; id: string; at: number; elapsedMs: number; error: unknown }
  | { type: 'skipped'; id: string; reason: string };

export interface DagResult {
  done: string[];
  failed: { id: string; error: unknown }[];
  skipped: string[];
  /** Per node: when it started and finished, relative to the start of the run. */
  timings: Map<string, { startMs: number; endMs: number }>;
  wallMs: number;
}

/**
 * Runs every node as soon as all of its dependencies are done, as many at once as are ready. After a failure no new
 * node starts (running ones finish), and the nodes that depend on a failed one are reported as skipped.
 */
export async function runDag(
  nodes: readonly DagNode[],
  options: { onEvent?: (event: DagEvent) => void; clock?: Clock; signal?: AbortSignal } = {},
): Promise<DagResult> {
  validateDag(nodes);
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  const state = new Map<string, 'pending' | 'running' | 'done' | 'failed' | 'skipped'>(
    nodes.map((n) => [n.id, 'pending']),
  );
  const result: DagResult = { done: [], failed: [], skipped: [], timings: new Map(), wallMs: 0 };
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const running = new Set<Promise<void>>();
  let stopping = false;

  const ready = () =>
    nodes.filter((n) => state.get(n.id) === 'pending' && n.dependsOn.every((dep) => state.get(dep) === 'done'));

  const launch = (node: DagNode) => {
    state.set(node.id, 'running');
    const startAt = clock.now();
    options.onEvent?.({ type: 'start', id: node.id, at: startAt });
    const task = (async () => {
      try {
        await node.run(controller.signal);
        const endAt = clock.now();
        state.set(node.id, 'done');
        result.done.push(node.id);
        result.timings.set(node.id, { startMs: startAt - started, endMs: endAt - started });
        options.onEvent?.({ type: 'done', id: node.id, at: endAt, elapsedMs: endAt - startAt });
      } catch (error) {
        const endAt = clock.now();
        state.set(node.id, 'failed');
        result.failed.push({ id: node.id, error });
        result.timings.set(node.id, { startMs: startAt - started, endMs: endAt - started });
        options.onEvent?.({ type: 'failed', id: node.id, at: endAt, elapsedMs: endAt - startAt, error });
        stopping = true;
      }
    })();
    running.add(task);
    void task.finally(() => running.delete(task));
  };

  try {
    for (;;) {
      if (options.signal?.aborted) stopping = true;
      if (!stopping) for (const node of ready()) launch(node);
      if (running.size === 0) break;
      await Promise.race(running);
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }

  for (const node of nodes) {
    if (state.get(node.id) !== 'pending') continue;
    state.set(node.id, 'skipped');
    result.skipped.push(node.id);
    const blocker = node.dependsOn.find((dep) => state.get(dep) !== 'done');
    options.onEvent?.({
      type: 'skipped',
      id: node.id,
      reason: options.signal?.aborted ? 'interrupted' : `waits for ${blocker ?? 'an earlier failure'}`,
    });
  }
  result.wallMs = clock.now() - started;
  return result;
}

/** Unknown dependencies and cycles are programming errors in the graph definition: fail before running anything. */
export function validateDag(nodes: readonly DagNode[]): void {
  const ids = new Set(nodes.map((n) => n.id));
  if (ids.size !== nodes.length) throw new Error('duplicate node ids in the provisioning graph');
  for (const node of nodes) {
    for (const dep of node.dependsOn) {
      if (!ids.has(dep)) throw new Error(`node ${node.id} depends on unknown node ${dep}`);
    }
  }
  topologicalOrder(nodes);
}

/** Dependencies first; throws on a cycle. Reverse it for teardown. */
export function topologicalOrder(nodes: readonly Pick<DagNode, 'id' | 'dependsOn'>[]): string[] {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const order: string[] = [];
  const visiting = new Set<string>();
  const visited = new Set<string>();
  const visit = (id: string, path: string[]) => {
    if (visited.has(id)) return;
    if (visiting.has(id)) throw new Error(`cycle in the provisioning graph: ${[...path, id].join(' → ')}`);
    visiting.add(id);
    for (const dep of byId.get(id)?.dependsOn ?? []) visit(dep, [...path, id]);
    visiting.delete(id);
    visited.add(id);
    order.push(id);
  };
  for (const node of nodes) visit(node.id, []);
  return order;
}

/**
 * Length of the longest dependency chain, weighting each node by its duration: the fastest any schedule can be.
 */
export function criticalPathMs(
  nodes: readonly Pick<DagNode, 'id' | 'dependsOn'>[],
  durationMs: (id: string) => number,
): number {
  const finish = new Map<string, number>();
  const byId = new Map(nodes.map((n) => [n.id, n]));
  for (const id of topologicalOrder(nodes)) {
    const deps = byId.get(id)!.dependsOn;
    const start = deps.length === 0 ? 0 : Math.max(...deps.map((dep) => finish.get(dep) ?? 0));
    finish.set(id, start + durationMs(id));
  }
  return Math.max(0, ...finish.values());
}
