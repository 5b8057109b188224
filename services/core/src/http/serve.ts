import { serve, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';
import { ConfigError } from '../config.js';

export interface HttpTimeouts {
  HTTP_KEEP_ALIVE_TIMEOUT_MS?: number;
  HTTP_HEADERS_TIMEOUT_MS?: number | undefined;
}

/**
 * How long an idle kept-alive connection stays open, and how long a request's headers may take.
 * Node's defaults (5 s keep-alive) are shorter than every proxy's upstream idle time, so a proxy
 * would send a request down a socket the service is just closing (a 502 for the shopper).
 */
export function httpTimeouts(config: HttpTimeouts): { keepAliveTimeout: number; headersTimeout: number; requestTimeout: number } {
  const keepAliveTimeout = config.HTTP_KEEP_ALIVE_TIMEOUT_MS ?? 65_000;
  const headersTimeout = config.HTTP_HEADERS_TIMEOUT_MS ?? keepAliveTimeout + 1_000;
  if (headersTimeout <= keepAliveTimeout) {
    throw new ConfigError(`invalid configuration: HTTP_HEADERS_TIMEOUT_MS (${headersTimeout}) must be above HTTP_KEEP_ALIVE_TIMEOUT_MS (${keepAliveTimeout})`);
  }
  // Node refuses a headers timeout above the whole request's.
  return { keepAliveTimeout, headersTimeout, requestTimeout: Math.max(300_000, headersTimeout) };
}
import type { Logger } from '../logger.js';

export interface RunningService {
  server: ServerType;
  port: number;
  isShuttingDown: () => boolean;
  shutdown: (reason: string) => Promise<void>;
}

/**
 * Serves an app and shuts it down gracefully on SIGTERM/SIGINT: readiness turns false, the
 * server stops taking requests and finishes those in flight, then `onShutdown` flushes and
 * closes what the service holds (producer, consumer commits, connections), then the process exits.
 */
export function runService(options: {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  app: Hono<any>;
  config: { PORT: number; HOST: string; SHUTDOWN_GRACE_MS: number } & HttpTimeouts;
  logger: Logger;
  onShutdown: () => Promise<void>;
  exitOnShutdown?: boolean;
}): Promise<RunningService> {
  const { PORT: port, HOST: hostname, SHUTDOWN_GRACE_MS: graceMs } = options.config;
  let shuttingDown = false;
  const serverOptions = httpTimeouts(options.config);
  return new Promise((resolve) => {
    const server = serve({ fetch: options.app.fetch, port, hostname, serverOptions }, (info) => {
      options.logger.info({ port: info.port }, 'listening');
      const shutdown = async (reason: string) => {
        if (shuttingDown) return;
        shuttingDown = true;
        options.logger.info({ reason }, 'shutting down');
        const forced = setTimeout(() => {
          options.logger.error('shutdown took too long; exiting');
          process.exit(1);
        }, graceMs);
        forced.unref();
        await new Promise<void>((done) => server.close(() => done()));
        try {
          await options.onShutdown();
        } catch (error) {
          options.logger.error({ err: error }, 'error while shutting down');
        }
        clearTimeout(forced);
        if (options.exitOnShutdown !== false) process.exit(0);
      };
      if (options.exitOnShutdown !== false) {
        process.once('SIGTERM', () => void shutdown('SIGTERM'));
        process.once('SIGINT', () => void shutdown('SIGINT'));
      }
      resolve({ server, port: info.port, isShuttingDown: () => shuttingDown, shutdown });
    });
  });
}

/** Runs a service's main; a bad configuration or a failed start exits non-zero with one clear line. */
export function startService(service: string, logger: Logger, main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    if (error instanceof ConfigError) logger.fatal(`${service}: ${error.message}`);
    else logger.fatal({ err: error }, `${service} could not start`);
    process.exit(1);
  });
}
