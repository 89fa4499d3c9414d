import { CLOUD_REGIONS } from '../../../src/core/regions.js';
import { EmulatorHttpError } from './http-error.js';
import { paginate } from './pagination.js';
import type { Call } from './router.js';
import type { DataPlaneModule, RunningEmulator } from './server.js';
import { shortId, type ComputePoolRecord } from './state.js';

const iso = (ms: number) => new Date(ms).toISOString();
/** The sizes fcpm/v2 documents for max_cfu (an extensible enum). */
const MAX_CFU = [5, 10, 20, 30, 40, 50];

/** The Flink region id Confluent uses (and a Flink API key's resource id): `<cloud>.<region>`, lower case. */
export function flinkRegionId(cloud: string, region: string): string {
  return `${cloud.toLowerCase()}.${region}`;
}

/**
 * fcpm/v2: Flink regions and compute pools. A pool is PROVISIONING for computePoolMs after its create, then
 * PROVISIONED; a delete is asynchronous (DEPROVISIONING for computePoolDeleteMs, then 404), and is refused (400)
 * while statements that are not deleted still name the pool. Its current_cfu is one per running statement. Regions are
 * every region of src/core/regions.ts; each one's http_endpoint is the emulator's regional Flink endpoint (see
 * flink-statements.ts), and Flink API keys are made for them (resource `<cloud>.<region>` plus the environment).
 */
