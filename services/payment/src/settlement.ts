import type { DealStore, Logger, PaymentStatus } from '@quickdeal/core';
import type { PaymentMetrics } from './metrics.js';
import type { OrderBook } from './order-book.js';
import type { PaymentAttempts } from './payment-attempts.js';
import type { PaymentProvider } from './payment-provider.js';

export interface SettlementDeps {
  store: DealStore;
  orders: OrderBook;
  attempts: PaymentAttempts;
  provider: PaymentProvider;
  metrics: PaymentMetrics;
  logger: Logger;
  /** How long the provider may take to answer a void. */
  providerTimeoutMs: number;
}

export type ClaimSettlement = 'purchased' | 'released' | 'not_paying' | 'in_progress' | 'provider_unavailable';

/**
 * Settles payments that their own request will not finish: a process that died, a lease that
 * lapsed, a charge that could not be recorded. Used by the sweeper and by a shopper paying again
 * over a lapsed claim, so both settle the same way (docs/waiting-room.md, "Payments").
 */
export class Settlement {
  constructor(private readonly deps: SettlementDeps) {}

  /**
   * Fences an attempt off (pending → abandoned, so it can never record an order), then has the
   * provider void its key: refunded if a charge was made, voided if not. Answers the status it
   * ends in: `paid` when it had recorded its order after all, `abandoned` while the provider cannot be reached.
   */
  async settleAttempt(idempotencyKey: string): Promise<PaymentStatus | undefined> {
    const row = await this.deps.attempts.abandon(idempotencyKey);
    if (row?.status !== 'abandoned') return row?.status;
    let outcome;
    try {
      outcome = await this.deps.provider.voidCharge(idempotencyKey, AbortSignal.timeout(this.deps.providerTimeoutMs));
    } catch (error) {
      this.deps.logger.warn({ err: error, dealId: row.deal_id }, 'could not void an abandoned payment yet; the sweeper tries again');
      return 'abandoned';
    }
    const status = outcome.outcome === 'refunded' ? 'refunded' : 'voided';
    await this.deps.attempts.finish(idempotencyKey, status, outcome.outcome === 'refunded' ? outcome.reference : undefined);
    this.deps.metrics.orders.inc({ deal: row.deal_id, result: status });
    this.deps.logger.warn({ dealId: row.deal_id, status }, 'settled an abandoned payment');
    return status;
  }

  /**
   * A claim whose lease lapsed: marked purchased when Postgres holds the shopper's order;
   * otherwise each open attempt is fenced off and voided, and the checkout goes back to the
   * shopper (open until its deadline; the sweeper ends it if that passed). The claim is given back
   * even when the provider cannot void yet: the fence already keeps those attempts from selling.
   */
  async settleClaim(dealId: string, shopperId: string): Promise<ClaimSettlement> {
    const claim = await this.deps.store.paymentClaim(dealId, shopperId);
    if (claim?.state !== 'paying') return 'not_paying';
    // claimed again since it was found lapsed: that payment is alive
    if ((claim.payingUntil ?? 0) > (await this.deps.store.redisNow())) return 'in_progress';
    if (await this.completeFromOrder(dealId, shopperId)) return 'purchased';
    let voided = true;
    for (const attempt of await this.deps.attempts.unsettled(dealId, shopperId)) {
      const status = await this.settleAttempt(attempt.idempotency_key);
      if (status === 'paid') {
        await this.completeFromOrder(dealId, shopperId);
        return 'purchased';
      }
      if (status === 'abandoned') voided = false;
    }
    await this.deps.store.abortPayment(dealId, shopperId, claim.queueNumber, claim.fence);
    this.deps.logger.warn({ dealId }, 'gave back a checkout whose payment lease lapsed');
    return voided ? 'released' : 'provider_unavailable';
  }

  /** Attempts no claim points at any more (their checkout was given back, or Redis lost it): fence and void them. */
  async settleLapsedAttempts(dealIds: string[], limit = 100): Promise<void> {
    for (const attempt of await this.deps.attempts.lapsed(dealIds, limit)) {
      try {
        const status = await this.settleAttempt(attempt.idempotency_key);
        if (status === 'paid') await this.completeFromOrder(attempt.deal_id, attempt.shopper_id);
      } catch (error) {
        this.deps.logger.warn({ err: error, dealId: attempt.deal_id }, 'could not settle a lapsed payment yet');
      }
    }
  }

  /** Marks the checkout purchased in Redis when Postgres holds the shopper's order (the truth); answers whether it does. */
  async completeFromOrder(dealId: string, shopperId: string): Promise<boolean> {
    const order = await this.deps.orders.byShopper(dealId, shopperId);
    if (!order) return false;
    await this.deps.store.completePayment(dealId, shopperId, order.queue_number, order.id, await this.deps.orders.soldCount(dealId));
    return true;
  }
}
