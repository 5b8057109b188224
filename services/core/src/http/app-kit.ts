import type { ServerResponse } from 'node:http';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import { AppError, errors } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ServiceMetrics } from '../metrics.js';
import { outageOf } from './dependency-outage.js';
import { headerOf } from './request-headers.js';
import { identifyShopper, type ShopperIdentity, type ShopperResolution } from './shopper-identity.js';

export { headerOf };

export type AppEnv = { Variables: { requestId: string; shopper: ShopperResolution } };

// A random process prefix and a counter: unique across replicas, and far cheaper than a UUID per poll.
const requestIdPrefix = crypto.randomUUID().slice(0, 8);
let requestCount = 0;
const nextRequestId = () => `${requestIdPrefix}-${(++requestCount).toString(36)}`;

const requestIdPattern = /^[\w\-=.:]{1,128}$/;

/** The caller's X-Request-Id when it is a sane one, else a new one. */
export function requestIdFor(given: string | undefined): string {
  return given && requestIdPattern.test(given) ? given : nextRequestId();
}

/** Keeps the caller's X-Request-Id when it is a sane one, else makes one; echoes it on the answer. */
function requestIds(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const id = requestIdFor(headerOf(c, 'X-Request-Id'));
    c.set('requestId', id);
    // On Node, straight onto the response: a header set through Hono makes every answer build a WHATWG
    // Headers object and leave @hono/node-server's fast path (measured in RESULTS.md).
    const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
    if (outgoing) outgoing.setHeader('X-Request-Id', id);
    else c.header('X-Request-Id', id);
    await next();
  };
}

/** An error answer: its status, its headers and the one error body. */
export interface ErrorAnswer {
  status: ContentfulStatusCode;
  headers: Record<string, string>;
  body: { error: { code: string; message: string; requestId: string } & Record<string, unknown> };
}

/**
 * What a request that threw is answered: an AppError as it says, a dependency's outage 503 with
 * Retry-After, anything else 500 (logged).
 */
export function errorAnswer(error: unknown, request: { requestId: string; path: string }, logger: Logger): ErrorAnswer {
  const { requestId, path } = request;
  if (error instanceof AppError) {
    return {
      status: error.status,
      headers: error.headers,
      body: { error: { code: error.code, message: error.message, requestId, ...error.details } },
    };
  }
  const outage = outageOf(error);
  if (outage) {
    logger.warn({ err: error, requestId, path, dependency: outage.dependency }, 'dependency unavailable');
    const message = `A service we depend on (${outage.dependency}) is unavailable just now; please try again in a moment`;
    return {
      status: 503,
      headers: { 'Retry-After': String(outage.retryAfterSeconds) },
      body: { error: { code: outage.code, message, requestId, retryAfterSeconds: outage.retryAfterSeconds } },
    };
  }
  logger.error({ err: error, requestId, path }, 'request failed');
  return {
    status: 500,
    headers: {},
    body: { error: { code: 'INTERNAL', message: 'Something went wrong on our side; please try again', requestId } },
  };
}

/**
 * Request ids, request metrics by route template, the one error shape, and (for services with
 * shopper routes) the shopper of every API request, resolved once by `identity`.
 */
export function installCommon(app: Hono<AppEnv>, deps: { logger: Logger; metrics: ServiceMetrics; identity?: ShopperIdentity }): void {
  app.use(requestIds());
  app.use(requestMetrics(deps.metrics));
  if (deps.identity) app.use('/api/*', identifyShopper(deps.identity));
  app.onError((error, c) => {
    const answer = errorAnswer(error, { requestId: c.get('requestId'), path: c.req.path }, deps.logger);
    for (const [name, value] of Object.entries(answer.headers)) c.header(name, value);
    return c.json(answer.body, answer.status);
  });
  app.notFound((c) =>
    c.json({ error: { code: 'NOT_FOUND', message: `No route for ${c.req.method} ${c.req.path}`, requestId: c.get('requestId') } }, 404),
  );
}

function requestMetrics(metrics: ServiceMetrics): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const stop = metrics.httpRequestDuration.startTimer();
    await next();
    // A request only the catch-all middlewares (common, shopper identity) saw matched no route.
    const route = c.req.routePath === '/*' || c.req.routePath === '/api/*' ? 'unmatched' : c.req.routePath;
    stop({ method: c.req.method, route, status: String(c.res.status) });
  };
}

/** /healthz (the process is alive), /readyz (its dependencies answer) and /metrics. */
export function installProbes(
  app: Hono<AppEnv>,
  deps: { metrics: ServiceMetrics; readiness: () => Promise<Record<string, boolean>>; isShuttingDown?: () => boolean },
): void {
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const checks = await deps.readiness().catch(() => ({ dependencies: false }));
    const ready = Object.values(checks).every(Boolean) && !deps.isShuttingDown?.();
    return c.json({ status: ready ? 'ready' : 'not_ready', checks }, ready ? 200 : 503);
  });
  app.get('/metrics', async (c) => {
    c.header('Content-Type', deps.metrics.registry.contentType);
    return c.body(await deps.metrics.registry.metrics());
  });
}

/** The shopper of this request, as the app's identity (session token or trusted header) resolved them; throws its refusal. */
export function shopperIdOf(c: Context): string {
  const resolution = (c as Context<AppEnv>).get('shopper');
  if (!resolution) throw new Error('no shopper identity is installed on this app');
  if ('refusal' in resolution) throw resolution.refusal;
  return resolution.shopperId;
}

/** The ticket from `Authorization: Bearer <ticket>`. */
export function bearerTicketOf(c: Context): string {
  return bearerTicket(headerOf(c, 'Authorization'));
}

/** The ticket in an Authorization header's value (`Bearer <ticket>`). */
export function bearerTicket(authorization: string | undefined): string {
  if (!authorization) throw errors.unauthorized('TICKET_MISSING', 'Send the ticket as Authorization: Bearer <ticket>');
  const match = /^Bearer\s+(\S+)$/i.exec(authorization);
  if (!match?.[1]) throw errors.unauthorized('TICKET_INVALID', 'The Authorization header must be Bearer <ticket>');
  return match[1];
}

/** Parses an optional JSON body against a schema; an empty body counts as `{}`. */
export async function jsonBodyOf<T extends z.ZodType>(c: Context, schema: T): Promise<z.output<T>> {
  const text = await c.req.text();
  let value: unknown = {};
  if (text.trim() !== '') {
    try {
      value = JSON.parse(text);
    } catch {
      throw errors.badRequest('BODY_INVALID', 'The request body is not valid JSON');
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw errors.badRequest('BODY_INVALID', parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  }
  return parsed.data;
}
