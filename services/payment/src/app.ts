import { randomUUID } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import {
  AppError,
  bearerTicketOf,
  errors,
  installCommon,
  installProbes,
  jsonBodyOf,
  headerOf,
  shopperIdOf,
  systemClock,
  type AppEnv,
  type Clock,
  type DealStore,
  type Logger,
  type Metrics,
  type ShopperIdentity,
  type TicketClaims,
  type TicketVerifier,
} from '@quickdeal/core';
import type { OrderBook } from './order-book.js';
import type { PaymentProvider } from './payment-provider.js';

export interface PaymentDeps {
  store: DealStore;
  orders: OrderBook;
  provider: PaymentProvider;
  verifier: TicketVerifier;
  metrics: Metrics;
  logger: Logger;
  /** Who the shopper is: the shop's session token, or X-User-Id from a trusted gateway. */
  identity: ShopperIdentity;
  clock?: Clock;
  /** How long a payment may take before the sweeper may settle its checkout without it. */
  paymentLeaseMs: number;
  /** How long the provider may take to answer. */
  providerTimeoutMs: number;
  readiness: () => Promise<Record<string, boolean>>;
  isShuttingDown?: () => boolean;
}

const orderBodySchema = z.object({ paymentMethod: z.object({ token: z.string().min(1).max(200) }).strict().optional() }).strict();
const idempotencyKeyPattern = /^[\x21-\x7e]{1,200}$/;

