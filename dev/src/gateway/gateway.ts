import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createProxyServer } from 'http-proxy-3';
import { upstreamFor, type Upstream } from './routes.js';
import { UpstreamAgent } from './upstream-agent.js';

/** Below the services' HTTP_KEEP_ALIVE_TIMEOUT_MS (65 s by default), as an ingress's upstream idle time must be. */
export const defaultUpstreamIdleTimeoutMs = 30_000;

function answerJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

/**
 * The local stand-in for the chart's Ingress: one origin that sends each public path to the
 * service the Ingress would, setting X-Forwarded-For/-Host/-Proto as an ingress controller does.
 * A streaming proxy over kept-alive connections, so that it costs less than the services behind it.
 */
export function createGateway(upstreams: Record<Upstream, string>, options: { upstreamIdleTimeoutMs?: number } = {}): Server {
  const agent = new UpstreamAgent(options.upstreamIdleTimeoutMs ?? defaultUpstreamIdleTimeoutMs, { maxSockets: 512 });
  const proxy = createProxyServer({ xfwd: true, agent });
  proxy.on('error', (_error: Error, _req: IncomingMessage, res: ServerResponse | unknown) => {
    if (res && typeof (res as ServerResponse).writeHead === 'function') {
      answerJson(res as ServerResponse, 502, {
        error: { code: 'UPSTREAM_UNAVAILABLE', message: 'The service behind this path did not answer', requestId: '' },
      });
    }
  });
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/healthz') return answerJson(res, 200, { status: 'ok' });
    const upstream = upstreamFor(path);
    if (!upstream)
      return answerJson(res, 404, { error: { code: 'NOT_FOUND', message: `No route for ${req.method} ${path}`, requestId: '' } });
    // Like ingress-nginx by default: the services see the peer's address, never one a client made up.
    delete req.headers['x-forwarded-for'];
    proxy.web(req, res, { target: upstreams[upstream] });
  });
}
