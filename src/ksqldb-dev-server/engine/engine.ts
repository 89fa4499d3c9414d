import { randomInt } from 'node:crypto';
import { ErrorCodes, KsqlError, badStatement, unsupported } from '../errors.js';
import type { ColumnDef, PropertyValue, Query, Statement } from '../sql/ast.js';
import { compile, exprText } from '../sql/expressions.js';
import { substituteVariables } from '../sql/lexer.js';
import { parseStatements } from '../sql/parser.js';
import { formatType, schemaOf, type SqlType } from '../sql/types.js';
import { waitFor, within } from '../../core/waiter.js';
import { createTopicsAndWait } from '../../kafka/topics.js';
import { CommandLog } from './command-log.js';
import { topicExists, topicPartitionCount, type KafkaHandles } from './kafka.js';
import { PersistentQuery, type QueryLogger } from './persistent-query.js';
import { outputSourceColumns, planQuery, type QueryPlan } from './planner.js';
import { PushQuery } from './push-query.js';
import { coerceJsonValue, jsonValueEncoder, serializeKafkaKey } from './serde.js';
import type { DataSource, SourceColumn } from './source.js';

export const DEV_SERVER_VERSION = '0.29.0-marketplace-dev';

export type Entity = Record<string, unknown>;

interface CommandStatus {
  status: 'QUEUED' | 'PARSING' | 'EXECUTING' | 'SUCCESS' | 'ERROR' | 'TERMINATED';
  message: string;
  queryId: string | null;
}

/** The metastore as seen while validating one request: earlier statements' effects are visible to later ones. */
interface Sandbox {
  sources: Map<string, DataSource>;
  queryIds: Set<string>;
  /** Topics that earlier statements of the request will create, with their partition count. */
  plannedTopics: Map<string, number>;
}

interface Prepared {
  /** Runs the statement for real; returns its entity (or none, for SET and INSERT VALUES). */
  run(): Promise<Entity | undefined>;
}

const KNOWN_WITH_PROPERTIES = new Set([
  'KAFKA_TOPIC',
  'VALUE_FORMAT',
  'KEY_FORMAT',
  'FORMAT',
  'PARTITIONS',
  'REPLICAS',
  'TIMESTAMP',
  'TIMESTAMP_FORMAT',
  'WRAP_SINGLE_VALUE',
  'VALUE_DELIMITER',
  'RETENTION_MS',
]);

export interface EngineOptions {
  handles: KafkaHandles;
  serviceId: string;
  bootstrap: string;
  logger: QueryLogger;
  /**
   * How long POST /ksql waits for a written command to finish before answering with its non-final status
   * (ksql.server.command.response.timeout.ms; ksqlDB's default is 5000). The client then polls GET /status.
   */
  commandResponseTimeoutMs?: number;
}

export interface PreparedQuery {
  queryId: string;
  columnNames: string[];
  columnTypes: string[];
  /** The columns' types, for writing rows as ksqlDB does. */
  types: SqlType[];
  /** Pull query: the rows, already computed. */
  rows?: unknown[][];
  /** Push query: call with row/end callbacks to start it. */
  startPush?: (onRow: (values: unknown[]) => void, onEnd: (error?: Error) => void) => Promise<PushQuery>;
}

export class Engine {
  readonly sources = new Map<string, DataSource>();
  readonly queries = new Map<string, PersistentQuery>();
  readonly pushQueries = new Map<string, { query: PushQuery; sql: string; sourceName: string }>();
  readonly commandStatuses = new Map<string, CommandStatus>();
  lastSequenceNumber = -1;
  readonly commandLog: CommandLog;
  private readonly groupPrefix: string;
  private queue: Promise<unknown> = Promise.resolve();
  private replaying = false;
  /** Told when the statement being run has been written to the command topic. */
  private onDistributed: ((commandId: string, sequence: number) => void) | undefined;

  constructor(private readonly options: EngineOptions) {
    this.groupPrefix = `_confluent-ksql-${options.serviceId}`;
    this.commandLog = new CommandLog(
      options.handles,
      `_confluent-ksql-${options.serviceId}_command_topic`,
      this.groupPrefix,
    );
  }

  get serviceId(): string {
    return this.options.serviceId;
  }

  /** Rebuilds the metastore from the command topic and restarts the persistent queries it defines. */
  async start(): Promise<void> {
    await this.commandLog.ensureTopic();
    const commands = await this.commandLog.readAll();
    this.replaying = true;
    try {
      for (const command of commands) {
        try {
          const [statement] = parseStatements(command.statement);
          if (!statement) continue;
          const props = new Map(
            Object.entries(command.streamsProperties).map(([k, v]) => [normalizeProperty(k), String(v)]),
          );
          const prepared = await this.prepare(statement, this.liveSandbox(), props, command.sequenceNumber);
          await prepared.run();
        } catch (error) {
          this.options.logger.warn(`Skipping command ${command.commandId} on replay: ${(error as Error).message}`);
        }
        this.lastSequenceNumber = Math.max(this.lastSequenceNumber, command.sequenceNumber);
      }
    } finally {
      this.replaying = false;
    }
    const started = [...this.queries.values()];
    for (const query of started) {
      await query.start().catch((error: Error) => {
        query.state = 'ERROR';
        query.errorMessage = error.message;
        this.options.logger.warn(`Query ${query.id} failed to start: ${error.message}`);
      });
    }
    if (commands.length > 0)
      this.options.logger.info(
        `Replayed ${commands.length} command(s); ${started.length} persistent quer${started.length === 1 ? 'y' : 'ies'} running`,
      );
  }

  async stop(): Promise<void> {
    await Promise.all([...this.pushQueries.values()].map((p) => p.query.close()));
    await Promise.all([...this.queries.values()].map((q) => q.stop()));
  }

  /** Waits until commands up to `sequenceNumber` have run (they run synchronously here, so only a future number waits). */
  async waitForSequence(sequenceNumber: number, timeoutMs = 5000): Promise<void> {
    try {
      await waitFor(
        async () =>
          this.lastSequenceNumber >= sequenceNumber
            ? { done: true, value: undefined }
            : { done: false, status: `at ${this.lastSequenceNumber}` },
        { what: `command ${sequenceNumber}`, timeoutMs, initialDelayMs: 50, maxDelayMs: 50 },
      );
    } catch {
      // The probe never fails: the wait ran out.
      throw new KsqlError(
        ErrorCodes.sequenceTimeout,
        `Timed out while waiting for a previous command to execute. command sequence number: ${sequenceNumber}`,
      );
    }
  }

