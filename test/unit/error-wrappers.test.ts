import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { Context } from '../../src/core/context.js';
import { OperationError, UserError } from '../../src/core/errors.js';
import { Output } from '../../src/core/output.js';
import { nonInteractivePrompter } from '../../src/core/prompts.js';
import { SecretRegistry } from '../../src/core/redact.js';
import { StateStore } from '../../src/core/state-store.js';
import { produceFailure } from '../../src/producers/produce-run.js';
import { KnownRecords } from '../../src/provisioning/engine.js';
import type { ProvisionEnvBase, ResourceDef } from '../../src/provisioning/resource.js';
import { applySession, progressFor } from '../../src/provisioning/run.js';
import type { ProvisionSession } from '../../src/provisioning/session.js';
import { StateRecorder } from '../../src/provisioning/state-recorder.js';
import { systemClock } from '../../src/core/waiter.js';

// Wrappers may add context only to failures the project classifies; a bug must reach the boundary in cli.ts as it
// was thrown, so it prints as "unexpected failure … report it" instead of passing for an ordinary failure.

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

function context(): Context {
  const sink = new PassThrough();
  const out = new Output({
    json: false,
    verbose: false,
    color: false,
    interactive: false,
    stdout: sink as unknown as NodeJS.WriteStream,
    stderr: sink as unknown as NodeJS.WriteStream,
    secrets: new SecretRegistry(),
  });
  return {
    out,
    secrets: new SecretRegistry(),
    prompts: nonInteractivePrompter(),
    env: {},
    stdout: sink as unknown as NodeJS.WriteStream,
    cwd: tmpdir(),
    globals: { json: false, verbose: false, color: false, yes: true },
    signal: new AbortController().signal,
    clock: systemClock,
    loadConfig: async () => {
      throw new Error('not used');
    },
  };
}

/** A one-resource graph whose create fails with `failure`, on a real state file in a temporary directory. */
async function sessionFailingWith(failure: unknown): Promise<ProvisionSession> {
  const dir = await mkdtemp(join(tmpdir(), 'error-wrappers-'));
  dirs.push(dir);
  const store = new StateStore(dir);
  const recorder = new StateRecorder(store, await store.read());
  const known = new KnownRecords(recorder);
  const env: ProvisionEnvBase = {
    known: (id) => known.get(id),
    progress: () => undefined,
    signal: new AbortController().signal,
    clock: systemClock,
  };
  const topic: ResourceDef = {
    id: 'topic:job_created',
    kind: 'topic',
    title: 'topic job_created',
    dependsOn: [],
    observe: async () => undefined,
    create: async () => {
      throw failure;
    },
    destroy: async () => undefined,
  };
  return {
    target: 'local',
    label: 'the local stack',
    defs: [topic],
    env,
    known,
    recorder,
    store,
    sink: false,
    endpoints: () => ({}),
    remaining: async () => [],
    release: async () => undefined,
  };
}

async function apply(failure: unknown): Promise<unknown> {
  const ctx = context();
  const session = await sessionFailingWith(failure);
  return applySession(ctx, session, progressFor(ctx, session, { doing: 'checking', done: 'finishing' })).then(
    () => expect.fail('applySession should have failed'),
    (error: unknown) => error,
  );
}

describe('the provisioning step wrapper (up, down, demo)', () => {
  it('lets a bug in a step through unchanged', async () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'id')");
    expect(await apply(bug)).toBe(bug);
  });

  it('names the step and keeps the one-line message and hint of a classified failure', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9092'), { code: 'ECONNREFUSED' });
    const error = await apply(refused);
    expect(error).toBeInstanceOf(OperationError);
    expect((error as OperationError).message).toBe('topic job_created: connect ECONNREFUSED 127.0.0.1:9092');
    expect((error as OperationError).hint).toMatch(/run `marketplace up` again to continue/);

    const kafka = Object.assign(new Error('This server does not host this topic-partition'), {
      name: 'KafkaJSProtocolError',
    });
    expect(((await apply(kafka)) as Error).message).toBe(
      'topic job_created: This server does not host this topic-partition',
    );
  });
});

describe('the produce failure wrapper (connecting, sending records)', () => {
  const context = { target: 'local' as const, bootstrap: '127.0.0.1:9092' };

  it('throws a bug unchanged instead of reporting it as a Kafka failure', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'append')");
    expect(() => produceFailure(bug, 'sending records', context)).toThrow(bug);
    // A bug inside a producer thread comes back as an error named after its class, and stays a bug.
    const fromThread = Object.assign(new Error('x is not a function'), { name: 'TypeError' });
    expect(() => produceFailure(fromThread, 'sending records', context)).toThrow(fromThread);
  });

  it('turns kafkajs failures and a too-long outage into one line with what to do', () => {
    const kafka = Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092'), {
      name: 'KafkaJSConnectionError',
    });
    const connecting = produceFailure(kafka, 'connecting the producer', context);
    expect(connecting.message).toBe(
      'cannot reach Kafka at 127.0.0.1:9092 while connecting the producer: Connection error: connect ECONNREFUSED 127.0.0.1:9092',
    );
    expect(connecting.hint).toMatch(/marketplace local start/);

    const outage = Object.assign(new Error('no acknowledgement for 61 s, more than --max-outage allows (60 s)'), {
      name: 'OutageTooLong',
    });
    expect(produceFailure(outage, 'sending records', context).message).toMatch(
      /^cannot reach Kafka at 127\.0\.0\.1:9092 while sending records: no acknowledgement for 61 s/,
    );
  });

  it('keeps the project’s own errors as they are', () => {
    const missing = new UserError('topics job_created do not exist', { hint: 'Run `marketplace up` first.' });
    expect(produceFailure(missing, 'connecting', context)).toBe(missing);
  });
});
