import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { drawOrder, encodeTicketMessage, topicForDeal, type DealStore, type Logger } from '@quickdeal/core';
import { drawnTicketTimes } from './drawn-ticket.js';
import type { TicketingMetrics } from './metrics.js';
import { appendInOrder, type BatchSender } from './ticket-producer.js';

export interface DrawOptions {
  /** How often deals whose open has come are looked for. */
  intervalMs: number;
  /** The draw lock's lease, renewed with every batch placed: how long a dead drawer holds the others back. */
  leaseMs: number;
  /** Drawn shoppers written to the log and placed per step. */
  batchSize: number;
}

/** Test hooks: where a draw may be made to die halfway. */
export interface DrawFaults {
  /** Called after a batch was written to the log, before it is placed; throwing stops the draw there (as a crash would). */
  afterWrite?: (dealId: string, batchIndex: number) => void;
}

/**
 * Performs each deal's pre-queue draw at its open, in whichever ticketing process takes the draw's
 * lock (a Redis lease with a fence; the others skip the deal). The order follows from the committed
 * seed alone (drawOrder), so a process that takes over after a crash recomputes the same order and
 * carries on from the last placed batch: a batch written but not placed is written again, and its
 * first copies, never placed, are skipped by admission as strays. Nobody is lost, nobody placed
 * twice, and the placed queue numbers follow the drawn order. Tickets are signed later, on demand.
 */
export class PrequeueDraw {
  private timer: NodeJS.Timeout | undefined;
  private readonly drawing = new Map<string, Promise<void>>();
  private readonly holder = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private stopped = false;

  constructor(
    private readonly deps: {
      store: DealStore;
      /** Where drawn tickets are written to the deal's log, one produce request per batch. */
      producer: BatchSender;
      topicPrefix: string;
      logger: Logger;
      metrics?: TicketingMetrics;
      faults?: DrawFaults;
      /** The deals to look at (every deal unless said otherwise: tests sharing a Redis keep to their own). */
      dealIds?: () => Promise<string[]>;
    },
    private readonly options: DrawOptions,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled(this.drawing.values());
  }

  /** Looks for deals whose draw is due and draws those this process can lock. */
  async tick(): Promise<void> {
    try {
      for (const dealId of await (this.deps.dealIds?.() ?? this.deps.store.dealIds())) {
        if (this.stopped || this.drawing.has(dealId)) continue;
        const deal = await this.deps.store.snapshot(dealId);
        if (!deal.draw || deal.draw.state === 'done') continue;
        const run = this.draw(dealId)
          .catch((error: unknown) =>
            this.deps.logger.warn({ err: error, dealId }, 'the pre-queue draw stopped; it resumes from the last placed batch'),
          )
          .finally(() => this.drawing.delete(dealId));
        this.drawing.set(dealId, run);
      }
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'could not look for pre-queue draws');
    }
  }

  /** Draws one deal, or resumes its draw, if the lock is free; resolves when done or when another holds it. */
  async draw(dealId: string): Promise<void> {
    const { store, producer } = this.deps;
    const claim = await store.claimDraw(dealId, this.holder, this.options.leaseMs);
    if (claim.outcome !== 'claimed') return;
    const deal = await store.snapshot(dealId);
    const prequeued = await store.prequeuedShoppers(dealId);
    const order = drawOrder(claim.seed, prequeued.keys());
    const batches: string[][] = [];
    for (let i = 0; i < order.length; i += this.options.batchSize) batches.push(order.slice(i, i + this.options.batchSize));
    if (batches.length === 0) batches.push([]);
    const { iat, exp } = drawnTicketTimes(deal);
    const topic = topicForDeal(dealId, this.deps.topicPrefix);
    const lease = { fence: claim.fence, holder: this.holder, leaseMs: this.options.leaseMs };
    if (claim.placedBatches === 0) this.deps.logger.info({ dealId, shoppers: order.length }, 'drawing the pre-queue');
    for (let index = claim.placedBatches; index < batches.length && !this.stopped; index++) {
      const shoppers = (batches[index] as string[]).map((shopperId) => ({ shopperId, jti: prequeued.get(shopperId) as string }));
      const written = await appendInOrder(
        producer,
        new Map([[topic, shoppers.map((s) => encodeTicketMessage({ v: 1, sub: s.shopperId, jti: s.jti, iat, exp }))]]),
      );
      const queueNumbers = written.get(topic) as number[];
      this.deps.faults?.afterWrite?.(dealId, index);
      const placed = await store.placeDrawn(dealId, lease, {
        index,
        last: index === batches.length - 1,
        expiresAtMs: exp * 1000,
        shoppers: shoppers.map((s, i) => ({ ...s, queueNumber: queueNumbers[i] as number })),
      });
      if (placed !== 'placed') {
        this.deps.logger.warn({ dealId, batch: index, placed }, 'the pre-queue draw was taken over; stopping here');
        return;
      }
      this.deps.metrics?.drawnShoppers.inc({ deal: dealId }, shoppers.length);
    }
    if (this.stopped) return;
    this.deps.metrics?.drawDuration.observe({ deal: dealId }, Math.max(0, Date.now() - deal.opensAt) / 1000);
    this.deps.logger.info({ dealId, shoppers: order.length }, 'pre-queue drawn and written to the line');
  }
}
