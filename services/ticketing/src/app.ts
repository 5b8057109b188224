import { Hono, type Context } from 'hono';
import {
  bearerTicketOf,
  dealIdPattern,
  encodeTicketMessage,
  errors,
  installCommon,
  installProbes,
  newTicketId,
  headerOf,
  shopperIdOf,
  systemClock,
  topicForDeal,
  type AppEnv,
  type Clock,
  type DealCache,
  type DealSnapshot,
  type DealStore,
  type Logger,
  type Metrics,
  type ShopperIdentity,
  type ShopperTicket,
  type TicketKeyring,
  type TicketSigner,
  type TicketVerifier,
} from '@quickdeal/core';
import type { Door } from './door.js';
import { installPages } from './pages/index.js';
import { queuePosition } from './queue-position.js';
import type { RateLimits } from './rate-limits.js';
import type { TicketQueue } from './ticket-queue.js';

export interface TicketingDeps {
  store: DealStore;
  cache: DealCache;
  queue: TicketQueue;
  signer: TicketSigner;
  verifier: TicketVerifier;
  keyring: TicketKeyring;
  limits: RateLimits;
  metrics: Metrics;
  logger: Logger;
  /** Who the shopper is: the shop's session token, or X-User-Id from a trusted gateway. */
  identity: ShopperIdentity;
  topicPrefix: string;
  clock?: Clock;
  /** Use X-Forwarded-For as the client address (only behind a trusted ingress or gateway). */
  trustProxy?: boolean;
  readiness: () => Promise<Record<string, boolean>>;
  isShuttingDown?: () => boolean;
  /** How long a shopper's concurrent second request waits for the first one's ticket. */
  pendingWaitMs?: number;
  /** Overload protection: ticket requests beyond its limit are asked to come back later. */
  door?: Door;
  /** Local development only: the pages let a person type a shopper id (header mode). */
  pagesShopperIdInput?: boolean;
}

export type TicketStatus = 'ITEM_SOLD_OUT' | 'ACCESS_DENIED' | 'ACCESS_GRANTED' | 'PURCHASED' | 'ACCESS_EXPIRED';

function clientAddressOf(c: Context, trustProxy: boolean): string | undefined {
  if (trustProxy) {
    const forwarded = headerOf(c, 'X-Forwarded-For')?.split(',')[0]?.trim();
    if (forwarded) return forwarded;
  }
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress;
}

