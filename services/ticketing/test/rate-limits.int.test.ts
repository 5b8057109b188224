import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { AppError, connectRedis } from '@quickdeal/core';
import { endpoints } from '@quickdeal/dev/profiles';
import { RateLimits } from '../src/rate-limits.js';

const redis = connectRedis(endpoints('test').redisUrl);
afterAll(() => redis.disconnect());

const settings = { ticketsPerShopperPerMinute: 3, pollsPerShopperPer10s: 2, requestsPerClientPerSecond: 0 };
const outcome = (attempt: Promise<void>) =>
  attempt.then(
    () => 'ok',
    (error: unknown) => (error instanceof AppError ? `${error.status}` : `threw ${String(error)}`),
  );

describe('rate limits with two ticketing replicas', () => {
  it("counts a shopper's ticket requests across both replicas through Redis", async () => {
    const [first, second] = [new RateLimits(settings, redis), new RateLimits(settings, redis)];
    const deal = `rl-${randomBytes(4).toString('hex')}`;
    const answers = [];
    for (const replica of [first, second, first, second, first])
      answers.push(await outcome(replica.ticketRequest(deal, 'alice', undefined)));
    expect(answers).toEqual(['ok', 'ok', 'ok', '429', '429']);
    expect(await outcome(second.ticketRequest(deal, 'bob', undefined))).toBe('ok'); // per shopper
  });

  it('counts polls in each process (no Redis round trip on the hottest path): N replicas allow up to N times the limit', async () => {
    const [first, second] = [new RateLimits(settings, redis), new RateLimits(settings, redis)];
    const deal = `rl-${randomBytes(4).toString('hex')}`;
    const answers = [];
    for (const replica of [first, second, first, second, first]) answers.push(await outcome(replica.statusPoll(deal, 'alice', undefined)));
    expect(answers).toEqual(['ok', 'ok', 'ok', 'ok', '429']);
  });
});
