/**
 * Entry point of a producer thread: one idempotent kafkajs producer and a Lane generating, encoding and sending this
 * thread's topics, in a heap capped by the main thread (lane-threads.ts), which only keeps time and stats.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PRODUCER_CONFIG, createKafka } from '../kafka/client.js';
import { batchSender } from '../kafka/producer.js';
import { Lane } from './lane.js';
import { retryThroughOutages } from './outage.js';
import {
  describeError,
  type LaneReply,
  type LaneRequest,
  type LaneThreadData,
  type TopicPartitions,
} from './lane-thread-protocol.js';
import type { WordPools } from './population.js';
import type { InputTopic } from './records.js';
import { systemClock } from '../core/waiter.js';
import { Workload } from './workload.js';

const port = parentPort!;
const data = workerData as LaneThreadData;
const post = (reply: LaneReply, transfer?: ArrayBuffer[]) => port.postMessage(reply, transfer);

const kafka = createKafka({
  ...data.target,
  clientId: data.clientId,
  retries: data.retries,
  out: { verbose: data.verbose, debug: (line) => post({ type: 'log', line }) },
});
const producer = kafka.producer(PRODUCER_CONFIG);
let lane: Lane | undefined;
const interrupted = new AbortController();

function startLane(pools: WordPools, partitions: TopicPartitions): Lane {
  const started: Lane = new Lane({
    workload: new Workload({
      seed: data.seed,
      pools,
      topics: new Set(data.topics),
      acceptRatio: data.acceptRatio,
      maxOrderDelayMs: data.maxOrderDelayMs,
      trucks: data.trucks,
      truckIntervalMs: data.truckIntervalMs,
    }),
    partitions,
    send: retryThroughOutages(
      batchSender<InputTopic>(producer, {
        compression: data.compression,
        topicName: (topic) => `${data.topicPrefix}${topic}`,
      }),
      {
        maxOutageMs: data.maxOutageMs,
        clock: systemClock,
        signal: interrupted.signal,
        onOutage: (reason) => post({ type: 'outage', reason }),
        onRecovered: (outageMs) => post({ type: 'recovered', outageMs }),
        onGaveUp: (outageMs) => post({ type: 'gave-up', outageMs }),
      },
    ),
    clock: systemClock,
    events: {
      sent: (count) => post({ type: 'sent', count, queued: started.queued, jobsSeen: started.jobsSeen }),
      acked: (ack) =>
        post({ type: 'acked', ack, queued: started.queued, jobsSeen: started.jobsSeen }, [
          ack.latencies.buffer as ArrayBuffer,
        ]),
      failed: (error, count) => post({ type: 'failed', error: describeError(error), count }),
    },
  });
  return started;
}

port.on('message', (request: LaneRequest) => {
  switch (request.type) {
    case 'connect':
      lane = startLane(request.pools, request.partitions);
      producer.connect().then(
        () => post({ type: 'connected' }),
        (error: unknown) => post({ type: 'connect-failed', error: describeError(error) }),
      );
      break;
    case 'jobs':
      lane!.addJobs(request.times, request.now);
      post({ type: 'progress', queued: lane!.queued, jobsSeen: lane!.jobsSeen });
      break;
    case 'finish':
      void lane!.finish(request.flushOrders).then(() => post({ type: 'finished' }));
      break;
    case 'abort':
      interrupted.abort();
      break;
    case 'close':
      void producer
        .disconnect()
        .catch(() => undefined)
        .then(() => {
          post({ type: 'closed' });
          port.close();
        });
      break;
  }
});
