import { describe, expect, it } from 'vitest';
import { upstreamFor } from '../src/gateway/routes.js';

describe('the gateway’s routes, as the chart’s Ingress has them', () => {
  it.each([
    ['/api/v1/deals/iphone-17-pro/tickets', 'ticketing'],
    ['/api/v1/deals/iphone-17-pro/tickets/status', 'ticketing'],
    ['/api/v1/deals/iphone-17-pro/checkout', 'payment'],
    ['/api/v1/deals/iphone-17-pro/orders', 'payment'],
    ['/deals/iphone-17-pro', 'ticketing'],
    ['/.well-known/jwks.json', 'ticketing'],
    ['/metrics', undefined],
    ['/api/v1/deals/x/secret', undefined],
    ['/api/v1/deals//tickets', undefined],
  ])('%s → %s', (path, upstream) => {
    expect(upstreamFor(path)).toBe(upstream);
  });
});
