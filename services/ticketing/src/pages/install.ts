/**
 * The shopper's pages, served by ticketing: `GET /deals/{dealId}` (the waiting room),
 * `GET /deals/{dealId}/checkout` and their assets under `/deals/_assets/{version}/` (a deal id
 * cannot start with `_`, so the two never meet). See docs/pages.md.
 */
import type { Context, Hono } from 'hono';
import { dealIdPattern, type AppEnv, type DealSnapshot } from '@quickdeal/core';
import { loadAssets } from './assets.js';
import { messages, negotiateLocale } from './i18n.js';
import { renderCheckoutPage, renderNotFoundPage, renderRoomPage, type Identity, type PageContext } from './render.js';

export interface PagesOptions {
  cache: { get(dealId: string): Promise<DealSnapshot | undefined> };
  /**
   * How the API knows the shopper: `'token'`, the shop's session token, which the pages send as
   * X-Session-Token; `'header'` (the default), X-User-Id, which a gateway in front adds.
   */
  identity?: 'token' | 'header';
  /**
   * Local development only (off by default, on in the dev stack): in header mode, let a person
   * type a shopper id (and pick a test card), unless the page request itself carries X-User-Id
   * (a gateway in front then names the shopper on the page's API calls too).
   */
  shopperIdInput?: boolean;
  /** Where the scripts and stylesheet are; services/ticketing/public by default. */
  publicDir?: string;
}

const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function installPages(app: Hono<AppEnv>, options: PagesOptions): void {
  const assets = loadAssets(options.publicDir);
  const assetsBase = `/deals/_assets/${assets.version}`;

  app.get('/deals/_assets/:version/:file', (c) => {
    const asset = assets.files.get(c.req.param('file'));
    if (!asset) return c.text('Not found', 404);
    const current = c.req.param('version') === assets.version;
    c.header('Content-Type', asset.contentType);
    c.header('ETag', asset.etag);
    c.header('X-Content-Type-Options', 'nosniff');
    // Only the current version is immutable: a page from an older release gets today's files, revalidated.
    c.header('Cache-Control', current ? 'public, max-age=31536000, immutable' : 'no-cache');
    c.header('Vary', 'Accept-Encoding');
    if (c.req.header('If-None-Match') === asset.etag) return c.body(null, 304);
    if (/\bgzip\b/.test(c.req.header('Accept-Encoding') ?? '')) {
      c.header('Content-Encoding', 'gzip');
      return c.body(asset.gzipped as Uint8Array<ArrayBuffer>);
    }
    return c.body(asset.body);
  });

  function contextOf(c: Context<AppEnv>): PageContext {
    const locale = negotiateLocale(c.req.header('Accept-Language'));
    const fromGateway = c.req.header('X-User-Id') !== undefined;
    const identity: Identity = options.identity === 'token' ? 'session' : options.shopperIdInput && !fromGateway ? 'input' : 'gateway';
    return { locale, strings: messages[locale.lang], identity, assetsBase };
  }

  async function page(c: Context<AppEnv>, render: typeof renderRoomPage) {
    const ctx = contextOf(c);
    c.header('Content-Security-Policy', contentSecurityPolicy);
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'same-origin');
    c.header('Cache-Control', 'private, no-cache');
    c.header('Vary', 'Accept-Language, X-User-Id');
    const dealId = c.req.param('dealId') ?? '';
    const deal = dealIdPattern.test(dealId) ? await options.cache.get(dealId) : undefined;
    if (!deal) return c.html(renderNotFoundPage(ctx), 404);
    return c.html(
      render(ctx, {
        dealId,
        productName: deal.productName,
        price: deal.price,
        currency: deal.currency,
        proofOfWork: deal.proofOfWork !== null,
      }),
    );
  }

  app.get('/deals/:dealId', (c) => page(c, renderRoomPage));
  app.get('/deals/:dealId/checkout', (c) => page(c, renderCheckoutPage));
}
