import { describe, expect, it } from 'vitest';
import { defaultThreads } from '../../src/producers/produce-run.js';
import { INPUT_TOPICS } from '../../src/producers/records.js';

describe('defaultThreads', () => {
  it('keeps low rates on the main thread', () => {
    expect(defaultThreads([...INPUT_TOPICS], 10, 8)).toBe(0);
    expect(defaultThreads([...INPUT_TOPICS], 1000, 8)).toBe(0); // 3,000 job records/s
    expect(defaultThreads(['job_created'], 4999, 8)).toBe(0);
  });

  it('uses one thread per busy topic at high rates, leaving a core for the main thread and the broker', () => {
    expect(defaultThreads([...INPUT_TOPICS], undefined, 8)).toBe(3); // trucks share a thread
    expect(defaultThreads([...INPUT_TOPICS], 2000, 4)).toBe(3);
    expect(defaultThreads(['job_created', 'order_placed'], 20_000, 8)).toBe(2);
    expect(defaultThreads([...INPUT_TOPICS], undefined, 2)).toBe(1);
    expect(defaultThreads(['job_created'], 20_000, 1)).toBe(1);
  });
});
