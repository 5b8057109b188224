import { Hono } from 'hono';
import { proxy } from 'hono/proxy';
import { upstreamFor, type Upstream } from './routes.js';

/**
 * The local stand-in for the chart's Ingress: one origin that sends each public path to the
 * service the Ingress would, adding X-Forwarded-For as an ingress controller does.
 */
export function createGateway(upstreams: Record<Upstream, string>): Hono {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.all('*', async (c) => {
    const upstream = upstreamFor(c.req.path);
    if (!upstream) {
      return c.json({ error: { code: 'NOT_FOUND', message: `No route for ${c.req.method} ${c.req.path}`, requestId: '' } }, 404);
    }
    const url = new URL(c.req.url);
    const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
    const client = incoming?.socket?.remoteAddress ?? '127.0.0.1';
    const forwardedFor = c.req.header('X-Forwarded-For');
    return proxy(`${upstreams[upstream]}${url.pathname}${url.search}`, {
      ...c.req,
      headers: {
        ...c.req.header(),
        'X-Forwarded-For': forwardedFor ? `${forwardedFor}, ${client}` : client,
        'X-Forwarded-Host': url.host,
        'X-Forwarded-Proto': url.protocol.replace(':', ''),
      },
    });
  });
  return app;
}
