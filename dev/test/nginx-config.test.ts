import { describe, expect, it } from 'vitest';
import { nginxLocations, renderNginxConfig, ticketDoorPath, upstreamKeepalive } from '../src/gateway/nginx-config.js';
import { publicRoutes, upstreamFor } from '../src/gateway/routes.js';

const config = renderNginxConfig({
  host: '127.0.0.1',
  port: 8080,
  upstreams: { ticketing: ['127.0.0.1:8081', '127.0.0.1:9081'], payment: ['127.0.0.1:8082'] },
  dir: '/tmp/qd-nginx',
});

/** The regex locations of the rendered config, in order: nginx tries them in this order, first match wins. */
function renderedLocations(): Array<{ path: string; upstream: string }> {
  const found = [...config.matchAll(/location ~\* "((?:[^"\\]|\\.)*)" \{\s*proxy_pass http:\/\/(\w+);/g)];
  return found.map(([, path, upstream]) => ({ path: path!.replace(/\\(["\\])/g, '$1'), upstream: upstream! }));
}

describe('the nginx gateway’s configuration', () => {
  it('has a location for every route of the table, to the same service, longest first as ingress-nginx orders them', () => {
    const locations = renderedLocations();
    expect([...locations].sort((a, b) => a.path.localeCompare(b.path))).toEqual(
      publicRoutes.map((r) => ({ path: r.path, upstream: r.upstream })).sort((a, b) => a.path.localeCompare(b.path)),
    );
    expect(locations.map((l) => l.path.length)).toEqual([...locations.map((l) => l.path.length)].sort((a, b) => b - a));
    expect(nginxLocations()).toEqual(locations);
  });

  it('routes like the route table, matched as nginx matches (in order, case-insensitive)', () => {
    const matchers = renderedLocations().map((l) => ({ pattern: new RegExp(l.path, 'i'), upstream: l.upstream }));
    for (const sample of [
      '/api/v1/deals/iphone-17-pro/tickets',
      '/api/v1/deals/iphone-17-pro/tickets/status',
      '/api/v1/deals/demo-phone/checkout',
      '/api/v1/deals/demo-phone/orders',
      '/deals/demo-phone',
      '/deals/_assets/0123abcd/qd.css',
      '/.well-known/jwks.json',
      '/.well-known/jwksXjson',
      '/metrics',
      '/api/v1/deals/a/b/tickets',
    ]) {
      expect(matchers.find((m) => m.pattern.test(sample))?.upstream, sample).toBe(upstreamFor(sample));
    }
  });

  it('lists every process of a service in its upstream, kept alive, and sets X-Forwarded-For to the peer', () => {
    expect(config).toMatch(/upstream ticketing \{\s*server 127\.0\.0\.1:8081 max_fails=0;\s*server 127\.0\.0\.1:9081 max_fails=0;/);
    expect(config).toMatch(/upstream payment \{\s*server 127\.0\.0\.1:8082 max_fails=0;/);
    expect(config.match(new RegExp(`keepalive ${upstreamKeepalive.connections};`, 'g'))).toHaveLength(2);
    expect(upstreamKeepalive.timeoutSeconds * 1000).toBeLessThan(65_000); // below the services' keep-alive timeout
    expect(config).toContain('proxy_http_version 1.1;');
    expect(config).toContain('proxy_set_header Connection "";');
    expect(config).toContain('proxy_set_header X-Forwarded-For $remote_addr;');
    expect(config).not.toContain('limit_conn ');
    expect(() => renderNginxConfig({ host: '127.0.0.1', port: 1, upstreams: { ticketing: [], payment: ['x:1'] }, dir: '/tmp' })).toThrow(
      /ticketing upstream/,
    );
  });

  it('limits the ticket door’s requests in progress when asked, in a location of its own ahead of the route table’s', () => {
    const limited = renderNginxConfig({
      host: '127.0.0.1',
      port: 8080,
      upstreams: { ticketing: ['127.0.0.1:8081'], payment: ['127.0.0.1:8082'] },
      dir: '/tmp/qd-nginx',
      ticketRequestsInProgress: 512,
    });
    const door = limited.indexOf(
      `location ~* "${ticketDoorPath}" {\n      limit_conn ticket_door 512;\n      proxy_pass http://ticketing;`,
    );
    expect(door).toBeGreaterThan(0);
    expect(door).toBeLessThan(limited.indexOf('location ~* "^/api/v1/deals/[^/]+/(tickets|prequeue|draw|challenge)(/.*)?$"'));
    expect(new RegExp(ticketDoorPath, 'i').test('/api/v1/deals/iphone-17-pro/tickets')).toBe(true);
    expect(new RegExp(ticketDoorPath, 'i').test('/api/v1/deals/iphone-17-pro/tickets/status')).toBe(false);
    expect(upstreamFor('/api/v1/deals/iphone-17-pro/tickets')).toBe('ticketing');
  });
});
