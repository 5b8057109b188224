import { randomUUID } from 'node:crypto';
import type { Hono } from 'hono';
import { z } from 'zod';
import { AppError, errors, headerOf, jsonBodyOf, ownTicketOf, systemClock, type AppEnv } from '@quickdeal/core';
import type { PaymentDeps } from '../payment-deps.js';
import { alreadyPurchased, checkoutExpired, notAdmitted } from './checkout-errors.js';

const orderBodySchema = z.object({ paymentMethod: z.object({ token: z.string().min(1).max(200) }).strict().optional() }).strict();
export type OrderRequest = z.output<typeof orderBodySchema>;
export interface OrderAnswer {
  orderId: string;
  status: 'PAID';
}

const idempotencyKeyPattern = /^[\x21-\x7e]{1,200}$/;

/** `POST /api/v1/deals/{dealId}/orders` with an Idempotency-Key: pays for the open checkout (201), once per key. */
export function installPostOrders(app: Hono<AppEnv>, deps: PaymentDeps): void {
  const clock = deps.clock ?? systemClock;
  app.post('/api/v1/deals/:dealId/orders', async (c) => {
    const { claims } = await ownTicketOf(c, deps.verifier);
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
      const answer: OrderAnswer = { orderId: replay.id, status: replay.status };
      return c.json(answer, 201);
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
    const answer: OrderAnswer = { orderId, status: recorded.order.status };
    return c.json(answer, 201);
  });
}