  /** POST /ksql: parse everything, validate every statement in order against a sandbox, then run them. */
  async executeRequest(
    text: string,
    streamsProperties: Record<string, unknown>,
    sessionVariables: Record<string, unknown>,
  ): Promise<Entity[]> {
    const run = async () => {
      const variables = new Map(Object.entries(sessionVariables).map(([k, v]) => [k.toUpperCase(), String(v)]));
      for (const match of text.matchAll(/\bDEFINE\s+([A-Za-z_][A-Za-z0-9_]*)\s*=\s*'((?:[^']|'')*)'/gi))
        variables.set(match[1]!.toUpperCase(), match[2]!.replace(/''/g, "'"));
      let statements: Statement[];
      try {
        statements = parseStatements(substituteVariables(text, variables));
      } catch (error) {
        throw toStatementError(error, text);
      }
      const props = new Map(Object.entries(streamsProperties).map(([k, v]) => [normalizeProperty(k), String(v)]));
      validateProperties(props);
      const sandbox = this.sandboxCopy();
      const prepared: Prepared[] = [];
      for (const statement of statements) {
        try {
          prepared.push(await this.prepare(statement, sandbox, props));
        } catch (error) {
          throw toStatementError(error, statement.text);
        }
      }
      const entities: Entity[] = [];
      // A statement still executing after the response timeout keeps running; the next one starts after it.
      let stillRunning: Promise<unknown> = Promise.resolve();
      for (const [i, step] of prepared.entries()) {
        await stillRunning;
        const outcome = await this.runWithinResponseTimeout(step, statements[i]!.text);
        if ('error' in outcome) throw toStatementError(outcome.error, statements[i]!.text, ErrorCodes.serverError);
        if (outcome.entity) entities.push(outcome.entity);
        stillRunning = outcome.finished ?? Promise.resolve();
      }
      return { entities, finished: stillRunning };
    };
    const result = this.queue.then(run, run);
    this.queue = result.then((r) => r.finished).catch(() => undefined);
    return result.then((r) => r.entities);
  }

  /**
   * Runs one validated statement. Once its command is written, waits at most the command response timeout for it
   * to finish; past that, answers with its non-final status (as ksqlDB does) and records the final one when it ends.
   */
  private async runWithinResponseTimeout(
    step: Prepared,
    text: string,
  ): Promise<{ entity: Entity | undefined; finished?: Promise<unknown> } | { error: unknown }> {
    let command: { commandId: string; sequence: number } | undefined;
    const written = new Promise<void>((resolve) => {
      this.onDistributed = (commandId, sequence) => {
        command = { commandId, sequence };
        resolve();
      };
    });
    const running = step.run().then(
      (entity) => ({ entity }),
      (error: unknown) => ({ error }),
    );
    try {
      const early = await Promise.race([running, written.then(() => undefined)]);
      if (early || !command) return early ?? (await running);
      const timeoutMs = this.options.commandResponseTimeoutMs ?? 5000;
      // Still running at the response timeout: answered with its current status (`running` never rejects).
      const late = await within(running, {
        timeoutMs,
        onTimeout: () => new Error('still running'),
      }).catch(() => undefined);
      if (late) return late;
      const { commandId, sequence } = command;
      const finished = running.then((outcome) => {
        if ('error' in outcome) {
          const message = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
          this.commandStatuses.set(commandId, { status: 'ERROR', message, queryId: null });
          this.options.logger.warn(`Command ${commandId} failed after its response was sent: ${message}`);
        }
      });
      return {
        entity: {
          '@type': 'currentStatus',
          statementText: text,
          commandId,
          commandStatus: this.commandStatuses.get(commandId) ?? {
            status: 'EXECUTING',
            message: 'Executing statement',
            queryId: null,
          },
          commandSequenceNumber: sequence,
          warnings: [],
        },
        finished,
      };
    } finally {
      this.onDistributed = undefined;
    }
  }

  private liveSandbox(): Sandbox {
    return { sources: this.sources, queryIds: new Set(this.queries.keys()), plannedTopics: new Map() };
  }

  private sandboxCopy(): Sandbox {
    return { sources: new Map(this.sources), queryIds: new Set(this.queries.keys()), plannedTopics: new Map() };
  }

  /**
   * Validates a statement against the sandbox (updating it) and returns how to run it. `replaySequence` is set when
   * the statement comes from the command topic: then it is applied without being written again.
   */
  private async prepare(
    statement: Statement,
    sandbox: Sandbox,
    props: Map<string, string>,
    replaySequence?: number,
  ): Promise<Prepared> {
    switch (statement.kind) {
      case 'create':
        return statement.query
          ? this.prepareCreateAs(statement, statement.query, sandbox, props, replaySequence)
          : this.prepareCreate(statement, sandbox, replaySequence);
      case 'drop':
        return this.prepareDrop(statement, sandbox, replaySequence);
      case 'terminate':
        return this.prepareTerminate(statement, sandbox, replaySequence);
      case 'list':
        return { run: async () => this.list(statement, props) };
      case 'describe': {
        const source = sandbox.sources.get(statement.name);
        if (!source) throw badStatement(`Could not find STREAM/TABLE '${statement.name}' in the Metastore`);
        return { run: async () => this.describe(statement.text, statement.name, statement.extended) };
      }
      case 'explain': {
        const query = this.queries.get(statement.queryId);
        if (!query)
          throw badStatement(
            `Query with id:${statement.queryId} does not exist, use SHOW QUERIES to view the full set of queries.`,
          );
        return { run: async () => this.explain(statement.text, query) };
      }
      case 'select':
        throw new KsqlError(
          ErrorCodes.queryEndpoint,
          "The following statement types should be issued to the websocket endpoint '/query':\n\t* PRINT\n\t* SELECT",
        );
      case 'insertValues':
        return this.prepareInsert(statement, sandbox);
      case 'set':
        props.set(normalizeProperty(statement.name), statement.value);
        validateProperties(props);
        return { run: async () => undefined };
      case 'unset':
        props.delete(normalizeProperty(statement.name));
        return { run: async () => undefined };
      case 'define':
      case 'undefine':
        return { run: async () => undefined };
    }
  }

  // ---- CREATE STREAM/TABLE ----

  private async prepareCreate(
    statement: Extract<Statement, { kind: 'create' }>,
    sandbox: Sandbox,
    replaySequence?: number,
  ): Promise<Prepared> {
    const { name, sourceType } = statement;
    const existing = sandbox.sources.get(name);
    if (existing && statement.ifNotExists)
      return {
        run: async () =>
          warning(
            statement.text,
            `Cannot add ${sourceType.toLowerCase()} ${name}: A ${existing.type.toLowerCase()} with the same name already exists.`,
          ),
      };
    if (existing && !statement.orReplace)
      throw badStatement(
        `Cannot add ${sourceType.toLowerCase()} '${name}': A ${existing.type.toLowerCase()} with the same name already exists`,
      );
    if (existing && existing.type !== sourceType)
      throw badStatement(
        `Cannot replace ${existing.type.toLowerCase()} ${name} with a ${sourceType.toLowerCase()}: the types differ.`,
      );
    if (existing?.writeQueryId)
      throw badStatement(
        `Cannot replace ${name}: it is written by query ${existing.writeQueryId}. Use CREATE OR REPLACE ... AS SELECT instead.`,
      );
    const columns = statement.columns ?? [];
    if (columns.length === 0) throw badStatement('The statement does not define any columns.');
    checkColumns(columns);
    const keys = columns.filter((c) => c.key);
    if (sourceType === 'TABLE' && keys.length === 0)
      throw badStatement('Tables require a PRIMARY KEY. Please define the PRIMARY KEY.');
    if (keys.length > 1) throw unsupported('More than one key column');
    for (const key of keys) checkKafkaKey({ name: key.name, type: key.type, key: true });
    const props = statement.properties;
    checkWithProperties(props, false);
    const topic = stringProperty(props, 'KAFKA_TOPIC');
    if (topic === undefined) throw badStatement('Missing required property "KAFKA_TOPIC" which has no default value.');
    const { keyFormat } = formats(props, keys.length > 0);
    const partitions = numberProperty(props, 'PARTITIONS');
    const replicas = numberProperty(props, 'REPLICAS');
    const existingTopic = sandbox.plannedTopics.has(topic)
      ? { partitions: sandbox.plannedTopics.get(topic)!, replicas: 1 }
      : await topicPartitionCount(this.options.handles.admin, topic);
    if (!existingTopic && partitions === undefined) {
      throw badStatement(
        `Topic '${topic}' does not exist. If you want to create a new topic for the ${sourceType.toLowerCase()} please re-run the statement providing the required 'PARTITIONS' configuration in the WITH clause (and optionally 'REPLICAS'). For example: CREATE ${sourceType} ${name} (ID INT ${sourceType === 'TABLE' ? 'PRIMARY KEY' : 'KEY'}, VAL STRING) WITH (KAFKA_TOPIC='${topic}', PARTITIONS=2, REPLICAS=1, FORMAT='JSON');`,
      );
    }
    if (existingTopic && partitions !== undefined && existingTopic.partitions !== partitions) {
      throw badStatement(
        `A Kafka topic with the name '${topic}' already exists, with different partition/replica configuration than required. KSQL expects ${partitions} partitions (topic has ${existingTopic.partitions}), ${replicas ?? existingTopic.replicas} replication factor (topic has ${existingTopic.replicas}).`,
      );
    }
    if (!existingTopic) sandbox.plannedTopics.set(topic, partitions!);
    const source: DataSource = {
      name,
      type: sourceType,
      topic,
      keyFormat,
      valueFormat: 'JSON',
      columns: columns.map((c) => ({ name: c.name, type: c.type, key: c.key !== null })),
      statement: statement.text,
    };
    sandbox.sources.set(name, source);
    const commandId = `${sourceType.toLowerCase()}/${name}/create`;
    return {
      run: async () => {
        // As in ksqlDB, the topic comes before the command: a topic that cannot be made fails the statement with
        // nothing recorded. On replay a missing topic was deleted after the statement ran (a later DROP … DELETE
        // TOPIC, or `down`): re-creating it would resurrect topics nobody wants.
        if (!this.replaying && !existingTopic && !(await topicPartitionCount(this.options.handles.admin, topic))) {
          await this.createTopic(topic, partitions!, replicas, sourceType === 'TABLE');
        }
        const sequence = await this.distribute(commandId, statement.text, {}, replaySequence);
        this.sources.set(name, source);
        const message = existing
          ? `${sourceType === 'STREAM' ? 'Stream' : 'Table'} replaced`
          : `${sourceType === 'STREAM' ? 'Stream' : 'Table'} created`;
        return this.statusEntity(
          statement.text,
          commandId,
          sequence,
          { status: 'SUCCESS', message, queryId: null },
          [],
        );
      },
    };
  }

  // ---- CREATE ... AS SELECT ----

  private async prepareCreateAs(
    statement: Extract<Statement, { kind: 'create' }>,
    query: Query,
    sandbox: Sandbox,
    props: Map<string, string>,
    replaySequence?: number,
  ): Promise<Prepared> {
    const { name, sourceType } = statement;
    const existing = sandbox.sources.get(name);
    if (existing && statement.ifNotExists)
      return {
        run: async () =>
          warning(
            statement.text,
            `Cannot add ${sourceType.toLowerCase()} ${name}: A ${existing.type.toLowerCase()} with the same name already exists.`,
          ),
      };
    if (existing && !statement.orReplace)
      throw badStatement(
        `Cannot add ${sourceType.toLowerCase()} '${name}': A ${existing.type.toLowerCase()} with the same name already exists`,
      );
    if (existing && existing.type !== sourceType)
      throw badStatement(
        `Incompatible data source type is ${existing.type}, but statement was CREATE OR REPLACE ${sourceType}`,
      );
    if (existing && !existing.writeQueryId)
      throw badStatement(`Cannot replace ${name}: it is not populated by a query.`);
    checkWithProperties(statement.properties, true);
    const lookup = (sourceName: string) => sandbox.sources.get(sourceName);
    const plan = planQuery(query, lookup, { persistent: true, sinkName: name });
    if (plan.inputs.some((i) => i.source.name === name))
      throw badStatement(`Cannot use ${name} as both the source and the sink of a query.`);
    if (plan.resultType !== sourceType) {
      throw badStatement(
        `Invalid result type. Your SELECT query produces a ${plan.resultType}. Please use CREATE ${plan.resultType} AS SELECT statement instead.`,
      );
    }
    const columns = outputSourceColumns(plan);
    const keyColumn = columns.find((c) => c.key);
    if (keyColumn) checkKafkaKey(keyColumn);
    if (existing) {
      const oldKey = existing.columns.find((c) => c.key);
      if (
        (oldKey?.name ?? '') !== (keyColumn?.name ?? '') ||
        (oldKey && keyColumn && formatType(oldKey.type) !== formatType(keyColumn.type))
      ) {
        throw badStatement(
          `Cannot upgrade data source: DataSource '${name}' has schema = ${describeSchema(existing.columns)} which is not upgradeable to ${describeSchema(columns)}. (The following key columns are changed, missing or reordered: ${describeSchema(existing.columns.filter((c) => c.key))})`,
        );
      }
    }
    const topic = stringProperty(statement.properties, 'KAFKA_TOPIC') ?? existing?.topic ?? name;
    const leftSource = plan.inputs[0]!.source;
    const leftTopic = sandbox.plannedTopics.has(leftSource.topic)
      ? { partitions: sandbox.plannedTopics.get(leftSource.topic)!, replicas: 1 }
      : await topicPartitionCount(this.options.handles.admin, leftSource.topic);
    if (!leftTopic) throw badStatement(`Kafka topic does not exist: ${leftSource.topic}`);
    const partitions = numberProperty(statement.properties, 'PARTITIONS') ?? leftTopic.partitions;
    const replicas = numberProperty(statement.properties, 'REPLICAS') ?? leftTopic.replicas;
    const sinkTopic = sandbox.plannedTopics.has(topic)
      ? { partitions: sandbox.plannedTopics.get(topic)!, replicas }
      : await topicPartitionCount(this.options.handles.admin, topic);
    if (sinkTopic && sinkTopic.partitions !== partitions) {
      throw badStatement(
        `A Kafka topic with the name '${topic}' already exists, with different partition/replica configuration than required. KSQL expects ${partitions} partitions (topic has ${sinkTopic.partitions}), ${replicas} replication factor (topic has ${sinkTopic.replicas}).`,
      );
    }
    if (!sinkTopic) sandbox.plannedTopics.set(topic, partitions);
    const { keyFormat } = formats(statement.properties, keyColumn !== undefined);
    const prefix = sourceType === 'STREAM' ? 'CSAS' : 'CTAS';
    const commandId = `${sourceType.toLowerCase()}/${name}/create`;
    const sink: DataSource = {
      name,
      type: sourceType,
      topic,
      keyFormat,
      valueFormat: 'JSON',
      columns,
      statement: statement.text,
      writeQueryId: existing?.writeQueryId ?? `${prefix}_${name}_PENDING`,
    };
    sandbox.sources.set(name, sink);
    const offsetReset = props.get('auto.offset.reset') === 'earliest' ? 'earliest' : 'latest';
    const maxTaskIdleMs = props.has('max.task.idle.ms') ? Number(props.get('max.task.idle.ms')) : undefined;
    const streamsProperties = Object.fromEntries(props);
    return {
      run: async () => {
        if (!this.replaying && !sinkTopic && !(await topicPartitionCount(this.options.handles.admin, topic))) {
          await this.createTopic(topic, partitions, replicas, sourceType === 'TABLE');
        }
        const sequence = await this.distribute(commandId, statement.text, streamsProperties, replaySequence);
        const queryId = existing?.writeQueryId ?? `${prefix}_${name}_${sequence}`;
        const finalSink: DataSource = { ...sink, writeQueryId: queryId };
        const finalPlan = planQuery(query, (n) => this.sources.get(n), {
          persistent: true,
          sinkName: name,
          onExpressionError: () => undefined,
        });
        const previous = this.queries.get(queryId);
        if (previous) await previous.stop();
        const persistent = new PersistentQuery(
          queryId,
          statement.text,
          finalPlan,
          finalSink,
          this.options.handles,
          this.groupPrefix,
          offsetReset,
          this.options.logger,
          { maxTaskIdleMs },
        );
        this.sources.set(name, finalSink);
        this.queries.set(queryId, persistent);
        if (!this.replaying) await persistent.start();
        return this.statusEntity(
          statement.text,
          commandId,
          sequence,
          { status: 'SUCCESS', message: `Created query with ID ${queryId}`, queryId },
          plan.warnings,
        );
      },
    };
  }

  // ---- DROP ----

  private async prepareDrop(
    statement: Extract<Statement, { kind: 'drop' }>,
    sandbox: Sandbox,
    replaySequence?: number,
  ): Promise<Prepared> {
    const source = sandbox.sources.get(statement.name);
    const commandId = `${statement.sourceType.toLowerCase()}/${statement.name}/drop`;
    if (!source) {
      if (statement.ifExists) {
        return {
          run: async () =>
            this.statusEntity(
              statement.text,
              commandId,
              this.lastSequenceNumber,
              { status: 'SUCCESS', message: `Source \`${statement.name}\` does not exist.`, queryId: null },
              [],
            ),
        };
      }
      throw badStatement(`Source ${statement.name} does not exist.`);
    }
    if (source.type !== statement.sourceType)
      throw badStatement(
        `Incompatible data source type is ${source.type}, but statement was DROP ${statement.sourceType}`,
      );
    const readers = [...sandbox.sources.values()].filter(
      (s) => s.name !== source.name && s.writeQueryId && this.readsFrom(s, source.name),
    );
    if (readers.length > 0) {
      throw badStatement(
        `Cannot drop ${source.name}.\nThe following streams and/or tables read from this source: [${readers.map((r) => r.name).join(', ')}].\nYou need to drop them before dropping ${source.name}.`,
      );
    }
    sandbox.sources.delete(source.name);
    return {
      run: async () => {
        const sequence = await this.distribute(commandId, statement.text, {}, replaySequence);
        const live = this.sources.get(source.name);
        if (live?.writeQueryId) {
          const query = this.queries.get(live.writeQueryId);
          this.queries.delete(live.writeQueryId);
          if (query && !this.replaying) await query.terminate();
        }
        this.sources.delete(source.name);
        // Push queries reading the dropped source cannot go on: they end with an error, mid-stream.
        for (const [id, push] of [...this.pushQueries]) {
          if (push.query.plan.inputs.some((i) => i.source.name === source.name)) {
            this.pushQueries.delete(id);
            await push.query.end(new Error(`Source ${source.name} was dropped; query ${id} terminated.`));
          }
        }
        if (statement.deleteTopic && !this.replaying) {
          await this.options.handles.admin.deleteTopics({ topics: [source.topic] }).catch(() => undefined);
          await this.options.handles.producers.forget(source.topic);
        }
        return this.statusEntity(
          statement.text,
          commandId,
          sequence,
          {
            status: 'SUCCESS',
            message: `Source \`${source.name}\` (topic: ${source.topic}) was dropped.`,
            queryId: null,
          },
          [],
        );
      },
    };
  }

  private readsFrom(reader: DataSource, sourceName: string): boolean {
    const query = reader.writeQueryId ? this.queries.get(reader.writeQueryId) : undefined;
    if (query) return query.sourceNames.includes(sourceName);
    // Created earlier in the same request: look at the statement itself.
    try {
      const [statement] = parseStatements(reader.statement);
      if (statement?.kind === 'create' && statement.query) {
        return statement.query.from.name === sourceName || statement.query.join?.right.name === sourceName;
      }
    } catch {
      return false;
    }
    return false;
  }

  // ---- TERMINATE ----

  private async prepareTerminate(
    statement: Extract<Statement, { kind: 'terminate' }>,
    sandbox: Sandbox,
    replaySequence?: number,
  ): Promise<Prepared> {
    if (statement.queryId === 'ALL') {
      const ids = [...sandbox.queryIds];
      sandbox.queryIds.clear();
      const commandId = 'terminate/ALL/execute';
      return {
        run: async () => {
          const sequence = await this.distribute(commandId, statement.text, {}, replaySequence);
          for (const id of ids) await this.terminateQuery(id);
          return this.statusEntity(
            statement.text,
            commandId,
            sequence,
            { status: 'SUCCESS', message: 'Query terminated.', queryId: null },
            [],
          );
        },
      };
    }
    const id = statement.queryId;
    const push = [...this.pushQueries.entries()].find(([key]) => key.toUpperCase() === id);
    if (push && !replaySequence) {
      return {
        run: async () => {
          this.pushQueries.delete(push[0]);
          await push[1].query.end();
          return {
            '@type': 'terminate_query',
            statementText: statement.text,
            queryId: push[0],
            wasTerminated: true,
            warnings: [],
          };
        },
      };
    }
    if (!sandbox.queryIds.has(id)) throw badStatement(`Unknown queryId: ${id}`);
    sandbox.queryIds.delete(id);
    const commandId = `terminate/${id}/execute`;
    return {
      run: async () => {
        const sequence = await this.distribute(commandId, statement.text, {}, replaySequence);
        await this.terminateQuery(id);
        return this.statusEntity(
          statement.text,
          commandId,
          sequence,
          { status: 'SUCCESS', message: 'Query terminated.', queryId: null },
          [],
        );
      },
    };
  }

  private async terminateQuery(id: string): Promise<void> {
    const query = this.queries.get(id);
    if (!query) return;
    this.queries.delete(id);
    const sink = this.sources.get(query.sink.name);
    if (sink && sink.writeQueryId === id) this.sources.set(sink.name, { ...sink, writeQueryId: undefined });
    if (!this.replaying) await query.terminate();
  }

  // ---- INSERT VALUES ----

  private prepareInsert(statement: Extract<Statement, { kind: 'insertValues' }>, sandbox: Sandbox): Prepared {
    const source = sandbox.sources.get(statement.target);
    if (!source) throw badStatement(`Cannot insert values into an unknown stream/table: ${statement.target}`);
    if (source.writeQueryId)
      throw badStatement(`Cannot insert values into read-only ${source.type.toLowerCase()}: ${source.name}`);
    const names = statement.columns ?? source.columns.map((c) => c.name);
    if (names.length !== statement.values.length)
      throw badStatement(
        `Expected number columns and values to match: [${names.join(', ')}], [${statement.values.map(exprText).join(', ')}]`,
      );
    const row: Record<string, unknown> = {};
    names.forEach((name, i) => {
      const column = source.columns.find((c) => c.name === name);
      if (!column) throw badStatement(`Column name ${name} does not exist.`);
      const value = compile(statement.values[i]!, { columns: [] }).evaluate([]);
      row[name] = value;
    });
    return {
      run: async () => {
        await this.insertRow(source.name, row);
        return undefined;
      },
    };
  }

  /** Produces one row to a source's topic; the row's keys are column names (already case-resolved). */
  async insertRow(sourceName: string, row: Record<string, unknown>): Promise<void> {
    const source = this.sources.get(sourceName);
    if (!source) throw badStatement(`Cannot insert values into an unknown stream/table: ${sourceName}`);
    const values = source.columns.map((c) => coerceJsonValue(c.type, row[c.name], c.name));
    // A producer retries a deleted topic for most of a minute before it gives up: look first.
    if (!(await topicExists(this.options.handles.admin, source.topic))) {
      await this.options.handles.producers.forget(source.topic);
      throw badStatement(
        `Failed to insert values into '${source.name}': its topic ${source.topic} does not exist (it was deleted). ` +
          `Drop ${source.name} and create it again, with PARTITIONS to create the topic.`,
      );
    }
    const key = source.columns.findIndex((c) => c.key);
    const valueColumns = source.columns.filter((c) => !c.key);
    const encode = jsonValueEncoder(valueColumns);
    await this.options.handles.producers.send({
      topic: source.topic,
      acks: -1,
      messages: [
        {
          key: key >= 0 ? serializeKafkaKey(source.columns[key]!.type, values[key]) : null,
          value: encode(
            source.columns.map((c, i) => (c.key ? undefined : values[i])).filter((_, i) => !source.columns[i]!.key),
          ),
        },
      ],
    });
  }

  // ---- LIST / DESCRIBE ----

  private list(statement: Extract<Statement, { kind: 'list' }>, props: Map<string, string>): Promise<Entity> | Entity {
    const text = statement.text;
    switch (statement.what) {
      case 'STREAMS':
      case 'TABLES': {
        const type = statement.what === 'STREAMS' ? 'STREAM' : 'TABLE';
        const sources = [...this.sources.values()]
          .filter((s) => s.type === type)
          .sort((a, b) => a.name.localeCompare(b.name));
        if (statement.extended) {
          return {
            '@type': 'source_descriptions',
            statementText: text,
            sourceDescriptions: sources.map((s) => this.sourceDescription(s, true)),
            warnings: [],
          };
        }
        const key = statement.what === 'STREAMS' ? 'streams' : 'tables';
        return {
          '@type': key,
          statementText: text,
          [key]: sources.map((s) => ({
            type: s.type,
            name: s.name,
            topic: s.topic,
            keyFormat: s.keyFormat,
            valueFormat: s.valueFormat,
            isWindowed: false,
          })),
          warnings: [],
        };
      }
      case 'TOPICS':
        return this.listTopics(text, statement.extended);
      case 'QUERIES':
        return { '@type': 'queries', statementText: text, queries: this.queryInfos(), warnings: [] };
      case 'PROPERTIES':
        return this.listProperties(text, props);
      case 'VARIABLES':
        return { '@type': 'variables', statementText: text, variables: [], warnings: [] };
    }
  }

  private async listTopics(text: string, extended: boolean): Promise<Entity> {
    const admin = this.options.handles.admin;
    const names = (await admin.listTopics()).filter((t) => !t.startsWith('_')).sort();
    const metadata = names.length > 0 ? await admin.fetchTopicMetadata({ topics: names }) : { topics: [] };
    const topics = metadata.topics
      .map((t) => ({
        name: t.name,
        replicaInfo: [...t.partitions].sort((a, b) => a.partitionId - b.partitionId).map((p) => p.replicas.length),
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
    if (extended) {
      return {
        '@type': 'kafka_topics_extended',
        statementText: text,
        topics: topics.map((t) => ({ ...t, consumerCount: 0, consumerGroupCount: 0 })),
        warnings: [],
      };
    }
    return { '@type': 'kafka_topics', statementText: text, topics, warnings: [] };
  }

  private listProperties(text: string, props: Map<string, string>): Entity {
    const defaults: [string, string, string][] = [
      ['ksql.service.id', this.options.serviceId, 'KSQL'],
      ['ksql.streams.auto.offset.reset', 'latest', 'STREAMS'],
      ['ksql.streams.bootstrap.servers', this.options.bootstrap, 'STREAMS'],
      ['ksql.persistence.default.format.key', 'KAFKA', 'KSQL'],
      ['ksql.persistence.default.format.value', '', 'KSQL'],
      ['ksql.query.pull.table.scan.enabled', 'true', 'KSQL'],
      ['ksql.variable.substitution.enable', 'true', 'KSQL'],
      ['ksql.insert.into.values.enabled', 'true', 'KSQL'],
    ];
    const overwritten: string[] = [];
    const properties = defaults.map(([name, value, scope]) => {
      const short = name.replace(/^ksql\.streams\./, '');
      const override = props.get(short) ?? props.get(name);
      if (override !== undefined) overwritten.push(name);
      return { name, scope, value: override ?? value, editable: name.includes('auto.offset.reset'), level: 'SERVER' };
    });
    return {
      '@type': 'properties',
      statementText: text,
      properties,
      overwrittenProperties: overwritten,
      defaultProperties: defaults.map(([name]) => name).filter((n) => !overwritten.includes(n)),
      warnings: [],
    };
  }

  private queryInfos(filter?: (q: PersistentQuery) => boolean): Entity[] {
    const persistent = [...this.queries.values()]
      .filter((q) => !filter || filter(q))
      .map((q) => ({
        queryString: q.statementText,
        sinks: [q.sink.name],
        sinkKafkaTopics: [q.sink.topic],
        id: q.id,
        statusCount: { [q.state]: 1 },
        queryType: 'PERSISTENT',
        state: q.state,
      }));
    if (filter) return persistent;
    const push = [...this.pushQueries.entries()].map(([id, p]) => ({
      queryString: p.sql,
      sinks: [],
      sinkKafkaTopics: [],
      id,
      statusCount: { RUNNING: 1 },
      queryType: 'PUSH',
      state: 'RUNNING',
    }));
    return [...persistent, ...push];
  }

  /** EXPLAIN <query id>: ksqlDB's queryDescription, with why the query stopped in `queryErrors`. */
  private explain(text: string, query: PersistentQuery): Entity {
    return {
      '@type': 'queryDescription',
      statementText: text,
      queryDescription: {
        id: query.id,
        statementText: query.statementText,
        windowType: null,
        fields: query.plan.columns.map((c) => ({
          name: c.name,
          schema: schemaOf(c.type),
          ...(c.key ? { type: 'KEY' } : {}),
        })),
        sources: query.sourceNames,
        sinks: [query.sink.name],
        topology: '',
        executionPlan: '',
        overriddenProperties: {},
        ksqlHostQueryStatus: {},
        queryType: 'PERSISTENT',
        queryErrors: query.queryErrors,
        tasksMetadata: [],
        consumerGroupId: query.groupId,
        state: query.state,
      },
      warnings: [],
    };
  }

  private describe(text: string, name: string, extended: boolean): Entity {
    const source = this.sources.get(name);
    if (!source) throw badStatement(`Could not find STREAM/TABLE '${name}' in the Metastore`);
    return {
      '@type': 'sourceDescription',
      statementText: text,
      sourceDescription: this.sourceDescription(source, extended),
      warnings: [],
    };
  }

  private sourceDescription(source: DataSource, extended: boolean): Entity {
    const writeQueries = this.queryInfos((q) => q.sink.name === source.name);
    const readQueries = this.queryInfos((q) => q.sourceNames.includes(source.name));
    const query = source.writeQueryId ? this.queries.get(source.writeQueryId) : undefined;
    const statistics =
      extended && query ? `messages-processed: ${query.processedRecords} records-skipped: ${query.skippedRecords}` : '';
    return {
      name: source.name,
      windowType: null,
      readQueries,
      writeQueries,
      fields: source.columns.map((c) => ({
        name: c.name,
        schema: schemaOf(c.type),
        ...(c.key ? { type: 'KEY' } : {}),
      })),
      type: source.type,
      timestamp: '',
      statistics,
      errorStats: '',
      extended,
      keyFormat: source.keyFormat,
      valueFormat: source.valueFormat,
      topic: source.topic,
      partitions: 0,
      replication: 0,
      statement: source.statement,
      queryOffsetSummaries: [],
      sourceConstraints: [],
      clusterStatistics: [],
      clusterErrorStats: [],
    };
  }

  // ---- queries on /query-stream ----

  /** Validates a SELECT for /query-stream and returns a pull result or a push query ready to start. */
  async prepareQuery(
    sql: string,
    properties: Record<string, unknown>,
    sessionVariables: Record<string, unknown>,
  ): Promise<PreparedQuery> {
    const variables = new Map(Object.entries(sessionVariables).map(([k, v]) => [k.toUpperCase(), String(v)]));
    let statements: Statement[];
    try {
      statements = parseStatements(substituteVariables(sql, variables));
    } catch (error) {
      throw toStatementError(error, sql);
    }
    if (statements.length !== 1) throw badStatement(`Expected exactly one statement, got ${statements.length}`);
    const statement = statements[0]!;
    if (statement.kind !== 'select')
      throw toStatementError(
        badStatement('The query-stream endpoint only accepts SELECT statements (use /ksql for other statements).'),
        statement.text,
      );
    const props = new Map(Object.entries(properties).map(([k, v]) => [normalizeProperty(k), String(v)]));
    try {
      validateProperties(props);
      return statement.query.emitChanges
        ? this.preparePush(statement.text, statement.query, props)
        : this.preparePull(statement.query);
    } catch (error) {
      throw toStatementError(error, statement.text);
    }
  }

  private preparePull(query: Query): PreparedQuery {
    const source = this.sources.get(query.from.name);
    if (!source) throw badStatement(`${query.from.name} does not exist.`);
    if (query.join) throw badStatement("Pull queries don't support JOIN clauses.");
    if (query.groupBy) throw badStatement("Pull queries don't support GROUP BY clauses.");
    if (source.type === 'STREAM') throw unsupported('Pull queries on streams (add EMIT CHANGES for a push query)');
    const persistent = source.writeQueryId ? this.queries.get(source.writeQueryId) : undefined;
    if (!persistent) {
      throw badStatement(
        `The \`${source.name}\` table isn't queryable. To derive a queryable table, you can do 'CREATE TABLE QUERYABLE_${source.name} AS SELECT * FROM ${source.name}'. See https://cnfl.io/queryable for more info.\nAdd EMIT CHANGES if you intended to issue a push query.`,
      );
    }
    const plan = planQuery(query, (n) => this.sources.get(n), { persistent: false });
    const rows: unknown[][] = [];
    const processor = plan.createProcessor((row) => {
      if (!row.tombstone) rows.push(row.values);
    });
    for (const entry of persistent.materialized.values()) {
      if (query.limit !== undefined && rows.length >= query.limit) break;
      processor.process(
        0,
        { row: [...entry.values, entry.timestamp, null, null], tombstone: false, timestamp: entry.timestamp },
        true,
      );
    }
    return {
      queryId: `query_${Date.now()}`,
      columnNames: plan.columns.map((c) => c.name),
      columnTypes: plan.columns.map((c) => formatType(c.type)),
      types: plan.columns.map((c) => c.type),
      rows,
    };
  }

  private preparePush(sql: string, query: Query, props: Map<string, string>): PreparedQuery {
    const plan: QueryPlan = planQuery(query, (n) => this.sources.get(n), { persistent: false });
    const queryId = `transient_${query.from.name}_${randomInt(1, 2 ** 47)}${randomInt(0, 9999)}`;
    const offsetReset = props.get('auto.offset.reset') === 'earliest' ? 'earliest' : 'latest';
    return {
      queryId,
      columnNames: plan.columns.map((c) => c.name),
      columnTypes: plan.columns.map((c) => formatType(c.type)),
      types: plan.columns.map((c) => c.type),
      startPush: async (onRow, onEnd) => {
        const push = new PushQuery(
          queryId,
          plan,
          this.options.handles,
          this.groupPrefix,
          offsetReset,
          query.limit,
          onRow,
          (error) => {
            this.pushQueries.delete(queryId);
            onEnd(error);
          },
        );
        this.pushQueries.set(queryId, { query: push, sql, sourceName: query.from.name });
        try {
          await push.start();
        } catch (error) {
          this.pushQueries.delete(queryId);
          await push.close();
          throw error;
        }
        return push;
      },
    };
  }

  async closePushQuery(queryId: string): Promise<boolean> {
    const push = this.pushQueries.get(queryId);
    if (!push) return false;
    this.pushQueries.delete(queryId);
    await push.query.end();
    return true;
  }

  // ---- helpers ----

  /** Writes the command (unless replaying) and records its status; returns its sequence number. */
  private async distribute(
    commandId: string,
    statement: string,
    streamsProperties: Record<string, unknown>,
    replaySequence?: number,
  ): Promise<number> {
    const sequence = replaySequence ?? (await this.commandLog.append(commandId, { statement, streamsProperties }));
    this.lastSequenceNumber = Math.max(this.lastSequenceNumber, sequence);
    if (replaySequence === undefined) {
      this.commandStatuses.set(commandId, { status: 'EXECUTING', message: 'Executing statement', queryId: null });
      this.onDistributed?.(commandId, sequence);
    }
    return sequence;
  }

  private statusEntity(
    text: string,
    commandId: string,
    sequence: number,
    status: CommandStatus,
    warnings: string[],
  ): Entity {
    this.commandStatuses.set(commandId, status);
    return {
      '@type': 'currentStatus',
      statementText: text,
      commandId,
      commandStatus: status,
      commandSequenceNumber: sequence,
      warnings: warnings.map((message) => ({ message })),
    };
  }

  private async createTopic(
    topic: string,
    partitions: number,
    replicas: number | undefined,
    compact: boolean,
  ): Promise<void> {
    try {
      await createTopicsAndWait(this.options.handles.admin, [
        {
          topic,
          numPartitions: partitions,
          replicationFactor: replicas ?? -1,
          configEntries: compact ? [{ name: 'cleanup.policy', value: 'compact' }] : [],
        },
      ]);
    } catch (error) {
      // The broker refused the topic itself (replicas beyond its brokers, a bad config): the statement is at fault.
      const refusals =
        (error as { errors?: { message?: string }[] }).errors?.map((e) => e.message).filter(Boolean) ?? [];
      if (refusals.length === 0) throw error;
      throw badStatement(`Could not create topic '${topic}': ${refusals.join('; ')}`);
    }
  }
}

function warning(text: string, message: string): Entity {
  return { '@type': 'warning_entity', statementText: text, message, warnings: [] };
}

function normalizeProperty(name: string): string {
  return name.replace(/^ksql\.streams\./, '');
}

function validateProperties(props: Map<string, string>): void {
  const idle = props.get('max.task.idle.ms');
  if (idle !== undefined && !/^\s*-?\d+\s*$/.test(idle))
    throw new KsqlError(
      ErrorCodes.badRequest,
      `Invalid value ${idle} for configuration max.task.idle.ms: Not a number of type LONG`,
    );
  const reset = props.get('auto.offset.reset');
  if (reset !== undefined && reset !== 'earliest' && reset !== 'latest') {
    throw new KsqlError(
      ErrorCodes.badRequest,
      `Invalid value ${reset} for configuration auto.offset.reset: String must be one of: latest, earliest, none`,
    );
  }
}

function toStatementError(
  error: unknown,
  statementText: string,
  fallbackCode: number = ErrorCodes.badStatement,
): KsqlError {
  if (error instanceof KsqlError) {
    if (error.errorCode === ErrorCodes.badStatement || error.errorCode === ErrorCodes.queryEndpoint)
      return error.withStatement(statementText);
    return error;
  }
  return new KsqlError(fallbackCode, (error as Error)?.message ?? String(error), statementText);
}

function checkColumns(columns: ColumnDef[]): void {
  const seen = new Set<string>();
  for (const column of columns) {
    if (seen.has(column.name)) throw badStatement(`Duplicate column names: ${column.name}`);
    if (['ROWTIME', 'ROWPARTITION', 'ROWOFFSET', 'WINDOWSTART', 'WINDOWEND'].includes(column.name)) {
      throw badStatement(`'${column.name}' is a reserved column name. You cannot use it as a name for a column.`);
    }
    seen.add(column.name);
  }
}

function checkWithProperties(props: Map<string, PropertyValue>, createAs: boolean): void {
  const unknown = [...props.keys()].filter((k) => !KNOWN_WITH_PROPERTIES.has(k));
  if (unknown.length > 0) throw badStatement(`Invalid config variable(s) in the WITH clause: ${unknown.join(',')}`);
  for (const name of ['TIMESTAMP', 'TIMESTAMP_FORMAT', 'WRAP_SINGLE_VALUE', 'VALUE_DELIMITER', 'RETENTION_MS']) {
    if (props.has(name)) throw unsupported(`The WITH property ${name}`);
  }
  if (!createAs && !props.has('VALUE_FORMAT') && !props.has('FORMAT')) {
    throw badStatement(
      "Statement is missing the 'VALUE_FORMAT' property from the WITH clause. Either provide one or set a default via the 'ksql.persistence.default.format.value' config.",
    );
  }
}

function formats(props: Map<string, PropertyValue>, hasKey: boolean): { keyFormat: 'KAFKA' | 'NONE' } {
  const format = stringProperty(props, 'FORMAT')?.toUpperCase();
  const valueFormat = (stringProperty(props, 'VALUE_FORMAT') ?? format ?? 'JSON').toUpperCase();
  if (valueFormat !== 'JSON') throw unsupported(`VALUE_FORMAT '${valueFormat}' (only JSON is implemented)`);
  const keyFormat = (
    stringProperty(props, 'KEY_FORMAT') ??
    (format && format !== 'JSON' ? format : undefined) ??
    'KAFKA'
  ).toUpperCase();
  if (format === 'JSON' && !props.has('KEY_FORMAT') && hasKey)
    throw unsupported("FORMAT='JSON' for keys (use VALUE_FORMAT='JSON' with the KAFKA key format)");
  if (keyFormat !== 'KAFKA' && keyFormat !== 'NONE')
    throw unsupported(`KEY_FORMAT '${keyFormat}' (only KAFKA is implemented)`);
  if (keyFormat === 'NONE' && hasKey)
    throw badStatement("The 'NONE' format can only be used when no columns are defined. Got: key columns");
  return { keyFormat: hasKey ? 'KAFKA' : 'NONE' };
}

function stringProperty(props: Map<string, PropertyValue>, name: string): string | undefined {
  const value = props.get(name);
  return value === undefined ? undefined : String(value);
}

function numberProperty(props: Map<string, PropertyValue>, name: string): number | undefined {
  const value = props.get(name);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw badStatement(`Invalid value for ${name}: ${String(value)}`);
  return n;
}

/** The KAFKA key format holds INT, BIGINT, DOUBLE and STRING keys: ksqlDB refuses any other key type, so do we. */
function checkKafkaKey(column: SourceColumn): void {
  if (['INTEGER', 'BIGINT', 'DOUBLE', 'STRING'].includes(column.type.kind)) return;
  throw badStatement(
    `Key format does not support schema.\nformat: KAFKA\nschema: Persistence{columns=[\`${column.name}\` ${formatType(column.type)} KEY], features=[]}\nreason: The 'KAFKA' format does not support type '${column.type.kind}'`,
  );
}

function describeSchema(columns: SourceColumn[]): string {
  return columns.map((c) => `\`${c.name}\` ${formatType(c.type)}${c.key ? ' KEY' : ''}`).join(', ');
}
