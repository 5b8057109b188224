import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { errors, type RedisClient } from '@quickdeal/core';

export interface RateLimitSettings {
  /** Ticket requests one shopper may make per minute, counted across every replica when Redis is shared (0: no limit). */
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

/**
 * Per-shopper and per-client limits of ticketing.
 * - Ticket requests are counted in Redis (`qd:rl:tickets:<deal>/<shopper>`, no hash tag, so the
 *   counters spread over a cluster's slots), so the limit holds across all replicas; the request
 *   goes to Redis and Kafka anyway. If Redis does not answer, each process counts on its own.
 * - Polls and the per-client flood guard are counted in each process: a poll must not cost a Redis
 *   round trip. With N replicas behind a balancer that spreads requests, a shopper may make up to
 *   N times those limits.
 */
export class RateLimits {
  private readonly tickets: RateLimiterAbstract | undefined;
  private readonly polls: RateLimiterMemory | undefined;
  private readonly clients: RateLimiterMemory | undefined;

  constructor(settings: RateLimitSettings, shared?: RedisClient) {
    const tickets = { keyPrefix: 'qd:rl:tickets', points: settings.ticketsPerShopperPerMinute, duration: 60 };
    if (tickets.points > 0) {
      this.tickets = shared
        ? new RateLimiterRedis({ ...tickets, storeClient: shared, insuranceLimiter: new RateLimiterMemory(tickets) })
        : new RateLimiterMemory(tickets);
    }
    this.polls = limiter('polls', settings.pollsPerShopperPer10s, 10);
    this.clients = limiter('clients', settings.requestsPerClientPerSecond, 1);
  }

  async ticketRequest(dealId: string, shopperId: string, client: string | undefined): Promise<void> {
    await this.consume(this.clients, client);
    await this.consume(this.tickets, `${dealId}/${shopperId}`);
  }

  async statusPoll(dealId: string, shopperId: string, client: string | undefined): Promise<void> {
    await this.consume(this.clients, client);
    await this.consume(this.polls, `${dealId}/${shopperId}`);
  }

  private async consume(limiter: RateLimiterAbstract | undefined, key: string | undefined): Promise<void> {
    if (!limiter || !key) return;
    try {
      await limiter.consume(key);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) throw errors.tooManyRequests(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)));
      throw rejection;
    }
  }
}
