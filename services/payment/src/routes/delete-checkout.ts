import type { Hono } from 'hono';
import { errors, ownTicketOf, type AppEnv } from '@quickdeal/core';
import type { PaymentDeps } from '../payment-deps.js';
import { alreadyPurchased, checkoutExpired, notAdmitted } from '../checkout-errors.js';

/** `DELETE /api/v1/deals/{dealId}/checkout`: the shopper gives the unit back at once (204). */
export function installDeleteCheckout(app: Hono<AppEnv>, deps: PaymentDeps): void {
  app.delete('/api/v1/deals/:dealId/checkout', async (c) => {
    const { claims } = await ownTicketOf(c, deps.verifier);
    const outcome = await deps.store.releaseCheckout(claims.deal, claims.sub, claims.qn);
    if (outcome === 'paying') throw errors.conflict('PAYMENT_IN_PROGRESS', 'A payment for this checkout is in progress');
    if (outcome === 'purchased') throw alreadyPurchased();
    if (outcome === 'expired') throw checkoutExpired();
    if (outcome === 'not_admitted') throw notAdmitted();
    deps.metrics.checkoutsCancelled.inc({ deal: claims.deal });
    return c.body(null, 204);
  });
}
