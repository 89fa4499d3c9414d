import type { InputTopic } from './records.js';

/**
 * One producer's lane as the run loop sees it: it is told the times of new jobs, says how far behind it is, and
 * finishes by sending everything it generated. Lanes run on producer threads (see lane-threads.ts) or in-process.
 */
export interface LaneHandle {
  addJobs(times: Float64Array, now: number): void;
  /** Records generated (or about to be) and not yet handed to the producer. */
  backlog(): number;
  /** Resolves when everything the lane generated is acknowledged or it failed; see Lane.finish. */
  finish(flushOrders: boolean): Promise<void>;
}

/** What a lane reports after each request the broker acknowledged. */
export interface LaneAck {
  count: number;
  byTopic: Partial<Record<InputTopic, number>>;
  bytes: number;
  /** Milliseconds from queueing to acknowledgement, one per record. */
  latencies: Float64Array;
}

export interface LaneEvents {
  sent(count: number): void;
  acked(ack: LaneAck): void;
  /** The batch failed; the lane sends nothing more. */
  failed(error: unknown, count: number): void;
}
