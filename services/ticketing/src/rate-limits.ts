import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { errors, type AskLimit } from '@quickdeal/core';

export interface RateLimitSettings {
  /** Ticket requests one shopper may make per deal and minute, counted across every replica (0: no limit). */
  ticketsPerShopperPerMinute: number;
  /** Status polls one shopper may make per 10 seconds, per process (0: no limit). */
  pollsPerShopperPer10s: number;
  /** Requests one client address may make per second, per process (0: no limit). */
  requestsPerClientPerSecond: number;
}

/** A limit of `points` per `duration` seconds in this process; none at 0. */
function limiter(keyPrefix: string, points: number, duration: number): RateLimiterMemory | undefined {
  return points > 0 ? new RateLimiterMemory({ keyPrefix, points, duration }) : undefined;
}

/** 429 with Retry-After, in whole seconds of at least one. */
export function rateLimited(retryInMs: number): Error {
  return errors.tooManyRequests(Math.max(1, Math.ceil(retryInMs / 1000)));
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
  private readonly polls: RateLimiterMemory | undefined;
  private readonly clients: RateLimiterMemory | undefined;

  constructor(settings: RateLimitSettings) {
    this.asksPerShopper = { asks: settings.ticketsPerShopperPerMinute, windowMs: 60_000 };
    this.polls = limiter('polls', settings.pollsPerShopperPer10s, 10);
    this.clients = limiter('clients', settings.requestsPerClientPerSecond, 1);
  }

  /** The per-client flood guard; the per-shopper limit is counted where the ask is answered. */
  async ticketRequest(client: string | undefined): Promise<void> {
    await this.consume(this.clients, client);
  }

  async statusPoll(dealId: string, shopperId: string, client: string | undefined): Promise<void> {
    await this.consume(this.clients, client);
    await this.consume(this.polls, `${dealId}/${shopperId}`);
  }

  private async consume(limiter: RateLimiterMemory | undefined, key: string | undefined): Promise<void> {
    if (!limiter || !key) return;
    try {
      await limiter.consume(key);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) throw rateLimited(rejection.msBeforeNext);
      throw rejection;
    }
  }
}
