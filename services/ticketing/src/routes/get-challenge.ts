import type { Hono } from 'hono';
import { errors, systemClock, type AppEnv } from '@quickdeal/core';
import type { TicketingDeps } from '../ticketing-deps.js';
import { dealOf } from './request-context.js';

/** `GET /api/v1/deals/{dealId}/challenge`: a fresh proof-of-work challenge for a deal that asks for one (ALTCHA's JSON). */
export function installGetChallenge(app: Hono<AppEnv>, deps: TicketingDeps): void {
  const clock = deps.clock ?? systemClock;
  app.get('/api/v1/deals/:dealId/challenge', async (c) => {
    const deal = await dealOf(deps.cache, c.req.param('dealId'));
    if (!deal.proofOfWork) throw errors.notFound('NO_PROOF_OF_WORK', 'This deal asks for no proof of work');
    c.header('Cache-Control', 'no-store');
    return c.json(await deps.proofOfWork.challenge(deal, clock.now()));
  });
}