export const flinkComputeModule: DataPlaneModule = (emulator) => {
  const { router, state } = emulator;
  const url = (path: string) => `${emulator.url}${path}`;

  state.keyResources.push((id, environmentId) => {
    const [cloud, ...rest] = id.split('.');
    const region = rest.join('.');
    if (!cloud || !region || !regionsOf(cloud).includes(region)) return undefined;
    // A Flink key is scoped to an environment and a region; the environment must exist.
    if (!environmentId || !state.liveEnvironment(environmentId)) return undefined;
    return {
      id,
      kind: 'Region',
      apiVersion: 'fcpm/v2',
      environmentId,
      related: url(`/fcpm/v2/regions?cloud=${cloud.toUpperCase()}&region_name=${region}`),
      crn: `${state.environmentCrn(environmentId)}/flink-region=${id}`,
    };
  });
  state.environmentGoneHooks.push((environmentId) => {
    for (const pool of [...state.computePools.values()])
      if (pool.environmentId === environmentId) state.computePools.delete(pool.id);
  });

  // ---- regions -----------------------------------------------------------------------------------------------------
  const regionView = (cloud: string, region: string) => {
    const id = flinkRegionId(cloud, region);
    return {
      api_version: 'fcpm/v2',
      kind: 'Region',
      id,
      metadata: { self: url(`/fcpm/v2/regions?cloud=${cloud.toUpperCase()}&region_name=${region}`) },
      display_name: `${cloud.toUpperCase()} ${region}`,
      cloud: cloud.toUpperCase(),
      region_name: region,
      http_endpoint: regionalEndpoint(emulator),
      private_http_endpoint: regionalEndpoint(emulator).replace('127.0.0.1', 'localhost'),
    };
  };
  router.add({
    method: 'GET',
    template: '/fcpm/v2/regions',
    auth: 'cloud',
    handler: (call) => {
      const cloud = call.query.get('cloud')?.toLowerCase();
      const regionName = call.query.get('region_name') ?? undefined;
      const regions = Object.keys(CLOUD_REGIONS)
        .filter((c) => !cloud || c === cloud)
        .flatMap((c) => regionsOf(c).map((region) => [c, region] as const))
        .filter(([, region]) => !regionName || region === regionName)
        .map(([c, region]) => regionView(c, region));
      return {
        status: 200,
        body: {
          api_version: 'fcpm/v2',
          kind: 'RegionList',
          ...paginate(regions, call.query, url('/fcpm/v2/regions'), {
            cloud: call.query.get('cloud') ?? undefined,
            region_name: regionName,
          }),
        },
      };
    },
  });

  // ---- compute pools -------------------------------------------------------------------------------------------------
  const live = (pool: ComputePoolRecord, now: number) => {
    if (pool.goneAt !== undefined && now >= pool.goneAt) {
      state.computePools.delete(pool.id);
      return false;
    }
    return true;
  };
  const phaseOf = (pool: ComputePoolRecord, now: number) =>
    pool.goneAt !== undefined ? 'DEPROVISIONING' : now >= pool.readyAt ? 'PROVISIONED' : 'PROVISIONING';
  const poolView = (pool: ComputePoolRecord, now: number) => ({
    api_version: 'fcpm/v2',
    kind: 'ComputePool',
    id: pool.id,
    metadata: {
      self: url(`/fcpm/v2/compute-pools/${pool.id}`),
      resource_name: `${state.environmentCrn(pool.environmentId)}/flink-region=${flinkRegionId(pool.cloud, pool.region)}/compute-pool=${pool.id}`,
      created_at: iso(pool.createdAt),
      updated_at: iso(pool.updatedAt),
    },
    spec: {
      display_name: pool.displayName,
      cloud: pool.cloud,
      region: pool.region,
      max_cfu: pool.maxCfu,
      enable_ai: false,
      default_pool: false,
      environment: {
        id: pool.environmentId,
        related: url(`/org/v2/environments/${pool.environmentId}`),
        resource_name: state.environmentCrn(pool.environmentId),
      },
    },
    status: {
      phase: phaseOf(pool, now),
      current_cfu: Math.min(pool.maxCfu, runningStatementsOn(emulator, pool.id)),
    },
  });
  const environmentOr403 = (id: string | null | undefined, pointer?: string) => {
    if (!id || !state.liveEnvironment(id))
      throw new EmulatorHttpError(
        403,
        'forbidden_access',
        `Forbidden Access: environment ${id ?? ''} is not accessible`,
        pointer ? { pointer } : {},
      );
    return id;
  };
  const poolOr404 = (call: Call, environmentId: string) => {
    const pool = state.computePools.get(call.params['id']!);
    if (!pool || pool.environmentId !== environmentId || !live(pool, call.now))
      throw new EmulatorHttpError(404, 'resource_not_found', `Compute pool "${call.params['id']}" not found`);
    return pool;
  };

  router.add({
    method: 'GET',
    template: '/fcpm/v2/compute-pools',
    auth: 'cloud',
    handler: (call) => {
      const environmentId = environmentOr403(call.query.get('environment'));
      const region = call.query.get('spec.region') ?? undefined;
      const pools = [...state.computePools.values()]
        .filter((pool) => pool.environmentId === environmentId && live(pool, call.now))
        .filter((pool) => !region || pool.region === region)
        .map((pool) => poolView(pool, call.now));
      return {
        status: 200,
        body: {
          api_version: 'fcpm/v2',
          kind: 'ComputePoolList',
          ...paginate(pools, call.query, url('/fcpm/v2/compute-pools'), {
            environment: environmentId,
            'spec.region': region,
          }),
        },
      };
    },
  });
  router.add({
    method: 'POST',
    template: '/fcpm/v2/compute-pools',
    auth: 'cloud',
    handler: (call) => {
      const spec = ((call.body ?? {}) as { spec?: Record<string, any> }).spec ?? {};
      for (const field of ['display_name', 'cloud', 'region', 'max_cfu', 'environment']) {
        if (spec[field] === undefined)
          throw new EmulatorHttpError(422, 'invalid_configuration', `spec.${field} is required`, {
            pointer: `/spec/${field}`,
          });
      }
      const environmentId = environmentOr403(spec['environment']?.['id'], '/spec/environment/id');
      const cloud = String(spec['cloud']);
      if (!['AWS', 'GCP', 'AZURE'].includes(cloud))
        throw new EmulatorHttpError(422, 'invalid_configuration', `cloud must be AWS, GCP or AZURE, not "${cloud}"`, {
          pointer: '/spec/cloud',
        });
      const region = String(spec['region']);
      if (!regionsOf(cloud).includes(region))
        throw new EmulatorHttpError(422, 'invalid_configuration', `Flink is not available in ${cloud} ${region}`, {
          pointer: '/spec/region',
        });
      const maxCfu = Number(spec['max_cfu']);
      if (!MAX_CFU.includes(maxCfu))
        throw new EmulatorHttpError(
          422,
          'invalid_configuration',
          `max_cfu must be one of ${MAX_CFU.join(', ')}, not ${spec['max_cfu']}`,
          { pointer: '/spec/max_cfu' },
        );
      const name = String(spec['display_name']);
      const taken = [...state.computePools.values()].find(
        (pool) =>
          pool.environmentId === environmentId &&
          pool.displayName === name &&
          pool.goneAt === undefined &&
          live(pool, call.now),
      );
      if (taken)
        throw new EmulatorHttpError(
          409,
          'resource_already_exists',
          `A compute pool named "${name}" already exists in ${environmentId} (${taken.id})`,
          { pointer: '/spec/display_name' },
        );
      const pool: ComputePoolRecord = {
        id: `lfcp-${shortId(5)}`,
        environmentId,
        displayName: name,
        cloud,
        region,
        maxCfu,
        createdAt: call.now,
        updatedAt: call.now,
        readyAt: call.now + emulator.durations.computePoolMs,
      };
      state.computePools.set(pool.id, pool);
      return {
        status: 202,
        body: poolView(pool, call.now),
        headers: { Location: url(`/fcpm/v2/compute-pools/${pool.id}?environment=${environmentId}`) },
      };
    },
  });
  router.add({
    method: 'GET',
    template: '/fcpm/v2/compute-pools/{id}',
    auth: 'cloud',
    handler: (call) => ({
      status: 200,
      body: poolView(poolOr404(call, environmentOr403(call.query.get('environment'))), call.now),
    }),
  });
  router.add({
    method: 'PATCH',
    template: '/fcpm/v2/compute-pools/{id}',
    auth: 'cloud',
    handler: (call) => {
      const spec = ((call.body ?? {}) as { spec?: Record<string, any> }).spec ?? {};
      const environmentId = environmentOr403(spec['environment']?.['id'], '/spec/environment/id');
      const pool = poolOr404(call, environmentId);
      if (pool.goneAt !== undefined)
        throw new EmulatorHttpError(409, 'resource_conflict', `Compute pool ${pool.id} is being deleted`);
      if (spec['max_cfu'] !== undefined) {
        const maxCfu = Number(spec['max_cfu']);
        if (!MAX_CFU.includes(maxCfu))
          throw new EmulatorHttpError(422, 'invalid_configuration', `max_cfu must be one of ${MAX_CFU.join(', ')}`, {
            pointer: '/spec/max_cfu',
          });
        pool.maxCfu = maxCfu;
      }
      if (typeof spec['display_name'] === 'string') pool.displayName = spec['display_name'];
      pool.updatedAt = call.now;
      return { status: 200, body: poolView(pool, call.now) };
    },
  });
  router.add({
    method: 'DELETE',
    template: '/fcpm/v2/compute-pools/{id}',
    auth: 'cloud',
    handler: (call) => {
      const pool = poolOr404(call, environmentOr403(call.query.get('environment')));
      const using = [...state.statements.values()].filter(
        (statement) => statement.computePoolId === pool.id && statement.goneAt === undefined,
      );
      // Whether Confluent refuses this, and how, is not documented: the emulator refuses it with a status the spec
      // lists, so a teardown that deletes a pool before its statements is caught.
      if (using.length > 0)
        throw new EmulatorHttpError(
          400,
          'bad_request',
          `Compute pool ${pool.id} still has statements (${using.map((s) => s.name).join(', ')}): delete them first`,
        );
      pool.goneAt ??= call.now + emulator.durations.computePoolDeleteMs;
      return { status: 204 };
    },
  });
};

function regionsOf(cloud: string): readonly string[] {
  return (CLOUD_REGIONS as Record<string, readonly string[]>)[cloud.toLowerCase()] ?? [];
}

/** Where sql/v1 answers: the regional endpoint flink-statements.ts serves, or the emulator itself without it. */
function regionalEndpoint(emulator: RunningEmulator): string {
  return emulator.flinkEndpoint ?? emulator.url;
}

function runningStatementsOn(emulator: RunningEmulator, poolId: string): number {
  let running = 0;
  for (const statement of emulator.state.statements.values())
    if (statement.computePoolId === poolId && statement.goneAt === undefined && statement.phase === 'RUNNING')
      running++;
  return running;
}
