import type { LoadedConfig } from '../core/config.js';
import type { Context } from '../core/context.js';
import { isClassifiedError, UserError } from '../core/errors.js';
import { waitFor, type Clock } from '../core/waiter.js';
import type { Kafka } from '../kafka/client.js';
import type { Follower, FollowedRecord } from '../kafka/follow.js';
import type { OffsetReader, PartitionEnds } from '../kafka/offsets.js';
import type { WaitScope } from '../kafka/topics.js';
import type { LineageGraph } from '../lineage/graph.js';
import { decodeKey } from '../tail/kafka-source.js';
import type { EngineView } from './engine-view.js';
import type { DashboardModel, TrackerRow, TruckPosition } from './model.js';
import type { DecisionRow, Flow, GroupLag, JobSite, TopicHealth } from './protocol.js';

/** The topics the page shows row by row; every other topic of the flow is watched through its offsets only. */
export const FOLLOWED_TOPICS = ['job_status', 'joblocation', 'tradie_truck_location', 'truck_tracker'] as const;

export interface FeedOptions {
  ctx: Context;
  loaded: LoadedConfig;
  model: DashboardModel;
  engine: EngineView;
  /** The demo's sink connector, whose state counts toward Connect's health. */
  sinkConnector: string;
  /** How often offsets, lag and MongoDB are read, and how often the flow is asked for. */
  healthEveryMs?: number;
  flowEveryMs?: number;
}

export interface Feed {
  /** Rejects when something fails that is a bug rather than a component being down. */
  readonly failed: Promise<never>;
  stop(): Promise<void>;
}

type SinkCounter = { count(): Promise<number>; close(): Promise<void> };

/**
 * Everything the page shows comes from here: the four topics followed record by record from their end offsets,
 * the records written before that counted once, and every couple of seconds the flow (from the engine and
 * Connect), the topics' end offsets, the consumer groups' lag and the sink's documents. A component that cannot
 * be reached is shown as down on the page; it is asked again on the next round.
 */