export function createApp(deps: TicketingDeps): Hono<AppEnv> {
  const clock = deps.clock ?? systemClock;
  const app = new Hono<AppEnv>();
  installCommon(app, deps);
  installProbes(app, deps);

  async function dealOf(dealId: string): Promise<DealSnapshot> {
    const deal = dealIdPattern.test(dealId) ? await deps.cache.get(dealId) : undefined;
    if (!deal) throw errors.notFound('DEAL_NOT_FOUND', `There is no deal "${dealId}"`);
    return deal;
  }

  const soldOut = (deal: DealSnapshot) => deal.sold >= deal.stock;

  /** The body of a ticket answer and of a status answer for a ticket still in line. */
  function waitingView(deal: DealSnapshot, queueNumber: number) {
    return { status: 'ACCESS_DENIED' as const, queueNumber, paused: deal.paused, ...queuePosition(queueNumber, deal, deps.cache.admissionRate(deal.dealId)) };
  }

  /** A ticket's status once admission has dealt with it, from the shopper's record in Redis. */
  function processedView(deal: DealSnapshot, queueNumber: number, jti: string, record: ShopperTicket | undefined) {
    const base = { queueNumber, position: 0, unitsLeft: Math.max(0, deal.stock - deal.sold), etaSeconds: 0, pollAfterMs: 5_000 };
    if (!record || record.jti !== jti) return { ...base, status: 'ACCESS_EXPIRED' as TicketStatus };
    switch (record.state) {
      case 'admitted':
      case 'paying':
        if ((record.deadline ?? 0) > clock.now()) {
          return { ...base, status: 'ACCESS_GRANTED' as TicketStatus, pollAfterMs: 2_000, checkoutExpiresAt: new Date(record.deadline ?? 0).toISOString() };
        }
        return { ...base, status: 'ACCESS_EXPIRED' as TicketStatus };
      case 'purchased':
        return { ...base, status: 'PURCHASED' as TicketStatus, orderId: record.orderId };
      case 'soldout':
        return { ...base, status: 'ITEM_SOLD_OUT' as TicketStatus };
      case 'waiting':
      case 'pending':
        return waitingView(deal, queueNumber);
      default:
        return { ...base, status: 'ACCESS_EXPIRED' as TicketStatus };
    }
  }

  async function waitForPendingTicket(dealId: string, shopperId: string): Promise<ShopperTicket | undefined> {
    const until = clock.now() + (deps.pendingWaitMs ?? 3_000);
    while (clock.now() < until) {
      const record = await deps.store.shopperTicket(dealId, shopperId);
      if (record?.state !== 'pending') return record;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return undefined;
  }

  /** Reserves the shopper's place, appends the ticket to the deal's log and signs it; 201 for a new ticket, 200 for the one they have. */
  async function issueTicket(c: Context<AppEnv>, deal: DealSnapshot, shopperId: string, now: number, count: (result: string) => void): Promise<Response> {
    const dealId = deal.dealId;
    const jti = newTicketId();
    const reservation = await deps.store.reserveTicket(dealId, shopperId, jti, now);
    const existing = async (token: string, queueNumber: number) => {
      count('existing');
      const { claims } = await deps.verifier.verify(token);
      const record = await deps.store.shopperTicket(dealId, shopperId);
      const view = queueNumber > deal.served ? waitingView(deal, queueNumber) : processedView(deal, queueNumber, claims.jti, record);
      return c.json({ ticket: token, ...view }, 200);
    };
    switch (reservation.outcome) {
      case 'existing':
        return existing(reservation.token, reservation.queueNumber);
      case 'pending': {
        const record = await waitForPendingTicket(dealId, shopperId);
        if (record?.token) return existing(record.token, record.queueNumber);
        count('unavailable');
        throw errors.unavailable('TICKET_PENDING', 'Your ticket is still being queued; try again in a moment');
      }
      case 'purchased':
        count('already_purchased');
        throw errors.conflict('ALREADY_PURCHASED', 'You have already bought this deal');
      case 'sold_out':
        count('sold_out');
        throw errors.gone('ITEM_SOLD_OUT', 'Everything in this deal is sold');
      case 'not_open':
        count('not_open');
        throw errors.conflict('DEAL_NOT_OPEN', 'This deal has not opened yet', { opensAt: new Date(reservation.opensAt).toISOString() });
      case 'closed':
        count('closed');
        throw errors.conflict('DEAL_CLOSED', 'This deal has closed', { closesAt: new Date(reservation.closesAt).toISOString() });
      case 'unknown_deal':
        throw errors.notFound('DEAL_NOT_FOUND', `There is no deal "${dealId}"`);
      case 'reserved':
        break;
    }

    const issuedAt = Math.floor(now / 1000);
    const expiresAt = issuedAt + Math.ceil(deal.ticketTtlMs / 1000);
    let queueNumber: number;
    try {
      const message = encodeTicketMessage({ v: 1, sub: shopperId, jti, iat: issuedAt, exp: expiresAt });
      queueNumber = (await deps.queue.append(topicForDeal(dealId, deps.topicPrefix), message)) + 1;
    } catch (error) {
      deps.logger.warn({ err: error, dealId }, 'ticket could not be queued');
      await deps.store.abortTicket(dealId, shopperId, jti).catch(() => undefined);
      count('unavailable');
      throw errors.unavailable('QUEUE_UNAVAILABLE', 'We could not put you in line just now; please try again', 2);
    }
    const token = await deps.signer.sign({ sub: shopperId, deal: dealId, qn: queueNumber, jti, iat: issuedAt, exp: expiresAt });
    const recorded = await deps.store.finalizeTicket(dealId, shopperId, { jti, queueNumber, token, expiresAtMs: expiresAt * 1000 }, expiresAt * 1000 - now + deal.windowMs);
    if (!recorded) {
      count('unavailable');
      throw errors.unavailable('QUEUE_UNAVAILABLE', 'We could not put you in line just now; please try again', 2);
    }
    count('created');
    deps.metrics.ticketsIssued.inc({ deal: dealId });
    return c.json({ ticket: token, ...waitingView(deal, queueNumber) }, 201);
  }

  app.post('/api/v1/deals/:dealId/tickets', async (c) => {
    const shopperId = shopperIdOf(c);
    const dealId = c.req.param('dealId');
    const deal = await dealOf(dealId);
    const count = (result: string) => deps.metrics.ticketRequests.inc({ deal: dealId, result });
    try {
      await deps.limits.ticketRequest(dealId, shopperId, clientAddressOf(c, deps.trustProxy ?? false));
    } catch (error) {
      count('rate_limited');
      throw error;
    }
    const now = clock.now();
    if (now < deal.opensAt) {
      count('not_open');
      throw errors.conflict('DEAL_NOT_OPEN', 'This deal has not opened yet', { opensAt: new Date(deal.opensAt).toISOString() });
    }
    if (soldOut(deal)) {
      count('sold_out');
      throw errors.gone('ITEM_SOLD_OUT', 'Everything in this deal is sold');
    }

    const entry = deps.door?.enter() ?? { entered: true };
    if (!entry.entered) {
      count('busy');
      throw errors.tooManyRequests(entry.retryAfterSeconds, 'So many shoppers are joining right now that we could not take you in yet; try again in a moment', 'BUSY');
    }
    let answer: Response | undefined;
    try {
      answer = await issueTicket(c, deal, shopperId, now, count);
      return answer;
    } finally {
      deps.door?.leave(answer?.status === 201);
    }
  });

  app.get('/api/v1/deals/:dealId/tickets/status', async (c) => {
    const shopperId = shopperIdOf(c);
    const dealId = c.req.param('dealId');
    const token = bearerTicketOf(c);
    const { claims, expired } = await deps.verifier.verify(token);
    if (claims.deal !== dealId) throw errors.forbidden('TICKET_FOREIGN', 'This ticket is for another deal');
    if (claims.sub !== shopperId) throw errors.forbidden('TICKET_NOT_YOURS', 'This ticket belongs to another shopper');
    const deal = await dealOf(dealId);
    await deps.limits.statusPoll(dealId, shopperId, clientAddressOf(c, deps.trustProxy ?? false));

    let view;
    if (claims.qn > deal.served && !expired) {
      // Still in line: answered from memory, no Redis or Postgres round trip.
      view = soldOut(deal) ? { ...waitingView(deal, claims.qn), status: 'ITEM_SOLD_OUT' as const, etaSeconds: 0 } : waitingView(deal, claims.qn);
    } else {
      view = processedView(deal, claims.qn, claims.jti, await deps.store.shopperTicket(dealId, shopperId));
      if (expired && (view.status === 'ACCESS_DENIED' || view.status === 'ACCESS_EXPIRED')) {
        throw errors.unauthorized('TICKET_EXPIRED', 'This ticket has expired; ask for a new one to rejoin the line');
      }
    }
    deps.metrics.statusPolls.inc({ deal: dealId, status: view.status });
    return c.json(view);
  });

  app.get('/.well-known/jwks.json', (c) => {
    c.header('Cache-Control', 'public, max-age=300');
    return c.json(deps.keyring.jwks());
  });

  installPages(app, { cache: deps.cache, identity: deps.identity.mode, shopperIdInput: deps.pagesShopperIdInput ?? false });
  return app;
}
