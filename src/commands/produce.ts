import { ExitCode, UserError } from '../core/errors.js';
import { duration, fraction, jobRate, oneOf, positiveInteger } from '../core/parse.js';
import { didYouMean } from '../core/suggest.js';
import type { ProduceResult, ProduceSettings } from '../producers/produce-run.js';
import { INPUT_TOPICS, isInputTopic, type InputTopic } from '../producers/records.js';
import { defineCommand, option } from './command.js';

const JOIN_WINDOW_MS = 3_600_000;

export const produceCommand = defineCommand({
  name: 'produce',
  summary: 'Generate realistic jobs, orders, job locations and truck positions into the input topics',
  description: [
    'Generates correlated demo data and produces it with an idempotent producer (acks=all).',
    'What is counted: one job = one job_created record, one order_placed record and one joblocation record, all ' +
      'keyed by the job id. --rate and --count count jobs, so --rate 100 puts 100 records/s on each of those three ' +
      'topics. --accept-ratio of the orders quote at or above the job price; each order follows its job within ' +
      '--order-delay. Truck reports are extra: each of the --trucks K trucks drives to a job and reports its position ' +
      'to tradie_truck_location (key = vehicle id) every --truck-interval until it has ARRIVED, then takes the next job.',
    'A broker that goes away mid-run (a restart, a network blip) is waited for up to --max-outage: the records ' +
      'stay queued and are sent again by the same idempotent producer, so none is lost or written twice.',
    'Runs until --count jobs are sent, --duration has passed, or Ctrl-C (which sends everything already generated, ' +
      'prints the summary and exits 130). The topics must exist: `marketplace up` creates them. Live stats go to ' +
      'stderr; the summary is printed at the end (as JSON on stdout with --json).',
  ].join('\n\n'),
  options: {
    rate: option('--rate <jobs|max>', 'new jobs per second, or "max" for as fast as the broker acknowledges', {
      parse: rate,
      default: '10',
    }),
    count: option('--count <jobs>', 'stop after this many jobs (records per chosen job topic)', {
      parse: positiveInteger('--count'),
    }),
    duration: option('--duration <time>', 'stop after this long, e.g. 30s, 5m', { parse: duration('--duration') }),
    topics: option('--topics <list>', 'comma-separated topics to produce to', {
      parse: topicList,
      default: INPUT_TOPICS.join(','),
    }),
    trucks: option('--trucks <k>', 'trucks driving to jobs (0 for none)', {
      parse: nonNegativeInteger('--trucks'),
      default: '5',
    }),
    truckInterval: option('--truck-interval <time>', 'how often each active truck reports its position', {
      parse: duration('--truck-interval'),
      default: '1s',
    }),
    acceptRatio: option('--accept-ratio <0..1>', 'share of orders quoting at or above the job price', {
      parse: fraction('--accept-ratio'),
      default: '0.7',
    }),
    orderDelay: option(
      '--order-delay <time>',
      'each order follows its job by a random delay up to this, under 1h (the join window)',
      { parse: orderDelay, default: '2s' },
    ),
    seed: option('--seed <n>', 'seed for the generators: the same seed gives the same records', {
      parse: nonNegativeInteger('--seed'),
    }),
    compression: option('--compression <codec>', 'none or gzip', {
      parse: oneOf('--compression', ['none', 'gzip'] as const),
      default: 'none',
    }),
    threads: option(
      '--threads <n>',
      'producer threads, each with its own idempotent producer; 0 produces from the main thread',
      {
        parse: nonNegativeInteger('--threads'),
        defaultNote:
          'at --rate max or 5,000+ job records/s: one per chosen job topic, at most 3 and at most the cores less ' +
          'one; otherwise 0',
      },
    ),
    topicPrefix: option(
      '--topic-prefix <prefix>',
      'prepended to every topic name, e.g. "test-" produces to test-job_created',
    ),
    bootstrapServers: option('--bootstrap-servers <list>', 'Kafka bootstrap servers', {
      configKey: 'bootstrapServers',
      defaultNote: 'the local stack, or the provisioned cluster on cloud',
    }),
    connectTimeout: option('--connect-timeout <time>', 'give up connecting to Kafka after this long', {
      parse: duration('--connect-timeout'),
      default: '10s',
    }),
    maxOutage: option(
      '--max-outage <time>',
      'once running, keep retrying through a broker outage this long before failing',
      { parse: duration('--max-outage'), default: '1m' },
    ),
  },
  examples: [
    {
      command: 'marketplace produce --target local --rate 50',
      description: '50 jobs/s (150 job records/s) plus 5 trucks until Ctrl-C',
    },
    { command: 'marketplace produce --count 1000 --seed 7', description: 'exactly 1000 jobs, reproducible' },
    {
      command: 'marketplace produce --duration 5m --trucks 20 --truck-interval 2s',
      description: 'five minutes with 20 trucks',
    },
    {
      command: 'marketplace produce --rate max --topics job_created,order_placed --json',
      description: 'throughput run, JSON summary',
    },
  ],
  run: async (ctx, { options }): Promise<ProduceResult> => {
    const { produce } = await import('../producers/produce-run.js');
    const settings: ProduceSettings = {
      topics: options.topics,
      topicPrefix: options.topicPrefix,
      rate: options.rate === 'max' ? undefined : options.rate,
      count: options.count,
      durationMs: options.duration,
      trucks: options.trucks,
      truckIntervalMs: options.truckInterval,
      acceptRatio: options.acceptRatio,
      maxOrderDelayMs: options.orderDelay,
      seed: options.seed,
      compression: options.compression,
      connectTimeoutMs: options.connectTimeout,
      maxOutageMs: options.maxOutage,
      threads: options.threads,
    };
    const result = await produce(ctx, settings);
    // --json skips render(): the failure still gets its line on stderr, as every other failing command's does.
    if (result.error && ctx.globals.json)
      ctx.out.failure(`Error: ${result.error.message}${result.error.hint ? ` — ${result.error.hint}` : ''}`);
    return result;
  },
  render: (result, ctx) => {
    const { green, red, yellow } = ctx.out.paint;
    const seconds = (result.durationMs / 1000).toFixed(1);
    const how = {
      count: green('Done'),
      duration: green('Done'),
      interrupted: yellow('Interrupted'),
      error: red('Failed'),
    }[result.stoppedBy];
    ctx.out.info(
      `${how}: ${result.jobs} jobs in ${seconds}s (${result.jobsPerSecond} jobs/s) to ${result.bootstrap} (seed ${result.seed})`,
    );
    ctx.out.info(
      `  records sent ${result.sent}, acked ${result.acked}, errors ${result.errors}; ${result.recordsPerSecond} records/s; ` +
        `ack latency p50 ${formatMs(result.ackLatencyMs.p50)} p99 ${formatMs(result.ackLatencyMs.p99)}`,
    );
    if (result.outages.count > 0) {
      ctx.out.info(
        `  broker outages ${result.outages.count}, longest ${(result.outages.longestMs / 1000).toFixed(1)}s`,
      );
    }
    ctx.out.table(
      ['TOPIC', 'ACKED'],
      result.topics.map((t) => [t.name, String(t.acked)]),
    );
    if (result.error)
      ctx.out.failure(`Error: ${result.error.message}${result.error.hint ? ` — ${result.error.hint}` : ''}`);
  },
  exitCode: (result) =>
    result.stoppedBy === 'error'
      ? ExitCode.failure
      : result.stoppedBy === 'interrupted'
        ? ExitCode.interrupted
        : ExitCode.ok,
});

