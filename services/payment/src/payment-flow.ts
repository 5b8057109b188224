import { randomUUID } from 'node:crypto';
import { AppError, DependencyUnavailableError, errors, type DealStore, type Logger, type PaymentRow } from '@quickdeal/core';
import { alreadyPurchased, checkoutExpired, notAdmitted } from './checkout-errors.js';
import type { PaymentMetrics } from './metrics.js';
import type { OrderBook } from './order-book.js';
import type { PaymentAttempts } from './payment-attempts.js';
import type { PaymentProvider } from './payment-provider.js';
import type { Settlement } from './settlement.js';

/** The points of a payment where a process can die with money in an unknown state. */
export type PaymentStep = 'beforeCharge' | 'afterCharge' | 'afterCommit';

/**
 * A test seam: called when a payment reaches each step. A hook that never resolves models the
 * process killed there (nothing after it runs); a slow one models a GC pause or a slow database.
 */
export type PaymentFaults = Partial<Record<PaymentStep, () => Promise<void>>>;

export interface PaymentFlowDeps {
  store: DealStore;
  orders: OrderBook;
  attempts: PaymentAttempts;
  provider: PaymentProvider;
  settlement: Settlement;
  metrics: PaymentMetrics;
  logger: Logger;
  /** How long a payment may hold the checkout before the sweeper settles it without it. */
  paymentLeaseMs: number;
  /** How long the provider may take to answer (less than the lease, so the rest of the lease is left to record the order). */
  providerTimeoutMs: number;
  faults?: PaymentFaults;
}

export interface PaymentRequest {
  dealId: string;
  shopperId: string;
  queueNumber: number;
  idempotencyKey: string;
  paymentToken: string | undefined;
}

export interface PaidOrder {
  orderId: string;
  status: 'PAID';
}

const keyReused = () => errors.conflict('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used for another payment');
const inProgress = (retryAfterSeconds = 1) =>
  new AppError(
    409,
    'PAYMENT_IN_PROGRESS',
    'A payment for this checkout is already in progress',
    { retryAfterSeconds },
    { 'Retry-After': String(retryAfterSeconds) },
  );
const attemptEnded = () =>
  errors.conflict(
    'PAYMENT_CANCELLED',
    'This payment attempt ended without an order, and nothing it charged was kept; pay again with a new Idempotency-Key',
  );
const databaseUnavailable = () =>
  errors.unavailable('POSTGRES_UNAVAILABLE', 'Payments cannot be recorded just now; you were not charged. Please try again', 2);

/** Postgres was never reached (so nothing was written): the payment may be given up at once. */
function neverReachedPostgres(error: unknown): boolean {
  if (error instanceof DependencyUnavailableError && error.dependency === 'postgres') return neverReachedPostgres(error.cause);
  const code = (error as { code?: unknown } | undefined)?.code;
  const message = error instanceof Error ? error.message : '';
  return (
    code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || /timeout exceeded when trying to connect/i.test(message)
  );
}

/**
 * One payment, as a state machine that settles every outcome (docs/waiting-room.md, "Payments"):
 * claim the checkout in Redis (a lease with a fence) → record the intent in Postgres (`pending`,
 * keyed by the Idempotency-Key) → charge with that key → record the order and move the intent to
 * `paid` in one transaction (refused once the intent was fenced off) → mark the checkout
 * purchased. Nothing charged: the claim is given back at once. Charged but not recorded: refunded.
 * Whatever this request cannot finish (it died, Postgres vanished), the sweeper settles from the
 * intent when the lease lapses.
 */
export class PaymentFlow {
  constructor(private readonly deps: PaymentFlowDeps) {}

