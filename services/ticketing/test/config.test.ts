import { describe, expect, it } from 'vitest';
import { parseConfig } from '@quickdeal/core';
import { ticketingConfigSchema } from '../src/config.js';
import { RateLimits } from '../src/rate-limits.js';

const required = { REDIS_URL: 'redis://127.0.0.1:6379', KAFKA_BROKERS: '127.0.0.1:9092' };

describe('ticketing configuration', () => {
  it('takes 0 for the per-shopper limits, as the README says (0 = off)', () => {
    const config = parseConfig(ticketingConfigSchema, { ...required, TICKETS_PER_SHOPPER_PER_MINUTE: '0', POLLS_PER_SHOPPER_PER_10S: '0' });
    expect(config).toMatchObject({ TICKETS_PER_SHOPPER_PER_MINUTE: 0, POLLS_PER_SHOPPER_PER_10S: 0 });
  });

  it('refuses a negative limit, naming it', () => {
    expect(() => parseConfig(ticketingConfigSchema, { ...required, POLLS_PER_SHOPPER_PER_10S: '-1' })).toThrow(/POLLS_PER_SHOPPER_PER_10S/);
  });
});

describe('rate limits', () => {
  it('are off at 0: a shopper may ask and poll without limit', () => {
    const limits = new RateLimits({ ticketsPerShopperPerMinute: 0, pollsPerShopperPer10s: 0, requestsPerClientPerSecond: 0 });
    for (let i = 0; i < 50; i++) {
      limits.ticketRequest('10.0.0.1');
      limits.statusPoll('deal', 'alice', '10.0.0.1');
    }
    expect(limits.asksPerShopper).toEqual({ asks: 0, windowMs: 60_000 });
  });

  it('answer 429 with a retry time past a limit', () => {
    const limits = new RateLimits({ ticketsPerShopperPerMinute: 2, pollsPerShopperPer10s: 1, requestsPerClientPerSecond: 2 });
    limits.statusPoll('deal', 'alice', undefined);
    expect(() => limits.statusPoll('deal', 'alice', undefined)).toThrow(expect.objectContaining({ status: 429 }));
    limits.ticketRequest('10.0.0.1');
    limits.ticketRequest('10.0.0.1');
    expect(() => limits.ticketRequest('10.0.0.1')).toThrow(expect.objectContaining({ status: 429, headers: { 'Retry-After': '1' } }));
  });

  it('hand the per-shopper ticket limit to the scripts that answer the asks, per minute', () => {
    expect(
      new RateLimits({ ticketsPerShopperPerMinute: 2, pollsPerShopperPer10s: 0, requestsPerClientPerSecond: 0 }).asksPerShopper,
    ).toEqual({
      asks: 2,
      windowMs: 60_000,
    });
  });
});
