import kafkajs, { type Admin } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { fetchOffsetsWhenReady } from '../../src/kafka/topics.js';

const { KafkaJSProtocolError } = kafkajs;

/** kafkajs' own error for a broker answering with `code`, as its protocol decoder raises it. */
function brokerAnswered(type: string, code: number, retriable: boolean): Error {
  // At run time kafkajs takes the broker's error description here; its typings only admit an Error or a string.
  const description = { type, code, retriable, message: `${type} from the broker` };
  return new KafkaJSProtocolError(description as unknown as Error);
}

/** An admin whose fetchTopicOffsets fails with each error in turn, then answers. */
function adminAnswering(errors: Error[]): Admin & { calls: number } {
  const admin = {
    calls: 0,
    async fetchTopicOffsets() {
      admin.calls += 1;
      const next = errors.shift();
      if (next) throw next;
      return [{ partition: 0, offset: '7', low: '0', high: '7' }];
    },
  };
  return admin as unknown as Admin & { calls: number };
}

describe('fetchOffsetsWhenReady', () => {
  it('waits out a leader that has not taken a new partition on yet (a fresh broker after `local reset`)', async () => {
    const admin = adminAnswering([
      brokerAnswered('NOT_LEADER_FOR_PARTITION', 6, true),
      brokerAnswered('UNKNOWN_TOPIC_OR_PARTITION', 3, true),
      brokerAnswered('LEADER_NOT_AVAILABLE', 5, true),
    ]);
    const offsets = await fetchOffsetsWhenReady(admin, 'job_created', { timeoutMs: 10_000 });
    expect(offsets).toEqual([{ partition: 0, offset: '7', low: '0', high: '7' }]);
    expect(admin.calls).toBe(4);
  });

  it('passes any other error straight on', async () => {
    const denied = brokerAnswered('TOPIC_AUTHORIZATION_FAILED', 29, false);
    const admin = adminAnswering([denied]);
    await expect(fetchOffsetsWhenReady(admin, 'job_created', { timeoutMs: 10_000 })).rejects.toBe(denied);
    expect(admin.calls).toBe(1);
  });

  it('gives up with the broker error once the timeout has passed', async () => {
    const admin = adminAnswering(
      Array.from({ length: 100 }, () => brokerAnswered('NOT_LEADER_FOR_PARTITION', 6, true)),
    );
    await expect(fetchOffsetsWhenReady(admin, 'job_created', { timeoutMs: 300 })).rejects.toMatchObject({
      type: 'NOT_LEADER_FOR_PARTITION',
    });
    expect(admin.calls).toBeLessThan(100);
  });
});
