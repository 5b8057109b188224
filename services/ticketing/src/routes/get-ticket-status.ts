import {
  errors,
  ownTicket,
  rememberedOwnTicket,
  systemClock,
  type DealSnapshot,
  type JsonAnswer,
  type ShopperAsk,
  type ShopperRoute,
  type VerifiedTicket,
} from '@quickdeal/core';
import type { TicketingDeps } from '../ticketing-deps.js';
import { processedView, soldOut, waitingView, type TicketView } from '../ticket-view.js';
import { clientAddress, dealOf } from './request-context.js';

/**
 * `GET /api/v1/deals/{dealId}/tickets/status` with the ticket: where the shopper stands (a TicketView).
 *
 * A shopper polls every few seconds with the same ticket, so nearly every poll finds its ticket
 * verified before, its deal followed by the cache and its place still in line: that poll is
 * answered from memory without a single promise (each await cost a microtask on the hottest path).
 * Anything else (a first poll, a deal not followed yet, a ticket admission has dealt with) takes
 * the asynchronous way to the same answer.
 */
export function statusPollRoute(deps: TicketingDeps): ShopperRoute {
  const clock = deps.clock ?? systemClock;

  function statusOf(ask: ShopperAsk): TicketView | Promise<TicketView> {
    const owner = { authorization: ask.header('Authorization'), dealId: ask.params.dealId ?? '', shopperId: ask.shopperId };
    const ticket = rememberedOwnTicket(deps.verifier, owner);
    const deal = ticket && deps.cache.known(ticket.claims.deal);
    if (ticket && deal) return standing(ask, ticket, deal);
    return (async () => {
      const verified = ticket ?? (await ownTicket(deps.verifier, owner));
      return standing(ask, verified, await dealOf(deps.cache, verified.claims.deal));
    })();
  }

  function standing(ask: ShopperAsk, { claims, expired }: VerifiedTicket, deal: DealSnapshot): TicketView | Promise<TicketView> {
    const dealId = claims.deal;
    deps.limits.statusPoll(dealId, ask.shopperId, clientAddress(ask.header, ask.remoteAddress, deps.trustProxy ?? false));
    const admissionRate = deps.cache.admissionRate(dealId);
    if (claims.qn > deal.served && !expired) {
      // Still in line: answered from memory, no Redis or Postgres round trip.
      return soldOut(deal)
        ? { ...waitingView(deal, claims.qn, admissionRate), status: 'ITEM_SOLD_OUT', etaSeconds: 0 }
        : waitingView(deal, claims.qn, admissionRate);
    }
    return deps.store.shopperTicket(dealId, ask.shopperId).then((record) => {
      const view = processedView(deal, claims.qn, claims.jti, record, clock.now(), admissionRate);
      if (expired && (view.status === 'ACCESS_DENIED' || view.status === 'ACCESS_EXPIRED')) {
        throw errors.unauthorized('TICKET_EXPIRED', 'This ticket has expired; ask for a new one to rejoin the line');
      }
      return view;
    });
  }

  function counted(dealId: string, view: TicketView): JsonAnswer {
    deps.metrics.statusPolls.inc({ deal: dealId, status: view.status });
    return { status: 200, body: view };
  }

  return {
    method: 'GET',
    template: '/api/v1/deals/:dealId/tickets/status',
    handle(ask) {
      const dealId = ask.params.dealId ?? '';
      const view = statusOf(ask);
      return view instanceof Promise ? view.then((answered) => counted(dealId, answered)) : counted(dealId, view);
    },
  };
}
