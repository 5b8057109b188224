import { errors, systemClock, type AskLimit, type Clock } from '@quickdeal/core';

export interface RateLimitSettings {
  /** Ticket requests one shopper may make per deal and minute, counted across every replica (0: no limit). */
  ticketsPerShopperPerMinute: number;
  /** Status polls one shopper may make per 10 seconds, per process (0: no limit). */
  pollsPerShopperPer10s: number;
  /** Requests one client address may make per second, per process (0: no limit). */
  requestsPerClientPerSecond: number;
}

/** 429 with Retry-After, in whole seconds of at least one. */
export function rateLimited(retryInMs: number): Error {
  return errors.tooManyRequests(Math.max(1, Math.ceil(retryInMs / 1000)));
}

interface Window {
  used: number;
  endsAt: number;
}

/**
 * At most `points` per key in a window of `durationMs` that opens with the key's first request,
 * counted in this process's memory and answered synchronously.
 *
 * Why not rate-limiter-flexible's RateLimiterMemory, which counts the same way: its `consume`
 * answers with a promise and arms a timer per key and window to forget it, and the poll, the
 * hottest path, took two of each per request (4 % of a poll's CPU in the profile of RESULTS.md's
 * seventh pass). Here windows that have ended are swept once per duration instead.
 */
export class WindowLimit {
  private readonly windows = new Map<string, Window>();
  private sweepAt: number;

  constructor(
    private readonly points: number,
    private readonly durationMs: number,
    private readonly clock: Clock = systemClock,
  ) {
    this.sweepAt = clock.now() + durationMs;
  }

  /** Counts one request of `key`; throws 429 with Retry-After when its window is used up (the refused request still counts). */
  take(key: string): void {
    const now = this.clock.now();
    if (now >= this.sweepAt) this.sweep(now);
    let window = this.windows.get(key);
    if (!window || window.endsAt <= now) {
      window = { used: 0, endsAt: now + this.durationMs };
      this.windows.set(key, window);
    }
    window.used += 1;
    if (window.used > this.points) throw rateLimited(window.endsAt - now);
  }

  /** The keys with an open window. */
  get size(): number {
    return this.windows.size;
  }

  private sweep(now: number): void {
    for (const [key, window] of this.windows) if (window.endsAt <= now) this.windows.delete(key);
    this.sweepAt = now + this.durationMs;
  }
}

/** A limit of `points` per `durationMs` in this process; none at 0. */
function windowLimit(points: number, durationMs: number, clock: Clock | undefined): WindowLimit | undefined {
  return points > 0 ? new WindowLimit(points, durationMs, clock) : undefined;
}

/**
 * Per-shopper and per-client limits of ticketing.
 * - Ticket requests are counted in Redis by the script that answers them (the batch reserve, or the
 *   pre-queue's), in the deal's slot (`qd:{deal}:asks:<shopper>`): the limit holds across every
 *   replica and costs no Redis command of its own. It counts the asks that reach the line; those
 *   the door turns away, or that a closed, sold-out or not-yet-open deal answers from the cache,
 *   cost nothing to count. `asksPerShopper` is what those scripts are given.
 * - Polls and the per-client flood guard are counted in each process: a poll must not cost a Redis
 *   round trip. With N replicas behind a balancer that spreads requests, a shopper may make up to
 *   N times those limits.
 */
export class RateLimits {
  readonly asksPerShopper: AskLimit;
  private readonly polls: WindowLimit | undefined;
  private readonly clients: WindowLimit | undefined;

  constructor(settings: RateLimitSettings, clock?: Clock) {
    this.asksPerShopper = { asks: settings.ticketsPerShopperPerMinute, windowMs: 60_000 };
    this.polls = windowLimit(settings.pollsPerShopperPer10s, 10_000, clock);
    this.clients = windowLimit(settings.requestsPerClientPerSecond, 1_000, clock);
  }

  /** The per-client flood guard; the per-shopper limit is counted where the ask is answered. Throws 429. */
  ticketRequest(client: string | undefined): void {
    if (client) this.clients?.take(client);
  }

  /** Throws 429 when the client or the shopper has polled too often. */
  statusPoll(dealId: string, shopperId: string, client: string | undefined): void {
    if (client) this.clients?.take(client);
    this.polls?.take(`${dealId}/${shopperId}`);
  }
}