  async pay(request: PaymentRequest): Promise<PaidOrder> {
    const { dealId, shopperId, queueNumber, idempotencyKey } = request;
    const count = (result: string) => this.deps.metrics.orders.inc({ deal: dealId, result });

    const earlier = await this.postgres(() => this.deps.attempts.byKey(idempotencyKey));
    if (earlier) return this.replay(earlier, request);

    const { fence, deadline } = await this.claim(request, count);
    const giveBack = () =>
      this.deps.store.abortPayment(dealId, shopperId, queueNumber, fence).catch((error: unknown) => {
        this.deps.logger.warn({ err: error, dealId }, 'could not give the checkout back; the sweeper will when the lease lapses');
      });

    let price: { amount: number; currency: string };
    try {
      price = await this.begin(request, fence);
    } catch (error) {
      await giveBack();
      throw error;
    }

    await this.deps.faults?.beforeCharge?.();
    let charge;
    try {
      charge = await this.deps.provider.charge(
        { idempotencyKey, shopperId, amount: price.amount, currency: price.currency, paymentToken: request.paymentToken },
        AbortSignal.timeout(this.deps.providerTimeoutMs),
      );
    } catch (error) {
      // No answer: it may have charged. Void the key (refunding anything it took) before giving the checkout back.
      this.deps.logger.warn({ err: error, dealId }, 'payment provider did not answer');
      count('timeout');
      const settled = await this.deps.settlement.settleAttempt(idempotencyKey).catch(() => undefined);
      if (settled === 'refunded' || settled === 'voided') {
        await giveBack();
        throw errors.unavailable(
          'PAYMENT_UNAVAILABLE',
          'The payment provider did not answer; nothing was charged (or it was refunded). Please pay again',
          1,
        );
      }
      // The sweeper settles it when the lease lapses; the unit stays the shopper's meanwhile.
      throw errors.unavailable(
        'PAYMENT_UNAVAILABLE',
        'The payment could not be confirmed just now; any charge will be refunded, and your unit stays yours until the deadline',
        2,
      );
    }
    if (charge.outcome === 'declined') {
      await this.deps.attempts.finish(idempotencyKey, 'declined').catch(() => undefined); // else the sweeper voids it
      await giveBack();
      count('declined');
      throw new AppError(402, 'PAYMENT_DECLINED', `${charge.reason}; you can try another card until the deadline`, {
        checkoutExpiresAt: new Date(deadline).toISOString(),
      });
    }

    await this.deps.faults?.afterCharge?.();
    const orderId = randomUUID();
    let recorded;
    try {
      recorded = await this.deps.orders.record({
        id: orderId,
        deal_id: dealId,
        shopper_id: shopperId,
        queue_number: queueNumber,
        amount: price.amount,
        currency: price.currency,
        idempotency_key: idempotencyKey,
        payment_reference: charge.reference,
      });
    } catch (error) {
      count('unrecorded');
      return this.unrecorded(error, request, charge.reference, giveBack);
    }
    if (recorded.outcome !== 'recorded') {
      // Charged, and Postgres refused the order: give the money back.
      await this.refund(request, charge.reference);
      await giveBack();
      count(recorded.outcome);
      if (recorded.outcome === 'sold_out') throw errors.gone('ITEM_SOLD_OUT', 'Everything in this deal is sold; you were not charged');
      if (recorded.outcome === 'already_purchased') throw alreadyPurchased();
      if (recorded.outcome === 'idempotency_key_taken') throw keyReused();
      throw errors.conflict(
        'PAYMENT_CANCELLED',
        'The payment took longer than its lease and was cancelled; the charge was refunded. Pay again if your checkout is still open',
      );
    }

    await this.deps.faults?.afterCommit?.();
    await this.markPurchased(request, orderId, recorded.sold, fence);
    count('paid');
    return { orderId, status: 'PAID' };
  }

  /** The same Idempotency-Key again: the first attempt's answer, never a second charge. */
  private async replay(earlier: PaymentRow, request: PaymentRequest): Promise<PaidOrder> {
    if (earlier.deal_id !== request.dealId || earlier.shopper_id !== request.shopperId) throw keyReused();
    switch (earlier.status) {
      case 'paid':
        // Redis may not have heard (the process died after the commit): Postgres's order is the truth.
        await this.deps.settlement.completeFromOrder(request.dealId, request.shopperId).catch(() => undefined);
        return { orderId: earlier.order_id ?? '', status: 'PAID' };
      case 'declined':
        throw new AppError(402, 'PAYMENT_DECLINED', 'This payment was declined; pay again with a new Idempotency-Key and another card');
      case 'pending':
        throw inProgress();
      default:
        throw attemptEnded();
    }
  }

  /** Claims the checkout for this payment (settling a lapsed claim first); answers the claim's fence and the checkout's deadline. */
  private async claim(request: PaymentRequest, count: (result: string) => void): Promise<{ fence: string; deadline: number }> {
    const { dealId, shopperId, queueNumber } = request;
    // This request's own mark on the claim: a claim the Redis client re-sends after a reconnect is
    // given back to it, while a second request (even with the same Idempotency-Key) still waits.
    const requestMark = randomUUID();
    const claimCheckout = () =>
      this.redis(() => this.deps.store.claimForPayment(dealId, shopperId, queueNumber, this.deps.paymentLeaseMs, requestMark));
    let claim = await claimCheckout();
    if (claim.outcome === 'lapsed') {
      // The payment holding it died or stalled: settle it as the sweeper would, then claim again.
      await this.postgres(() => this.deps.settlement.settleClaim(dealId, shopperId));
      claim = await claimCheckout();
    }
    switch (claim.outcome) {
      case 'claimed':
        return claim;
      case 'purchased':
        count('already_purchased');
        throw alreadyPurchased();
      case 'in_progress':
        throw inProgress(Math.max(1, Math.ceil((claim.payingUntil - Date.now()) / 1000)));
      case 'lapsed':
        throw inProgress();
      case 'expired':
        count('expired');
        if (claim.checkoutsExpired > 0) this.deps.metrics.checkoutsExpired.inc({ deal: dealId }, claim.checkoutsExpired);
        throw checkoutExpired();
      case 'not_admitted':
        throw notAdmitted();
    }
  }

