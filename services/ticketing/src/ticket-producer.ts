import type { Kafka, Producer, ProducerBatch, ProducerConfig, RecordMetadata } from 'kafkajs';
import type { Logger } from '@quickdeal/core';

/** What batches of tickets are sent through. */
export type BatchSender = Pick<Producer, 'sendBatch'>;

/**
 * Appends each topic's messages, in order, in one produce request (acks=all), and answers each
 * message's queue number (its offset + 1), topic by topic in the order given.
 */
export async function appendInOrder(producer: BatchSender, messages: ReadonlyMap<string, Buffer[]>): Promise<Map<string, number[]>> {
  const results = await producer.sendBatch({
    acks: -1,
    topicMessages: [...messages].map(([topic, values]) => ({ topic, messages: values.map((value) => ({ value })) })),
  });
  const queueNumbers = new Map<string, number[]>();
  for (const [topic, values] of messages) {
    const result = results.find((r) => r.topicName === topic && r.partition === 0);
    if (!result?.baseOffset) throw new Error(`the broker acknowledged no offset for ${topic}`);
    const baseOffset = Number(result.baseOffset);
    queueNumbers.set(
      topic,
      values.map((_, index) => baseOffset + index + 1),
    );
  }
  return queueNumbers;
}

/**
 * The idempotent producer tickets go out on, replaced by a new one after any failed send.
 *
 * kafkajs rolls a partition's sequence number back when a request fails, but a request that
 * timed out may still have been written. The next batch of the same size would then carry the
 * same sequence numbers, and the broker would take it for a retry of the written one: it answers
 * with that batch's offsets (other shoppers' queue numbers) and drops the new tickets. A fresh
 * producer has a new producer id, so nothing it sends can be mistaken for the old one's.
 */
export class TicketProducer implements BatchSender {
  private current: Promise<Producer> | undefined;
  private connected = false;

  constructor(
    private readonly kafka: Pick<Kafka, 'producer'>,
    private readonly config: ProducerConfig,
    private readonly logger: Logger,
  ) {}

  async connect(): Promise<void> {
    await this.producer();
  }

  /** Connected now; when not, starts connecting so a later probe can say yes. */
  isReady(): boolean {
    if (!this.connected)
      void this.producer().catch((error: unknown) => this.logger.warn({ err: error }, 'ticket producer could not connect'));
    return this.connected;
  }

  async sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> {
    const current = this.producer();
    const producer = await current;
    try {
      return await producer.sendBatch(batch);
    } catch (error) {
      if (this.current === current) this.replace(producer);
      throw error;
    }
  }

  async disconnect(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    this.connected = false;
    await (await current?.catch(() => undefined))?.disconnect();
  }

  private producer(): Promise<Producer> {
    this.current ??= this.create();
    return this.current;
  }

  private async create(): Promise<Producer> {
    // A missing topic is the operator's to create with one partition; an auto-created one may have more.
    const producer = this.kafka.producer({ ...this.config, idempotent: true, allowAutoTopicCreation: false });
    try {
      await producer.connect();
    } catch (error) {
      this.current = undefined;
      throw error;
    }
    this.connected = true;
    return producer;
  }

  private replace(failed: Producer): void {
    this.logger.warn('a ticket batch failed; continuing with a new producer so its sequence numbers cannot be reused');
    this.current = undefined;
    this.connected = false;
    void failed.disconnect().catch(() => undefined);
  }
}
