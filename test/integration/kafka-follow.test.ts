import type { Kafka } from 'kafkajs';
import { beforeAll, describe, expect, it } from 'vitest';
import { InterruptedError } from '../../src/core/errors.js';
import { createKafka } from '../../src/kafka/client.js';
import { followTopics } from '../../src/kafka/follow.js';
import { stackEndpoints } from '../helpers/stack.js';

/**
 * The dashboard opens a follower again when `down` and `up` made its topics anew, and the new topics' leaders can
 * take a while: that wait must end at Ctrl-C, not hold the dashboard open for its 30 s deadline.
 */
describe('following topics', () => {
  let kafka: Kafka;

  beforeAll(() => {
    kafka = createKafka({ target: 'local', bootstrap: [stackEndpoints().kafka.plaintext], clientId: 'follow-test' });
  });

  it('waits for a topic that is not there yet, and Ctrl-C ends that wait at once', async () => {
    const interrupt = new AbortController();
    const opening = followTopics(kafka, [`follow-missing-${Date.now().toString(36)}`], {
      onRecords: () => undefined,
      scope: { signal: interrupt.signal, timeoutMs: 120_000 },
    });
    const outcome = opening.then(
      async (follower) => {
        await follower.close();
        return 'opened';
      },
      (error: unknown) => error,
    );
    interrupt.abort(new InterruptedError());
    const error = await outcome;
    expect(error).toBeInstanceOf(InterruptedError);
  });
});
