import { systemClock, type Clock, type DealStore, type Logger } from '@quickdeal/core';
import type { PaymentMetrics } from './metrics.js';
import type { OrderBook } from './order-book.js';
import type { PaymentAttempts } from './payment-attempts.js';
import type { PaymentProvider } from './payment-provider.js';
import { Settlement } from './settlement.js';

/**
 * Ends checkouts whose window passed, continuously (not only when someone looks), so their units
 * go back to the line at once. A checkout whose payment lease lapsed (its payment process died or
 * stalled), deadline or not, is settled against Postgres and the provider: purchased if an order
 * was recorded, else its attempts are fenced off and voided and the checkout goes back to the
 * shopper. Attempts left open with no claim (Redis lost it, a void that failed) are settled too.
 */
export class CheckoutSweeper {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private readonly clock: Clock;
  private readonly settlement: Settlement;

  constructor(
    private readonly deps: {
      store: DealStore;
      orders: OrderBook;
      attempts: PaymentAttempts;
      provider: PaymentProvider;
      /** How long the provider may take to answer a void. */
      providerTimeoutMs: number;
      metrics: PaymentMetrics;
      logger: Logger;
      clock?: Clock;
      /** Which deals to sweep: every deal in Redis unless narrowed (tests sharing one Redis). */
      dealIds?: () => Promise<string[]>;
    },
    private readonly intervalMs = 250,
  ) {
    this.clock = deps.clock ?? systemClock;
    this.settlement = new Settlement(deps);
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
    const dealIds = await (this.deps.dealIds ?? (() => this.deps.store.dealIds()))();
    for (const dealId of dealIds) {
      const { freed, stuck } = await this.deps.store.expireDue(dealId);
      if (freed > 0) this.deps.metrics.checkoutsExpired.inc({ deal: dealId }, freed);
      for (const shopperId of stuck) {
        await this.settlement
          .settleClaim(dealId, shopperId)
          .catch((error: unknown) => this.deps.logger.warn({ err: error, dealId }, 'could not settle a lapsed payment yet'));
      }
    }
    if (dealIds.length > 0) await this.settlement.settleLapsedAttempts(dealIds);
    this.deps.metrics.sweeperRuns.inc();
    this.deps.metrics.sweeperLastRun.set(this.clock.now() / 1000);
  }
}
