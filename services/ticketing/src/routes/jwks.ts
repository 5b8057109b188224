import type { Hono } from 'hono';
import type { AppEnv, TicketKeyring } from '@quickdeal/core';

/** `GET /.well-known/jwks.json`: the public keys that verify tickets. */
export function installJwks(app: Hono<AppEnv>, keyring: TicketKeyring): void {
  app.get('/.well-known/jwks.json', (c) => {
    c.header('Cache-Control', 'public, max-age=300');
    return c.json(keyring.jwks());
  });
}
