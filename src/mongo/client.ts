import type { Document, MongoClient } from 'mongodb';
import { formatDuration } from '../core/parse.js';
import { abortReason, settleWithin, within } from '../core/waiter.js';

/** Where a collection lives and how to sign in; the password travels in `auth`, never in the URI. */
export interface MongoTarget {
  uri: string;
  auth?: { username: string; password: string };
  database: string;
  collection: string;
}

export type MongoHealth = { healthy: true } | { healthy: false; status: string };

/** What the tool asks of a sink collection: how many documents, and the newest one. */
export interface SinkCollection {
  count(): Promise<number>;
  /** The last document in insertion (natural) order, or null when the collection is empty. */
  newest(): Promise<Document | null>;
}

/** The driver could not reach or sign in to MongoDB; callers add the hint that fits their target. */
export class MongoConnectError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MongoConnectError';
  }
}

const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0]!;

export interface MongoCallOptions {
  /** How long MongoDB may take to answer (server selection, and each operation); default 5 s. */
  timeoutMs?: number;
  /** Ctrl-C: a call in flight ends at once, throwing the signal's reason. */
  signal?: AbortSignal;
}

async function connect(target: Pick<MongoTarget, 'uri' | 'auth'>, options: MongoCallOptions): Promise<MongoClient> {
  const { MongoClient } = await import('mongodb');
  const timeoutMs = options.timeoutMs ?? 5_000;
  const client = new MongoClient(target.uri, {
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
    socketTimeoutMS: timeoutMs,
    ...(target.auth ? { auth: target.auth } : {}),
  });
  try {
    await bound(client.connect(), options);
  } catch (error) {
    await settleWithin(client.close());
    if (options.signal?.aborted) throw abortReason(options.signal);
    if (error instanceof MongoConnectError) throw error;
    throw new MongoConnectError(`cannot connect to MongoDB: ${firstLine(error)}`, { cause: error });
  }
  return client;
}

/** The driver's own timeouts, plus the signal, and a deadline of ours for a server that never answers at all. */
function bound<T>(work: Promise<T>, options: MongoCallOptions): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  return within(work, {
    // A moment more than the driver's own timeouts, whose messages say more.
    timeoutMs: timeoutMs + 1_000,
    signal: options.signal,
    onTimeout: () => new MongoConnectError(`MongoDB gave no answer within ${formatDuration(timeoutMs)}`),
  });
}

/** Opens the collection, hands it to `use`, and always closes the connection. */
export async function withSinkCollection<T>(
  target: MongoTarget,
  use: (collection: SinkCollection) => Promise<T>,
  options: MongoCallOptions = {},
): Promise<T> {
  const opened = await openSinkCollection(target, options);
  try {
    return await use(opened);
  } finally {
    await opened.close();
  }
}

/**
 * The collection on a connection that stays open until close(), for a caller that asks again and again (the
 * dashboard counts the documents every few seconds). The driver reconnects by itself after MongoDB comes back.
 */
export async function openSinkCollection(
  target: MongoTarget,
  options: MongoCallOptions = {},
): Promise<SinkCollection & { close(): Promise<void> }> {
  const client = await connect(target, options);
  const collection = client.db(target.database).collection(target.collection);
  return {
    count: () => bound(collection.countDocuments(), options),
    newest: () =>
      bound(
        (async () => {
          // $natural sorts are not supported everywhere (FerretDB), so skip to the last document instead.
          const documents = await collection.countDocuments();
          return documents > 0 ? collection.find({}, { skip: documents - 1, limit: 1 }).next() : null;
        })(),
        options,
      ),
    close: () => settleWithin(client.close()),
  };
}

/** Healthy when the server answers `hello` and can list its databases (which touches storage, unlike hello). */
export async function mongoHealth(uri: string): Promise<MongoHealth> {
  const { MongoClient } = await import('mongodb');
  const client = new MongoClient(uri, {
    serverSelectionTimeoutMS: 1_500,
    connectTimeoutMS: 1_500,
    socketTimeoutMS: 5_000,
  });
  try {
    const hello = await client.db('admin').command({ hello: 1 });
    if (hello.ok !== 1) return { healthy: false, status: 'hello did not answer ok' };
    await client.db('admin').command({ listDatabases: 1, nameOnly: true });
    return { healthy: true };
  } catch (error) {
    return { healthy: false, status: firstLine(error) };
  } finally {
    await client.close().catch(() => undefined);
  }
}

/**
 * The server answers `hello` within `timeoutMs`, which needs no credentials: for `doctor`, where a server that takes
 * the connection and says nothing must fail as surely as one that refuses it.
 */
export async function mongoAnswers(uri: string, options: MongoCallOptions = {}): Promise<MongoHealth> {
  const { MongoClient } = await import('mongodb');
  const timeoutMs = options.timeoutMs ?? 3_000;
  const client = new MongoClient(uri, {
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
    socketTimeoutMS: timeoutMs,
  });
  try {
    const hello = await bound(client.db('admin').command({ hello: 1 }), { ...options, timeoutMs });
    return hello.ok === 1 ? { healthy: true } : { healthy: false, status: 'hello did not answer ok' };
  } catch (error) {
    if (options.signal?.aborted) throw abortReason(options.signal);
    return { healthy: false, status: firstLine(error) };
  } finally {
    await settleWithin(client.close());
  }
}