export function createApp(deps: PaymentDeps): Hono<AppEnv> {
  const clock = deps.clock ?? systemClock;
  const app = new Hono<AppEnv>();
  installCommon(app, deps);
  installProbes(app, deps);

  /** The ticket's claims, once it is shown to be this shopper's ticket for this deal. Its `exp` bounds waiting, not checkout. */
  async function ticketOf(c: Context): Promise<TicketClaims> {
    const shopperId = shopperIdOf(c);
    const { claims } = await deps.verifier.verify(bearerTicketOf(c));
    if (claims.deal !== c.req.param('dealId')) throw errors.forbidden('TICKET_FOREIGN', 'This ticket is for another deal');
    if (claims.sub !== shopperId) throw errors.forbidden('TICKET_NOT_YOURS', 'This ticket belongs to another shopper');
    return claims;
  }

  const notAdmitted = () => errors.forbidden('NOT_ADMITTED', 'This ticket has no open checkout');
  const checkoutExpired = () => errors.gone('CHECKOUT_EXPIRED', 'The time to pay has run out and the unit went back to the line');
  const alreadyPurchased = () => errors.conflict('ALREADY_PURCHASED', 'You have already bought this deal');

  app.get('/api/v1/deals/:dealId/checkout', async (c) => {
    const claims = await ticketOf(c);
    const record = await deps.store.shopperTicket(claims.deal, claims.sub);
    if (!record || record.queueNumber !== claims.qn) throw notAdmitted();
    if (record.state === 'expired') throw checkoutExpired();
    if (record.state === 'purchased') throw alreadyPurchased();
    if (record.state !== 'admitted' && record.state !== 'paying') throw notAdmitted();
    if ((record.deadline ?? 0) <= clock.now()) throw checkoutExpired();
    const deal = await deps.orders.deal(claims.deal);
    if (!deal) throw errors.notFound('DEAL_NOT_FOUND', `There is no deal "${claims.deal}"`);
    return c.json({
      deal: { id: deal.id, productName: deal.product_name },
      price: deal.price,
      currency: deal.currency.trim(),
      expiresAt: new Date(record.deadline ?? 0).toISOString(),
      queueNumber: claims.qn,
      paying: record.state === 'paying',
    });
  });

  app.post('/api/v1/deals/:dealId/orders', async (c) => {
    const claims = await ticketOf(c);
    const dealId = claims.deal;
    const count = (result: string) => deps.metrics.orders.inc({ deal: dealId, result });
    const idempotencyKey = headerOf(c, 'Idempotency-Key');
    if (!idempotencyKey) throw errors.badRequest('IDEMPOTENCY_KEY_MISSING', 'Send an Idempotency-Key header so a retried payment is not taken twice');
    if (!idempotencyKeyPattern.test(idempotencyKey)) throw errors.badRequest('IDEMPOTENCY_KEY_INVALID', 'The Idempotency-Key must be 1 to 200 visible ASCII characters');
    const body = await jsonBodyOf(c, orderBodySchema);

    const replay = await deps.orders.byIdempotencyKey(idempotencyKey);
    if (replay) {
      if (replay.deal_id !== dealId || replay.shopper_id !== claims.sub) {
        throw errors.conflict('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used for another payment');
      }
      return c.json({ orderId: replay.id, status: replay.status }, 201);
    }

    const claim = await deps.store.claimForPayment(dealId, claims.sub, claims.qn, clock.now(), deps.paymentLeaseMs);
    switch (claim.outcome) {
      case 'purchased':
        count('already_purchased');
        throw alreadyPurchased();
      case 'in_progress':
        throw errors.conflict('PAYMENT_IN_PROGRESS', 'A payment for this checkout is already in progress');
      case 'expired':
        count('expired');
        if (claim.checkoutsExpired > 0) deps.metrics.checkoutsExpired.inc({ deal: dealId }, claim.checkoutsExpired);
        throw checkoutExpired();
      case 'not_admitted':
        throw notAdmitted();
      case 'claimed':
        break;
    }

    const deal = await deps.orders.deal(dealId);
    if (!deal) {
      await deps.store.abortPayment(dealId, claims.sub, claims.qn);
      throw errors.notFound('DEAL_NOT_FOUND', `There is no deal "${dealId}"`);
    }
    const orderId = randomUUID();
    let charge;
    try {
      charge = await deps.provider.charge(
        { orderId, shopperId: claims.sub, amount: deal.price, currency: deal.currency.trim(), paymentToken: body.paymentMethod?.token },
        AbortSignal.timeout(deps.providerTimeoutMs),
      );
    } catch (error) {
      deps.logger.warn({ err: error, dealId }, 'payment provider failed');
      await deps.store.abortPayment(dealId, claims.sub, claims.qn);
      count('timeout');
      throw errors.unavailable('PAYMENT_UNAVAILABLE', 'The payment could not be completed just now; your unit stays yours until the deadline', 1);
    }
    if (charge.outcome === 'declined') {
      await deps.store.abortPayment(dealId, claims.sub, claims.qn);
      count('declined');
      throw new AppError(402, 'PAYMENT_DECLINED', `${charge.reason}; you can try another card until the deadline`, {
        checkoutExpiresAt: new Date(claim.deadline).toISOString(),
      });
    }

    const recorded = await deps.orders.record({
      id: orderId,
      deal_id: dealId,
      shopper_id: claims.sub,
      queue_number: claims.qn,
      amount: deal.price,
      currency: deal.currency.trim(),
      idempotency_key: idempotencyKey,
      payment_reference: charge.reference,
    });
    if (recorded.outcome !== 'recorded') {
      await deps.provider.refund(charge.reference);
      await deps.store.abortPayment(dealId, claims.sub, claims.qn);
      count(recorded.outcome);
      if (recorded.outcome === 'sold_out') throw errors.gone('ITEM_SOLD_OUT', 'Everything in this deal is sold; you were not charged');
      if (recorded.outcome === 'idempotency_key_taken') throw errors.conflict('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used for another payment');
      throw alreadyPurchased();
    }
    try {
      await deps.store.completePayment(dealId, claims.sub, claims.qn, orderId, recorded.sold);
    } catch (error) {
      // The order is recorded; the sweeper settles Redis from Postgres when the payment lease lapses.
      deps.logger.error({ err: error, dealId }, 'paid, but could not update Redis');
    }
    count('paid');
    return c.json({ orderId, status: recorded.order.status }, 201);
  });

  app.delete('/api/v1/deals/:dealId/checkout', async (c) => {
    const claims = await ticketOf(c);
    const outcome = await deps.store.releaseCheckout(claims.deal, claims.sub, claims.qn);
    if (outcome === 'paying') throw errors.conflict('PAYMENT_IN_PROGRESS', 'A payment for this checkout is in progress');
    if (outcome === 'purchased') throw alreadyPurchased();
    if (outcome === 'expired') throw checkoutExpired();
    if (outcome === 'not_admitted') throw notAdmitted();
    deps.metrics.checkoutsCancelled.inc({ deal: claims.deal });
    return c.body(null, 204);
  });

  return app;
}
