import { describe, expect, it } from 'vitest';
import { serializeKafkaKey } from '../../src/ksqldb-dev-server/engine/serde.js';
import { partitionForKey } from '../../src/kafka/partitioner.js';
import { BIGINT } from '../../src/ksqldb-dev-server/sql/types.js';
import { defineSources, keyValues, planFor, runPlan } from './ksqldb-harness.js';

// Kafka Streams keeps stream time per task: the join of two keyless streams repartitions both by the join key, and a
// task (one partition of the repartition topics) only advances on its own records. A late record in one task does not
// make another task's records late.

const MINUTE = 60_000;
const sources = defineSources(`
  CREATE STREAM clicks (k BIGINT, v STRING) WITH (KAFKA_TOPIC='clicks', VALUE_FORMAT='JSON');
  CREATE STREAM views (k BIGINT, w STRING) WITH (KAFKA_TOPIC='views', VALUE_FORMAT='JSON');
`);
const sql =
  'CREATE STREAM o AS SELECT c.k AS k, v, w FROM clicks c JOIN views v WITHIN 1 MINUTE GRACE PERIOD 0 MINUTES ON c.k = v.k;';

/** Two join keys that a 2-partition repartition topic puts on different partitions (different tasks). */
function keysOnDifferentTasks(): [number, number] {
  const task = (k: number) => partitionForKey(serializeKafkaKey(BIGINT, k)!, 2);
  for (let k = 2; ; k++) if (task(k) !== task(1)) return [1, k];
}

describe('ksqlDB dev server: stream time per task', () => {
  it('a key whose task is behind still joins after another task moved ahead', () => {
    const [ahead, behind] = keysOnDifferentTasks();
    const out = runPlan(
      planFor(sql, sources),
      [
        { input: 0, value: { K: ahead, V: 'a' }, timestamp: 10 * MINUTE },
        { input: 0, value: { K: behind, V: 'b' }, timestamp: 0 },
        { input: 1, value: { K: behind, W: 'x' }, timestamp: 0 },
      ],
      { partitions: [2, 2] },
    );
    expect(keyValues(out)).toEqual([[behind, { V: 'b', W: 'x' }]]);
  });

  it('within one task, a record behind the window and grace is still dropped as late', () => {
    const [ahead] = keysOnDifferentTasks();
    const out = runPlan(
      planFor(sql, sources),
      [
        { input: 0, value: { K: ahead, V: 'a' }, timestamp: 10 * MINUTE },
        { input: 0, value: { K: ahead, V: 'late' }, timestamp: 0 },
        { input: 1, value: { K: ahead, W: 'x' }, timestamp: 0 },
      ],
      { partitions: [2, 2] },
    );
    expect(out).toEqual([]);
  });
});
