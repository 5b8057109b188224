import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';

export interface LoadRequest {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  headers: Record<string, string>;
  body?: string;
  /**
   * Requests of different lanes never share a connection, so they never queue behind each other
   * in the generator: in a real crowd every shopper has a connection of their own, and one
   * shopper's poll does not wait for a stranger's ticket request, nor a payment for strangers' polls.
   */
  lane?: 'tickets' | 'shoppers' | 'checkouts';
}

export interface LoadResponse {
  status: number;
  /** Retry-After in seconds, when the answer carried one. */
  retryAfterS: number | undefined;
  body: unknown;
}

/** How the generator reaches the waiting room: real HTTP, or a Hono app called in-process (tests). */
export interface Transport {
  /** Sends a request; `stop` abandons it (and everything still queued) when the run ends. */
  send(request: LoadRequest, timeoutMs: number, stop?: AbortSignal): Promise<LoadResponse>;
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

function transportError(error: unknown, stop?: AbortSignal): TransportError {
  const e = error as { name?: string; code?: string; message?: string };
  if (stop?.aborted) return new TransportError('STOPPED', 'the run ended first');
  if (e?.name === 'TimeoutError' || e?.code === 'UND_ERR_HEADERS_TIMEOUT' || e?.code === 'UND_ERR_BODY_TIMEOUT') {
    return new TransportError('TIMEOUT', 'no answer in time');
  }
  return new TransportError(e?.code ?? e?.name ?? 'ERROR', e?.message ?? String(error));
}

interface Waiting {
  request: LoadRequest;
  deadline: number;
  stop: AbortSignal | undefined;
  settled: boolean;
  resolve: (response: LoadResponse) => void;
  reject: (error: TransportError) => void;
}

interface Lane {
  pool: Pool;
  active: number;
  queue: Waiting[];
  head: number;
}

/**
 * Real HTTP with undici: a keep-alive Pool of `connections` sockets per origin and lane. A request
 * beyond the open sockets waits in the lane's own queue (plain objects, cheap even at 100,000),
 * and that wait counts in its latency and in its timeout. A queued request whose time is up fails
 * with TIMEOUT without being sent; `stop` clears the queues at once.
 */
export function httpTransport(originFor: (path: string) => string, options: { connections: number }): Transport {
  const lanes = new Map<string, Lane>();
  const stops = new WeakSet<AbortSignal>();
  const laneFor = (origin: string, name: string): Lane => {
    let lane = lanes.get(`${name} ${origin}`);
    if (!lane) {
      const pool = new Pool(origin, { connections: options.connections, pipelining: 1, keepAliveTimeout: 30_000 });
      lane = { pool, active: 0, queue: [], head: 0 };
      lanes.set(`${name} ${origin}`, lane);
    }
    return lane;
  };
  const settle = (waiting: Waiting, outcome: { response: LoadResponse } | { error: TransportError }) => {
    if (waiting.settled) return;
    waiting.settled = true;
    if ('response' in outcome) waiting.resolve(outcome.response);
    else waiting.reject(outcome.error);
  };
  const dispatch = (lane: Lane, waiting: Waiting, remainingMs: number) => {
    lane.active++;
    const { request } = waiting;
    lane.pool
      .request({
        method: request.method,
        path: request.path,
        headers: request.headers,
        body: request.body,
        headersTimeout: remainingMs,
        bodyTimeout: remainingMs,
      })
      .then(async (answer) => {
        const text = await answer.body.text();
        settle(waiting, {
          response: { status: answer.statusCode, retryAfterS: retryAfterOf(answer.headers['retry-after']), body: parseBody(text) },
        });
      })
      .catch((error: unknown) => settle(waiting, { error: transportError(error, waiting.stop) }))
      .finally(() => {
        lane.active--;
        pump(lane);
      });
  };
  const pump = (lane: Lane) => {
    const now = performance.now();
    while (lane.active < options.connections && lane.head < lane.queue.length) {
      const waiting = lane.queue[lane.head++] as Waiting;
      if (waiting.settled) continue;
      if (waiting.stop?.aborted) settle(waiting, { error: new TransportError('STOPPED', 'the run ended first') });
      else if (waiting.deadline <= now) settle(waiting, { error: new TransportError('TIMEOUT', 'no answer in time (still queued)') });
      else dispatch(lane, waiting, Math.ceil(waiting.deadline - now));
    }
    if (lane.head > 4_096 && lane.head * 2 > lane.queue.length) {
      lane.queue = lane.queue.slice(lane.head);
      lane.head = 0;
    }
  };
  // Queued requests run out of time in the order they were queued: drop them from the head now and then.
  const sweeper = setInterval(() => {
    const now = performance.now();
    for (const lane of lanes.values()) {
      while (lane.head < lane.queue.length) {
        const waiting = lane.queue[lane.head] as Waiting;
        if (!waiting.settled && waiting.deadline > now) break;
        settle(waiting, { error: new TransportError('TIMEOUT', 'no answer in time (still queued)') });
        lane.head++;
      }
      if (lane.head > 4_096 && lane.head * 2 > lane.queue.length) {
        lane.queue = lane.queue.slice(lane.head);
        lane.head = 0;
      }
    }
  }, 250);
  sweeper.unref();
  return {
    send(request, timeoutMs, stop) {
      if (stop?.aborted) return Promise.reject(new TransportError('STOPPED', 'the run ended first'));
      if (stop && !stops.has(stop)) {
        stops.add(stop);
        stop.addEventListener(
          'abort',
          () => {
            for (const lane of lanes.values()) {
              for (let i = lane.head; i < lane.queue.length; i++)
                settle(lane.queue[i] as Waiting, { error: new TransportError('STOPPED', 'the run ended first') });
            }
          },
          { once: true },
        );
      }
      const lane = laneFor(originFor(request.path), request.lane ?? 'shoppers');
      return new Promise<LoadResponse>((resolve, reject) => {
        lane.queue.push({ request, deadline: performance.now() + timeoutMs, stop, settled: false, resolve, reject });
        pump(lane);
      });
    },
    async close() {
      clearInterval(sweeper);
      await Promise.all([...lanes.values()].map((lane) => lane.pool.destroy()));
    },
  };
}

export interface RequestableApp {
  request(path: string, init?: RequestInit): Response | Promise<Response>;
}

/** Calls Hono apps in this process (app.request), picking the app by path as the gateway would. */
export function appTransport(appFor: (path: string) => RequestableApp): Transport {
  return {
    async send(request, timeoutMs, stop) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TransportError('TIMEOUT', 'no answer in time')), timeoutMs);
        stop?.addEventListener('abort', () => reject(new TransportError('STOPPED', 'the run ended first')), { once: true });
      });
      try {
        const response = await Promise.race([
          Promise.resolve(
            appFor(request.path).request(request.path, { method: request.method, headers: request.headers, body: request.body }),
          ),
          timeout,
        ]);
        return {
          status: response.status,
          retryAfterS: retryAfterOf(response.headers.get('Retry-After')),
          body: parseBody(await response.text()),
        };
      } catch (error) {
        throw error instanceof TransportError ? error : transportError(error);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {},
  };
}