export async function startFeed(options: FeedOptions): Promise<Feed> {
  const { ctx, loaded, model, engine } = options;
  const redact = (text: string) => ctx.secrets.redact(text);
  const { resolveKafkaTarget } = await import('../kafka/connection.js');
  const { createKafka } = await import('../kafka/client.js');
  const target = await resolveKafkaTarget(loaded, ctx.secrets);
  const bounds = { requestTimeoutMs: loaded.values.requestTimeout, signal: ctx.signal };
  const kafka = createKafka({ ...target, clientId: 'marketplace-dashboard', out: ctx.out, ...bounds });
  // Health questions must answer within a round, so their client gives up quickly when the broker is away.
  const probeKafka = createKafka({
    ...target,
    clientId: 'marketplace-dashboard-health',
    out: ctx.out,
    retries: 1,
    ...bounds,
  });

  let fail: (error: unknown) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  failed.catch(() => undefined);
  /** A classified failure marks the component down; anything else is a bug and ends the dashboard. */
  const classify = (error: unknown): string => {
    if (!isClassifiedError(error)) {
      fail(error);
      return 'unexpected failure';
    }
    return redact(firstLine(error));
  };

  await assertTopics(kafka);
  const followedCounts = new Map<string, number>(FOLLOWED_TOPICS.map((topic) => [topic, 0]));
  /** Followed topics that no longer exist (`down` ran): that, not the consumer's complaint, is what the page says. */
  let missingTopics: string[] = [];
  const kafkaState = (up: boolean, detail: string) => {
    if (missingTopics.length === 0) model.setComponent('Kafka', up, detail);
  };
  const scope = { signal: ctx.signal, clock: ctx.clock };
  let follower = await follow(kafka, model, followedCounts, kafkaState, scope);
  /** Set when the followed topics were seen gone or emptied: once they are back, following starts over on them. */
  let topicsReplaced = false;
  /** Bumped at each start-over, so a count of the old topics that finishes late is dropped. */
  let generation = 0;

  let earlierCounted = false;
  const countEarlier = async () => {
    const { scanTopic } = await import('../kafka/consumer.js');
    const counted = generation;
    const jobStatusStart = follower.startOffsets.get('job_status')!;
    const byStatus = new Map<string, number>();
    await scanTopic(
      kafka,
      'job_status',
      (record) => {
        if (BigInt(record.offset) >= (jobStatusStart.get(record.partition) ?? 0n)) return;
        const status = statusOf(record.value);
        byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
      },
      { signal: ctx.signal, clock: ctx.clock, timeoutMs: 30 * 60_000 },
    );
    if (counted !== generation) return;
    model.setEarlierDecisions(byStatus);
    earlierCounted = true;
  };
  let counting: Promise<void> | undefined;
  const startCounting = () => {
    if (earlierCounted || counting) return;
    counting = countEarlier()
      .catch((error: unknown) => {
        if (!ctx.signal.aborted) classify(error);
      })
      .finally(() => {
        counting = undefined;
      });
  };
  startCounting();

  const sink = await sinkCollection(ctx, loaded);
  let flow: LineageGraph = { nodes: [], edges: [] };
  let reader: OffsetReader | undefined;
  const previousEnds = new Map<string, { at: number; total: number }>();
  const previousFollowed = new Map<string, { at: number; total: number }>();

  const readFlow = async () => {
    try {
      const reading = await engine.lineage();
      flow = reading.graph;
      model.setFlow(toFlow(flow, redact));
      const stopped = flow.nodes.filter((n) => n.kind === 'query' && n.status !== 'RUNNING');
      model.setComponent(
        engine.name,
        stopped.length === 0,
        stopped.length === 0
          ? `${engine.jobNoun === 'query' ? 'queries' : `${engine.jobNoun}s`} running`
          : stopped.map((q) => `${engine.jobNoun} ${q.label} is ${q.status}`).join('; '),
      );
      if (reading.connectorsProblem) {
        const { message, fixable } = reading.connectorsProblem;
        model.setComponent('Connect', fixable ? null : false, redact(message));
      } else {
        const connector = flow.nodes.find((n) => n.id === `connector:${options.sinkConnector}`);
        const healthy = !connector || connector.status === 'RUNNING';
        const detail = connector
          ? `connector ${options.sinkConnector} is ${connector.status}`
          : `no connector ${options.sinkConnector}`;
        model.setComponent('Connect', healthy, detail);
      }
    } catch (error) {
      model.setComponent(engine.name, false, classify(error));
    }
  };

  /** Follows the deployment's new topics from their start, forgetting what the page showed of the old ones. */
  const startOver = async () => {
    generation++;
    await follower.close();
    for (const topic of FOLLOWED_TOPICS) followedCounts.set(topic, 0);
    previousFollowed.clear();
    previousEnds.clear();
    model.restart();
    follower = await follow(kafka, model, followedCounts, kafkaState, scope, 'earliest');
    earlierCounted = true;
    model.setEarlierDecisions(new Map());
    topicsReplaced = false;
  };

  const readHealth = async () => {
    const now = Date.now();
    const topics: TopicHealth[] = [];
    const lags: GroupLag[] = [];
    // Taken before the end offsets are asked for: records keep arriving while they are, and a count taken after
    // could pass an end offset read a moment earlier, which would look like a topic made again.
    const followedBefore = new Map(followedCounts);
    try {
      reader ??= await openReader(probeKafka);
      const ends = new Map<string, PartitionEnds[]>();
      const endsOf = async (topic: string) => {
        let known = ends.get(topic);
        if (!known) ends.set(topic, (known = await reader!.ends(topic)));
        return known;
      };
      const existing = new Set(await reader.topics());
      missingTopics = FOLLOWED_TOPICS.filter((topic) => !existing.has(topic));
      if (missingTopics.length > 0) {
        topicsReplaced = true;
      } else {
        // A topic deleted and made again between two rounds ends lower than the records already followed from it.
        for (const topic of FOLLOWED_TOPICS) {
          const end = (await endsOf(topic)).reduce((sum, p) => sum + p.high, 0n);
          if (end < BigInt(followedBefore.get(topic) ?? 0)) topicsReplaced = true;
        }
        if (topicsReplaced) {
          ctx.out.info("The demo's topics were made again: the dashboard follows them from their first records.");
          await startOver();
        }
      }
      for (const name of topicNames(flow).filter((topic) => existing.has(topic))) {
        const total = Number((await endsOf(name)).reduce((s, p) => s + p.high, 0n));
        const followed = followedCounts.get(name);
        const rate =
          followed === undefined
            ? rateOf(previousEnds, name, now, total)
            : rateOf(previousFollowed, name, now, followed);
        topics.push({ name, endOffset: total, rate });
      }
      const groups = await reader.groups();
      for (const node of flow.nodes) {
        const owner = node.id.slice(node.id.indexOf(':') + 1);
        const group =
          node.kind === 'query'
            ? groups.find((g) => g.endsWith(`query_${owner}`))
            : node.kind === 'connector'
              ? groups.find((g) => g === `connect-${owner}`)
              : undefined;
        if (node.kind !== 'query' && node.kind !== 'connector') continue;
        const lag = group ? await reader.lag(group, endsOf) : null;
        lags.push({ owner, kind: node.kind, group: group ?? '', lag: lag === null ? null : Number(lag) });
      }
      if (missingTopics.length > 0) {
        const list = missingTopics.join(', ');
        model.setComponent('Kafka', false, `the demo's topics ${list} do not exist; run \`marketplace up\``);
      } else {
        model.setComponent('Kafka', true, 'brokers answering');
      }
      startCounting();
    } catch (error) {
      model.setComponent('Kafka', false, classify(error));
      await reader?.close().catch(() => undefined);
      reader = undefined;
    }
    let documents: number | null = null;
    if (sink.counter) {
      try {
        documents = await sink.counter.count();
        model.setComponent('MongoDB', true, `${documents} documents`);
      } catch (error) {
        model.setComponent('MongoDB', false, classify(error));
      }
    } else {
      model.setComponent('MongoDB', null, redact(sink.problem ?? 'not configured'));
    }
    model.setHealth({ topics, lags, sink: { documents, records: model.jobStatusRecords() } });
  };

  const loops = [
    repeat(readHealth, options.healthEveryMs ?? 2_000, ctx.clock),
    repeat(readFlow, options.flowEveryMs ?? 3_000, ctx.clock),
  ];
  return {
    failed,
    stop: async () => {
      await Promise.all(loops.map((loop) => loop.stop()));
      await follower.close();
      await reader?.close().catch(() => undefined);
      await sink.counter?.close().catch(() => undefined);
      await counting;
    },
  };
}

