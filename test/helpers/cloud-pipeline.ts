import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { readTopic } from '../../src/kafka/consumer.js';
import { runCli, type CliRun } from './cli.js';
import {
  demoTopicsOnBroker,
  localConnectors,
  requireNoDemoTopics,
  startCloudEmulatorHarness,
  type CloudEmulatorHarness,
  type CloudInventory,
} from './emulator.js';
import type { StackEndpoints } from './stack.js';

/**
 * The demo pipeline on the cloud target, step by step, as a user runs it: the built CLI against the strict Confluent
 * Cloud emulator, which backs the cluster (SASL_SSL listener of the local broker), ksqlDB (a dev server per cluster)
 * and the Atlas sink (local Connect writing to FerretDB) with the local stack. Shared by the pipeline test and the
 * secrets hardening test.
 */
export interface CloudPipelineOptions {
  /** Parent directory of the emulator's exchange log and the CLI's working directory. */
  dir: string;
  prefix: string;
  timeScale: number;
  /** Adds --verbose to every CLI call. */
  verbose?: boolean;
  /** Added to (or replacing) the CLI environment, e.g. another MONGODB_PASSWORD. */
  env?: NodeJS.ProcessEnv;
  /** The local Flink that backs Confluent Cloud Flink statements, for `--engine flink` runs. */
  flink?: { gatewayUrl: string; restUrl: string };
}

export interface CliCall {
  args: string[];
  run: CliRun;
}

/** Rows as `tail --format jsonl` prints them. */
export type { TailRow } from '../../src/tail/source.js';

export interface Leftovers {
  inventory: CloudInventory;
  demoTopics: string[];
  connectors: string[];
  /** Consumer groups of ksqlDB queries (persistent and push) still on the broker. */
  ksqlQueryGroups: string[];
  /** What failed inside the emulator (its bugs, e.g. a topic it could not delete with its cluster). */
  emulatorErrors: string[];
}

export class CloudPipeline {
  /** Every CLI call made through `cli`, in order, with its full stdout and stderr. */
  readonly calls: CliCall[] = [];
  private ksqlServiceIds: string[] = [];
  /** Names of the emulated Atlas sinks' connectors on the local Connect worker. */
  private connectorWorkers: string[] = [];

  private constructor(
    readonly stack: StackEndpoints,
    readonly harness: CloudEmulatorHarness,
    readonly cwd: string,
    readonly env: NodeJS.ProcessEnv,
    /** The MongoDB database the sink writes to (unique per run). */
    readonly database: string,
    private readonly verbose: boolean,
  ) {}

  static async start(stack: StackEndpoints, options: CloudPipelineOptions): Promise<CloudPipeline> {
    await requireNoDemoTopics(stack);
    const harness = await startCloudEmulatorHarness(stack, {
      dir: options.dir,
      timeScale: options.timeScale,
      ...(options.flink ? { flink: options.flink } : {}),
    });
    const cwd = mkdtempSync(join(options.dir, 'cwd-'));
    const database = options.prefix.replace(/-/g, '_');
    const env = harness.cliEnv({
      prefix: options.prefix,
      waitScale: options.timeScale,
      sink: true,
      extra: {
        MARKETPLACE_MONGO_DATABASE: database,
        // Where `sink verify` finds the documents: the emulator runs the Atlas sink into FerretDB, which takes the
        // user and password over PLAIN (it does not speak SCRAM).
        MARKETPLACE_MONGO_URI: `${stack.ferretdb.uri}?authMechanism=PLAIN`,
        ...options.env,
      },
    });
    return new CloudPipeline(stack, harness, cwd, env, database, options.verbose ?? false);
  }

  /** Runs the CLI in this pipeline's directory with its environment (or `env` instead, for a variation). */
  async cli(args: string[], timeoutMs = 180_000, env: NodeJS.ProcessEnv = this.env): Promise<CliRun> {
    const full = this.verbose ? [...args, '--verbose'] : args;
    const run = await runCli(full, { cwd: this.cwd, env, timeoutMs });
    this.calls.push({ args: full, run });
    return run;
  }

  async up(): Promise<CliRun> {
    const run = await this.cli(['up', '--json']);
    this.ksqlServiceIds = [...this.harness.emulator.state.ksqlClusters.values()].map(
      (cluster) => `${cluster.topicPrefix}_`,
    );
    this.connectorWorkers = this.harness.inventory().connectors.map((connector) => connector.workerName);
    return run;
  }

  produce(jobs: number, seed: number): Promise<CliRun> {
    return this.cli([
      'produce',
      '--count',
      String(jobs),
      '--rate',
      '200',
      '--trucks',
      '2',
      '--truck-interval',
      '200ms',
      '--seed',
      String(seed),
      '--json',
    ]);
  }

