import type { ResourceRecord } from '../core/state-store.js';
import { runDag, topologicalOrder, type DagEvent, type DagNode, type DagResult } from './dag.js';
import type { Observed, ProvisionEnvBase, ResourceDef } from './resource.js';
import type { StateRecorder } from './state-recorder.js';

export type PlannedAction = 'create' | 'update' | 'adopt' | 'wait' | 'none';

export interface PlanStep {
  id: string;
  kind: string;
  title: string;
  action: PlannedAction;
  changes?: string[];
}

/** Overlay of records found during a run on top of those in the state file. */
export class KnownRecords {
  private readonly found = new Map<string, ResourceRecord>();
  constructor(private readonly recorder: StateRecorder) {}
  get(id: string): ResourceRecord | undefined {
    return this.found.get(id) ?? this.recorder.get(id);
  }
  set(id: string, record: ResourceRecord): void {
    this.found.set(id, record);
  }
  inState(id: string): boolean {
    return this.recorder.get(id) !== undefined;
  }
  forget(id: string): void {
    this.found.delete(id);
  }
}

/**
 * What `up` would do, from read-only lookups alone. Anything downstream of a resource that does not exist yet is
 * necessarily a create: there is nothing to look at.
 */
export async function planResources<E extends ProvisionEnvBase>(
  defs: ResourceDef<E>[],
  env: E,
  known: KnownRecords,
): Promise<PlanStep[]> {
  const byId = new Map(defs.map((def) => [def.id, def]));
  const steps = new Map<string, PlanStep>();
  for (const id of topologicalOrder(defs)) {
    const def = byId.get(id)!;
    const base = { id, kind: def.kind, title: def.title };
    if (def.dependsOn.some((dep) => steps.get(dep)?.action === 'create')) {
      steps.set(id, { ...base, action: 'create' });
      continue;
    }
    const observed = await def.observe(env);
    if (!observed) {
      steps.set(id, { ...base, action: 'create' });
      continue;
    }
    known.set(id, observed.record);
    steps.set(id, { ...base, action: actionFor(observed, def, known.inState(id)), changes: observed.changes });
  }
  return defs.map((def) => steps.get(def.id)!);
}

function actionFor<E extends ProvisionEnvBase>(
  observed: Observed,
  def: ResourceDef<E>,
  inState: boolean,
): PlannedAction {
  if (observed.changes?.length && def.update) return 'update';
  if (!observed.ready) return 'wait';
  if (inState) return 'none';
  return def.implicit ? 'create' : 'adopt';
}

export interface ApplyOutcome {
  created: string[];
  updated: string[];
  adopted: string[];
  unchanged: string[];
  dag: DagResult;
}

/** Brings every resource to its desired state, in parallel where the graph allows. */
export async function applyResources<E extends ProvisionEnvBase>(
  defs: ResourceDef<E>[],
  env: E,
  known: KnownRecords,
  recorder: StateRecorder,
  options: { onEvent?: (event: DagEvent) => void } = {},
): Promise<ApplyOutcome> {
  const outcome: ApplyOutcome = { created: [], updated: [], adopted: [], unchanged: [], dag: undefined as never };
  const nodes: DagNode[] = defs.map((def) => ({
    id: def.id,
    dependsOn: def.dependsOn,
    run: async () => {
      const save = async (record: ResourceRecord) => {
        known.set(def.id, record);
        await recorder.put(def.id, record);
      };
      const observed = await def.observe(env);
      if (!observed) {
        env.progress(def.id, 'creating');
        const created = await def.create(env);
        await save(created);
        outcome.created.push(def.id);
        if (def.ready) {
          env.progress(def.id, 'waiting until ready');
          await save(await def.ready(env, created));
        }
        return;
      }
      let record = observed.record;
      const inState = recorder.get(def.id);
      if (observed.changes?.length && def.update) {
        env.progress(def.id, `updating (${observed.changes.join(', ')})`);
        record = await def.update(env, observed);
        outcome.updated.push(def.id);
      } else if (!inState) {
        (def.implicit ? outcome.created : outcome.adopted).push(def.id);
      } else {
        outcome.unchanged.push(def.id);
      }
      if (!inState || !sameRecord(inState, record)) await save(record);
      else known.set(def.id, record);
      if (!observed.ready && def.ready) {
        env.progress(def.id, 'waiting until ready');
        await save(await def.ready(env, record));
      }
    },
  }));
  outcome.dag = await runDag(nodes, { onEvent: options.onEvent, signal: env.signal, clock: env.clock });
  return outcome;
}

export interface DestroyOutcome {
  deleted: string[];
  /** The records of what was deleted, for the check that nothing is left (ids of service accounts, CRNs). */
  deletedRecords: ResourceRecord[];
  absent: string[];
  dag: DagResult;
}

/**
 * Deletes in reverse dependency order: a resource goes only after everything that depends on it is gone. With
 * `discover`, resources missing from state are looked up by name so a lost state file still tears everything down.
 */
export async function destroyResources<E extends ProvisionEnvBase>(
  defs: ResourceDef<E>[],
  env: E,
  known: KnownRecords,
  recorder: StateRecorder,
  options: { discover: boolean; keep?: Set<string>; onEvent?: (event: DagEvent) => void },
): Promise<DestroyOutcome> {
  const outcome: DestroyOutcome = { deleted: [], deletedRecords: [], absent: [], dag: undefined as never };
  const dependents = new Map<string, string[]>(defs.map((def) => [def.id, []]));
  for (const def of defs) for (const dep of def.dependsOn) dependents.get(dep)?.push(def.id);
  const byId = new Map(defs.map((def) => [def.id, def]));

  // Discovery needs parents' ids (a cluster is looked up inside its environment), so it runs top-down first.
  if (options.discover) {
    for (const id of topologicalOrder(defs)) {
      if (known.get(id)) continue;
      const observed = await byId
        .get(id)!
        .observe(env)
        .catch(() => undefined);
      if (observed) known.set(id, observed.record);
    }
  }

  const nodes: DagNode[] = defs.map((def) => ({
    id: def.id,
    dependsOn: dependents.get(def.id)!,
    run: async () => {
      if (options.keep?.has(def.id)) return;
      const record = known.get(def.id);
      if (!record) {
        // A create that was begun but made nothing leaves only its intent behind.
        if (recorder.intent(def.id)) await recorder.remove(def.id);
        outcome.absent.push(def.id);
        return;
      }
      env.progress(def.id, 'deleting');
      await def.destroy(env, record);
      known.forget(def.id);
      await recorder.remove(def.id);
      outcome.deleted.push(def.id);
      outcome.deletedRecords.push(record);
    },
  }));
  outcome.dag = await runDag(nodes, { onEvent: options.onEvent, signal: env.signal, clock: env.clock });
  return outcome;
}

function sameRecord(a: ResourceRecord, b: ResourceRecord): boolean {
  return JSON.stringify({ ...a, createdAt: '' }) === JSON.stringify({ ...b, createdAt: '' });
}
