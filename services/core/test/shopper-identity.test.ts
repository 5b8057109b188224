import { createServer } from 'node:net';
import { Hono } from 'hono';
import { createLocalJWKSet } from 'jose';
import { z } from 'zod';
import { beforeAll, describe, expect, it } from 'vitest';
import { createShopSessions, type ShopSessions } from '@quickdeal/dev/testing';
import { ConfigError, parseConfig } from '../src/config.js';
import { installCommon, shopperIdOf, type AppEnv } from '../src/http/app-kit.js';
import {
  headerIdentity,
  shopperIdentityConfigShape,
  shopperIdentityFromConfig,
  tokenIdentity,
  type ShopperIdentity,
} from '../src/http/shopper-identity.js';
import { createLogger } from '../src/logger.js';
import { createServiceMetrics } from '../src/metrics.js';

let shop: ShopSessions;
let otherShop: ShopSessions;

beforeAll(async () => {
  shop = await createShopSessions();
  // Another key under the same kid: a forgery the shop never signed.
  otherShop = await createShopSessions({ kid: 'shop-key-1' });
});

/** An app whose one route answers the shopper its identity resolved. */
function appWith(identity: ShopperIdentity) {
  const app = new Hono<AppEnv>();
  installCommon(app, { logger: createLogger('test', 'silent'), metrics: createServiceMetrics('test'), identity });
  app.post('/api/v1/whoami', (c) => c.json({ shopperId: shopperIdOf(c) }));
  return app;
}

const shopIdentity = (overrides: Partial<Parameters<typeof tokenIdentity>[0]> = {}) =>
  tokenIdentity({
    keys: createLocalJWKSet(shop.jwks),
    issuer: shop.issuer,
    audience: shop.audience,
    algorithms: ['RS256', 'ES256', 'EdDSA'],
    ...overrides,
  });

async function ask(identity: ShopperIdentity, headers: Record<string, string>) {
  const response = await appWith(identity).request('/api/v1/whoami', { method: 'POST', headers });
  return { status: response.status, body: (await response.json()) as { shopperId?: string; error?: { code: string; message: string } } };
}

