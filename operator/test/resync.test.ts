import { describe, expect, it } from 'vitest';
import { nextStatusRefreshMs } from '@quickdeal/operator';

describe('nextStatusRefreshMs', () => {
  it('lets a finished deal rest once nobody waits and no checkout is open', () => {
    expect(nextStatusRefreshMs({ phase: 'SoldOut', waiting: 0, active: 0 }, undefined, 10_000)).toBeUndefined();
    expect(nextStatusRefreshMs({ phase: 'Closed', waiting: 0, active: 0 }, undefined, 10_000)).toBeUndefined();
  });

  it('keeps refreshing a sold-out deal whose line admission has not yet told, so its counts do not freeze', () => {
    expect(nextStatusRefreshMs({ phase: 'SoldOut', waiting: 1, active: 0 }, undefined, 10_000)).toBe(10_000);
    expect(nextStatusRefreshMs({ phase: 'Closed', waiting: 0, active: 2 }, undefined, 10_000)).toBe(10_000);
  });

  it('comes back at the next transition when it is sooner than the resync', () => {
    expect(nextStatusRefreshMs({ phase: 'Scheduled', waiting: 0, active: 0 }, 1_500, 10_000)).toBe(1_500);
    expect(nextStatusRefreshMs({ phase: 'Open', waiting: 5, active: 1 }, undefined, 10_000)).toBe(10_000);
  });
});
