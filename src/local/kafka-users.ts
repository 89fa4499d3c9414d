import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { OperationError } from '../core/errors.js';
import { writeFileAtomic } from '../core/fs-atomic.js';
import { stackPaths } from './settings.js';

export interface KafkaUser {
  username: string;
  password: string;
}

/**
 * The SASL/PLAIN users of the local broker. Names are fixed and shaped like Confluent Cloud API keys (16
 * upper-case letters and digits) so the Cloud emulator can hand them out as cluster API keys; passwords are
 * random per install and shaped like API secrets (64 characters).
 */
export const KAFKA_USERNAMES = Array.from({ length: 8 }, (_, i) => `MKTLOCALKEY${String(i + 1).padStart(5, '0')}`);

export function generateKafkaUsers(): KafkaUser[] {
  return KAFKA_USERNAMES.map((username) => ({ username, password: randomBytes(48).toString('base64') }));
}

export async function writeKafkaUsers(home: string, users: KafkaUser[]): Promise<void> {
  await writeFileAtomic(stackPaths(home).kafkaUsers, `${JSON.stringify({ users }, null, 2)}\n`, { mode: 0o600 });
}

/** The PLAIN users created by `marketplace local install` in this home directory. */
export async function readKafkaUsers(home: string): Promise<KafkaUser[]> {
  const file = stackPaths(home).kafkaUsers;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new OperationError(`the local Kafka users file ${file} does not exist`, {
        hint: 'Run `marketplace local install`.',
      });
    }
    throw error;
  }
  const parsed = JSON.parse(text) as { users?: KafkaUser[] };
  if (!Array.isArray(parsed.users) || parsed.users.length === 0) {
    throw new OperationError(`${file} holds no users`, { hint: 'Delete it and run `marketplace local install`.' });
  }
  return parsed.users;
}

/** JAAS value for the broker's SASL_SSL listener: one `user_<name>="<password>"` entry per user. */
export function plainJaasConfig(users: KafkaUser[]): string {
  const entries = users.map((u) => `user_${u.username}="${u.password}"`).join(' ');
  return `org.apache.kafka.common.security.plain.PlainLoginModule required ${entries};`;
}
