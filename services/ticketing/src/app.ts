import { Hono } from 'hono';
import { installCommon, installProbes, installShopperRoute, type AppEnv, type ShopperRoute } from '@quickdeal/core';
import { installPages } from './pages/index.js';
import { installGetChallenge } from './routes/get-challenge.js';
import { statusPollRoute } from './routes/get-ticket-status.js';
import { installJwks } from './routes/jwks.js';
import { ticketRoute } from './routes/post-tickets.js';
import { installPrequeueRoutes } from './routes/prequeue.js';
import type { TicketingDeps } from './ticketing-deps.js';

export type { TicketingDeps };

/** The door and the status poll: what every shopper asks, the poll every few seconds. The running service answers them on node:http (nodeRoutes). */
export function shopperRoutes(deps: TicketingDeps): ShopperRoute[] {
  return [ticketRoute(deps), statusPollRoute(deps)];
}

/** Ticketing's HTTP API: taking a ticket, polling its status, the keys that verify it, and the shopper's pages. */
export function createApp(deps: TicketingDeps, routes: ShopperRoute[]): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  installCommon(app, deps);
  installProbes(app, deps);
  for (const route of routes) installShopperRoute(app, route);
  installPrequeueRoutes(app, deps);
  installGetChallenge(app, deps);
  installJwks(app, deps.keyring);
  installPages(app, { cache: deps.cache, identity: deps.identity.mode, shopperIdInput: deps.pagesShopperIdInput ?? false });
  return app;
}
