import { Pool } from 'undici';

export interface LoadRequest {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  headers: Record<string, string>;
  body?: string;
  /**
   * Requests of different lanes never share a connection, so they never queue behind each other
   * in the generator: in a real crowd every shopper has a connection of their own, and one
   * shopper's poll does not wait for a stranger's ticket request.
   */
  lane?: 'tickets' | 'shoppers';
}

export interface LoadResponse {
  status: number;
  /** Retry-After in seconds, when the answer carried one. */
  retryAfterS: number | undefined;
  body: unknown;
}

/** How the generator reaches the waiting room: real HTTP, or a Hono app called in-process (tests). */
export interface Transport {
  send(request: LoadRequest, timeoutMs: number): Promise<LoadResponse>;
  close(): Promise<void>;
}

/** A request that got no HTTP answer: the code names why (TIMEOUT, ECONNREFUSED, …). */
export class TransportError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function retryAfterOf(value: string | string[] | null | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  const seconds = text === undefined || text === null ? NaN : Number(text);
  return Number.isFinite(seconds) ? seconds : undefined;
}

function transportError(error: unknown): TransportError {
  const e = error as { name?: string; code?: string; message?: string };
  if (e?.name === 'TimeoutError' || e?.code === 'UND_ERR_HEADERS_TIMEOUT' || e?.code === 'UND_ERR_BODY_TIMEOUT') {
    return new TransportError('TIMEOUT', 'no answer in time');
  }
  return new TransportError(e?.code ?? e?.name ?? 'ERROR', e?.message ?? String(error));
}

/**
 * Real HTTP with undici: a keep-alive Pool of `connections` sockets per origin and lane. A request
 * beyond the open sockets waits in its pool's queue, and that wait counts in its latency.
 */
export function httpTransport(originFor: (path: string) => string, options: { connections: number }): Transport {
  const pools = new Map<string, Pool>();
  const poolFor = (origin: string, lane: string) => {
    let pool = pools.get(`${lane} ${origin}`);
    if (!pool) {
      pool = new Pool(origin, { connections: options.connections, pipelining: 1, keepAliveTimeout: 30_000, headersTimeout: 0, bodyTimeout: 0 });
      pools.set(`${lane} ${origin}`, pool);
    }
    return pool;
  };
  return {
    async send(request, timeoutMs) {
      try {
        const answer = await poolFor(originFor(request.path), request.lane ?? 'shoppers').request({
          method: request.method,
          path: request.path,
          headers: request.headers,
          body: request.body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        const text = await answer.body.text();
        return { status: answer.statusCode, retryAfterS: retryAfterOf(answer.headers['retry-after']), body: parseBody(text) };
      } catch (error) {
        throw transportError(error);
      }
    },
    async close() {
      await Promise.all([...pools.values()].map((pool) => pool.close()));
    },
  };
}

export interface RequestableApp {
  request(path: string, init?: RequestInit): Response | Promise<Response>;
}

/** Calls Hono apps in this process (app.request), picking the app by path as the gateway would. */
export function appTransport(appFor: (path: string) => RequestableApp): Transport {
  return {
    async send(request, timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TransportError('TIMEOUT', 'no answer in time')), timeoutMs);
      });
      try {
        const response = await Promise.race([
          Promise.resolve(appFor(request.path).request(request.path, { method: request.method, headers: request.headers, body: request.body })),
          timeout,
        ]);
        return { status: response.status, retryAfterS: retryAfterOf(response.headers.get('Retry-After')), body: parseBody(await response.text()) };
      } catch (error) {
        throw error instanceof TransportError ? error : transportError(error);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {},
  };
}
