import type { Hono } from 'hono';
import { errors, ownTicketOf, systemClock, type AppEnv } from '@quickdeal/core';
import type { TicketingDeps } from '../ticketing-deps.js';
import { processedView, soldOut, waitingView, type TicketView } from '../ticket-view.js';
import { clientAddressOf, dealOf } from './request-context.js';

/** `GET /api/v1/deals/{dealId}/tickets/status` with the ticket: where the shopper stands (a TicketView). */
export function installGetTicketStatus(app: Hono<AppEnv>, deps: TicketingDeps): void {
  const clock = deps.clock ?? systemClock;
  app.get('/api/v1/deals/:dealId/tickets/status', async (c) => {
    const { claims, expired } = await ownTicketOf(c, deps.verifier);
    const dealId = claims.deal;
    const shopperId = claims.sub;
    const deal = await dealOf(deps.cache, dealId);
    await deps.limits.statusPoll(dealId, shopperId, clientAddressOf(c, deps.trustProxy ?? false));

    const admissionRate = deps.cache.admissionRate(dealId);
    let view: TicketView;
    if (claims.qn > deal.served && !expired) {
      // Still in line: answered from memory, no Redis or Postgres round trip.
      view = soldOut(deal)
        ? { ...waitingView(deal, claims.qn, admissionRate), status: 'ITEM_SOLD_OUT', etaSeconds: 0 }
        : waitingView(deal, claims.qn, admissionRate);
    } else {
      view = processedView(deal, claims.qn, claims.jti, await deps.store.shopperTicket(dealId, shopperId), clock.now(), admissionRate);
      if (expired && (view.status === 'ACCESS_DENIED' || view.status === 'ACCESS_EXPIRED')) {
        throw errors.unauthorized('TICKET_EXPIRED', 'This ticket has expired; ask for a new one to rejoin the line');
      }
    }
    deps.metrics.statusPolls.inc({ deal: dealId, status: view.status });
    return c.json(view);
  });
}