  /**
   * Settles the shopper's earlier attempts that are still open (so at most one charge is ever
   * live), then records this one's intent. Answers the price to charge.
   */
  private async begin(request: PaymentRequest, fence: string): Promise<{ amount: number; currency: string }> {
    const { dealId, shopperId } = request;
    return this.postgres(async () => {
      const deal = await this.deps.orders.deal(dealId);
      if (!deal) throw errors.notFound('DEAL_NOT_FOUND', `There is no deal "${dealId}"`);
      for (const open of await this.deps.attempts.unsettled(dealId, shopperId)) {
        const status = await this.deps.settlement.settleAttempt(open.idempotency_key);
        if (status === 'paid') throw alreadyPurchased();
        if (status === 'abandoned') {
          throw errors.unavailable(
            'PAYMENT_UNAVAILABLE',
            'An earlier payment is still being cancelled with the provider; please try again shortly',
            5,
          );
        }
      }
      const price = { amount: deal.price, currency: deal.currency.trim() };
      const begun = await this.deps.attempts.begin({ ...request, fence, ...price, leaseMs: this.deps.paymentLeaseMs });
      if (!begun) {
        // the same key, sent again while this request ran, or used by another shopper meanwhile
        const other = await this.deps.attempts.byKey(request.idempotencyKey);
        throw other && other.shopper_id === shopperId && other.deal_id === dealId ? inProgress() : keyReused();
      }
      return price;
    });
  }

  /**
   * Charged, and writing the order failed. If Postgres was never reached, nothing was recorded:
   * refund now and give the checkout back. Otherwise the commit may have happened: ask Postgres
   * again (paid → done; pending → fence it off and void). If it cannot say, the sweeper settles the
   * intent when the lease lapses; the unit stays the shopper's meanwhile.
   */
  private async unrecorded(
    error: unknown,
    request: PaymentRequest,
    reference: string,
    giveBack: () => Promise<unknown>,
  ): Promise<PaidOrder> {
    this.deps.logger.error({ err: error, dealId: request.dealId }, 'charged, but the order could not be recorded');
    const refunded = () =>
      errors.unavailable('POSTGRES_UNAVAILABLE', 'The payment could not be recorded just now, so it was refunded. Please pay again', 2);
    if (neverReachedPostgres(error)) {
      if (await this.refund(request, reference)) await giveBack();
      throw refunded();
    }
    const status = await this.deps.settlement.settleAttempt(request.idempotencyKey).catch(() => undefined);
    if (status === 'paid') {
      const row = await this.deps.attempts.byKey(request.idempotencyKey);
      await this.deps.settlement.completeFromOrder(request.dealId, request.shopperId).catch(() => undefined);
      return { orderId: row?.order_id ?? '', status: 'PAID' };
    }
    if (status === 'refunded' || status === 'voided') {
      await giveBack();
      throw refunded();
    }
    throw errors.unavailable(
      'POSTGRES_UNAVAILABLE',
      'The payment could not be confirmed just now; it is either recorded or refunded within a minute, and your unit stays yours',
      5,
    );
  }

  /** Refunds a charge that made no order and marks its attempt; answers whether the money is back. */
  private async refund(request: PaymentRequest, reference: string): Promise<boolean> {
    try {
      await this.deps.provider.refund(reference, AbortSignal.timeout(this.deps.providerTimeoutMs));
    } catch (refundError) {
      this.deps.logger.error(
        { err: refundError, dealId: request.dealId },
        'refund failed; the sweeper voids the payment when its lease lapses',
      );
      return false;
    }
    this.deps.metrics.orders.inc({ deal: request.dealId, result: 'refunded' });
    await this.deps.attempts.finish(request.idempotencyKey, 'refunded', reference).catch(() => undefined); // else the sweeper finds it lapsed and voids it again: a no-op
    return true;
  }

  /** The order is in Postgres: tell Redis, retrying briefly; if Redis stays away the sweeper does it when the lease lapses. */
  private async markPurchased(request: PaymentRequest, orderId: string, sold: number, fence: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await this.deps.store.completePayment(request.dealId, request.shopperId, request.queueNumber, orderId, sold, fence);
        if (result === 'fenced') await this.deps.settlement.completeFromOrder(request.dealId, request.shopperId);
        return;
      } catch (error) {
        if (attempt >= 3) {
          this.deps.logger.error(
            { err: error, dealId: request.dealId },
            'paid, but Redis could not be told; the sweeper settles it from Postgres',
          );
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  }

  /** Claims in Redis; a failure to reach it is answered 503 (nothing was claimed or charged). */
  private async redis<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'Redis failed before anything was charged');
      throw errors.unavailable('REDIS_UNAVAILABLE', 'The checkout cannot be reached just now; you were not charged. Please try again', 1);
    }
  }

  /** Runs Postgres work; a failure to reach it is answered 503 (nothing was charged at this point). */
  private async postgres<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof AppError) throw error;
      this.deps.logger.warn({ err: error }, 'Postgres failed before anything was charged');
      throw databaseUnavailable();
    }
  }
}
