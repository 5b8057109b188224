import { ProduceAcks, Producer, type MessageToProduce, type ProduceResult } from '@platformatic/kafka';
import type { Logger } from '@quickdeal/core';

/** One message of a batch: a ticket's value for its deal's topic (always partition 0: a deal's line is one partition). */
export type BatchMessage = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;

/** What batches of tickets are sent through: @platformatic/kafka's `send`, acknowledged by every in-sync replica. */
export interface BatchSender {
  send(options: { messages: BatchMessage[] }): Promise<ProduceResult>;
}

/**
 * Appends each topic's messages, in order, in one produce request per broker (acks=all), and
 * answers each message's queue number (its offset + 1), topic by topic in the order given.
 */
export async function appendInOrder(producer: BatchSender, messages: ReadonlyMap<string, Buffer[]>): Promise<Map<string, number[]>> {
  const batch: BatchMessage[] = [];
  for (const [topic, values] of messages) for (const value of values) batch.push({ topic, partition: 0, value });
  const { offsets = [] } = await producer.send({ messages: batch });
  const queueNumbers = new Map<string, number[]>();
  for (const [topic, values] of messages) {
    const written = offsets.find((o) => o.topic === topic && o.partition === 0);
    if (written === undefined) throw new Error(`the broker acknowledged no offset for ${topic}`);
    const first = Number(written.offset) + 1;
    const numbers = new Array<number>(values.length);
    for (let index = 0; index < values.length; index++) numbers[index] = first + index;
    queueNumbers.set(topic, numbers);
  }
  return queueNumbers;
}

/** How a send is retried before it fails: kafkajs's names, the same exponential backoff. */
export interface ProducerRetry {
  retries?: number;
  initialRetryTime?: number;
  maxRetryTime?: number;
}

/** A producer client the TicketProducer drives: @platformatic/kafka's Producer (tests give a fake). */
export interface ProducerClient extends BatchSender {
  /** Fetches the producer id from a broker: the connection check. */
  initIdempotentProducer(options: Record<string, never>): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * An idempotent @platformatic/kafka producer with acks=all that never creates a topic: a missing
 * deal topic is the operator's to create with one partition; an auto-created one may have more.
 * The client retries a failed produce with the same producer id and sequence numbers, so the
 * broker writes a retried batch once and answers its offsets.
 */
export function platformaticProducer(options: { brokers: string[]; clientId: string; retry?: ProducerRetry }): ProducerClient {
  const { retries = 5, initialRetryTime = 100, maxRetryTime = 2_000 } = options.retry ?? {};
  return new Producer<Buffer, Buffer, Buffer, Buffer>({
    clientId: options.clientId,
    bootstrapBrokers: options.brokers,
    idempotent: true,
    acks: ProduceAcks.ALL,
    autocreateTopics: false,
    // An idempotent producer given 0 or 1 retries would retry forever (the client's rule); a ticket waits at most these.
    retries: Math.max(2, retries),
    retryDelay: (_client, _operation, attempt) => Math.min(maxRetryTime, initialRetryTime * 2 ** (attempt - 1)),
  });
}

/**
 * The idempotent producer tickets go out on, replaced by a new one after any failed send.
 *
 * The client advances a partition's sequence number only when a request succeeds, but a request
 * that timed out may still have been written. The next batch of the same size would then carry
 * the same sequence numbers, and the broker would take it for a retry of the written one: it
 * answers with that batch's offsets (other shoppers' queue numbers) and drops the new tickets. A
 * fresh producer has a new producer id, so nothing it sends can be mistaken for the old one's.
 */
export class TicketProducer implements BatchSender {
  private current: Promise<ProducerClient> | undefined;
  private connected = false;

  constructor(
    private readonly create: () => ProducerClient,
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

  async send(options: { messages: BatchMessage[] }): Promise<ProduceResult> {
    const current = this.producer();
    const producer = await current;
    try {
      return await producer.send(options);
    } catch (error) {
      if (this.current === current) this.replace(producer);
      throw error;
    }
  }

  async disconnect(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    this.connected = false;
    await (await current?.catch(() => undefined))?.close();
  }

  private producer(): Promise<ProducerClient> {
    this.current ??= this.connectNew();
    return this.current;
  }

  private async connectNew(): Promise<ProducerClient> {
    const producer = this.create();
    try {
      await producer.initIdempotentProducer({});
    } catch (error) {
      this.current = undefined;
      void producer.close().catch(() => undefined);
      throw error;
    }
    this.connected = true;
    return producer;
  }

  private replace(failed: ProducerClient): void {
    this.logger.warn('a ticket batch failed; continuing with a new producer so its sequence numbers cannot be reused');
    this.current = undefined;
    this.connected = false;
    void failed.close().catch(() => undefined);
  }
}
