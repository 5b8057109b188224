import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createProxyServer } from 'http-proxy-3';
import { upstreamFor, type Upstream } from './routes.js';
import { UpstreamAgent } from './upstream-agent.js';

/** Below the services' HTTP_KEEP_ALIVE_TIMEOUT_MS (65 s by default), as an ingress's upstream idle time must be. */
export const defaultUpstreamIdleTimeoutMs = 30_000;

function answerJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/** How long a replica that did not answer is left out of the rotation (a readiness probe's period). */
const SIT_OUT_MS = 2_000;

/**
 * Round robin over a service's replicas, as a Kubernetes Service spreads connections, leaving out
 * for a moment a replica that just failed (as a failed readiness probe removes an endpoint).
 */
class Replicas {
  private next = 0;
  private readonly downUntil: number[];

  constructor(private readonly urls: string[]) {
    this.downUntil = urls.map(() => 0);
  }

  pick(): string {
    const now = Date.now();
    for (let tried = 0; tried < this.urls.length; tried++) {
      const i = this.next++ % this.urls.length;
      if ((this.downUntil[i] as number) <= now) return this.urls[i] as string;
    }
    return this.urls[this.next++ % this.urls.length] as string; // all sat out: try anyway
  }

  get size(): number {
    return this.urls.length;
  }

  failed(url: string): void {
    const i = this.urls.indexOf(url);
    if (i >= 0) this.downUntil[i] = Date.now() + SIT_OUT_MS;
  }
}

/**
 * The local stand-in for the chart's Ingress: one origin that sends each public path to the
 * service the Ingress would (to one of its replicas in turn when it has several), setting
 * X-Forwarded-For/-Host/-Proto as an ingress controller does. A streaming proxy over kept-alive
 * connections, so that it costs less than the services behind it.
 */
export function createGateway(upstreams: Record<Upstream, string | string[]>, options: { upstreamIdleTimeoutMs?: number } = {}): Server {
  const agent = new UpstreamAgent(options.upstreamIdleTimeoutMs ?? defaultUpstreamIdleTimeoutMs, { maxSockets: 512 });
  const proxy = createProxyServer({ xfwd: true, agent });
  const replicas = Object.fromEntries(
    Object.entries(upstreams).map(([name, urls]) => [name, new Replicas(Array.isArray(urls) ? urls : [urls])]),
  ) as Record<Upstream, Replicas>;
  const forward = (req: IncomingMessage, res: ServerResponse, upstream: Upstream, attempt: number): void => {
    const target = replicas[upstream].pick();
    proxy.web(req, res, { target }, (error) => {
      const code = (error as NodeJS.ErrnoException).code;
      console.warn(`gateway: ${req.method} ${req.url} → ${target}: ${code ?? error.message}`);
      // Refused: the request never reached that replica, so another may take it (a body already
      // read cannot be sent again, so only requests without one). A kept-alive connection the
      // service closed as it was reused (reset) is retried for reads, which change nothing.
      const retry =
        (code === 'ECONNREFUSED' && !hasBody(req)) || (code === 'ECONNRESET' && (req.method === 'GET' || req.method === 'HEAD'));
      if (code === 'ECONNREFUSED') replicas[upstream].failed(target);
      if (retry && attempt + 1 < Math.max(2, replicas[upstream].size)) return forward(req, res, upstream, attempt + 1);
      // An outage is 503 with Retry-After: the shopper's page (or the load generator) asks again.
      answerJson(
        res,
        503,
        { error: { code: 'UPSTREAM_UNAVAILABLE', message: 'The service behind this path did not answer', requestId: '' } },
        { 'Retry-After': '1' },
      );
    });
  };
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/healthz') return answerJson(res, 200, { status: 'ok' });
    const upstream = upstreamFor(path);
    if (!upstream)
      return answerJson(res, 404, { error: { code: 'NOT_FOUND', message: `No route for ${req.method} ${path}`, requestId: '' } });
    // Like ingress-nginx by default: the services see the peer's address, never one a client made up.
    delete req.headers['x-forwarded-for'];
    forward(req, res, upstream, 0);
  });
}
