import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { endpoints } from '../src/profiles.js';

/** Moves n units from one key to another, or nothing if fewer than n are there: one atomic step. */
const HOLD_UNITS = `
local available = tonumber(redis.call('GET', KEYS[1]) or '0')
local n = tonumber(ARGV[1])
if available < n then return -1 end
redis.call('DECRBY', KEYS[1], n)
return redis.call('INCRBY', KEYS[2], n)
`;

type StockRedis = Redis & { holdUnits(avail: string, held: string, n: number): Promise<number> };

const redis = new Redis(endpoints('test').redisUrl) as StockRedis;
redis.defineCommand('holdUnits', { numberOfKeys: 2, lua: HOLD_UNITS });
const deal = `test-${randomUUID().slice(0, 8)}`;
const avail = `qd:{${deal}}:avail`; // one hash tag: both keys in one cluster slot, as DESIGN.md requires
const held = `qd:{${deal}}:held`;

afterAll(async () => {
  await redis.del(avail, held);
  await redis.quit();
});

describe('redis (ioredis with a Lua script)', () => {
  it('changes two keys atomically, or neither when there is not enough', async () => {
    await redis.set(avail, 10);
    expect(await redis.holdUnits(avail, held, 3)).toBe(3);
    expect(await redis.holdUnits(avail, held, 8)).toBe(-1);
    expect(await redis.mget(avail, held)).toEqual(['7', '3']);
  });

  it('never hands out more than there is under concurrent calls', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => redis.holdUnits(avail, held, 1)));
    expect(results.filter((r) => r > 0)).toHaveLength(7);
    expect(await redis.mget(avail, held)).toEqual(['0', '10']);
  });
});
