import { describe, expect, it } from 'vitest';
import { AppError } from '@quickdeal/core';
import { WindowLimit } from '../src/rate-limits.js';

function limit(points: number, durationMs: number) {
  const clock = { nowMs: 50_000, now: () => clock.nowMs };
  return { limit: new WindowLimit(points, durationMs, clock), clock };
}

/** The Retry-After a refused take answers, or 'ok'. */
function take(window: WindowLimit, key: string): string {
  try {
    window.take(key);
    return 'ok';
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return `${error.status} after ${error.headers?.['Retry-After'] ?? '?'}`;
  }
}

describe('a window limit', () => {
  it('allows its points per key in a window that opens with the key’s first request, and says when the window ends', () => {
    const { limit: polls, clock } = limit(2, 10_000);
    expect([take(polls, 'alice'), take(polls, 'alice'), take(polls, 'bob')]).toEqual(['ok', 'ok', 'ok']);
    clock.nowMs += 2_500;
    expect(take(polls, 'alice')).toBe('429 after 8');
    expect(take(polls, 'bob')).toBe('ok');
    clock.nowMs += 7_499;
    expect(take(polls, 'alice')).toBe('429 after 1');
    clock.nowMs += 1; // alice's window has ended; bob's, opened at the same moment, too
    expect([take(polls, 'alice'), take(polls, 'alice'), take(polls, 'alice')]).toEqual(['ok', 'ok', '429 after 10']);
  });

  it('counts a refused request too, as rate-limiter-flexible did', () => {
    const { limit: clients, clock } = limit(1, 1_000);
    take(clients, '10.0.0.1');
    for (let i = 0; i < 5; i++) expect(take(clients, '10.0.0.1')).toBe('429 after 1');
    clock.nowMs += 1_000;
    expect(take(clients, '10.0.0.1')).toBe('ok');
  });

  it('forgets the keys whose window has ended, once per duration, so a crowd of one-time pollers does not stay in memory', () => {
    const { limit: polls, clock } = limit(5, 10_000);
    for (let i = 0; i < 1_000; i++) polls.take(`shopper-${i}`);
    clock.nowMs += 6_000;
    polls.take('late');
    expect(polls.size).toBe(1_001);
    clock.nowMs += 4_000; // the first thousand's windows end now: swept by the next request
    polls.take('late');
    expect(polls.size).toBe(1);
  });
});
