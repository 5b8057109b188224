import { describe, expect, it } from 'vitest';
import type { DealSnapshot } from '@quickdeal/core';
import { pollAfterMs, queuePosition } from '../src/queue-position.js';

const deal = {
  dealId: 'd',
  served: 100,
  stock: 500,
  sold: 20,
  cap: 1000,
  active: 1000,
  available: 0,
  paused: false,
  windowMs: 1_200_000,
} as DealSnapshot;

describe('a waiting ticket’s place', () => {
  it('counts the tickets ahead and the units left', () => {
    expect(queuePosition(101, deal, 10)).toMatchObject({ position: 1, unitsLeft: 480, etaSeconds: 1 });
    expect(queuePosition(1_100, deal, 10)).toMatchObject({ position: 1_000, etaSeconds: 100 });
  });

  it('estimates from the cap and window before any admission happened', () => {
    // 1,000 shoppers per 20 minutes ≈ 0.83 per second
    expect(queuePosition(200, deal, 0).etaSeconds).toBe(120);
  });

  it('asks a shopper within reach of a free slot and unit to poll at once, however slow the line was', () => {
    const open = { ...deal, cap: 1, active: 0, available: 5, windowMs: 60_000 };
    expect(queuePosition(101, open, 0)).toMatchObject({ position: 1, pollAfterMs: 1_000, etaSeconds: 1 });
    expect(queuePosition(102, open, 0).pollAfterMs).toBeGreaterThan(1_000);
    expect(queuePosition(101, { ...open, paused: true }, 0).pollAfterMs).toBeGreaterThan(1_000);
  });

  it('never promises admission faster than the deal’s inflow rate, even with many slots free', () => {
    const roomy = { ...deal, cap: 1000, active: 0, available: 480, maxAdmissionsPerMinute: 60 };
    // 60 a minute is one a second: the 300th in line waits about 300 s, not the moment 300 free slots suggest
    expect(queuePosition(400, roomy, 50)).toMatchObject({ position: 300, etaSeconds: 300 });
    expect(queuePosition(400, roomy, 50).pollAfterMs).toBe(30_000);
    expect(queuePosition(101, roomy, 50)).toMatchObject({ position: 1, etaSeconds: 1 });
    // 6,000 a minute lets ten in together: the first ten are a moment away
    expect(queuePosition(110, { ...roomy, maxAdmissionsPerMinute: 6_000 }, 50)).toMatchObject({ etaSeconds: 1, pollAfterMs: 1_000 });
    expect(queuePosition(111, { ...roomy, maxAdmissionsPerMinute: 6_000 }, 50).pollAfterMs).toBeGreaterThan(1_000);
    expect(queuePosition(400, { ...roomy, maxAdmissionsPerMinute: null }, 50)).toMatchObject({ etaSeconds: 1 });
  });

  it('asks shoppers further back to poll less often, between 1 and 30 seconds', () => {
    const near = queuePosition(101, deal, 50).pollAfterMs;
    const middle = queuePosition(5_000, deal, 50).pollAfterMs;
    const far = queuePosition(100_000, deal, 50).pollAfterMs;
    expect(near).toBe(1_000);
    expect(middle).toBeGreaterThan(near);
    expect(far).toBeGreaterThan(middle);
    expect(far).toBeLessThanOrEqual(30_000);
    expect(pollAfterMs(1e9, 1e9)).toBe(30_000);
  });
});