async function assertTopics(kafka: Kafka): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { assertTopicsExist } = await import('../kafka/topics.js');
    await assertTopicsExist(admin, FOLLOWED_TOPICS);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function openReader(kafka: Kafka): Promise<OffsetReader> {
  const { openOffsetReader } = await import('../kafka/offsets.js');
  return openOffsetReader(kafka);
}

async function follow(
  kafka: Kafka,
  model: DashboardModel,
  counts: Map<string, number>,
  kafkaState: (up: boolean, detail: string) => void,
  scope: WaitScope,
  from: 'latest' | 'earliest' = 'latest',
): Promise<Follower> {
  const { followTopics } = await import('../kafka/follow.js');
  return followTopics(kafka, FOLLOWED_TOPICS, {
    clientLabel: 'dashboard',
    from,
    scope,
    onRecords: (records) => {
      const topic = records[0]!.topic;
      counts.set(topic, (counts.get(topic) ?? 0) + records.length);
      if (topic === 'job_status') model.addDecisions(records.flatMap(decision));
      else if (topic === 'joblocation') model.addJobSites(records.flatMap(jobSite));
      else if (topic === 'tradie_truck_location') model.addTruckPositions(records.flatMap(truckPosition));
      else if (topic === 'truck_tracker') model.addTracker(records.flatMap(trackerRow));
    },
    onEvent: (event) => {
      if (event.kind === 'crashed') {
        const detail = `the consumer stopped: ${firstLine(event.error)}`;
        kafkaState(false, event.restarting ? `${detail}; restarting` : detail);
      } else if (event.kind === 'joined') {
        kafkaState(true, 'following the topics');
      }
    },
  });
}

async function sinkCollection(
  ctx: Context,
  loaded: LoadedConfig,
): Promise<{ counter?: SinkCounter; problem?: string }> {
  const config = loaded.values;
  if (config.target === 'cloud' && !config.mongoUri && !config.mongoHost) {
    return { problem: 'no MongoDB sink configured (mongoHost)' };
  }
  const { mongoConnection } = await import('../mongo/connection.js');
  const { openSinkCollection } = await import('../mongo/client.js');
  let connection: Awaited<ReturnType<typeof mongoConnection>>;
  try {
    connection = await mongoConnection(ctx, loaded);
  } catch (error) {
    if (error instanceof UserError) return { problem: error.message };
    throw error;
  }
  const target = { ...connection, database: config.mongoDatabase, collection: config.mongoCollection };
  // Connecting lazily: MongoDB being down when the dashboard starts is shown on the page, not a reason to stop.
  let opened: Awaited<ReturnType<typeof openSinkCollection>> | undefined;
  return {
    counter: {
      count: async () => {
        opened ??= await openSinkCollection(target, { timeoutMs: 1_500, signal: ctx.signal });
        return opened.count();
      },
      close: async () => {
        await opened?.close();
      },
    },
  };
}

/**
 * Runs `task` now and then `everyMs` after each run ends, so slow rounds never pile up: a wait that is never done,
 * until stop(), which lets the round in progress finish.
 */
