import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { errors } from '@quickdeal/core';

export interface RateLimitSettings {
  /** Ticket requests one shopper may make per minute. */
  ticketsPerShopperPerMinute: number;
  /** Status polls one shopper may make per 10 seconds. */
  pollsPerShopperPer10s: number;
  /** Requests one client address may make per second (0: no limit). */
  requestsPerClientPerSecond: number;
}

/** Per-shopper and per-client limits of one ticketing process (each replica limits its own share). */
export class RateLimits {
  private readonly tickets: RateLimiterMemory;
  private readonly polls: RateLimiterMemory;
  private readonly clients: RateLimiterMemory | undefined;

  constructor(settings: RateLimitSettings) {
    this.tickets = new RateLimiterMemory({ keyPrefix: 'tickets', points: settings.ticketsPerShopperPerMinute, duration: 60 });
    this.polls = new RateLimiterMemory({ keyPrefix: 'polls', points: settings.pollsPerShopperPer10s, duration: 10 });
    this.clients =
      settings.requestsPerClientPerSecond > 0
        ? new RateLimiterMemory({ keyPrefix: 'clients', points: settings.requestsPerClientPerSecond, duration: 1 })
        : undefined;
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
