import { encodeTicketMessage, type AskLimit, type DealStore, type ReserveResult, type TicketSigner } from '@quickdeal/core';
import type { TicketingMetrics } from './metrics.js';
import { appendInOrder, type BatchSender } from './ticket-producer.js';

/** One shopper's ask for a ticket, with everything the ticket will carry but its queue number. */
export interface TicketRequest {
  dealId: string;
  topic: string;
  shopperId: string;
  jti: string;
  /** Seconds since the epoch. */
  issuedAt: number;
  expiresAt: number;
  /** How long the shopper's record outlives the ticket (ms from now). */
  recordTtlMs: number;
}

/** What became of a request: a new ticket, the reservation's own answer, or `unavailable` (not queued, nothing half-done). */
export type IssueResult =
  { outcome: 'issued'; token: string; queueNumber: number } | Exclude<ReserveResult, { outcome: 'reserved' }> | { outcome: 'unavailable' };

/** The Redis side of a batch: DealStore's batch scripts. */
export type TicketLedger = Pick<DealStore, 'reserveTickets' | 'finalizeTickets' | 'abortTickets'>;

interface Pending {
  request: TicketRequest;
  /** Known once the broker acknowledged the ticket. */
  queueNumber?: number;
  settle: (result: IssueResult) => void;
  fail: (error: unknown) => void;
}

type Settled = IssueResult | { error: unknown };

/** The requests by deal (or topic), each group in the batch's order. */
function groupBy(batch: Pending[], keyOf: (request: TicketRequest) => string): Map<string, Pending[]> {
  const groups = new Map<string, Pending[]>();
  for (const pending of batch) {
    const key = keyOf(pending.request);
    const group = groups.get(key);
    if (group) group.push(pending);
    else groups.set(key, [pending]);
  }
  return groups;
}

const dealOf = (request: TicketRequest) => request.dealId;

/**
 * Issues tickets in batches, three Redis-and-Kafka steps per batch instead of per ticket:
 * 1. reserve every request of the batch in one script call per deal;
 * 2. append the reserved tickets to their deals' topics in one produce request (acks=all); each
 *    learns its offset (baseOffset + its index within its topic's part of the batch), so its
 *    queue number;
 * 3. sign each ticket and record the batch in one script call per deal.
 * Requests arriving while a batch is reserved, or within `lingerMs`, join the next one; one
 * produce request is in flight at a time (kafkajs has no linger of its own: one message per
 * request manages ~1,000/s, batches of hundreds ~100,000/s). A batch whose produce fails has its
 * reservations undone and every ticket of it answered `unavailable`; nothing is answered issued
 * before the broker acknowledged it.
 */
export class TicketIssuer {
  private arriving: Pending[] = [];
  private reserved: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private reserving: Promise<void> | undefined;
  private producing: Promise<void> | undefined;
  private readonly recording = new Set<Promise<void>>();

  constructor(
    private readonly ledger: TicketLedger,
    private readonly producer: BatchSender,
    private readonly signer: Pick<TicketSigner, 'sign'>,
    private readonly options: {
      /** Each shopper's limit on asking, counted by the reserve script. */
      askLimit?: AskLimit;
      lingerMs?: number;
      maxBatch?: number;
      metrics?: TicketingMetrics;
      onProduceFailure?: (error: unknown) => void;
    } = {},
  ) {}

  /** Settles once the ticket is recorded (after the broker acknowledged it), or with why there is none. Rejects when Redis fails. */
  issue(request: TicketRequest): Promise<IssueResult> {
    return new Promise((settle, fail) => {
      this.arriving.push({ request, settle, fail });
      this.scheduleReserve();
    });
  }

