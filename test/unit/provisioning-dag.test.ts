import { describe, expect, it } from 'vitest';
import { criticalPathMs, runDag, topologicalOrder, type DagEvent, type DagNode } from '../../src/provisioning/dag.js';

/** A node that finishes only when the test releases it, so concurrency is observed, not timed. */
function gatedNode(id: string, dependsOn: string[], log: string[], fail = false) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const node: DagNode = {
    id,
    dependsOn,
    run: async () => {
      log.push(`start:${id}`);
      await gate;
      log.push(`end:${id}`);
      if (fail) throw new Error(`${id} broke`);
    },
  };
  return { node, release };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('provisioning DAG executor', () => {
  it('starts independent nodes together and a dependent only after all its inputs', async () => {
    const log: string[] = [];
    const env = gatedNode('environment', [], log);
    const cluster = gatedNode('cluster', ['environment'], log);
    const sa = gatedNode('service-account', [], log);
    const key = gatedNode('api-key', ['cluster', 'service-account'], log);
    const run = runDag([env.node, cluster.node, sa.node, key.node]);
    await tick();
    expect(log).toEqual(['start:environment', 'start:service-account']);
    sa.release();
    await tick();
    expect(log).not.toContain('start:api-key');
    env.release();
    await tick();
    expect(log).toContain('start:cluster');
    expect(log).not.toContain('start:api-key');
    cluster.release();
    await tick();
    expect(log.at(-1)).toBe('start:api-key');
    key.release();
    const result = await run;
    expect(result.done.sort()).toEqual(['api-key', 'cluster', 'environment', 'service-account']);
    expect(result.failed).toEqual([]);
  });

  it('after a failure starts nothing new, lets running nodes finish and skips what depended on it', async () => {
    const log: string[] = [];
    const a = gatedNode('a', [], log, true);
    const b = gatedNode('b', [], log);
    const c = gatedNode('c', ['a'], log);
    const d = gatedNode('d', ['b'], log);
    const events: DagEvent[] = [];
    const run = runDag([a.node, b.node, c.node, d.node], { onEvent: (e) => events.push(e) });
    await tick();
    a.release();
    await tick();
    b.release();
    const result = await run;
    expect(result.failed.map((f) => f.id)).toEqual(['a']);
    expect(result.done).toEqual(['b']);
    expect(result.skipped.sort()).toEqual(['c', 'd']);
    expect(log).not.toContain('start:c');
    expect(log).not.toContain('start:d');
    expect(events.find((e) => e.type === 'skipped' && e.id === 'c')).toMatchObject({ reason: 'waits for a' });
  });

  it('stops launching when the signal aborts', async () => {
    const log: string[] = [];
    const a = gatedNode('a', [], log);
    const b = gatedNode('b', ['a'], log);
    const controller = new AbortController();
    const run = runDag([a.node, b.node], { signal: controller.signal });
    await tick();
    controller.abort();
    a.release();
    const result = await run;
    expect(result.done).toEqual(['a']);
    expect(result.skipped).toEqual(['b']);
  });

  it('rejects cycles and unknown dependencies before running anything', async () => {
    const ran: string[] = [];
    const node = (id: string, deps: string[]): DagNode => ({ id, dependsOn: deps, run: async () => void ran.push(id) });
    await expect(runDag([node('a', ['b']), node('b', ['a'])])).rejects.toThrow(/cycle.*a → b → a|cycle.*b → a → b/);
    await expect(runDag([node('a', ['nope'])])).rejects.toThrow(/unknown node nope/);
    expect(ran).toEqual([]);
  });

  it('orders dependencies first and computes the critical path', () => {
    const graph = [
      { id: 'env', dependsOn: [] },
      { id: 'cluster', dependsOn: ['env'] },
      { id: 'sa', dependsOn: ['env'] },
      { id: 'ksql', dependsOn: ['cluster', 'sa'] },
      { id: 'topics', dependsOn: ['cluster'] },
    ];
    const order = topologicalOrder(graph);
    expect(order.indexOf('env')).toBeLessThan(order.indexOf('cluster'));
    expect(order.indexOf('cluster')).toBeLessThan(order.indexOf('ksql'));
    expect(order.indexOf('sa')).toBeLessThan(order.indexOf('ksql'));
    const durations: Record<string, number> = { env: 1, cluster: 120, sa: 1, ksql: 600, topics: 5 };
    expect(criticalPathMs(graph, (id) => durations[id]!)).toBe(721);
  });
});
