import type { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import {
  decodeTicketMessage,
  dealForTopic,
  subscribeToDealEvents,
  systemClock,
  topicForDeal,
  type AdmitResult,
  type BlockReason,
  type Clock,
  type DealEventsSubscription,
  type DealStore,
  type Logger,
  type RedisClient,
} from '@quickdeal/core';
import type { AdmissionMetrics } from './metrics.js';

export interface AdmissionOptions {
  groupId: string;
  topicPrefix: string;
  /** Tickets handed to one admission script run. */
  batchSize: number;
  /** How long a blocked line waits for a "freed" event before it looks again on its own. */
  backoffMs: number;
  /** How often the consumer looks for new deal topics. */
  topicRefreshMs: number;
  /** Deals processed at the same time (each deal is one partition). */
  concurrentDeals: number;
}

interface BlockedLine {
  resume: () => void;
  timer: NodeJS.Timeout;
  reason: BlockReason;
}

/**
 * How long a blocked line waits before it reads its head again when no event wakes it first.
 * A paused line is woken by the deal's `config` event (a resume is an apply); its timer only
 * covers an event lost with a Redis connection, so it is long: each read of a line fetches and
 * decodes a batch of it, and a few paused deals with long lines read every back-off cost a core.
 */
const retryDelayMs: Partial<Record<BlockReason, number>> = { pending: 25, paused: 5_000, unknown_deal: 5_000 };

/** A ticket's message as fetched (value, key, headers and the record's framing), rounded up. */
const fetchedBytesPerTicket = 256;

/**
 * Reads every deal's topic in order and admits the ticket at the head of each line when a unit
 * and a slot are free. A ticket that must wait is not consumed: the partition pauses at it and
 * resumes when Redis says something was freed, or after a back-off. Offsets are committed only
 * past tickets that were admitted, skipped or sold out, so a crash re-reads and the admission
 * script (which knows the processed watermark) never admits anyone twice.
 *
 * Redis, not the committed offset, is the truth about how far the line was served: when a Redis
 * failover loses the latest admissions, the watermark goes back with them, and the consumer reads
 * the log again from it, whether the next batch notices (the script refuses a batch that starts
 * past the watermark) or the periodic check does (the line may have no new ticket to read).
 */
export class AdmissionConsumer {
  private consumer: Consumer | undefined;
  private readonly admin: Admin;
  private topics: string[] = [];
  private readonly blocked = new Map<string, BlockedLine>();
  /** The last queue number this consumer saw processed, per deal, to notice a watermark that went back. */
  private readonly servedUpTo = new Map<string, number>();
  private topicTimer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private running = false;
  private stopped = false;
  private events: DealEventsSubscription | undefined;
  private readonly clock: Clock;

  constructor(
    private readonly deps: {
      kafka: Kafka;
      store: DealStore;
      subscriber: RedisClient;
      metrics: AdmissionMetrics;
      logger: Logger;
      clock?: Clock;
    },
    private readonly options: AdmissionOptions,
  ) {
    this.admin = deps.kafka.admin();
    this.clock = deps.clock ?? systemClock;
  }

  /** True once the consumer runs (or has no deal to read yet). */
  isRunning(): boolean {
    return this.running;
  }

  subscribedTopics(): string[] {
    return [...this.topics];
  }

  async start(): Promise<void> {
    this.events = await subscribeToDealEvents(this.deps.subscriber, (dealId, event) => {
      if (event !== 'changed') this.wake(dealId);
    });
    await this.admin.connect();
    await this.followTopics();
    this.topicTimer = setInterval(() => {
      void this.followTopics().catch((error: unknown) => this.deps.logger.warn({ err: error }, 'could not refresh deal topics'));
      void this.checkWatermarks().catch((error: unknown) => this.deps.logger.warn({ err: error }, 'could not check the watermarks'));
    }, this.options.topicRefreshMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.topicTimer) clearInterval(this.topicTimer);
    // A refresh under way may be about to subscribe; let it finish so its consumer is the one closed below.
    await this.refreshing?.catch(() => undefined);
    this.releaseBlocked();
    await this.consumer?.disconnect();
    await this.admin.disconnect();
    await this.events?.unsubscribe();
    this.running = false;
  }

  /** Subscribes to the deal topics that exist now; kafkajs cannot add topics to a running consumer, so it restarts it. */
  private followTopics(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.refreshing ??= this.refreshTopics().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async refreshTopics(): Promise<void> {
    const topics = (await this.admin.listTopics()).filter((t) => dealForTopic(t, this.options.topicPrefix) !== undefined).sort();
    if (this.stopped) return;
    if (this.consumer && topics.join('\n') === this.topics.join('\n')) return;
    if (!this.consumer && topics.length === 0) {
      this.running = true;
      return;
    }
    await this.subscribe(topics);
  }

  private async subscribe(topics: string[]): Promise<void> {
    this.running = false;
    this.releaseBlocked();
    this.servedUpTo.clear();
    if (this.consumer) await this.consumer.disconnect();
    this.topics = topics;
    const consumer = this.deps.kafka.consumer({
      groupId: this.options.groupId,
      sessionTimeout: 6_000,
      rebalanceTimeout: 3_000,
      heartbeatInterval: 500,
      maxWaitTimeInMs: 100,
      // One admission batch per fetch, not kafkajs's 1 MiB: a blocked line is fetched (and decoded) again when it resumes.
      maxBytesPerPartition: this.options.batchSize * fetchedBytesPerTicket,
      allowAutoTopicCreation: false,
    });
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.concurrentDeals,
      eachBatch: (payload) => this.admitFrom(consumer, payload),
    });
    this.consumer = consumer;
    this.running = true;
    this.deps.logger.info({ topics: topics.length }, 'reading deal topics');
  }

  private async admitFrom(consumer: Consumer, payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, pause, isRunning, isStale } = payload;
    const dealId = dealForTopic(batch.topic, this.options.topicPrefix);
    if (!dealId) return;
    const messages = batch.messages;
    let index = 0;
    while (index < messages.length && isRunning() && !isStale()) {
      const chunk = messages.slice(index, index + this.options.batchSize);
      const tickets = chunk.map((message) => decodeTicketMessage(message.offset, message.value));
      const stopTimer = this.deps.metrics.admissionBatchDuration.startTimer();
      let result = await this.deps.store.admitBatch(dealId, tickets);
      stopTimer();
      if (result.rewindTo !== undefined) {
        if (await this.rewind(consumer, dealId, result.rewindTo)) return;
        result = await this.deps.store.admitBatch(dealId, tickets, { acceptGap: true });
      }
      this.record(dealId, result);
      if (result.processed > 0) this.servedUpTo.set(dealId, result.served);
      if (result.processed > 0) {
        const last = chunk[result.processed - 1];
        if (last) {
          resolveOffset(last.offset);
          await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(Number(last.offset) + 1) }]);
        }
      }
      index += result.processed;
      if (result.blockedBy) {
        this.block(dealId, pause(), result.blockedBy, result.retryInMs);
        return;
      }
      await heartbeat();
    }
  }

  /**
   * Reads the deal's log again from the message after the last one Redis holds as processed.
   * Returns false when the log no longer holds that message (retention), so there is nothing to read again.
   */
  private async rewind(consumer: Consumer, dealId: string, servedUpTo: number): Promise<boolean> {
    const topic = topicForDeal(dealId, this.options.topicPrefix);
    const low = Number((await this.admin.fetchTopicOffsets(topic)).find((p) => p.partition === 0)?.low ?? 0);
    if (low > servedUpTo) {
      this.deps.logger.error({ deal: dealId, servedUpTo, logStartsAt: low }, 'Redis lost admissions whose tickets are gone from the log');
      return false;
    }
    this.deps.logger.warn(
      { deal: dealId, servedUpTo, readUpTo: this.servedUpTo.get(dealId) },
      'Redis lost admissions: reading the log again',
    );
    this.deps.metrics.logRewinds.inc({ deal: dealId });
    this.servedUpTo.set(dealId, servedUpTo);
    consumer.seek({ topic, partition: 0, offset: String(servedUpTo) });
    this.wake(dealId);
    return true;
  }

  /** A line with nothing new to read would not notice a watermark that went back; this does, every topic refresh. */
  private async checkWatermarks(): Promise<void> {
    const consumer = this.consumer;
    if (!consumer || !this.running) return;
    for (const [dealId, seen] of this.servedUpTo) {
      const served = await this.deps.store.servedUpTo(dealId);
      if (served !== undefined && served < seen && this.consumer === consumer) await this.rewind(consumer, dealId, served);
    }
  }

  private record(dealId: string, result: AdmitResult): void {
    const m = this.deps.metrics;
    if (result.admitted > 0) m.admissions.inc({ deal: dealId }, result.admitted);
    if (result.expired > 0) m.ticketsSkipped.inc({ deal: dealId, reason: 'expired' }, result.expired);
    if (result.invalid > 0) m.ticketsSkipped.inc({ deal: dealId, reason: 'invalid' }, result.invalid);
    if (result.soldOut > 0) m.ticketsSoldOut.inc({ deal: dealId }, result.soldOut);
    if (result.checkoutsExpired > 0) m.checkoutsExpired.inc({ deal: dealId }, result.checkoutsExpired);
    if (result.blockedBy) m.admissionBlocks.inc({ deal: dealId, reason: result.blockedBy });
  }

  private block(dealId: string, resume: () => void, reason: BlockReason, retryInMs: number): void {
    this.wake(dealId);
    // The inflow rate says when the next admission may go in; other blocks wait for an event or the back-off.
    const delay = reason === 'rate' ? Math.max(1, retryInMs) : (retryDelayMs[reason] ?? this.options.backoffMs);
    const timer = setTimeout(() => this.wake(dealId), delay);
    this.blocked.set(dealId, { resume, timer, reason });
  }

  /** Lets a blocked line try its head again (a unit or slot was freed, or the deal changed). */
  private wake(dealId: string): void {
    const line = this.blocked.get(dealId);
    if (!line) return;
    clearTimeout(line.timer);
    this.blocked.delete(dealId);
    line.resume();
  }

  private releaseBlocked(): void {
    for (const line of this.blocked.values()) clearTimeout(line.timer);
    this.blocked.clear();
  }

  /** Messages after the group's committed offset, per deal topic. */
  async lag(): Promise<Map<string, number>> {
    const lag = new Map<string, number>();
    if (this.topics.length === 0) return lag;
    const committed = await this.admin.fetchOffsets({ groupId: this.options.groupId, topics: this.topics });
    for (const { topic, partitions } of committed) {
      const dealId = dealForTopic(topic, this.options.topicPrefix);
      if (!dealId) continue;
      const high = await this.admin.fetchTopicOffsets(topic);
      const highOffset = Number(high.find((p) => p.partition === 0)?.high ?? 0);
      const committedOffset = Math.max(0, Number(partitions.find((p) => p.partition === 0)?.offset ?? 0));
      lag.set(dealId, Math.max(0, highOffset - committedOffset));
    }
    return lag;
  }
}
