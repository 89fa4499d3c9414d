import { OperationError, UserError } from '../core/errors.js';
import { waitFor } from '../core/waiter.js';
import { enc } from './environments.js';
import type { HttpCore } from './http.js';
import { orUndefinedIfGone } from './lookup.js';
import { listAll } from './pagination.js';
import type { ComputePool, FlinkRegion } from './types.js';
import type { WaitSettings } from './waiters.js';

/** The sizes Confluent Cloud offers a compute pool, in CFUs; the pool scales up to its maximum. */
export const MAX_CFU_SIZES = [5, 10, 20, 30, 40, 50] as const;

export interface CreateComputePoolInput {
  displayName: string;
  environmentId: string;
  cloud: string;
  region: string;
  maxCfu: number;
}

/** fcpm/v2 Flink regions: where Flink runs, and each region's endpoint for statements. */
export class FlinkRegions {
  constructor(private readonly http: HttpCore) {}

  list(filter: { cloud?: string; region?: string } = {}): Promise<FlinkRegion[]> {
    return listAll<FlinkRegion>(this.http, '/fcpm/v2/regions', {
      cloud: filter.cloud?.toUpperCase(),
      region_name: filter.region,
    });
  }

  /** The region, or a user error when Confluent Cloud has no Flink there. */
  async get(cloud: string, region: string): Promise<FlinkRegion> {
    const found = (await this.list({ cloud, region })).find(
      (r) => r.cloud.toUpperCase() === cloud.toUpperCase() && r.region_name === region,
    );
    if (!found) {
      throw new UserError(`Confluent Cloud offers no Flink in ${cloud} ${region}`, {
        hint: 'Pick a region that has Flink (see `confluent flink region list`), or use --engine ksqldb.',
      });
    }
    return found;
  }
}

/** fcpm/v2 compute pools. Create answers 202 while the pool provisions; delete is asynchronous. */
export class ComputePools {
  constructor(private readonly http: HttpCore) {}

  list(environmentId: string): Promise<ComputePool[]> {
    return listAll<ComputePool>(this.http, '/fcpm/v2/compute-pools', { environment: environmentId });
  }

  async get(id: string, environmentId: string): Promise<ComputePool> {
    const response = await this.http.request<ComputePool>({
      method: 'GET',
      path: `/fcpm/v2/compute-pools/${enc(id)}`,
      query: { environment: environmentId },
    });
    return response.data;
  }

  find(id: string, environmentId: string): Promise<ComputePool | undefined> {
    return orUndefinedIfGone(() => this.get(id, environmentId));
  }

  /** A pool of that name that is not being deleted. */
  async findByName(environmentId: string, displayName: string): Promise<ComputePool | undefined> {
    return (await this.list(environmentId)).find(
      (pool) => pool.spec.display_name === displayName && pool.status.phase !== 'DEPROVISIONING',
    );
  }

  async create(input: CreateComputePoolInput): Promise<ComputePool> {
    const response = await this.http.request<ComputePool>({
      method: 'POST',
      path: '/fcpm/v2/compute-pools',
      body: {
        spec: {
          display_name: input.displayName,
          cloud: input.cloud.toUpperCase(),
          region: input.region,
          max_cfu: input.maxCfu,
          environment: { id: input.environmentId },
        },
      },
      recover: () => this.findByName(input.environmentId, input.displayName),
    });
    return response.data;
  }

  async update(id: string, environmentId: string, changes: { maxCfu?: number }): Promise<ComputePool> {
    const response = await this.http.request<ComputePool>({
      method: 'PATCH',
      path: `/fcpm/v2/compute-pools/${enc(id)}`,
      body: {
        spec: {
          environment: { id: environmentId },
          ...(changes.maxCfu === undefined ? {} : { max_cfu: changes.maxCfu }),
        },
      },
    });
    return response.data;
  }

  async delete(id: string, environmentId: string): Promise<void> {
    await this.http.request({
      method: 'DELETE',
      path: `/fcpm/v2/compute-pools/${enc(id)}`,
      query: { environment: environmentId },
    });
  }
}

/** A compute pool until PROVISIONED (Confluent's CLI waits the same way); FAILED ends the wait with an error. */
export function waitForComputePoolProvisioned(
  pools: ComputePools,
  id: string,
  environmentId: string,
  options: WaitSettings = {},
): Promise<ComputePool> {
  return waitFor(
    async () => {
      const pool = await pools.get(id, environmentId);
      if (pool.status.phase === 'PROVISIONED') return { done: true, value: pool };
      if (pool.status.phase === 'FAILED') {
        throw new OperationError(`compute pool ${id} failed to provision`, {
          hint: 'Delete it (marketplace down) and try again, or another region.',
        });
      }
      return { done: false, status: pool.status.phase };
    },
    {
      what: `compute pool ${id} to be PROVISIONED`,
      timeoutMs: options.timeoutMs ?? 60 * 60_000,
      initialDelayMs: 5_000,
      maxDelayMs: 10_000,
      clock: options.clock,
      signal: options.signal,
      onProgress: options.onProgress,
    },
  );
}

/** Until a deleted pool is gone (it is DEPROVISIONING a while). */
export function waitForComputePoolDeleted(
  pools: ComputePools,
  id: string,
  environmentId: string,
  options: WaitSettings = {},
): Promise<void> {
  return waitFor(
    async () => {
      const pool = await pools.find(id, environmentId);
      return pool ? { done: false, status: pool.status.phase } : { done: true, value: undefined };
    },
    {
      what: `compute pool ${id} to be deleted`,
      timeoutMs: options.timeoutMs ?? 30 * 60_000,
      initialDelayMs: 5_000,
      maxDelayMs: 30_000,
      clock: options.clock,
      signal: options.signal,
      onProgress: options.onProgress,
    },
  );
}
