import { systemClock, type Clock, type DealStore, type Logger } from '@quickdeal/core';
import type { PaymentMetrics } from './metrics.js';
import type { OrderBook } from './order-book.js';

/**
 * Ends checkouts whose window passed, continuously (not only when someone looks), so their units
 * go back to the line at once. A checkout whose payment lease lapsed (its payment process died)
 * is settled against Postgres: paid if an order was recorded, reopened otherwise.
 */
export class CheckoutSweeper {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private readonly clock: Clock;

  constructor(
    private readonly deps: {
      store: DealStore;
      orders: OrderBook;
      metrics: PaymentMetrics;
      logger: Logger;
      clock?: Clock;
      /** Which deals to sweep: every deal in Redis unless narrowed (tests sharing one Redis). */
      dealIds?: () => Promise<string[]>;
    },
    private readonly intervalMs = 250,
  ) {
    this.clock = deps.clock ?? systemClock;
  }

  start(): void {
    this.timer = setInterval(() => void this.sweep(), this.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.sweeping;
  }

  /** One pass over every deal (concurrent calls share the pass in progress). */
  sweep(): Promise<void> {
    this.sweeping ??= this.sweepAll()
      .catch((error: unknown) => this.deps.logger.warn({ err: error }, 'checkout sweep failed'))
      .finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private async sweepAll(): Promise<void> {
    for (const dealId of await (this.deps.dealIds ?? (() => this.deps.store.dealIds()))()) {
      const { freed, stuck } = await this.deps.store.expireDue(dealId, this.clock.now());
      if (freed > 0) this.deps.metrics.checkoutsExpired.inc({ deal: dealId }, freed);
      for (const shopperId of stuck) await this.settle(dealId, shopperId);
    }
    this.deps.metrics.sweeperRuns.inc();
    this.deps.metrics.sweeperLastRun.set(this.clock.now() / 1000);
  }

  private async settle(dealId: string, shopperId: string): Promise<void> {
    const record = await this.deps.store.shopperTicket(dealId, shopperId);
    if (!record) return;
    const order = await this.deps.orders.byShopper(dealId, shopperId);
    if (order) {
      await this.deps.store.completePayment(dealId, shopperId, order.queue_number, order.id, await this.deps.orders.soldCount(dealId));
    } else {
      await this.deps.store.abortPayment(dealId, shopperId, record.queueNumber);
    }
    this.deps.logger.warn({ dealId, paid: Boolean(order) }, 'settled a checkout whose payment lease lapsed');
  }
}
