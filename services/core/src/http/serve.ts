import { getRequestListener } from '@hono/node-server';
import { createServer, type Server, type ServerOptions } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Hono } from 'hono';
import type { z } from 'zod';
import { ConfigError, parseConfig } from '../config.js';
import type { Clock } from '../clock.js';
import { createLogger, type Logger } from '../logger.js';
import type { AppEnv } from './app-kit.js';
import type { NodeRoutes } from './node-routes.js';
import type { ShopperIdentity } from './shopper-identity.js';

/** What a service's composition function builds: its app, and how its work starts and stops. */
export interface ComposedService {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  app: Hono<any>;
  /** Runs once the server listens, so the probes answer (not ready) while dependencies are still out of reach. */
  start?: () => Promise<void>;
  /** Flushes and closes what the service holds (producer, consumer commits, connections). */
  stop: () => Promise<void>;
  /** Its hottest routes, answered on node:http ahead of the app (see nodeRoutes). */
  nodeRoutes?: NodeRoutes;
}

/** A service as its composition function hands it over: tests call its app and start it themselves. */
export interface BuiltService extends ComposedService {
  app: Hono<AppEnv>;
  start: () => Promise<void>;
}

/** What the readiness probe of a served service asks of the server. */
export interface ServingState {
  isShuttingDown: () => boolean;
}

/** What a composition function takes beside the configuration; each service adds its own. */
export interface ServiceOverrides extends Partial<ServingState> {
  /** By default, a logger named after the service at the configured LOG_LEVEL. */
  logger?: Logger;
  clock?: Clock;
  /** Who the shopper is; by default as the configuration says (SHOPPER_IDENTITY and its settings). */
  identity?: ShopperIdentity;
}

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
    throw new ConfigError(
      `invalid configuration: HTTP_HEADERS_TIMEOUT_MS (${headersTimeout}) must be above HTTP_KEEP_ALIVE_TIMEOUT_MS (${keepAliveTimeout})`,
    );
  }
  // Node refuses a headers timeout above the whole request's.
  return { keepAliveTimeout, headersTimeout, requestTimeout: Math.max(300_000, headersTimeout) };
}

/**
 * How many connections the kernel holds for the process to accept. A proxy opens connections in
 * bursts when a crowd arrives; Node's default (511) overflows while the event loop is busy, and an
 * overflowed connection the proxy already wrote to is reset (a 502 for the shopper). The kernel
 * caps it at net.core.somaxconn (4,096 on Linux since 5.4).
 */
const listenBacklog = 4_096;

/** The HTTP server of a service: what @hono/node-server's createAdaptorServer builds, with the service's node routes (if any) ahead of its app. */
export function createServiceServer(
  service: Pick<ComposedService, 'app' | 'nodeRoutes'>,
  options: { hostname?: string; serverOptions?: ServerOptions } = {},
): Server {
  const appListener = getRequestListener(service.app.fetch, { hostname: options.hostname });
  const { nodeRoutes } = service;
  return createServer(
    options.serverOptions ?? {},
    nodeRoutes
      ? (request, response) => {
          if (!nodeRoutes(request, response)) void appListener(request, response);
        }
      : appListener,
  );
}

export interface RunningService {
  server: Server;
  port: number;
  isShuttingDown: () => boolean;
  shutdown: (reason: string) => Promise<void>;
}

interface ServeConfig {
  PORT: number;
  HOST: string;
  SHUTDOWN_GRACE_MS: number;
}

/**
 * Builds a service with `compose` and serves its app; shuts it down gracefully on SIGTERM/SIGINT:
 * readiness turns false, the server stops taking requests and finishes those in flight, then the
 * service's `stop` flushes and closes what it holds, then the process exits.
 */
export async function runService(options: {
  compose: (serving: ServingState) => ComposedService | Promise<ComposedService>;
  config: ServeConfig & HttpTimeouts;
  logger: Logger;
  exitOnShutdown?: boolean;
}): Promise<RunningService> {
  const { PORT: port, HOST: hostname, SHUTDOWN_GRACE_MS: graceMs } = options.config;
  let shuttingDown = false;
  const isShuttingDown = () => shuttingDown;
  const serverOptions = httpTimeouts(options.config);
  const service = await options.compose({ isShuttingDown });
  const running = await new Promise<RunningService>((resolve) => {
    const server = createServiceServer(service, { hostname, serverOptions });
    server.listen({ port, host: hostname, backlog: listenBacklog }, () => {
      const info = server.address() as AddressInfo;
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
          await service.stop();
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
      resolve({ server, port: info.port, isShuttingDown, shutdown });
    });
  });
  await service.start?.();
  return running;
}

/**
 * A service's main: parses its configuration from `env`, builds the service with `compose` and
 * serves it. A bad configuration or a failed start exits non-zero with one clear line.
 */
export function serviceMain<T extends z.ZodType<ServeConfig & HttpTimeouts & { LOG_LEVEL: string }>>(options: {
  service: string;
  configSchema: T;
  env: Record<string, string | undefined>;
  compose: (config: z.output<T>, logger: Logger, serving: ServingState) => ComposedService | Promise<ComposedService>;
}): void {
  const logger = createLogger(options.service);
  const main = async () => {
    const config = parseConfig(options.configSchema, options.env);
    logger.level = config.LOG_LEVEL;
    await runService({ config, logger, compose: (serving) => options.compose(config, logger, serving) });
  };
  main().catch((error: unknown) => {
    if (error instanceof ConfigError) logger.fatal(`${options.service}: ${error.message}`);
    else logger.fatal({ err: error }, `${options.service} could not start`);
    process.exit(1);
  });
}
