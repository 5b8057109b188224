import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { errors } from '@quickdeal/core';

export interface RateLimitSettings {
  /** Ticket requests one shopper may make per minute (0: no limit). */
  ticketsPerShopperPerMinute: number;
  /** Status polls one shopper may make per 10 seconds (0: no limit). */
  pollsPerShopperPer10s: number;
  /** Requests one client address may make per second (0: no limit). */
  requestsPerClientPerSecond: number;
}

/** A limit of `points` per `duration` seconds; none at 0. */
function limiter(keyPrefix: string, points: number, duration: number): RateLimiterMemory | undefined {
  return points > 0 ? new RateLimiterMemory({ keyPrefix, points, duration }) : undefined;
}

/** Per-shopper and per-client limits of one ticketing process (each replica limits its own share). */
export class RateLimits {
  private readonly tickets: RateLimiterMemory | undefined;
  private readonly polls: RateLimiterMemory | undefined;
  private readonly clients: RateLimiterMemory | undefined;

  constructor(settings: RateLimitSettings) {
    this.tickets = limiter('tickets', settings.ticketsPerShopperPerMinute, 60);
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

  private async consume(limiter: RateLimiterMemory | undefined, key: string | undefined): Promise<void> {
    if (!limiter || !key) return;
    try {
      await limiter.consume(key);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) throw errors.tooManyRequests(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)));
      throw rejection;
    }
  }
}
