import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
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
  type TicketClaims,
  type TicketVerifier,
} from '@quickdeal/core';
import type { OrderBook } from './order-book.js';
import type { PaymentAttempts } from './payment-attempts.js';
import { PaymentFlow, type PaymentFaults } from './payment-flow.js';
import type { PaymentProvider } from './payment-provider.js';
import { Settlement } from './settlement.js';

export interface PaymentDeps {
  store: DealStore;
  orders: OrderBook;
  attempts: PaymentAttempts;
  provider: PaymentProvider;
  verifier: TicketVerifier;
  metrics: Metrics;
  logger: Logger;
  clock?: Clock;
  /** How long a payment may take before the sweeper may settle its checkout without it. */
  paymentLeaseMs: number;
  /** How long the provider may take to answer. */
  providerTimeoutMs: number;
  readiness: () => Promise<Record<string, boolean>>;
  isShuttingDown?: () => boolean;
  /** Test seam: where a payment stops or stalls (see PaymentFaults). */
  faults?: PaymentFaults;
}

/** A payment body is a card token or nothing; anything bigger is refused before it is read whole. */
export const maxOrderBodyBytes = 4 * 1024;

const orderBodySchema = z.object({ paymentMethod: z.object({ token: z.string().min(1).max(200) }).strict().optional() }).strict();
const idempotencyKeyPattern = /^[\x21-\x7e]{1,200}$/;

export function createApp(deps: PaymentDeps): Hono<AppEnv> {
  const clock = deps.clock ?? systemClock;
  const app = new Hono<AppEnv>();
  installCommon(app, deps);
  installProbes(app, deps);
  const settlement = new Settlement(deps);
  const flow = new PaymentFlow({ ...deps, settlement });

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

  const orderBodyLimit = bodyLimit({
    maxSize: maxOrderBodyBytes,
    onError: () => {
      throw new AppError(413, 'BODY_TOO_LARGE', `A payment body is at most ${maxOrderBodyBytes} bytes`);
    },
  });

  app.post('/api/v1/deals/:dealId/orders', orderBodyLimit, async (c) => {
    const claims = await ticketOf(c);
    const idempotencyKey = headerOf(c, 'Idempotency-Key');
    if (!idempotencyKey) throw errors.badRequest('IDEMPOTENCY_KEY_MISSING', 'Send an Idempotency-Key header so a retried payment is not taken twice');
    if (!idempotencyKeyPattern.test(idempotencyKey)) throw errors.badRequest('IDEMPOTENCY_KEY_INVALID', 'The Idempotency-Key must be 1 to 200 visible ASCII characters');
    const body = await jsonBodyOf(c, orderBodySchema);
    const order = await flow.pay({ dealId: claims.deal, shopperId: claims.sub, queueNumber: claims.qn, idempotencyKey, paymentToken: body.paymentMethod?.token });
    return c.json(order, 201);
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
