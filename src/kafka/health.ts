export type KafkaHealth = { healthy: true } | { healthy: false; status: string };

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0]!;

/** The broker answers a metadata request on the plaintext listener. */
export async function kafkaHealth(bootstrap: string): Promise<KafkaHealth> {
  const { Kafka, logLevel } = await import('kafkajs');
  const kafka = new Kafka({
    clientId: 'marketplace-local-health',
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    requestTimeout: 3_000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 ? { healthy: true } : { healthy: false, status: 'no brokers in metadata' };
  } catch (error) {
    return { healthy: false, status: describe(error) };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