  /** Works off what is waiting and resolves when nothing is left in flight. */
  async drain(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.arriving.length > 0 || this.reserved.length > 0 || this.reserving || this.producing || this.recording.size > 0) {
      if (!this.reserving && this.arriving.length > 0) this.reserveNext();
      if (!this.producing && this.reserved.length > 0) this.produceNext();
      await Promise.all([this.reserving, this.producing, ...this.recording]);
    }
  }

  private get maxBatch(): number {
    return this.options.maxBatch ?? 1000;
  }

  private scheduleReserve(): void {
    if (this.reserving || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.reserveNext();
    }, this.options.lingerMs ?? 1);
  }

  private reserveNext(): void {
    const batch = this.arriving.splice(0, this.maxBatch);
    if (batch.length === 0) return;
    this.reserving = this.reserve(batch).finally(() => {
      this.reserving = undefined;
      if (this.arriving.length > 0) this.reserveNext();
      if (!this.producing && this.reserved.length > 0) this.produceNext();
    });
  }

  /** Step 1: one script call per deal; the reserved go on to be produced, the rest are answered now. */
  private async reserve(batch: Pending[]): Promise<void> {
    await Promise.all(
      [...groupBy(batch, dealOf)].map(async ([dealId, group]) => {
        let results: ReserveResult[];
        try {
          results = await this.ledger.reserveTickets(
            dealId,
            group.map((p) => p.request),
            this.options.askLimit,
          );
        } catch (error) {
          for (const pending of group) pending.fail(error);
          return;
        }
        group.forEach((pending, i) => {
          const result = results[i] ?? { outcome: 'unknown_deal' };
          if (result.outcome === 'reserved') this.reserved.push(pending);
          else pending.settle(result);
        });
      }),
    );
  }

  private produceNext(): void {
    const batch = this.reserved.splice(0, this.maxBatch);
    if (batch.length === 0) return;
    this.options.metrics?.produceBatchSize.observe(batch.length);
    this.producing = this.produce(batch).finally(() => {
      this.producing = undefined;
      if (this.reserved.length > 0) this.produceNext();
    });
  }

  /** Step 2: one produce request for the batch; on success step 3 runs beside the next batch's produce. */
  private async produce(batch: Pending[]): Promise<void> {
    const byTopic = groupBy(batch, (request) => request.topic);
    try {
      const messages = new Map(
        [...byTopic].map(([topic, tickets]) => [
          topic,
          tickets.map(({ request: r }) => encodeTicketMessage({ v: 1, sub: r.shopperId, jti: r.jti, iat: r.issuedAt, exp: r.expiresAt })),
        ]),
      );
      const queueNumbers = await appendInOrder(this.producer, messages);
      for (const [topic, tickets] of byTopic) {
        const numbers = queueNumbers.get(topic) as number[];
        tickets.forEach((pending, index) => (pending.queueNumber = numbers[index]));
      }
    } catch (error) {
      this.options.onProduceFailure?.(error);
      await this.abort(batch);
      for (const pending of batch) pending.settle({ outcome: 'unavailable' });
      return;
    }
    const recording = this.record(batch).finally(() => this.recording.delete(recording));
    this.recording.add(recording);
  }

  /** Undoes a failed batch's reservations; if Redis fails too, they lapse on their own (pendingTicketTtlMs). */
  private async abort(batch: Pending[]): Promise<void> {
    await Promise.all(
      [...groupBy(batch, dealOf)].map(([dealId, group]) =>
        this.ledger
          .abortTickets(
            dealId,
            group.map((p) => p.request),
          )
          .catch(() => undefined),
      ),
    );
  }

  /** Step 3: signs each produced ticket and records the batch, one script call per deal. */
  private async record(batch: Pending[]): Promise<void> {
    await Promise.all(
      [...groupBy(batch, dealOf)].map(async ([dealId, group]) => {
        let settled: Settled[];
        try {
          const tickets = group.map(({ request: r, queueNumber = 0 }) => ({
            shopperId: r.shopperId,
            ticket: {
              jti: r.jti,
              queueNumber,
              token: this.signer.sign({ sub: r.shopperId, deal: dealId, qn: queueNumber, jti: r.jti, iat: r.issuedAt, exp: r.expiresAt }),
              expiresAtMs: r.expiresAt * 1000,
            },
            ttlMs: r.recordTtlMs,
          }));
          const recorded = await this.ledger.finalizeTickets(dealId, tickets);
          settled = tickets.map(({ ticket }, i) =>
            recorded[i] ? { outcome: 'issued', token: ticket.token, queueNumber: ticket.queueNumber } : { outcome: 'unavailable' },
          );
        } catch (error) {
          settled = group.map(() => ({ error }));
        }
        group.forEach((pending, i) => {
          const result = settled[i] as Settled;
          if ('error' in result) pending.fail(result.error);
          else pending.settle(result);
        });
      }),
    );
  }
}
