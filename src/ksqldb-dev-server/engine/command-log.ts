import { createTopicsAndWait } from '../../kafka/topics.js';
import { readTopicToEnd, topicExists, type KafkaHandles } from './kafka.js';

export interface Command {
  statement: string;
  streamsProperties: Record<string, unknown>;
}

export interface LoggedCommand extends Command {
  commandId: string;
  sequenceNumber: number;
}

/**
 * The command topic: every distributed statement (CREATE, DROP, TERMINATE) in the order it was accepted. A restarted
 * server replays it to rebuild its metastore and restart its persistent queries.
 */
export class CommandLog {
  constructor(
    private readonly handles: KafkaHandles,
    readonly topic: string,
    private readonly groupPrefix: string,
  ) {}

  async ensureTopic(): Promise<void> {
    if (await topicExists(this.handles.admin, this.topic)) return;
    await createTopicsAndWait(this.handles.admin, [
      {
        topic: this.topic,
        numPartitions: 1,
        replicationFactor: -1,
        configEntries: [{ name: 'retention.ms', value: '-1' }],
      },
    ]);
  }

  async readAll(): Promise<LoggedCommand[]> {
    const commands: LoggedCommand[] = [];
    await readTopicToEnd(this.handles, this.topic, `${this.groupPrefix}command-replay-`, (message) => {
      if (!message.value) return;
      try {
        const command = JSON.parse(message.value.toString('utf8')) as Command;
        commands.push({
          commandId: message.key?.toString('utf8') ?? '',
          sequenceNumber: message.offset,
          statement: command.statement,
          streamsProperties: command.streamsProperties ?? {},
        });
      } catch {
        // Not one of ours: ignored.
      }
    });
    return commands.sort((a, b) => a.sequenceNumber - b.sequenceNumber);
  }

  /** Appends a command and returns its sequence number (its offset in the single-partition topic). */
  async append(commandId: string, command: Command): Promise<number> {
    const [result] = await this.handles.producers.send({
      topic: this.topic,
      acks: -1,
      messages: [
        { key: commandId, value: JSON.stringify({ ...command, originalProperties: {}, plan: null }), partition: 0 },
      ],
    });
    return Number(result?.baseOffset ?? -1);
  }
}
