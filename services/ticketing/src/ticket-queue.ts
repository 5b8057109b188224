import type { TicketingMetrics } from './metrics.js';
import type { BatchSender } from './ticket-producer.js';

interface PendingTicket {
  topic: string;
  value: Buffer;
  resolve: (offset: number) => void;
  reject: (error: unknown) => void;
}

/**
 * Appends tickets to their deals' topics in batches. kafkajs has no linger of its own: one
 * message per request manages ~1,000/s, batches of hundreds ~100,000/s. Tickets arriving while
 * a request is in flight, or within `lingerMs`, go out together in the next request. Each
 * ticket learns its own offset (baseOffset + its index within its topic's part of the batch).
 */
export class TicketQueue {
  private pending: PendingTicket[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly producer: BatchSender,
    private readonly options: { lingerMs?: number; maxBatch?: number; metrics?: TicketingMetrics } = {},
  ) {}

  /** Resolves with the message's offset once the broker acknowledged it (acks=all). */
  append(topic: string, value: Buffer): Promise<number> {
    return new Promise((resolve, reject) => {
      this.pending.push({ topic, value, resolve, reject });
      this.schedule();
    });
  }

  /** Sends what is waiting and resolves when nothing is left in flight. */
  async drain(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.inFlight || this.pending.length > 0) {
      if (!this.inFlight) this.sendNext();
      await this.inFlight;
    }
  }

  private schedule(): void {
    if (this.inFlight || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.sendNext();
    }, this.options.lingerMs ?? 1);
  }

  private sendNext(): void {
    const batch = this.pending.splice(0, this.options.maxBatch ?? 1000);
    if (batch.length === 0) return;
    this.options.metrics?.produceBatchSize.observe(batch.length);
    this.inFlight = this.send(batch).finally(() => {
      this.inFlight = undefined;
      if (this.pending.length > 0) this.sendNext();
    });
  }

  private async send(batch: PendingTicket[]): Promise<void> {
    const byTopic = new Map<string, PendingTicket[]>();
    for (const ticket of batch) {
      const list = byTopic.get(ticket.topic) ?? [];
      list.push(ticket);
      byTopic.set(ticket.topic, list);
    }
    try {
      const results = await this.producer.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, tickets]) => ({ topic, messages: tickets.map((t) => ({ value: t.value })) })),
      });
      for (const [topic, tickets] of byTopic) {
        const result = results.find((r) => r.topicName === topic && r.partition === 0);
        if (!result?.baseOffset) throw new Error(`the broker acknowledged no offset for ${topic}`);
        const baseOffset = Number(result.baseOffset);
        tickets.forEach((ticket, index) => ticket.resolve(baseOffset + index));
      }
    } catch (error) {
      for (const ticket of batch) ticket.reject(error);
    }
  }
}
