import { afterEach, describe, expect, it } from 'vitest';
import { profile } from '../src/profiles.js';
import { upstreamFor } from '../src/gateway/routes.js';

describe('the gateway’s routes, as the chart’s Ingress has them', () => {
  it.each([
    ['/api/v1/deals/iphone-17-pro/tickets', 'ticketing'],
    ['/api/v1/deals/iphone-17-pro/tickets/status', 'ticketing'],
    ['/api/v1/deals/iphone-17-pro/prequeue', 'ticketing'],
    ['/api/v1/deals/iphone-17-pro/draw', 'ticketing'],
    ['/api/v1/deals/iphone-17-pro/challenge', 'ticketing'],
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

describe('profiles', () => {
  afterEach(() => {
    delete process.env.QUICKDEAL_PORT_OFFSET;
  });

  it('keep their ports apart, and QUICKDEAL_PORT_OFFSET shifts them all', () => {
    const ports = (['dev', 'test', 'fault'] as const).flatMap((name) => Object.values(profile(name).ports));
    expect(new Set(ports).size).toBe(ports.length);
    // the kubernetes helpers also use the API server's port + 1 to + 3
    expect(Math.max(...ports) + 3).toBeLessThan(32768);
    process.env.QUICKDEAL_PORT_OFFSET = '500';
    expect(profile('test').ports.kafka).toBe(29592);
    expect(profile('dev').ports.gateway).toBe(8580);
  });
});
