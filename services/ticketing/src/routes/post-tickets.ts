import {
  errors,
  isPending,
  newTicketId,
  systemClock,
  topicForDeal,
  type DealSnapshot,
  type JsonAnswer,
  type ShopperAsk,
  type ShopperRoute,
  type ShopperTicket,
} from '@quickdeal/core';
import { admitAtOnce } from '../admit-at-once.js';
import { proofOfWorkHeader } from '../proof-of-work.js';
import { drawnTicket } from '../drawn-ticket.js';
import type { TicketingDeps } from '../ticketing-deps.js';
import { rateLimited } from '../rate-limits.js';
import { processedView, soldOut, waitingView, type TicketView } from '../ticket-view.js';
import { inPrequeue, issuePrequeueTicket, prequeueView } from './prequeue.js';
import { clientAddress, dealOf } from './request-context.js';

/** A ticket answer: the signed ticket and where it stands. */
export type TicketAnswer = TicketView & { ticket: string };

/**
 * `POST /api/v1/deals/{dealId}/tickets`: takes the shopper into the deal's line. 201 with a new
 * ticket, 200 with the one they already hold.
 */
export function ticketRoute(deps: TicketingDeps): ShopperRoute {
  const clock = deps.clock ?? systemClock;

  async function waitForPendingTicket(dealId: string, shopperId: string): Promise<ShopperTicket | undefined> {
    const until = clock.now() + (deps.pendingWaitMs ?? 3_000);
    while (clock.now() < until) {
      const record = await deps.store.shopperTicket(dealId, shopperId);
      if (!record || !isPending(record)) return record;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return undefined;
  }

  /** Takes the shopper into the line through the ticket issuer; 201 for a new ticket, 200 for the one they have. */
  async function issueTicket(deal: DealSnapshot, shopperId: string, now: number, count: (result: string) => void): Promise<JsonAnswer> {
    const dealId = deal.dealId;
    const issuedAt = Math.floor(now / 1000);
    const expiresAt = issuedAt + Math.ceil(deal.ticketTtlMs / 1000);
    const jti = newTicketId();
    const result = await deps.issuer.issue({
      dealId,
      topic: topicForDeal(dealId, deps.topicPrefix),
      shopperId,
      jti,
      issuedAt,
      expiresAt,
      recordTtlMs: expiresAt * 1000 - now + deal.windowMs,
    });
    const existing = async (token: string, queueNumber: number): Promise<JsonAnswer> => {
      count('existing');
      const { claims } = await deps.verifier.verify(token);
      const record = await deps.store.shopperTicket(dealId, shopperId);
      const admissionRate = deps.cache.admissionRate(dealId);
      const view =
        queueNumber > deal.served
          ? waitingView(deal, queueNumber, admissionRate)
          : processedView(deal, queueNumber, claims.jti, record, clock.now(), admissionRate);
      const answer: TicketAnswer = { ticket: token, ...view };
      return { status: 200, body: answer };
    };
    switch (result.outcome) {
      case 'issued': {
        count('created');
        deps.metrics.ticketsIssued.inc({ deal: dealId });
        const ticket = { shopperId, jti, queueNumber: result.queueNumber, expiresAtMs: expiresAt * 1000 };
        const admitted = await admitAtOnce(deps.store, deal, ticket, clock.now());
        if (admitted?.admittedHere) deps.metrics.admissions.inc({ deal: dealId });
        const view = admitted?.view ?? waitingView(deal, result.queueNumber, deps.cache.admissionRate(dealId));
        const answer: TicketAnswer = { ticket: result.token, ...view };
        return { status: 201, body: answer };
      }
      case 'unavailable':
        count('unavailable');
        throw errors.unavailable('QUEUE_UNAVAILABLE', 'We could not put you in line just now; please try again', 2);
      case 'existing': {
        // a drawn ticket is signed on its shopper's first ask
        const token =
          result.token ||
          (await drawnTicket(deps, deal, {
            shopperId,
            jti: (await deps.store.shopperTicket(dealId, shopperId))?.jti ?? '',
            queueNumber: result.queueNumber,
          }));
        return existing(token, result.queueNumber);
      }
      case 'prequeued':
        count('existing');
        return { status: 200, body: { ticket: result.token, ...prequeueView(deal, clock.now()) } };
      case 'drawing':
        count('drawing');
        throw errors.tooManyRequests(
          1,
          'The pre-queue is being drawn into line; new arrivals join right behind it in a moment',
          'DRAW_IN_PROGRESS',
        );
      case 'pending': {
        const record = await waitForPendingTicket(dealId, shopperId);
        if (record?.token) return existing(record.token, record.queueNumber);
        count('unavailable');
        throw errors.unavailable('TICKET_PENDING', 'Your ticket is still being queued; try again in a moment');
      }
      case 'rate_limited':
        count('rate_limited');
        throw rateLimited(result.retryInMs);
      case 'purchased':
        count('already_purchased');
        throw errors.conflict('ALREADY_PURCHASED', 'You have already bought this deal');
      case 'sold_out':
        count('sold_out');
        throw errors.gone('ITEM_SOLD_OUT', 'Everything in this deal is sold');
      case 'not_open':
        count('not_open');
        throw errors.conflict('DEAL_NOT_OPEN', 'This deal has not opened yet', { opensAt: new Date(result.opensAt).toISOString() });
      case 'closed':
        count('closed');
        throw errors.conflict('DEAL_CLOSED', 'This deal has closed', { closesAt: new Date(result.closesAt).toISOString() });
      case 'unknown_deal':
        throw errors.notFound('DEAL_NOT_FOUND', `There is no deal "${dealId}"`);
    }
  }

  async function takeTicket({ params, header, shopperId, remoteAddress }: ShopperAsk): Promise<JsonAnswer> {
    const dealId = params.dealId ?? '';
    const deal = await dealOf(deps.cache, dealId);
    const count = (result: string) => deps.metrics.ticketRequests.inc({ deal: dealId, result });
    try {
      deps.limits.ticketRequest(clientAddress(header, remoteAddress, deps.trustProxy ?? false));
    } catch (error) {
      count('rate_limited');
      throw error;
    }
    await deps.proofOfWork.spend(deal, header(proofOfWorkHeader));
    const now = clock.now();
    if (inPrequeue(deal, now)) return issuePrequeueTicket(deps, deal, shopperId, now);
    if (now < deal.opensAt) {
      count('not_open');
      throw errors.conflict('DEAL_NOT_OPEN', 'This deal has not opened yet', {
        opensAt: new Date(deal.opensAt).toISOString(),
        // a deal with a pre-queue takes shoppers from then on: the page counts down to it
        ...(deal.prequeueMs > 0 ? { prequeueOpensAt: new Date(deal.opensAt - deal.prequeueMs).toISOString() } : {}),
      });
    }
    if (soldOut(deal)) {
      count('sold_out');
      throw errors.gone('ITEM_SOLD_OUT', 'Everything in this deal is sold');
    }

    const entry = deps.door?.enter() ?? { entered: true };
    if (!entry.entered) {
      count('busy');
      throw errors.tooManyRequests(
        entry.retryAfterSeconds,
        'So many shoppers are joining right now that we could not take you in yet; try again in a moment',
        'BUSY',
      );
    }
    let answer: JsonAnswer | undefined;
    try {
      answer = await issueTicket(deal, shopperId, now, count);
      return answer;
    } finally {
      deps.door?.leave(answer?.status === 201);
    }
  }

  return { method: 'POST', template: '/api/v1/deals/:dealId/tickets', handle: takeTicket };
}