function rate(value: string): number | 'max' {
  if (value.trim().toLowerCase() === 'max') return 'max';
  return jobRate('--rate', { orMax: true })(value);
}

function topicList(value: string): InputTopic[] {
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (names.length === 0)
    throw new UserError('--topics needs at least one topic', { hint: `Choose from ${INPUT_TOPICS.join(', ')}` });
  for (const name of names) {
    if (!isInputTopic(name)) {
      throw new UserError(`--topics: "${name}" is not an input topic${didYouMean(name, INPUT_TOPICS)}`, {
        hint: `Choose from ${INPUT_TOPICS.join(', ')}`,
      });
    }
  }
  return [...new Set(names as InputTopic[])];
}

function nonNegativeInteger(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n)) {
      throw new UserError(`${flag} must be a whole number of 0 or more; got "${value}"`, {
        hint: `Example: ${flag} 5`,
      });
    }
    return n;
  };
}

function orderDelay(value: string): number {
  if (/^\s*0+\s*(ms|s|m|h)?\s*$/.test(value)) return 0;
  const ms = duration('--order-delay')(value);
  if (ms >= JOIN_WINDOW_MS) {
    throw new UserError(`--order-delay must be under 1h (the job_status join window); got "${value}"`, {
      hint: 'Example: --order-delay 2s',
    });
  }
  return ms;
}

function formatMs(ms: number | null): string {
  return ms === null ? '–' : `${ms}ms`;
}
