import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Hono } from 'hono';
import type { Logger } from '../logger.js';
import type { ServiceMetrics } from '../metrics.js';
import { errorAnswer, headerOf, requestIdFor, shopperIdOf, type AppEnv } from './app-kit.js';
import { incomingHeaderOf, type HeaderReader } from './request-headers.js';
import type { ShopperIdentity } from './shopper-identity.js';

/** What a shopper route's handler is given, by either transport. */
export interface ShopperAsk {
  /** The path's parameters, percent-decoded as Hono decodes them. */
  params: Record<string, string>;
  header: HeaderReader;
  /** The shopper, as the app's identity resolved them. */
  shopperId: string;
  /** The address the connection comes from. */
  remoteAddress: string | undefined;
}

/** A JSON answer: its status and body. */
export interface JsonAnswer {
  status: 200 | 201;
  body: unknown;
}

/**
 * A shopper's JSON route, written once for both transports: registered on the Hono app
 * (installShopperRoute) and answered on node:http by the running service (nodeRoutes).
 */
export interface ShopperRoute {
  method: 'GET' | 'POST';
  /** `/api/v1/deals/:dealId/…`: how both transports match it and the request histogram names it. */
  template: string;
  /**
   * The answer, or throws (an AppError, a dependency's outage) as any route may. An answer known
   * at once may come without a promise: node:http then writes it in the same tick.
   */
  handle: (ask: ShopperAsk) => JsonAnswer | Promise<JsonAnswer>;
}

/** Registers a shopper route on a Hono app with installCommon's middleware (identity included). */
export function installShopperRoute(app: Hono<AppEnv>, route: ShopperRoute): void {
  app.on(route.method, route.template, async (c) => {
    const shopperId = shopperIdOf(c);
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    const { status, body } = await route.handle({
      params: c.req.param() as Record<string, string>,
      header: (name) => headerOf(c, name),
      shopperId,
      remoteAddress: incoming?.socket.remoteAddress,
    });
    return c.json(body, status);
  });
}

/** Takes a request and answers it (true), or leaves it to the Hono app (false). */
export type NodeRoutes = (request: IncomingMessage, response: ServerResponse) => boolean;

interface CompiledRoute {
  route: ShopperRoute;
  pattern: RegExp;
  names: string[];
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function compile(route: ShopperRoute): CompiledRoute {
  const names: string[] = [];
  const segments = route.template.split('/').map((segment) => {
    if (!segment.startsWith(':')) return escapeRegExp(segment);
    names.push(segment.slice(1));
    return '([^/?#]+)';
  });
  return { route, names, pattern: new RegExp(`^${segments.join('/')}(?:\\?.*)?$`) };
}

/** A path parameter, percent-decoded as Hono decodes it (left as it is when it does not decode). */
function decoded(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

type NodeRouteDeps = { logger: Logger; metrics: ServiceMetrics; identity: ShopperIdentity };

/** The last resort when answering a request itself failed: log it and drop the connection. */
function dropConnection(logger: Logger, request: IncomingMessage, response: ServerResponse, error: unknown): void {
  logger.error({ err: error, path: request.url }, 'answering a request failed');
  response.destroy();
}

/** A header reader over Node's incoming message. */
function headersOf(request: IncomingMessage): HeaderReader {
  return (name) => incomingHeaderOf(request, name);
}

/**
 * One request a node route took, answered once: by `reply` with the route's answer or by `refuse`
 * with the error shape, each with the request id and the request histogram's observation. Its
 * steps are methods rather than closures made per request: the dev stack and the bench run the
 * services under tsx, whose transform names every function value made at run time with a call of
 * its own (2-4 % of a poll's CPU with five of them).
 */
class NodeAnswer {
  private readonly stopTimer: (labels: Record<string, string>) => number;
  readonly header: HeaderReader;
  private readonly requestId: string;

  constructor(
    private readonly deps: NodeRouteDeps,
    private readonly route: ShopperRoute,
    private readonly request: IncomingMessage,
    private readonly response: ServerResponse,
  ) {
    this.stopTimer = deps.metrics.httpRequestDuration.startTimer();
    this.header = headersOf(request);
    this.requestId = requestIdFor(this.header('X-Request-Id'));
  }

  /** Asks the route, once the shopper is known: its answer, with or without a promise. */
  ask(params: Record<string, string>, shopperId: string): JsonAnswer | Promise<JsonAnswer> {
    return this.route.handle({ params, header: this.header, shopperId, remoteAddress: this.request.socket.remoteAddress });
  }

  reply({ status, body }: JsonAnswer): void {
    let json: string;
    try {
      json = JSON.stringify(body);
    } catch (error) {
      this.refuse(error);
      return;
    }
    this.write(status, json, {});
  }

  refuse(error: unknown): void {
    const path = (this.request.url ?? '/').split('?')[0] as string;
    const refused = errorAnswer(error, { requestId: this.requestId, path }, this.deps.logger);
    this.write(refused.status, JSON.stringify(refused.body), refused.headers);
  }

  fail(error: unknown): void {
    dropConnection(this.deps.logger, this.request, this.response, error);
  }

  private write(status: number, body: string, headers: Record<string, string>): void {
    this.response.writeHead(status, {
      ...headers,
      'X-Request-Id': this.requestId,
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
    });
    this.response.end(body);
    this.stopTimer({ method: this.route.method, route: this.route.template, status: String(status) });
  }
}

/**
 * Serves the hottest shopper routes (the door and the status poll: every shopper, every few
 * seconds while in line) straight on node:http, ahead of the Hono app: through Hono a poll spent
 * as much again on request and response objects, the router and the middleware chain as on its
 * own work (measured in loadtest/RESULTS.md). Each keeps what installCommon gives a Hono route: the
 * request id and its echo, the request histogram under the route's template, the shopper's
 * identity (its refusal answered first), and the one error shape (errorAnswer). Their Hono twins
 * stay registered, so `app.request` and any request this does not take (HEAD, an odd path) are
 * answered the same. An answer a route knows at once is written in the same tick.
 */
export function nodeRoutes(deps: NodeRouteDeps, routes: ShopperRoute[]): NodeRoutes {
  const compiled = routes.map(compile);

  function answer({ route, names }: CompiledRoute, match: RegExpExecArray, request: IncomingMessage, response: ServerResponse): void {
    const answering = new NodeAnswer(deps, route, request, response);
    let answered: JsonAnswer | Promise<JsonAnswer>;
    try {
      const params: Record<string, string> = {};
      names.forEach((name, index) => (params[name] = decoded(match[index + 1] as string)));
      const shopper = deps.identity.shopperOf(answering.header);
      answered =
        typeof shopper === 'string' ? answering.ask(params, shopper) : shopper.then((shopperId) => answering.ask(params, shopperId));
    } catch (error) {
      answering.refuse(error);
      return;
    }
    if (!(answered instanceof Promise)) return answering.reply(answered);
    answered
      .then(
        (reply) => answering.reply(reply),
        (error: unknown) => answering.refuse(error),
      )
      .catch((error: unknown) => answering.fail(error));
  }

  return (request, response) => {
    for (const compiledRoute of compiled) {
      if (request.method !== compiledRoute.route.method) continue;
      const match = compiledRoute.pattern.exec(request.url ?? '');
      if (!match) continue;
      try {
        answer(compiledRoute, match, request, response);
      } catch (error) {
        dropConnection(deps.logger, request, response, error);
      }
      return true;
    }
    return false;
  };
}
