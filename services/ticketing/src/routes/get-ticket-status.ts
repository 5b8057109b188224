import { errors, ownTicket, systemClock, type ShopperAsk, type ShopperRoute } from '@quickdeal/core';
import type { TicketingDeps } from '../ticketing-deps.js';
import { processedView, soldOut, waitingView, type TicketView } from '../ticket-view.js';
import { clientAddress, dealOf } from './request-context.js';

/** `GET /api/v1/deals/{dealId}/tickets/status` with the ticket: where the shopper stands (a TicketView). */
export function statusPollRoute(deps: TicketingDeps): ShopperRoute {
  const clock = deps.clock ?? systemClock;

  async function statusOf({ params, header, shopperId, remoteAddress }: ShopperAsk): Promise<TicketView> {
    const { claims, expired } = await ownTicket(deps.verifier, {
      authorization: header('Authorization'),
      dealId: params.dealId ?? '',
      shopperId,
    });
    const dealId = claims.deal;
    const deal = await dealOf(deps.cache, dealId);
    await deps.limits.statusPoll(dealId, shopperId, clientAddress(header, remoteAddress, deps.trustProxy ?? false));

    const admissionRate = deps.cache.admissionRate(dealId);
    if (claims.qn > deal.served && !expired) {
      // Still in line: answered from memory, no Redis or Postgres round trip.
      return soldOut(deal)
        ? { ...waitingView(deal, claims.qn, admissionRate), status: 'ITEM_SOLD_OUT', etaSeconds: 0 }
        : waitingView(deal, claims.qn, admissionRate);
    }
    const view = processedView(deal, claims.qn, claims.jti, await deps.store.shopperTicket(dealId, shopperId), clock.now(), admissionRate);
    if (expired && (view.status === 'ACCESS_DENIED' || view.status === 'ACCESS_EXPIRED')) {
      throw errors.unauthorized('TICKET_EXPIRED', 'This ticket has expired; ask for a new one to rejoin the line');
    }
    return view;
  }

  return {
    method: 'GET',
    template: '/api/v1/deals/:dealId/tickets/status',
    async handle(ask) {
      const view = await statusOf(ask);
      deps.metrics.statusPolls.inc({ deal: ask.params.dealId ?? '', status: view.status });
      return { status: 200, body: view };
    },
  };
}
