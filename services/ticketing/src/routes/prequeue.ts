import type { Hono } from 'hono';
import {
  bearerTicketOf,
  errors,
  newTicketId,
  shopperIdOf,
  systemClock,
  type AppEnv,
  type DealSnapshot,
  type JsonAnswer,
} from '@quickdeal/core';
import { drawnTicket, drawnTicketTimes } from '../drawn-ticket.js';
import { rateLimited } from '../rate-limits.js';
import type { TicketingDeps } from '../ticketing-deps.js';
import { processedView, type TicketView } from '../ticket-view.js';
import { dealOf } from './request-context.js';

/** Where a pre-queued shopper stands until the draw places them. */
export interface PrequeueView {
  status: 'PREQUEUED';
  opensAt: string;
  /** SHA-256 of the draw's secret seed, published before the open. */
  drawCommitment: string | undefined;
  /** The open has come and the draw is being written. */
  drawing: boolean;
  pollAfterMs: number;
}

const maxPollMs = 30_000;

/** Polls until the open are rare; near it, each shopper comes back just after it (with up to 2 s of jitter, so they do not all come at once). */
export function prequeueView(deal: DealSnapshot, now: number): PrequeueView {
  const untilOpen = deal.opensAt - now;
  const pollAfterMs = untilOpen > maxPollMs ? maxPollMs : untilOpen > 0 ? Math.round(untilOpen + Math.random() * 2_000) : 1_000;
  return {
    status: 'PREQUEUED',
    opensAt: new Date(deal.opensAt).toISOString(),
    drawCommitment: deal.draw?.commitment,
    drawing: untilOpen <= 0,
    pollAfterMs,
  };
}

/** The deal's pre-queue is taking shoppers now. */
export const inPrequeue = (deal: DealSnapshot, now: number) =>
  deal.prequeueMs > 0 && now < deal.opensAt && now >= deal.opensAt - deal.prequeueMs;

/** Takes the shopper into the pre-queue: 201 with a signed pre-queue ticket, 200 with the one they hold. */
export async function issuePrequeueTicket(deps: TicketingDeps, deal: DealSnapshot, shopperId: string, now: number): Promise<JsonAnswer> {
  const jti = newTicketId();
  const iat = Math.floor(now / 1000);
  const token = await deps.prequeueTickets.sign({ sub: shopperId, deal: deal.dealId, jti, iat, ...{ exp: drawnTicketTimes(deal).exp } });
  const result = await deps.store.prequeueTicket(deal.dealId, shopperId, jti, token, deps.limits.asksPerShopper);
  const count = (outcome: string) => deps.metrics.ticketRequests.inc({ deal: deal.dealId, result: outcome });
  switch (result.outcome) {
    case 'prequeued':
      count('prequeued');
      return { status: 201, body: { ticket: token, ...prequeueView(deal, now) } };
    case 'existing':
      count('existing');
      return { status: 200, body: { ticket: result.token, ...prequeueView(deal, now) } };
    case 'purchased':
      throw errors.conflict('ALREADY_PURCHASED', 'You have already bought this deal');
    case 'rate_limited':
      count('rate_limited');
      throw rateLimited(result.retryInMs);
    case 'unknown_deal':
      throw errors.notFound('DEAL_NOT_FOUND', `There is no deal "${deal.dealId}"`);
    case 'not_prequeue':
      count('not_open');
      throw errors.conflict('DEAL_NOT_OPEN', 'This deal’s pre-queue is not open', { opensAt: new Date(result.opensAt).toISOString() });
  }
}

/**
 * `GET /api/v1/deals/{dealId}/prequeue` with the pre-queue ticket: PREQUEUED until the draw placed
 * the shopper, then their place in line with the drawn ticket (`ticket`) to poll with from then on.
 * `GET /api/v1/deals/{dealId}/draw`: the draw's commitment, state and, once done, its seed.
 */
export function installPrequeueRoutes(app: Hono<AppEnv>, deps: TicketingDeps): void {
  const clock = deps.clock ?? systemClock;

  app.get('/api/v1/deals/:dealId/prequeue', async (c) => {
    const shopperId = shopperIdOf(c);
    const deal = await dealOf(deps.cache, c.req.param('dealId'));
    const claims = await deps.prequeueTickets.verify(bearerTicketOf(c), deal.dealId, shopperId);
    const now = clock.now();
    if (now < deal.opensAt) return c.json(prequeueView(deal, now));
    const record = await deps.store.shopperTicket(deal.dealId, shopperId);
    if (!record || record.jti !== claims.jti) throw errors.unauthorized('TICKET_INVALID', 'This pre-queue ticket is not the one on record');
    if (record.state === 'prequeued' || record.queueNumber === 0) return c.json(prequeueView(deal, now));
    const ticket = record.token || (await drawnTicket(deps, deal, { shopperId, jti: record.jti, queueNumber: record.queueNumber }));
    // the record was read anyway: its state says where the shopper stands, however stale the cached deal
    const view: TicketView = processedView(deal, record.queueNumber, record.jti, record, now, deps.cache.admissionRate(deal.dealId));
    return c.json({ ticket, ...view });
  });

  app.get('/api/v1/deals/:dealId/draw', async (c) => {
    const deal = await dealOf(deps.cache, c.req.param('dealId'));
    if (!deal.draw) throw errors.notFound('NO_PREQUEUE', 'This deal has no pre-queue and no draw');
    return c.json({
      dealId: deal.dealId,
      opensAt: new Date(deal.opensAt).toISOString(),
      state: deal.draw.state,
      commitment: deal.draw.commitment,
      seed: deal.draw.seed ?? null,
      prequeued: deal.prequeued,
      scheme:
        'order = pre-queued shopper ids sorted by hex(HMAC-SHA256(key = seed bytes, message = shopper id UTF-8)); commitment = hex(SHA-256(seed bytes))',
    });
  });
}
