import { Hono } from 'hono';
import { installCommon, installProbes, type AppEnv } from '@quickdeal/core';
import { installPages } from './pages/index.js';
import { installGetChallenge } from './routes/get-challenge.js';
import { installGetTicketStatus } from './routes/get-ticket-status.js';
import { installJwks } from './routes/jwks.js';
import { installPostTickets } from './routes/post-tickets.js';
import { installPrequeueRoutes } from './routes/prequeue.js';
import type { TicketingDeps } from './ticketing-deps.js';

export type { TicketingDeps };

/** Ticketing's HTTP API: taking a ticket, polling its status, the keys that verify it, and the shopper's pages. */
export function createApp(deps: TicketingDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  installCommon(app, deps);
  installProbes(app, deps);
  installPostTickets(app, deps);
  installGetTicketStatus(app, deps);
  installPrequeueRoutes(app, deps);
  installGetChallenge(app, deps);
  installJwks(app, deps.keyring);
  installPages(app, { cache: deps.cache, identity: deps.identity.mode, shopperIdInput: deps.pagesShopperIdInput ?? false });
  return app;
}
