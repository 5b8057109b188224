/**
 * The local stack's production-class proxy: an nginx configuration rendered from the same route
 * table as the chart's Ingress and the Node gateway (routes.ts), set up the way ingress-nginx sets
 * up its own: regex locations longest first and case-insensitive, kept-alive upstreams (its
 * defaults: 320 idle connections, 60 s, 10,000 requests each), X-Forwarded-For replaced by the
 * peer's address (a client cannot name its own), buffering off. Each service may run as several
 * processes: an upstream lists them all and nginx balances across them.
 */
import { join } from 'node:path';
import { publicRoutes, type Upstream } from './routes.js';

export interface NginxGatewayOptions {
  /** Where the proxy listens. */
  host: string;
  port: number;
  /** Each service's processes as `host:port`, one or more. */
  upstreams: Record<Upstream, string[]>;
  /** The proxy's own directory: its pid file, error log and temporary files. */
  dir: string;
  /** nginx workers (ingress-nginx runs one per core: `auto`). */
  workers?: number | 'auto';
  /** How many ticket requests the proxy lets through to ticketing at once (all processes together); 0 for no limit. */
  ticketRequestsInProgress?: number;
}

/**
 * The ticket door's path. Beyond `ticketRequestsInProgress` of them at once the proxy answers 429
 * BUSY itself, as a cluster's data plane sheds a backend's overflow (Envoy's circuit breaker: 1,024
 * requests in progress and 1,024 waiting per backend by default, 503 beyond), so a crowd larger
 * than ticketing can read is told to come back in microseconds instead of waiting in sockets until
 * it times out.
 */
export const ticketDoorPath = '^/api/v1/deals/[^/]+/tickets$';

/** ingress-nginx's defaults; the idle timeout stays below the services' HTTP_KEEP_ALIVE_TIMEOUT_MS (65 s). */
export const upstreamKeepalive = { connections: 320, timeoutSeconds: 60, requests: 10_000 };

const errorBody = (code: string, message: string) => JSON.stringify({ error: { code, message, requestId: '' } });

/** nginx's string quoting: double quotes, with `"` and `\` escaped. */
const quoted = (value: string) => `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;

/** The public paths as ingress-nginx orders them: longest first (first match wins). */
export function nginxLocations(): Array<{ path: string; upstream: Upstream }> {
  return [...publicRoutes].sort((a, b) => b.path.length - a.path.length);
}

/** The whole nginx.conf, for `nginx -c <file> -p <dir>`. */
export function renderNginxConfig(options: NginxGatewayOptions): string {
  for (const [name, servers] of Object.entries(options.upstreams)) {
    if (servers.length === 0) throw new Error(`the ${name} upstream needs at least one server`);
  }
  const upstreams = Object.entries(options.upstreams).map(([name, servers]) =>
    [
      `  upstream ${name} {`,
      ...servers.map((server) => `    server ${server} max_fails=0;`),
      `    keepalive ${upstreamKeepalive.connections};`,
      `    keepalive_timeout ${upstreamKeepalive.timeoutSeconds}s;`,
      `    keepalive_requests ${upstreamKeepalive.requests};`,
      '  }',
    ].join('\n'),
  );
  const location = (path: string, upstream: Upstream, ...directives: string[]) =>
    [`    location ~* ${quoted(path)} {`, ...directives.map((d) => `      ${d}`), `      proxy_pass http://${upstream};`, '    }'].join(
      '\n',
    );
  const doorLimit = options.ticketRequestsInProgress ?? 0;
  const locations = [
    ...(doorLimit > 0 ? [location(ticketDoorPath, 'ticketing', `limit_conn ticket_door ${doorLimit};`)] : []),
    ...nginxLocations().map(({ path, upstream }) => location(path, upstream)),
  ];
  const temp = (name: string) => quoted(join(options.dir, 'temp', name));
  return `# Rendered by dev/src/gateway/nginx-config.ts from the route table (dev/src/gateway/routes.ts); do not edit.
worker_processes ${options.workers ?? 'auto'};
daemon off;
pid ${quoted(join(options.dir, 'nginx.pid'))};
error_log ${quoted(join(options.dir, 'error.log'))} warn;

events {
  worker_connections 16384;
}

http {
  access_log off;
  server_tokens off;
  keepalive_timeout 75s;
  keepalive_requests 1000;
  client_body_temp_path ${temp('client-body')};
  proxy_temp_path ${temp('proxy')};
  fastcgi_temp_path ${temp('fastcgi')};
  uwsgi_temp_path ${temp('uwsgi')};
  scgi_temp_path ${temp('scgi')};
  default_type application/json;

  # The ticket door's limit counts every ticket request in progress under one key; the proxy's own
  # BUSY tells each to come back after 1 to 4 s (spread by the request id's first digit), and the
  # page backs off further on each BUSY in a row.
  limit_conn_zone $server_port zone=ticket_door:1m;
  limit_conn_status 429;
  limit_conn_log_level info;
  map $request_id $busy_retry_after {
    ~^[0-3] 1;
    ~^[4-7] 2;
    ~^[89ab] 3;
    default 4;
  }

${upstreams.join('\n\n')}

  server {
    listen ${options.host}:${options.port} reuseport backlog=4096;

    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $http_host;
    proxy_set_header X-Real-IP $remote_addr;
    proxy_set_header X-Forwarded-For $remote_addr;
    proxy_set_header X-Forwarded-Host $http_host;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_buffering off;
    error_page 502 504 = @upstream_unavailable;
    error_page 429 = @busy;

    location = /healthz {
      return 200 '{"status":"ok"}';
    }

${locations.join('\n')}

    location / {
      return 404 '${errorBody('NOT_FOUND', 'No route for this path')}';
    }

    location @busy {
      add_header Retry-After $busy_retry_after always;
      return 429 '${errorBody('BUSY', 'So many shoppers are joining right now that we could not take you in yet; try again in a moment')}';
    }

    # An outage is 503 with Retry-After, as the Node gateway and a cluster's proxy answer: the page
    # (or the load generator) asks again instead of giving up on a 502.
    location @upstream_unavailable {
      add_header Retry-After 1 always;
      return 503 '${errorBody('UPSTREAM_UNAVAILABLE', 'The service behind this path did not answer')}';
    }
  }
}
`;
}
