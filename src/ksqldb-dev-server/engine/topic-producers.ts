import type { Producer, ProducerRecord, RecordMetadata } from 'kafkajs';

/**
 * One producer per topic written to. A kafkajs producer refreshes the metadata of every topic it has ever written
 * to, so once another client deletes one of them (`marketplace down`, DROP … DELETE TOPIC) its sends to any topic
 * fail. A producer that writes to a single topic fails only while that topic itself is gone.
 */
export class TopicProducers {
  private readonly producers = new Map<string, Promise<Producer>>();

  constructor(private readonly newProducer: () => Producer) {}

  async send(record: ProducerRecord): Promise<RecordMetadata[]> {
    return (await this.producerFor(record.topic)).send(record);
  }

  /** Lets go of the producer of a topic that was deleted. */
  async forget(topic: string): Promise<void> {
    const producer = this.producers.get(topic);
    this.producers.delete(topic);
    await producer?.then((p) => p.disconnect()).catch(() => undefined);
  }

  async disconnect(): Promise<void> {
    const all = [...this.producers.values()];
    this.producers.clear();
    await Promise.allSettled(all.map((producer) => producer.then((p) => p.disconnect())));
  }

  private producerFor(topic: string): Promise<Producer> {
    let connected = this.producers.get(topic);
    if (!connected) {
      const producer = this.newProducer();
      connected = producer.connect().then(() => producer);
      this.producers.set(topic, connected);
      // A producer that could not connect is not kept: the next send tries a new one.
      connected.catch(() => {
        if (this.producers.get(topic) === connected) this.producers.delete(topic);
      });
    }
    return connected;
  }
}
