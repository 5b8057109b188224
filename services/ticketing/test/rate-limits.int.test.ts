import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { AppError, connectRedis, DealStore, type DealSettings } from '@quickdeal/core';
import { endpoints } from '@quickdeal/dev/profiles';
import { RateLimits } from '../src/rate-limits.js';

// two replicas: each its own connection and store, sharing only Redis
const connections = [connectRedis(endpoints('test').redisUrl), connectRedis(endpoints('test').redisUrl)];
const [first, second] = connections.map((redis) => new DealStore(redis)) as [DealStore, DealStore];
const created: string[] = [];
afterAll(async () => {
  for (const dealId of created) await first.removeDeal(dealId);
  for (const redis of connections) redis.disconnect();
});

const settings = { ticketsPerShopperPerMinute: 3, pollsPerShopperPer10s: 2, requestsPerClientPerSecond: 0 };
const askLimit = new RateLimits(settings).asksPerShopper;
function outcome(attempt: () => void): string {
  try {
    attempt();
    return 'ok';
  } catch (error) {
    return error instanceof AppError ? `${error.status}` : `threw ${String(error)}`;
  }
}

async function openDeal(overrides: Partial<DealSettings> = {}): Promise<string> {
  const id = `rl-${randomBytes(4).toString('hex')}`;
  created.push(id);
  const deal: DealSettings = {
    ...{ id, productName: 'Limits', price: 100, currency: 'EUR', stock: 10, opensAt: Date.now() - 1_000, closesAt: null },
    ...{ cap: 10, windowMs: 60_000, ticketTtlMs: 60_000, paused: false, queueMode: 'Always', maxAdmissionsPerMinute: null },
    ...{ prequeueMs: 0, proofOfWork: null },
    ...overrides,
  };
  await first.applyDeal(deal, 0);
  return id;
}

describe('rate limits with two ticketing replicas', () => {
  it("counts a shopper's ticket requests across both replicas, in the script that answers them", async () => {
    const dealId = await openDeal();
    const answers = [];
    for (const [i, replica] of [first, second, first, second, first].entries())
      answers.push((await replica.reserveTicket(dealId, 'alice', `jti-${i}`, askLimit)).outcome);
    expect(answers).toEqual(['reserved', 'pending', 'pending', 'rate_limited', 'rate_limited']);
    const limited = await second.reserveTicket(dealId, 'alice', 'jti-late', askLimit);
    expect(limited).toMatchObject({ outcome: 'rate_limited' });
    expect((limited as { retryInMs: number }).retryInMs).toBeGreaterThan(50_000);
    expect((limited as { retryInMs: number }).retryInMs).toBeLessThanOrEqual(60_000);
    // an ask over the limit changed nothing: the first reservation stands
    expect(await first.shopperTicket(dealId, 'alice')).toMatchObject({ state: 'pending', jti: 'jti-0' });
    expect((await second.reserveTicket(dealId, 'bob', 'jti-bob', askLimit)).outcome).toBe('reserved'); // per shopper
  });

  it('counts asks made in the same batch one by one, and not at all when the limit is 0', async () => {
    const dealId = await openDeal();
    const batch = ['a', 'b', 'c', 'd'].map((n) => ({ shopperId: 'eve', jti: `jti-${n}` }));
    const results = await first.reserveTickets(dealId, batch, { asks: 2, windowMs: 60_000 });
    expect(results.map((r) => r.outcome)).toEqual(['reserved', 'pending', 'rate_limited', 'rate_limited']);
    const many = Array.from({ length: 8 }, (_, i) => ({ shopperId: 'frank', jti: `jti-f${i}` }));
    const unlimited = await first.reserveTickets(dealId, many, { asks: 0, windowMs: 60_000 });
    expect(unlimited.map((r) => r.outcome)).toEqual(Array.from({ length: 8 }, (_, i) => (i === 0 ? 'reserved' : 'pending')));
  });

  it('counts pre-queue asks against the same limit, and a limited one takes no place in the pre-queue', async () => {
    const dealId = await openDeal({ opensAt: Date.now() + 3_600_000, prequeueMs: 7_200_000 });
    expect((await first.prequeueTicket(dealId, 'carol', 'j1', 'token-1', askLimit)).outcome).toBe('prequeued');
    expect((await second.prequeueTicket(dealId, 'carol', 'j2', 'token-2', askLimit)).outcome).toBe('existing');
    expect((await first.prequeueTicket(dealId, 'dave', 'j3', 'token-3', { asks: 0, windowMs: 60_000 })).outcome).toBe('prequeued');
    await first.prequeueTicket(dealId, 'carol', 'j4', 'token-4', askLimit);
    expect(await second.prequeueTicket(dealId, 'carol', 'j5', 'token-5', askLimit)).toMatchObject({ outcome: 'rate_limited' });
    expect([...(await first.prequeuedShoppers(dealId))].sort()).toEqual([
      ['carol', 'j1'],
      ['dave', 'j3'],
    ]);
  });

  it('counts polls in each process (no Redis round trip on the hottest path): N replicas allow up to N times the limit', async () => {
    const [one, other] = [new RateLimits(settings), new RateLimits(settings)];
    const deal = `rl-${randomBytes(4).toString('hex')}`;
    const answers = [];
    for (const replica of [one, other, one, other, one]) answers.push(outcome(() => replica.statusPoll(deal, 'alice', undefined)));
    expect(answers).toEqual(['ok', 'ok', 'ok', 'ok', '429']);
  });
});