function repeat(task: () => Promise<void>, everyMs: number, clock: Clock): { stop(): Promise<void> } {
  const stopping = new AbortController();
  let round: Promise<void> = Promise.resolve();
  const rounds = waitFor(
    async () => {
      round = task();
      await round;
      return { done: false, status: 'repeating' };
    },
    {
      what: 'the next round',
      timeoutMs: Number.POSITIVE_INFINITY,
      initialDelayMs: everyMs,
      maxDelayMs: everyMs,
      clock,
      signal: stopping.signal,
    },
  );
  rounds.catch(() => undefined);
  return {
    stop: async () => {
      stopping.abort();
      await round.catch(() => undefined);
    },
  };
}

function topicNames(flow: LineageGraph): string[] {
  const names = flow.nodes.filter((n) => n.kind === 'topic').map((n) => n.label);
  for (const topic of FOLLOWED_TOPICS) if (!names.includes(topic)) names.push(topic);
  return names;
}

/**
 * Records per second since the previous round. Followed topics count real records (a transactional writer's
 * commit markers take offsets too); the others are counted by their end offsets.
 */
function rateOf(previous: Map<string, { at: number; total: number }>, name: string, at: number, total: number): number {
  const before = previous.get(name);
  previous.set(name, { at, total });
  if (!before || at <= before.at) return 0;
  return Math.max(0, ((total - before.total) * 1000) / (at - before.at));
}

/** Labels come from metadata (a connector's destination, say), so they pass the full redaction once here. */
function toFlow(graph: LineageGraph, redact: (text: string) => string): Flow {
  return {
    nodes: graph.nodes.map((n) => ({
      id: n.id,
      kind: n.kind,
      label: redact(n.label),
      ...(n.status ? { status: n.status } : {}),
    })),
    edges: graph.edges.map((e) => ({ from: e.from, to: e.to })),
  };
}

const TEXT_LIMIT = 200;

function text(value: unknown): string {
  if (value === null || value === undefined) return '';
  const s = typeof value === 'string' ? value : String(value);
  return s.length > TEXT_LIMIT ? `${s.slice(0, TEXT_LIMIT)}…` : s;
}

/** Five decimals of a degree is about a metre: all a map needs, and a third of the bytes. */
function round5(degrees: number): number {
  return Math.round(degrees * 1e5) / 1e5;
}

function finite(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function jsonOf(record: FollowedRecord): Record<string, unknown> | undefined {
  if (!record.value) return undefined;
  try {
    const value: unknown = JSON.parse(record.value.toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function keyText(record: FollowedRecord, type?: string): string {
  return text(decodeKey(record.key, type));
}

function statusOf(value: string | null): string {
  if (!value) return 'UNKNOWN';
  try {
    const status = (JSON.parse(value) as { CURRENT_STATUS?: unknown }).CURRENT_STATUS;
    return typeof status === 'string' ? text(status) : 'UNKNOWN';
  } catch {
    return 'UNKNOWN';
  }
}

function decision(record: FollowedRecord): DecisionRow[] {
  const value = jsonOf(record);
  if (!value) return [];
  return [
    {
      jobId: keyText(record, 'BIGINT'),
      customer: text(value.CUSTOMER_ID),
      service: text(value.SERVICE_OPTION),
      price: finite(value.PRICE) ?? null,
      status: typeof value.CURRENT_STATUS === 'string' ? text(value.CURRENT_STATUS) : 'UNKNOWN',
      ts: record.timestamp,
    },
  ];
}

function jobSite(record: FollowedRecord): JobSite[] {
  const value = jsonOf(record);
  const lat = finite(value?.DEST_LAT);
  const long = finite(value?.DEST_LONG);
  if (lat === undefined || long === undefined) return [];
  return [{ id: keyText(record, 'VARCHAR'), lat: round5(lat), long: round5(long) }];
}

function truckPosition(record: FollowedRecord): TruckPosition[] {
  const value = jsonOf(record);
  const lat = finite(value?.LAT);
  const long = finite(value?.LONG);
  if (lat === undefined || long === undefined) return [];
  return [
    {
      id: keyText(record, 'VARCHAR'),
      jobId: text(value!.JOB_ID),
      state: text(value!.STATE) || 'EN_ROUTE',
      lat: round5(lat),
      long: round5(long),
    },
  ];
}

function trackerRow(record: FollowedRecord): TrackerRow[] {
  const value = jsonOf(record);
  if (!value) return [];
  const vehicleId = value.VEHICLE_ID === undefined || value.VEHICLE_ID === null ? undefined : text(value.VEHICLE_ID);
  return [
    {
      jobId: keyText(record, 'VARCHAR'),
      vehicleId,
      lat: finite(value.LAT),
      long: finite(value.LONG),
      destLat: finite(value.DEST_LAT),
      destLong: finite(value.DEST_LONG),
      distanceKm: finite(value.DISTANCE_FROM_DESTINATION),
      etaSeconds: finite(value.ETA_SECONDS),
    },
  ];
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}
