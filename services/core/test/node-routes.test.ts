import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveService, type ServedService } from '@quickdeal/dev/testing';
import { errors } from '../src/errors.js';
import { installCommon, type AppEnv } from '../src/http/app-kit.js';
import { DependencyUnavailableError } from '../src/http/dependency-outage.js';
import { installShopperRoute, nodeRoutes, type ShopperRoute } from '../src/http/node-routes.js';
import { headerIdentity } from '../src/http/shopper-identity.js';
import { createLogger } from '../src/logger.js';
import { createServiceMetrics } from '../src/metrics.js';

/** A route whose item id says how it answers: as a route that works, refuses, meets an outage or breaks. */
const itemRoute: ShopperRoute = {
  method: 'GET',
  template: '/api/v1/items/:itemId/status',
  async handle({ params, header, shopperId }) {
    switch (params.itemId) {
      case 'missing':
        throw errors.notFound('ITEM_NOT_FOUND', 'There is no such item');
      case 'busy':
        throw errors.tooManyRequests(3);
      case 'outage':
        throw new DependencyUnavailableError('redis', new Error('Connection is closed.'));
      case 'bug':
        throw new TypeError('a bug');
      default:
        return { status: 200, body: { itemId: params.itemId, shopperId, note: header('X-Note') ?? null } };
    }
  },
};

const orderRoute: ShopperRoute = {
  method: 'POST',
  template: '/api/v1/items/:itemId/orders',
  handle: async ({ params, shopperId }) => ({ status: 201, body: { itemId: params.itemId, shopperId } }),
};

const metrics = createServiceMetrics('test');
const deps = { logger: createLogger('test', 'silent'), metrics, identity: headerIdentity() };
const app = new Hono<AppEnv>();
installCommon(app, deps);
app.get('/plain', (c) => c.json({ plain: true }));
for (const route of [itemRoute, orderRoute]) installShopperRoute(app, route);

let served: ServedService;
let url: string;
/** The requests node:http answered itself (the rest went to the Hono app). */
let taken: string[];

beforeAll(async () => {
  served = await serveService({ app, nodeRoutes: nodeRoutes(deps, [itemRoute, orderRoute]) });
  ({ url, taken } = served);
});

afterAll(() => served?.close());

interface Seen {
  status: number;
  headers: Record<string, string | null>;
  body: unknown;
}

const comparedHeaders = ['content-type', 'retry-after', 'www-authenticate'];

async function seen(response: Response): Promise<Seen> {
  const text = await response.text();
  const body = text ? (JSON.parse(text) as { error?: { requestId?: string } }) : undefined;
  // Each answer has its own request id: it must be the one echoed in the header.
  if (body?.error?.requestId) {
    expect(body.error.requestId).toBe(response.headers.get('x-request-id'));
    body.error.requestId = '(echoed)';
  }
  const headers = Object.fromEntries(comparedHeaders.map((name) => [name, response.headers.get(name)]));
  return { status: response.status, headers: { ...headers, 'x-request-id': response.headers.get('x-request-id') ? 'set' : null }, body };
}

/** The same request over HTTP (node:http's routes first) and through the Hono app alone. */
async function both(path: string, init: RequestInit = {}): Promise<{ node: Seen; hono: Seen }> {
  return { node: await seen(await fetch(`${url}${path}`, init)), hono: await seen(await app.request(path, init)) };
}

const alice = { 'X-User-Id': 'alice' };

describe('a shopper route answered on node:http', () => {
  it.each([
    ['an answer', '/api/v1/items/phone-1/status', { ...alice, 'X-Note': 'hi' }, 200],
    ['a query string', '/api/v1/items/phone-1/status?lang=ko', alice, 200],
    ['a percent-encoded parameter', '/api/v1/items/phone%201/status', alice, 200],
    ['a refusal (AppError)', '/api/v1/items/missing/status', alice, 404],
    ['a rate limit with Retry-After', '/api/v1/items/busy/status', alice, 429],
    ["a dependency's outage: 503 with Retry-After", '/api/v1/items/outage/status', alice, 503],
    ['a bug: 500', '/api/v1/items/bug/status', alice, 500],
    ["the identity's refusal, before the route runs", '/api/v1/items/phone-1/status', {}, 401],
    ['an invalid shopper id', '/api/v1/items/phone-1/status', { 'X-User-Id': 'a b' }, 400],
  ])('is answered as the Hono route answers it: %s', async (_case, path, headers, status) => {
    const before = taken.length;
    const { node, hono } = await both(path, { headers });
    expect(taken.length).toBe(before + 1);
    expect(node.status).toBe(status);
    expect(node).toEqual(hono);
  });

  it('answers JSON with its length, and the parameters decoded', async () => {
    const response = await fetch(`${url}/api/v1/items/phone%201/status`, { headers: alice });
    const text = await response.text();
    expect(response.headers.get('content-length')).toBe(String(Buffer.byteLength(text)));
    expect(JSON.parse(text)).toEqual({ itemId: 'phone 1', shopperId: 'alice', note: null });
  });

  it('answers a POST route with its own status', async () => {
    const { node, hono } = await both('/api/v1/items/phone-1/orders', { method: 'POST', headers: alice, body: '{"ignored":true}' });
    expect(node).toEqual({ status: 201, headers: expect.anything(), body: { itemId: 'phone-1', shopperId: 'alice' } });
    expect(node).toEqual(hono);
  });

  it("echoes the caller's request id when it is a sane one, and makes its own otherwise", async () => {
    const given = await fetch(`${url}/api/v1/items/missing/status`, { headers: { ...alice, 'X-Request-Id': 'trace-42' } });
    expect(given.headers.get('x-request-id')).toBe('trace-42');
    expect(((await given.json()) as { error: { requestId: string } }).error.requestId).toBe('trace-42');
    const odd = await fetch(`${url}/api/v1/items/phone-1/status`, { headers: { ...alice, 'X-Request-Id': 'no spaces <here>' } });
    expect(odd.headers.get('x-request-id')).toMatch(/^[0-9a-f]{8}-[0-9a-z]+$/);
  });

  it('counts each answer in the request histogram under the route template and its status', async () => {
    const count = async (status: string) => {
      const values = (await metrics.registry.getSingleMetric('quickdeal_http_request_duration_seconds')?.get())?.values ?? [];
      return (values as Array<{ metricName?: string; labels: Record<string, unknown>; value: number }>).find(
        (v) => v.metricName?.endsWith('_count') && v.labels.route === '/api/v1/items/:itemId/status' && v.labels.status === status,
      )?.value;
    };
    const [ok, refused] = [(await count('200')) ?? 0, (await count('404')) ?? 0];
    await fetch(`${url}/api/v1/items/phone-1/status`, { headers: alice });
    await fetch(`${url}/api/v1/items/missing/status`, { headers: alice });
    expect(await count('200')).toBe(ok + 1);
    expect(await count('404')).toBe(refused + 1);
  });

  it('leaves every other request to the Hono app: other paths, other methods, a trailing slash, HEAD', async () => {
    const before = taken.length;
    expect(await (await fetch(`${url}/plain`)).json()).toEqual({ plain: true });
    expect((await fetch(`${url}/api/v1/items/phone-1/status`, { method: 'POST', headers: alice })).status).toBe(404);
    expect((await fetch(`${url}/api/v1/items/phone-1/status/`, { headers: alice })).status).toBe(404);
    expect((await fetch(`${url}/api/v1/items/phone-1/status`, { method: 'HEAD', headers: alice })).status).toBe(200);
    expect(taken.length).toBe(before);
  });
});