  tail(limit: number, extra: string[] = []): Promise<CliRun> {
    return this.cli([
      'tail',
      'job_status',
      '--from-beginning',
      '--limit',
      String(limit),
      '--format',
      'jsonl',
      ...extra,
    ]);
  }

  /** Writes one record as given (not through the CLI) over the broker's PLAINTEXT listener. */
  async produceRaw(topic: string, key: string, value: string): Promise<void> {
    const producer = this.plaintext().producer();
    await producer.connect();
    try {
      await producer.send({ topic, messages: [{ key, value }] });
    } finally {
      await producer.disconnect();
    }
  }

  sinkVerify(): Promise<CliRun> {
    return this.cli(['sink', 'verify', '--wait', '120s', '--json']);
  }

  down(): Promise<CliRun> {
    return this.cli(['down', '--yes', '--json']);
  }

  /**
   * What the generator decided for each job, read back from the input topics over the broker's PLAINTEXT listener:
   * ACCEPTED when the quote covers the price.
   */
  async expectedStatuses(): Promise<Map<string, string>> {
    const prices = new Map<string, number>();
    for (const value of await this.readTopic('job_created')) {
      const job = JSON.parse(value) as { job_id: number; price: number };
      prices.set(String(job.job_id), job.price);
    }
    const expected = new Map<string, string>();
    for (const value of await this.readTopic('order_placed')) {
      const order = JSON.parse(value) as { job_id: number; price_quoted: number };
      const price = prices.get(String(order.job_id));
      if (price === undefined) throw new Error(`order for unknown job ${order.job_id}`);
      expected.set(String(order.job_id), order.price_quoted >= price ? 'ACCEPTED' : 'REJECTED');
    }
    return expected;
  }

  /** The documents the Atlas sink wrote (to FerretDB, behind the emulator), without their `_id`. */
  async sunkDocuments(): Promise<Record<string, unknown>[]> {
    const mongo = new MongoClient(this.stack.ferretdb.uri);
    try {
      await mongo.connect();
      const documents = await mongo.db(this.database).collection('job_status').find().toArray();
      return documents.map(({ _id, ...fields }) => fields);
    } finally {
      await mongo.close();
    }
  }

  /** What is left of the deployment: in the emulator, on the broker, on the Connect worker, in ksqlDB. */
  async leftovers(): Promise<Leftovers> {
    const ksqlQueryGroups = await this.ksqlGroupsStillPresent();
    return {
      inventory: this.harness.inventory(),
      demoTopics: await demoTopicsOnBroker(this.stack),
      connectors: (await localConnectors(this.stack)).filter((name) => this.connectorWorkers.includes(name)),
      ksqlQueryGroups,
      emulatorErrors: [...this.harness.emulator.internalErrors],
    };
  }

  /** Tears down whatever a failed run left, then stops the emulator and drops the sink's database. */
  async close(): Promise<void> {
    try {
      if (Object.values(this.harness.inventory()).some((items) => items.length > 0)) {
        await runCli(['down', '--yes', '--discover'], { cwd: this.cwd, env: this.env, timeoutMs: 180_000 });
      }
    } finally {
      await this.harness.close();
      const mongo = new MongoClient(this.stack.ferretdb.uri);
      try {
        await mongo.connect();
        await mongo.db(this.database).dropDatabase();
      } catch {
        // Nothing was written, or FerretDB is gone: nothing to drop.
      } finally {
        await mongo.close();
      }
    }
  }

  private async ksqlGroupsStillPresent(): Promise<string[]> {
    if (this.ksqlServiceIds.length === 0) return [];
    const admin = this.plaintext().admin();
    await admin.connect();
    try {
      const prefixes = this.ksqlServiceIds.map((id) => `_confluent-ksql-${id}`);
      // Persistent queries consume as `<prefix>query_<id>`, push queries as `<prefix>transient_<id>`.
      const queries = (name: string) =>
        prefixes.some((p) => name.startsWith(`${p}query_`) || name.startsWith(`${p}transient_`));
      return (await admin.listGroups()).groups.map((g) => g.groupId).filter(queries);
    } finally {
      await admin.disconnect();
    }
  }

  private async readTopic(topic: string): Promise<string[]> {
    const records = await readTopic(this.plaintext(), topic);
    return records.flatMap((record) => (record.value === null || record.value === undefined ? [] : [record.value]));
  }

  private plaintext(): Kafka {
    return new Kafka({
      brokers: [this.stack.kafka.plaintext],
      logLevel: logLevel.NOTHING,
      clientId: 'e2e-cloud-pipeline',
    });
  }
}
