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
