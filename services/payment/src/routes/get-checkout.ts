import type { Hono } from 'hono';
import { errors, isPaying, ownTicketOf, systemClock, ticketStanding, type AppEnv } from '@quickdeal/core';
import type { PaymentDeps } from '../payment-deps.js';
import { alreadyPurchased, checkoutExpired, notAdmitted } from '../checkout-errors.js';

export interface CheckoutView {
  deal: { id: string; productName: string };
  price: number;
  currency: string;
  expiresAt: string;
  queueNumber: number;
  paying: boolean;
}

/** `GET /api/v1/deals/{dealId}/checkout`: the open checkout of an admitted shopper. */
export function installGetCheckout(app: Hono<AppEnv>, deps: PaymentDeps): void {
  const clock = deps.clock ?? systemClock;
  app.get('/api/v1/deals/:dealId/checkout', async (c) => {
    const { claims } = await ownTicketOf(c, deps.verifier);
    const record = await deps.store.shopperTicket(claims.deal, claims.sub);
    if (!record || record.queueNumber !== claims.qn) throw notAdmitted();
    switch (ticketStanding(record, clock.now())) {
      case 'checkout_open':
        break;
      case 'checkout_expired':
        throw checkoutExpired();
      case 'purchased':
        throw alreadyPurchased();
      default:
        throw notAdmitted();
    }
    const deal = await deps.orders.deal(claims.deal);
    if (!deal) throw errors.notFound('DEAL_NOT_FOUND', `There is no deal "${claims.deal}"`);
    const view: CheckoutView = {
      deal: { id: deal.id, productName: deal.product_name },
      price: deal.price,
      currency: deal.currency.trim(),
      expiresAt: new Date(record.deadline ?? 0).toISOString(),
      queueNumber: claims.qn,
      paying: isPaying(record),
    };
    return c.json(view);
  });
}
