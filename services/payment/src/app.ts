import { Hono } from 'hono';
import { installCommon, installProbes, type AppEnv } from '@quickdeal/core';
import type { PaymentDeps } from './payment-deps.js';
import { installDeleteCheckout } from './routes/delete-checkout.js';
import { installGetCheckout } from './routes/get-checkout.js';
import { installPostOrders } from './routes/post-orders.js';

export type { PaymentDeps };

/** Payment's HTTP API: the checkout of an admitted shopper, paying for it, giving it back. */
export function createApp(deps: PaymentDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  installCommon(app, deps);
  installProbes(app, deps);
  installGetCheckout(app, deps);
  installPostOrders(app, deps);
  installDeleteCheckout(app, deps);
  return app;
}