describe('token identity (the shop session JWT in X-Session-Token)', () => {
  it('names the shopper from a valid token, and from a configured claim', async () => {
    expect(await ask(shopIdentity(), { 'X-Session-Token': await shop.sign('alice') })).toEqual({
      status: 200,
      body: { shopperId: 'alice' },
    });
    const byClaim = shopIdentity({ claim: 'customer_id' });
    const token = await shop.sign('internal-7', { claims: { customer_id: 'cust:42' } });
    expect((await ask(byClaim, { 'X-Session-Token': token })).body.shopperId).toBe('cust:42');
  });

  const refusals: Array<[string, () => Promise<Record<string, string>>, number, string, RegExp]> = [
    ['no token at all', async () => ({}), 401, 'SESSION_MISSING', /X-Session-Token/],
    [
      'a token from another issuer',
      async () => ({ 'X-Session-Token': await shop.sign('alice', { issuer: 'https://evil.example.com' }) }),
      401,
      'SESSION_INVALID',
      /another issuer/,
    ],
    [
      'a token for another audience',
      async () => ({ 'X-Session-Token': await shop.sign('alice', { audience: 'another-app' }) }),
      401,
      'SESSION_INVALID',
      /another audience/,
    ],
    [
      'a token signed by another key',
      async () => ({ 'X-Session-Token': await otherShop.sign('alice') }),
      401,
      'SESSION_INVALID',
      /not signed by one of the shop's keys/,
    ],
    [
      'an expired token',
      async () => ({ 'X-Session-Token': await shop.sign('alice', { expiresAt: Math.floor(Date.now() / 1000) - 120 }) }),
      401,
      'SESSION_EXPIRED',
      /expired/,
    ],
    ['an unsigned token (alg: none)', async () => ({ 'X-Session-Token': shop.unsigned('alice') }), 401, 'SESSION_INVALID', /algorithm/],
    [
      'an HS256 token keyed with the shop public key',
      async () => ({ 'X-Session-Token': await shop.hs256WithPublicKey('alice') }),
      401,
      'SESSION_INVALID',
      /algorithm/,
    ],
    [
      'a token whose shopper id is not one',
      async () => ({ 'X-Session-Token': await shop.sign('alice bob') }),
      401,
      'SESSION_INVALID',
      /shopper id/,
    ],
    ['a garbled token', async () => ({ 'X-Session-Token': 'not.a.jwt' }), 401, 'SESSION_INVALID', /not a valid JWT/],
    [
      'a client-sent X-User-Id beside a valid token',
      async () => ({ 'X-Session-Token': await shop.sign('alice'), 'X-User-Id': 'bob' }),
      400,
      'SHOPPER_ID_NOT_ACCEPTED',
      /X-User-Id/,
    ],
    ['a client-sent X-User-Id alone', async () => ({ 'X-User-Id': 'bob' }), 400, 'SHOPPER_ID_NOT_ACCEPTED', /session token/],
  ];
  it.each(refusals)('refuses %s', async (_name, headers, status, code, message) => {
    const answer = await ask(shopIdentity(), await headers());
    expect(answer.status).toBe(status);
    expect(answer.body.error?.code).toBe(code);
    expect(answer.body.error?.message).toMatch(message);
  });

  it('checks expiry again when a token comes back from its cache', async () => {
    let now = Date.now();
    const identity = shopIdentity({ clock: { now: () => now }, clockToleranceSeconds: 0 });
    const token = await shop.sign('alice', { expiresAt: Math.floor(now / 1000) + 60 });
    expect((await ask(identity, { 'X-Session-Token': token })).status).toBe(200);
    now += 61_000;
    expect((await ask(identity, { 'X-Session-Token': token })).body.error?.code).toBe('SESSION_EXPIRED');
  });

  it('answers 503 IDENTITY_UNAVAILABLE with Retry-After when the shop JWKS URL cannot be reached', async () => {
    const port = await closedPort();
    const identity = shopperIdentityFromConfig(identityConfig({ SHOPPER_TOKEN_JWKS_URL: `http://127.0.0.1:${port}/jwks.json` }));
    const response = await appWith(identity).request('/api/v1/whoami', {
      method: 'POST',
      headers: { 'X-Session-Token': await shop.sign('alice') },
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('Retry-After')).toBe('2');
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('IDENTITY_UNAVAILABLE');
  });

  it('refuses to be built with none or an HS* algorithm', () => {
    expect(() => shopIdentity({ algorithms: ['RS256', 'HS256'] })).toThrow(/asymmetric/);
    expect(() => shopIdentity({ algorithms: ['none'] })).toThrow(/asymmetric/);
  });
});

describe('header identity (X-User-Id from a trusted gateway)', () => {
  it('names the shopper from X-User-Id and refuses a missing or malformed one', async () => {
    expect(await ask(headerIdentity(), { 'X-User-Id': 'alice@shop' })).toEqual({ status: 200, body: { shopperId: 'alice@shop' } });
    expect((await ask(headerIdentity(), {})).body.error?.code).toBe('SHOPPER_ID_MISSING');
    expect((await ask(headerIdentity(), { 'X-User-Id': 'a b' })).status).toBe(400);
  });
});

const identitySchema = z.object(shopperIdentityConfigShape);
const identityConfig = (env: Record<string, string>) =>
  parseConfig(identitySchema, { SHOPPER_TOKEN_ISSUER: shop.issuer, SHOPPER_TOKEN_AUDIENCE: shop.audience, ...env });

describe('the identity middleware', () => {
  it('leaves an API path no route matched labelled "unmatched" in the request metrics', async () => {
    const metrics = createServiceMetrics('test');
    const app = new Hono<AppEnv>();
    installCommon(app, { logger: createLogger('test', 'silent'), metrics, identity: headerIdentity() });
    expect((await app.request('/api/v1/deals/x/nothing-here', { headers: { 'X-User-Id': 'alice' } })).status).toBe(404);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/quickdeal_http_request_duration_seconds_count\{[^}]*route="unmatched"[^}]*status="404"/);
    expect(text).not.toContain('route="/api/*"');
  });
});

describe('identity configuration', () => {
  it('is token mode by default, and fails fast naming what token mode lacks', () => {
    const attempt = () => shopperIdentityFromConfig(parseConfig(identitySchema, {}));
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/SHOPPER_TOKEN_ISSUER, SHOPPER_TOKEN_AUDIENCE, SHOPPER_TOKEN_JWKS_URL/);
    expect(shopperIdentityFromConfig(parseConfig(identitySchema, { SHOPPER_IDENTITY: 'header' })).mode).toBe('header');
  });

  it('takes a local JWKS, and refuses symmetric algorithms and secret keys', async () => {
    const identity = shopperIdentityFromConfig(identityConfig({ SHOPPER_TOKEN_JWKS: JSON.stringify(shop.jwks) }));
    expect((await ask(identity, { 'X-Session-Token': await shop.sign('alice') })).body.shopperId).toBe('alice');
    expect(() => identityConfig({ SHOPPER_TOKEN_JWKS: JSON.stringify(shop.jwks), SHOPPER_TOKEN_ALGORITHMS: 'RS256,HS256' })).toThrow(
      /SHOPPER_TOKEN_ALGORITHMS/,
    );
    const secret = { keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 'k' }] };
    expect(() => shopperIdentityFromConfig(identityConfig({ SHOPPER_TOKEN_JWKS: JSON.stringify(secret) }))).toThrow(/public keys/);
  });
});

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
