import { Ajv } from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/waiter.js';
import { ContractGuard, ContractViolation, loadContracts, type Contracts } from '../../src/producers/contracts.js';
import { buildWordPools, type WordPools } from '../../src/producers/population.js';
import { Lane } from '../../src/producers/lane.js';
import { INPUT_TOPICS, type InputTopic } from '../../src/producers/records.js';
import { Workload } from '../../src/producers/workload.js';
import { recordCollector } from '../helpers/records.js';

let pools: WordPools;
beforeAll(async () => {
  pools = await buildWordPools(11);
});

const START = Date.UTC(2026, 11, 1, 8, 0, 0);

function workload(contracts?: ContractGuard, trucks = 4) {
  return new Workload({
    seed: 11,
    pools,
    topics: new Set(INPUT_TOPICS),
    acceptRatio: 0.7,
    maxOrderDelayMs: 0,
    trucks,
    truckIntervalMs: 1000,
    contracts,
  });
}

/** Jobs one a millisecond, then truck reports for `truckSeconds`. */
function run(load: Workload, sink: ReturnType<typeof recordCollector>['sink'], jobs: number, truckSeconds = 0) {
  for (let i = 0; i < jobs; i++) load.addJob(START + i, sink);
  for (let s = 1; s <= truckSeconds; s++) load.due(START + jobs + s * 1000, sink);
}

/** The shipped contracts with one property's rules replaced. */
function tightened(topic: InputTopic, property: string, rules: Record<string, unknown>): Contracts {
  const contracts = loadContracts();
  const schema = structuredClone(contracts[topic]);
  schema.properties = { ...schema.properties, [property]: { ...(schema.properties?.[property] as object), ...rules } };
  return { ...contracts, [topic]: schema };
}

describe('data contracts (templates/schemas)', () => {
  it('describe exactly the records produce writes: every field, nothing more, each record valid', () => {
    const { sink, records } = recordCollector();
    run(workload(), sink, 3000, 600);
    const contracts = loadContracts();
    const ajv = new Ajv({ allErrors: true });
    for (const topic of INPUT_TOPICS) {
      const ofTopic = records.filter((record) => record.topic === topic);
      expect(ofTopic.length, topic).toBeGreaterThan(100);
      const validate = ajv.compile(contracts[topic]);
      for (const record of ofTopic) {
        const value = JSON.parse(record.value) as Record<string, unknown>;
        expect(validate(value), `${topic} ${record.value}: ${JSON.stringify(validate.errors)}`).toBe(true);
        expect(Object.keys(value).sort()).toEqual([...(contracts[topic]['required'] as string[])].sort());
      }
    }
  });

  it('a record whose varying number breaks the contract is reported and never handed on, also after its pieces were checked', () => {
    // Job ids count up from a seeded start: the first 1,500 jobs pass, the next one does not, long after every
    // date and status piece of job_created was made (and checked) once.
    const first = recordCollector();
    run(workload(), first.sink, 1);
    const firstId = (JSON.parse(first.records[0]!.value) as { job_id: number }).job_id;
    const guard = new ContractGuard(tightened('job_created', 'job_id', { maximum: firstId + 1499 }));
    const { sink, records } = recordCollector();
    let violation: unknown;
    try {
      run(workload(guard, 0), sink, 5000);
    } catch (error) {
      violation = error;
    }
    expect(violation).toBeInstanceOf(ContractViolation);
    expect((violation as Error).message).toMatch(
      new RegExp(
        `^a job_created record breaks its contract \\(templates/schemas/job_created\\.json\\): /job_id must be <= ${firstId + 1499}; not sent: \\{"job_id":${firstId + 1500},`,
      ),
    );
    const sent = records.filter((record) => record.topic === 'job_created');
    expect(sent).toHaveLength(1500);
    expect(sent.at(-1)!.value).toContain(`"job_id":${firstId + 1499},`);
  });

  it('a record carrying a newly made piece that breaks the contract is reported and never handed on', () => {
    // A customer who first orders some way into the run, and a contract that does not admit that customer.
    const before = recordCollector();
    run(workload(), before.sink, 200);
    const customers = before.records
      .filter((record) => record.topic === 'order_placed')
      .map((record) => (JSON.parse(record.value) as { customer_id: string }).customer_id);
    const firstOrder = customers.findIndex((customer, index) => index >= 20 && customers.indexOf(customer) === index);
    const banned = customers[firstOrder]!;
    const guard = new ContractGuard(
      tightened('order_placed', 'customer_id', { pattern: `^(?!${banned}$)CUST-[0-9]{6,}$` }),
    );
    const { sink, records } = recordCollector();
    expect(() => run(workload(guard, 0), sink, 200)).toThrow(
      new RegExp(
        `^a order_placed record breaks its contract .*: /customer_id must match pattern .*; not sent: \\{"job_id":\\d+,"customer_id":"${banned}"`,
      ),
    );
    const orders = records.filter((record) => record.topic === 'order_placed');
    expect(orders).toHaveLength(firstOrder);
    expect(orders.some((record) => record.value.includes(banned))).toBe(false);
  });

  it('checks every truck report whole', () => {
    const guard = new ContractGuard(tightened('tradie_truck_location', 'STATE', { enum: ['EN_ROUTE'] }));
    const { sink, records } = recordCollector();
    expect(() => run(workload(guard, 2), sink, 5, 3600)).toThrow(
      /^a tradie_truck_location record breaks its contract .*: \/STATE must be equal to one of the allowed values/,
    );
    const reports = records.filter((record) => record.topic === 'tradie_truck_location');
    expect(reports.length).toBeGreaterThan(10);
    expect(reports.some((record) => record.value.includes('ARRIVED'))).toBe(false);
  });

  it("a lane stops at the first broken record and reports it as the run's failure", async () => {
    const first = recordCollector();
    run(workload(), first.sink, 1);
    const firstId = (JSON.parse(first.records[0]!.value) as { job_id: number }).job_id;
    const guard = new ContractGuard(tightened('order_placed', 'job_id', { maximum: firstId + 99 }));
    const failures: unknown[] = [];
    let sent = 0;
    const lane = new Lane({
      workload: workload(guard, 0),
      partitions: { job_created: 1, order_placed: 1, joblocation: 1, tradie_truck_location: 1 },
      send: async (batches) => {
        for (const batch of batches) sent += batch.section.count;
      },
      clock: systemClock,
      events: { sent: () => undefined, acked: () => undefined, failed: (error) => failures.push(error) },
    });
    const now = Date.now();
    lane.addJobs(new Float64Array(60).fill(now), now);
    lane.addJobs(new Float64Array(60).fill(now), now);
    lane.addJobs(new Float64Array(60).fill(now), now);
    await lane.finish(true);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toBeInstanceOf(ContractViolation);
    expect((failures[0] as Error).message).toContain(`/job_id must be <= ${firstId + 99}`);
    // Everything made before the broken record is sent (100 jobs' three records, and the job_created and
    // joblocation of the 101st); the batch with it is the last one taken, later jobs are not generated at all.
    expect(sent).toBe(302);
    expect(lane.queued).toBe(0);
    expect(lane.jobsSeen).toBe(120);
  });
});
